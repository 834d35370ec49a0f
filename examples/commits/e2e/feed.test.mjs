// Browser tests of the commits example: the page behind Caddy, in Debian's
// headless Chromium driven by playwright-core, for each transport.
//
// The browser reaches Caddy through a small TCP proxy that the tests can cut
// (every connection reset, new ones refused) and restore: a real network
// outage as the browser sees it, so that EventSource's own reconnection,
// WebSocket reconnects and long-polling retries all run for real.
//
// Environment: COMMITS_URL (Caddy, default http://127.0.0.1:8081),
// CHROMIUM (default /usr/bin/chromium), COMMITS_SCREENSHOT (default
// ../screenshot.png).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const CADDY = (process.env.COMMITS_URL || 'http://127.0.0.1:8081').replace(/\/$/, '');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT = process.env.COMMITS_SCREENSHOT || fileURLToPath(new URL('../screenshot.png', import.meta.url));
const WAIT = { timeout: 60_000 }; // a busy machine: be patient, assert no timing

// CuttableProxy forwards TCP connections to Caddy until cut.
class CuttableProxy {
	constructor(target) {
		this.target = new URL(target);
		this.sockets = new Set();
		this.down = false;
		this.eventSourceRequests = []; // {path, lastEventId} of each /events/ev/ request seen
	}

	async start() {
		this.server = net.createServer((client) => {
			if (this.down) {
				client.resetAndDestroy();
				return;
			}
			const upstream = net.connect(Number(this.target.port), this.target.hostname);
			for (const s of [client, upstream]) {
				this.sockets.add(s);
				s.on('close', () => this.sockets.delete(s));
				s.on('error', () => { client.destroy(); upstream.destroy(); });
			}
			client.on('data', (chunk) => this.sniff(chunk));
			client.pipe(upstream);
			upstream.pipe(client);
		});
		await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
		this.url = `http://127.0.0.1:${this.server.address().port}`;
	}

	// sniff notes the EventSource requests and their Last-Event-ID header, to
	// tell the browser's own reconnection from the page's.
	sniff(chunk) {
		const head = chunk.toString('latin1');
		const m = /^GET (\/events\/ev\/\S*) HTTP\/1\.1\r\n([\s\S]*?)\r\n\r\n/.exec(head);
		if (!m) return;
		const h = /^last-event-id:[ \t]*(.*)$/im.exec(m[2]);
		this.eventSourceRequests.push({ path: m[1], lastEventId: h ? h[1].trim() : null });
		if (process.env.DEBUG) console.log(`[proxy] ${Date.now() % 100000} GET ${m[1]} Last-Event-ID: ${h ? h[1] : '-'}`);
	}

	cut() {
		if (process.env.DEBUG) console.log(`[proxy] ${Date.now() % 100000} cut`);
		this.down = true;
		for (const s of this.sockets) s.resetAndDestroy();
	}

	restore() {
		this.down = false;
	}

	async stop() {
		this.cut();
		await new Promise((resolve) => this.server.close(resolve));
	}
}

let browser;
let proxy;

before(async () => {
	proxy = new CuttableProxy(CADDY);
	await proxy.start();
	browser = await chromium.launch({
		executablePath: CHROMIUM,
		args: [
			'--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking',
			'--disable-component-update', '--disable-sync', '--no-first-run',
		],
	});
});

after(async () => {
	await browser?.close();
	await proxy?.stop();
});

let seq = 0;

const AUTHORS = { 1: 'ana', 2: 'bruno', 3: 'carla', 4: 'diego', 5: 'elisa' };

async function createCommit(message, userID = 1, projectID = 1) {
	const resp = await fetch(CADDY + '/api/v1/commit/', {
		method: 'POST',
		headers: { 'Content-Type': 'application/json' },
		body: JSON.stringify({
			message: `${message} (${++seq})`, author: AUTHORS[userID], user_id: userID, project_id: projectID,
		}),
	});
	assert.equal(resp.status, 201, await resp.clone().text());
	return (await resp.json()).id;
}

