// Browser test of the page over HTTPS: Caddy's site with a certificate of
// its internal CA (the browser context accepts it), where Chromium speaks
// HTTP/2 to Caddy, and HTTP/3 when told to use QUIC for that origin. Every
// transport follows the feed live, and a user's private channel opens with
// the session cookie, which is Secure here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import tls from 'node:tls';
import { chromium } from 'playwright-core';
import { TLS, WAIT, CHROMIUM, TRANSPORTS, useBrowser, createCommit, assertFeed, waitForTop, openFeed } from './harness.mjs';

const env = useBrowser({ proxy: false });

test('over HTTPS and HTTP/2, every transport follows the feed live', async () => {
	for (const transport of TRANSPORTS) {
		const { context, page, errors } = await openFeed(env.browser, TLS, `?transport=${transport}`, { ignoreHTTPSErrors: true });
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
	const { context, page } = await openFeed(env.browser, TLS, '?transport=eventsource', { ignoreHTTPSErrors: true });
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

// leafSPKIHash returns the base64 SHA-256 of the public key of the
// certificate the site at url serves: Chromium's QUIC accepts a
// certificate outside its trust store only when named this way.
async function leafSPKIHash(url) {
	const { hostname, port } = new URL(url);
	const raw = await new Promise((resolve, reject) => {
		const sock = tls.connect({ host: '127.0.0.1', port: Number(port), servername: hostname, rejectUnauthorized: false }, () => {
			resolve(sock.getPeerCertificate().raw);
			sock.end();
		});
		sock.on('error', reject);
	});
	const spki = new crypto.X509Certificate(raw).publicKey.export({ type: 'spki', format: 'der' });
	return crypto.createHash('sha256').update(spki).digest('base64');
}

test('over HTTP/3, every transport follows the feed live', async () => {
	const { host } = new URL(TLS);
	const quic = await chromium.launch({
		executablePath: CHROMIUM,
		args: [
			'--no-sandbox', '--headless', '--disable-gpu', '--no-first-run', '--enable-quic',
			`--origin-to-force-quic-on=${host}`, '--host-resolver-rules=MAP localhost 127.0.0.1',
			`--ignore-certificate-errors-spki-list=${await leafSPKIHash(TLS)}`,
		],
	});
	try {
		for (const transport of TRANSPORTS) {
			const { context, page, errors } = await openFeed(quic, TLS, `?transport=${transport}`, { ignoreHTTPSErrors: true });
			try {
				const protocol = await page.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol);
				assert.equal(protocol, 'h3', `${transport}: the page came over ${protocol}`);
				const id = await createCommit(`Live over HTTP/3 and ${transport}`, 3, 2);
				await waitForTop(page, [id]);
				await assertFeed(page);
				if (transport === 'longpolling') {
					// The answered long-poll is in the resource timings.
					const polls = await page.evaluate(() => performance.getEntriesByType('resource')
						.filter((r) => r.name.includes('/events/lp/')).map((r) => r.nextHopProtocol));
					assert.ok(polls.length > 0 && polls.every((p) => p === 'h3'), JSON.stringify(polls));
				}
				assert.deepEqual(errors, [], transport);
			} finally {
				await context.close();
			}
		}
	} finally {
		await quic.close();
	}
});
