// Browser tests of private channels: the app's login cookie, Caddy's
// forward_auth asking the app before every subscription, on every
// transport. A user's notifications (private-<user id>) reach that user
// live; another user, or nobody logged in, is refused, and the page says
// so. The statistics, which list private channels, are not on the page's
// origin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CADDY, INTERNAL, WAIT, TRANSPORTS, useBrowser, createCommit } from './harness.mjs';

const env = useBrowser();

// loggedInContext is a browser context whose cookie jar holds username's
// session, logged in through the page's own form.
async function loggedInContext(username) {
	const context = await env.browser.newContext();
	const page = await context.newPage();
	await page.goto(`${env.proxy.url}/`);
	await page.fill('#login input[name=username]', username);
	await Promise.all([page.waitForEvent('load'), page.click('#login button')]);
	await page.waitForFunction((name) => window.inbox.user && window.inbox.user.username === name, username, WAIT);
	await page.close();
	return context;
}

// openInbox opens the page with query and waits until its inbox
// subscription reaches want, or a state it never leaves: 'refused' (no
// retry after a 403) or 'logged-out'. A live subscription may drop and
// reconnect on its own, so 'live' is waited for, not sampled.
async function openInbox(context, query, want) {
	const page = await context.newPage();
	const errors = [];
	page.on('pageerror', (err) => errors.push(err.message));
	await page.goto(`${env.proxy.url}/${query}`);
	const state = await page.waitForFunction((w) => window.inbox
		&& [w, 'refused', 'logged-out'].includes(window.inbox.state) && window.inbox.state, want, WAIT);
	return { page, errors, state: await state.jsonValue() };
}

// starAs stars commit id with username's session, outside the browser.
async function starAs(username, id) {
	const login = await fetch(CADDY + '/login', { method: 'POST', body: new URLSearchParams({ username }) });
	assert.equal(login.status, 200);
	const cookie = login.headers.get('set-cookie').split(';')[0];
	const resp = await fetch(`${CADDY}/api/v1/commit/${id}/star/`, { method: 'POST', headers: { Cookie: cookie } });
	assert.equal(resp.status, 204);
}

test("a user gets their own notifications live, on every transport", async () => {
	const bruno = await loggedInContext('bruno');
	try {
		const pages = [];
		for (const transport of TRANSPORTS) {
			const opened = await openInbox(bruno, `?transport=${transport}`, 'live');
			assert.equal(opened.state, 'live', `${transport}: ${await opened.page.evaluate(() => window.inbox.states)}`);
			assert.equal(await opened.page.evaluate(() => window.inbox.channel), 'private-2');
			pages.push(opened);
		}
		const mine = await createCommit('A commit of bruno', 2, 1);
		await starAs('carla', mine);
		for (const { page, errors } of pages) {
			await page.waitForFunction((id) => {
				const kinds = Array.from(document.querySelectorAll(`#notifications li[data-commit="${id}"]`), (li) => li.dataset.kind);
				return kinds.includes('published') && kinds.includes('starred');
			}, mine, WAIT);
			assert.match(await page.textContent('#notifications'), /carla starred your commit/);
			assert.deepEqual(errors, []);
		}
		// Nobody else's commit is announced to bruno.
		const other = await createCommit('A commit of diego', 4, 1);
		await starAs('ana', mine);
		for (const { page } of pages) {
			await page.waitForFunction((id) => document.querySelectorAll(`#notifications li[data-commit="${id}"][data-kind=starred]`).length === 2, mine, WAIT);
			assert.equal(await page.$$eval(`#notifications li[data-commit="${other}"]`, (lis) => lis.length), 0);
		}
	} finally {
		await bruno.close();
	}
});

test("another user is refused a private channel on every transport, and the page shows it", async () => {
	const carla = await loggedInContext('carla');
	try {
		for (const transport of TRANSPORTS) {
			const { page, errors, state } = await openInbox(carla, `?transport=${transport}&inbox=private-2`, 'refused');
			assert.equal(state, 'refused', transport);
			assert.match(await page.textContent('#inbox-status'), /refused: private-2 is not yours/);
			assert.equal(await page.evaluate(() => window.inbox.received), 0);
			// The public feed on the same page is live all the same.
			await page.waitForFunction(() => window.feed.connected, null, WAIT);
			assert.deepEqual(errors, []);
			await page.close();
		}
		// Her own channel opens.
		const own = await openInbox(carla, '?transport=eventsource', 'live');
		assert.equal(own.state, 'live');
		assert.equal(await own.page.evaluate(() => window.inbox.channel), 'private-3');
	} finally {
		await carla.close();
	}
});

test('logged out, a private channel is refused on every transport', async () => {
	const context = await env.browser.newContext();
	try {
		const plain = await openInbox(context, '', 'logged-out');
		assert.equal(plain.state, 'logged-out');
		assert.match(await plain.page.textContent('#inbox-status'), /log in/);
		for (const transport of TRANSPORTS) {
			const { page, state } = await openInbox(context, `?transport=${transport}&inbox=private-2`, 'refused');
			assert.equal(state, 'refused', transport);
			await page.close();
		}
	} finally {
		await context.close();
	}
});

test("the statistics and the publisher are not reachable from the page's origin", async () => {
	const context = await env.browser.newContext();
	try {
		const page = await context.newPage();
		await page.goto(`${env.proxy.url}/`);
		const answers = await page.evaluate(async () => {
			const out = [];
			for (const [method, path] of [['GET', '/events/stats/'], ['GET', '/events/stats/ALL'], ['GET', '/events/stats/private-2'], ['POST', '/events/pub/private-2']]) {
				const resp = await fetch(path, { method, body: method === 'POST' ? 'forged' : undefined });
				out.push({ path, status: resp.status, body: await resp.text() });
			}
			return out;
		});
		for (const a of answers) {
			assert.notEqual(a.status, 200, JSON.stringify(a));
			assert.doesNotMatch(a.body, /private-|published_messages/, JSON.stringify(a));
		}
		// They exist, for the app, on its own loopback site (a commit of
		// bruno's makes sure his channel does, whatever expired before).
		await createCommit('A commit of bruno, for the statistics', 2, 1);
		const stats = await (await fetch(INTERNAL + '/events/stats/ALL')).json();
		assert.ok(stats.infos.some((i) => i.channel === 'private-2'));
	} finally {
		await context.close();
	}
});