// apiIDs lists every commit id the API has for the query, newest first.
async function apiIDs(filter = '') {
	const ids = [];
	for (let offset = 0; ; offset += 100) {
		const resp = await fetch(`${CADDY}/api/v1/commit/?offset=${offset}&limit=100${filter}`);
		assert.equal(resp.status, 200);
		const page = await resp.json();
		ids.push(...page.objects.map((c) => c.id));
		if (page.meta.next === null) return ids;
	}
}

const pageIDs = (page) => page.evaluate(() => window.feed.ids());

// assertFeed checks that the page shows exactly the newest commits of the
// API, newest first, each once (also in the DOM, not just in the page's map).
async function assertFeed(page, filter = '') {
	const ids = await pageIDs(page);
	const dom = await page.$$eval('#commits > li', (lis) => lis.length);
	assert.equal(dom, ids.length);
	assert.equal(new Set(ids).size, ids.length, `duplicates on the page: ${ids}`);
	const want = (await apiIDs(filter)).slice(0, ids.length);
	assert.deepEqual(ids, want, 'the page must show the newest commits in order, none missing');
	return ids;
}

async function waitForTop(page, ids) {
	await page.waitForFunction((want) => {
		const shown = window.feed.ids();
		return want.every((id, i) => shown[i] === id);
	}, ids, WAIT);
}

async function openFeed(query) {
	const context = await browser.newContext({ viewport: { width: 1000, height: 820 } });
	const page = await context.newPage();
	const errors = [];
	page.on('pageerror', (err) => errors.push(err.message));
	if (process.env.DEBUG) page.on('console', (m) => console.log(`[page ${query}] ${m.text()}`));
	await page.goto(`${proxy.url}/${query}`);
	await page.waitForFunction(() => window.feed && window.feed.connected, null, WAIT);
	await page.evaluate(() => { window.sameDocument = true; }); // gone if the page reloads
	return { context, page, errors };
}

async function scrollToBottom(page) {
	await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
}

