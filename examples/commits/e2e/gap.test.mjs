// Browser test of the gap signal: pages away for longer than the stored
// messages live (run.sh gives Caddy a short message_ttl) are told so when
// they come back, on every transport, fetch the newest commits from the
// API, and show the complete list: nothing missing, nothing twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INTERNAL, WAIT, TRANSPORTS, useBrowser, createCommit, assertFeed, waitForTop, openFeed } from './harness.mjs';

const env = useBrowser();

// storedMessages asks the statistics how many messages channel keeps.
async function storedMessages(channel) {
	const resp = await fetch(`${INTERNAL}/events/stats/${channel}`);
	return resp.status === 200 ? (await resp.json()).stored_messages : 0;
}

test('a page away while its messages expired is told, refetches, and misses nothing', async () => {
	const project = 3;
	const filter = `&project_id=${project}`;
	const opened = [];
	try {
		for (const transport of TRANSPORTS) opened.push({ transport, ...(await openFeed(env.browser, env.proxy.url, `?project=${project}&transport=${transport}`)) });

		// One live commit first, so that every page resumes from an event id
		// (long polling: from its Last-Modified and Etag).
		const seen = await createCommit('Seen live before going away', 1, project);
		for (const { page } of opened) await waitForTop(page, [seen]);

		for (const { page } of opened) await page.evaluate(() => window.feed.disconnect());
		const missed = [];
		for (let i = 0; i < 3; i++) missed.unshift(await createCommit('Made while away, then expired', 2, project));
		// Wait for the sweep to drop them all: the pages' points are gone.
		await waitUntil(async () => (await storedMessages(`project-${project}`)) === 0);
		// And one that is still stored when they come back.
		const kept = await createCommit('Made while away, still stored', 3, project);

		for (const { page } of opened) await page.evaluate(() => window.feed.connect());
		for (const { transport, page, errors } of opened) {
			await waitForTop(page, [kept, ...missed, seen]);
			await assertFeed(page, filter);
			const stats = await page.evaluate(() => window.feed.stats);
			assert.ok(stats.gaps >= 1, `${transport}: no gap signalled: ${JSON.stringify(stats)}`);
			assert.ok(stats.refetches >= 1, `${transport}: no refetch: ${JSON.stringify(stats)}`);
			assert.deepEqual(errors, [], transport);
		}

		// Live again: the next commit arrives on every page.
		const after = await createCommit('Live after the gap', 4, project);
		for (const { page } of opened) {
			await waitForTop(page, [after, kept]);
			await assertFeed(page, filter);
		}
	} finally {
		for (const { context } of opened) await context.close();
	}
});

// waitUntil polls cond until it holds (the sweep runs every few seconds).
async function waitUntil(cond) {
	const deadline = Date.now() + WAIT.timeout;
	while (!(await cond())) {
		if (Date.now() > deadline) throw new Error('condition not met in time');
		await new Promise((r) => setTimeout(r, 250));
	}
}
