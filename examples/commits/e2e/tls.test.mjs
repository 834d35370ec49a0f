// Browser test of the page over HTTPS: Caddy's site with a certificate of
// its internal CA (the browser context accepts it), where Chromium speaks
// HTTP/2 to Caddy. Every transport follows the feed live, and a user's
// private channel opens with the session cookie, which is Secure here.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TLS, WAIT, launch, createCommit, assertFeed, waitForTop, openFeed } from './harness.mjs';

let browser;
let proxy;

before(async () => {
	({ browser, proxy } = await launch());
});

after(async () => {
	await browser?.close();
	await proxy?.stop();
});

test('over HTTPS and HTTP/2, every transport follows the feed live', async () => {
	for (const transport of ['websocket', 'eventsource', 'longpolling', 'stream']) {
		const { context, page, errors } = await openFeed(browser, TLS, `?transport=${transport}`, { ignoreHTTPSErrors: true });
		try {
			assert.equal(await page.evaluate(() => window.feed.transport), transport);
			const protocol = await page.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol);
			assert.equal(protocol, 'h2', `${transport}: the page came over ${protocol}`);
			const id = await createCommit(`Live over HTTPS and ${transport}`, 5, 2);
			await waitForTop(page, [id]);
			await assertFeed(page);
			assert.deepEqual(errors, [], transport);
		} finally {
			await context.close();
		}
	}
});

test('over HTTPS, the session cookie opens the private channel', async () => {
	const { context, page } = await openFeed(browser, TLS, '?transport=eventsource', { ignoreHTTPSErrors: true });
	try {
		await page.fill('#login input[name=username]', 'diego');
		await Promise.all([page.waitForEvent('load'), page.click('#login button')]);
		await page.waitForFunction(() => window.inbox.state === 'live', null, WAIT);
		const cookies = await context.cookies();
		assert.ok(cookies.some((c) => c.name === 'session' && c.secure && c.httpOnly), JSON.stringify(cookies));
		const id = await createCommit('A commit of diego over HTTPS', 4, 2);
		await page.waitForFunction((c) => document.querySelector(`#notifications li[data-commit="${c}"]`), id, WAIT);
	} finally {
		await context.close();
	}
});
