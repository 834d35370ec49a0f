// Browser tests of the commits example: the page behind Caddy, in Debian's
// headless Chromium driven by playwright-core, for each transport.
//
// The browser reaches Caddy through a small TCP proxy that the tests can cut
// (every connection reset, new ones refused) and restore: a real network
// outage as the browser sees it, so that EventSource's own reconnection,
// WebSocket reconnects and long-polling retries all run for real.
//
// Environment: as harness.mjs says, and COMMITS_SCREENSHOT (default
// ../screenshot.png).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import {
	WAIT, TRANSPORTS, useBrowser, createCommit, apiIDs, pageIDs, assertFeed, waitForTop, openFeed as openFeedWith, scrollToBottom,
} from './harness.mjs';

const SCREENSHOT = process.env.COMMITS_SCREENSHOT || fileURLToPath(new URL('../screenshot.png', import.meta.url));

const env = useBrowser();

const openFeed = (query) => openFeedWith(env.browser, env.proxy.url, query);

for (const transport of TRANSPORTS) {
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
			const esBefore = env.proxy.eventSourceRequests.length;
			env.proxy.cut();
			await page.waitForFunction(() => !window.feed.connected, null, WAIT);
			const during = [];
			for (let i = 0; i < 3; i++) during.unshift(await createCommit('Made during the outage'));
			env.proxy.restore();
			await waitForTop(page, during);
			await page.waitForFunction(() => window.feed.connected, null, WAIT);
			await assertFeed(page);
			if (transport === 'eventsource') {
				const resumed = env.proxy.eventSourceRequests.slice(esBefore);
				t.diagnostic(`EventSource requests after the outage: ${JSON.stringify(resumed)}`);
				assert.ok(resumed.some((r) => r.lastEventId === String(missed[0]) || /last_event_id=/.test(r.path)),
					`EventSource must resume after the last event it got: ${JSON.stringify(resumed)}`);
			}

			if (transport === 'eventsource') {
				// A dropped connection the network lets the browser redo: the
				// browser reconnects by itself, sending Last-Event-ID.
				const lastSeen = await page.evaluate(() => window.feed.position.eventId);
				const from = env.proxy.eventSourceRequests.length;
				env.proxy.cut();
				env.proxy.restore();
				await page.waitForFunction(() => !window.feed.connected, null, WAIT);
				const dropped = [];
				for (let i = 0; i < 2; i++) dropped.unshift(await createCommit('Made while the browser reconnected'));
				await waitForTop(page, dropped);
				await assertFeed(page);
				const again = env.proxy.eventSourceRequests.slice(from);
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
			// Every outage here is shorter than message_ttl (run.sh): the
			// page resumed from what Caddy kept, no gap to refetch over.
			const stats = await page.evaluate(() => window.feed.stats);
			assert.equal(stats.gaps, 0, `resumed over a gap: ${JSON.stringify(stats)}`);
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