for (const transport of ['websocket', 'eventsource', 'longpolling']) {
	test(`${transport}: endless scroll, live commits, no loss or duplicate across reconnects`, async (t) => {
		const { context, page, errors } = await openFeed(`?transport=${transport}`);
		try {
			assert.equal(await page.evaluate(() => window.feed.transport), transport);

			// Endless scroll: each page adds commits older than the last.
			let ids = await assertFeed(page);
			assert.equal(ids.length, 20);
			for (const want of [40, 60]) {
				await scrollToBottom(page);
				await page.waitForFunction((n) => window.feed.ids().length >= n, want, WAIT);
				ids = await assertFeed(page);
			}
			await page.evaluate(() => window.scrollTo(0, 0));

			// Live: each new commit appears at the top, in order.
			const live = [];
			for (const [user, project, msg] of [[2, 1, 'Live update over ' + transport], [3, 2, 'Second live commit'], [1, 3, 'Third live commit']]) {
				live.unshift(await createCommit(msg, user, project));
				await waitForTop(page, live);
			}
			await assertFeed(page);
			if (transport === 'websocket') await page.screenshot({ path: SCREENSHOT });

			// The page drops its subscription; commits made meanwhile show
			// up once it resubscribes (?last_event_id= / If-Modified-Since).
			await page.evaluate(() => window.feed.disconnect());
			const missed = [];
			for (let i = 0; i < 3; i++) missed.unshift(await createCommit('Made while the page was unsubscribed'));
			assert.ok((await pageIDs(page)).every((id) => !missed.includes(id)), 'a disconnected page received a commit');
			await page.evaluate(() => window.feed.connect());
			await waitForTop(page, missed);
			await assertFeed(page);

			// A network outage: every connection reset, new ones refused.
			const esBefore = proxy.eventSourceRequests.length;
			proxy.cut();
			await page.waitForFunction(() => !window.feed.connected, null, WAIT);
			const during = [];
			for (let i = 0; i < 3; i++) during.unshift(await createCommit('Made during the outage'));
			proxy.restore();
			await waitForTop(page, during);
			await page.waitForFunction(() => window.feed.connected, null, WAIT);
			await assertFeed(page);
			if (transport === 'eventsource') {
				const resumed = proxy.eventSourceRequests.slice(esBefore);
				t.diagnostic(`EventSource requests after the outage: ${JSON.stringify(resumed)}`);
				assert.ok(resumed.some((r) => r.lastEventId === String(missed[0]) || /last_event_id=/.test(r.path)),
					`EventSource must resume after the last event it got: ${JSON.stringify(resumed)}`);
			}

			if (transport === 'eventsource') {
				// A dropped connection the network lets the browser redo: the
				// browser reconnects by itself, sending Last-Event-ID.
				const lastSeen = await page.evaluate(() => window.feed.position.eventId);
				const from = proxy.eventSourceRequests.length;
				proxy.cut();
				proxy.restore();
				await page.waitForFunction(() => !window.feed.connected, null, WAIT);
				const dropped = [];
				for (let i = 0; i < 2; i++) dropped.unshift(await createCommit('Made while the browser reconnected'));
				await waitForTop(page, dropped);
				await assertFeed(page);
				const again = proxy.eventSourceRequests.slice(from);
				assert.ok(again.some((r) => r.lastEventId === lastSeen),
					`the browser must reconnect with Last-Event-ID: ${lastSeen}: ${JSON.stringify(again)}`);
			}

			// One more live commit after the outage, then the whole history:
			// nothing lost, nothing twice.
			const last = await createCommit('After the outage');
			const newest = await apiIDs();
			assert.equal(newest[0], last);
			await waitForTop(page, newest.slice(0, 4));
			while (!(await page.evaluate(() => document.getElementById('more').textContent.includes('beginning')))) {
				const n = (await pageIDs(page)).length;
				await scrollToBottom(page);
				await page.waitForFunction((k) => window.feed.ids().length > k
					|| document.getElementById('more').textContent.includes('beginning'), n, WAIT);
			}
			assert.deepEqual(await assertFeed(page), await apiIDs());
			assert.equal(await page.evaluate(() => window.feed.transport), transport);
			assert.equal(await page.evaluate(() => window.sameDocument), true, 'the page reloaded');
			assert.deepEqual(errors, []);
		} finally {
			await context.close();
		}
	});
}

test('a project page shows only that project, over the automatic transport', async () => {
	const { context, page, errors } = await openFeed('?project=2');
	try {
		assert.equal(await page.evaluate(() => window.feed.transport), 'websocket');
		assert.equal(await page.evaluate(() => window.feed.channel), 'project-2');
		await assertFeed(page, '&project_id=2');
		const other = await createCommit('Another project', 1, 1);
		const mine = await createCommit('This project', 4, 2);
		await waitForTop(page, [mine]);
		assert.ok(!(await pageIDs(page)).includes(other));
		await assertFeed(page, '&project_id=2');
		assert.deepEqual(errors, []);
	} finally {
		await context.close();
	}
});

test('before its first message a page resumes from the time of its first list page', async () => {
	// Users 5 to 7 have no commit published yet: the page has no event id to
	// resume from, only the Date of its first list page (?since= / If-Modified-Since).
	for (const [user, transport] of [[5, 'websocket'], [6, 'eventsource'], [7, 'longpolling']]) {
		const { context, page, errors } = await openFeed(`?user=${user}&transport=${transport}`);
		try {
			assert.equal(await page.evaluate(() => window.feed.position.eventId), '');
			await page.evaluate(() => window.feed.disconnect());
			const missed = [];
			for (let i = 0; i < 2; i++) missed.unshift(await createCommit(`First commits of user ${user}`, user, 1));
			await page.evaluate(() => window.feed.connect());
			await waitForTop(page, missed);
			await assertFeed(page, `&user_id=${user}`);
			assert.deepEqual(errors, []);
		} finally {
			await context.close();
		}
	}
});
