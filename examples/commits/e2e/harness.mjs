// Shared pieces of the commits example's browser tests: the cuttable proxy
// between the browser and Caddy, Debian's Chromium, and the API helpers
// that tell what the page must show.
//
// Environment: COMMITS_URL (Caddy, the page's origin, default
// http://127.0.0.1:8081), COMMITS_INTERNAL_URL (its publisher and
// statistics site, default http://127.0.0.1:8082), COMMITS_TLS_URL (the
// page's site over HTTPS, default https://localhost:8443), CHROMIUM
// (default /usr/bin/chromium).
import assert from 'node:assert/strict';
import net from 'node:net';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

export const CADDY = (process.env.COMMITS_URL || 'http://127.0.0.1:8081').replace(/\/$/, '');
export const TLS = (process.env.COMMITS_TLS_URL || 'https://localhost:8443').replace(/\/$/, '');
export const INTERNAL = (process.env.COMMITS_INTERNAL_URL || 'http://127.0.0.1:8082').replace(/\/$/, '');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const WAIT = { timeout: 60_000 }; // a busy machine: be patient, assert no timing

// CuttableProxy forwards TCP connections to Caddy until cut.
export class CuttableProxy {
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

// TRANSPORTS are the page's transports; the tests run each of them.
export const TRANSPORTS = ['websocket', 'eventsource', 'longpolling', 'stream'];

// useBrowser registers the hooks of a test file: before its tests, start
// Chromium and, unless proxy is false, the cuttable proxy in front of
// Caddy; after them, close both. The object returned gets browser and
// proxy once the first hook ran.
export function useBrowser({ proxy = true } = {}) {
	const env = {};
	before(async () => {
		if (proxy) {
			env.proxy = new CuttableProxy(CADDY);
			await env.proxy.start();
		}
		env.browser = await chromium.launch({
			executablePath: CHROMIUM,
			args: [
				'--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking',
				'--disable-component-update', '--disable-sync', '--no-first-run',
			],
		});
	});
	after(async () => {
		await env.browser?.close();
		await env.proxy?.stop();
	});
	return env;
}

let seq = 0;

const AUTHORS = { 1: 'ana', 2: 'bruno', 3: 'carla', 4: 'diego', 5: 'elisa' };

export async function createCommit(message, userID = 1, projectID = 1) {
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
export async function apiIDs(filter = '') {
	const ids = [];
	for (let offset = 0; ; offset += 100) {
		const resp = await fetch(`${CADDY}/api/v1/commit/?offset=${offset}&limit=100${filter}`);
		assert.equal(resp.status, 200);
		const page = await resp.json();
		ids.push(...page.objects.map((c) => c.id));
		if (page.meta.next === null) return ids;
	}
}

export const pageIDs = (page) => page.evaluate(() => window.feed.ids());

// assertFeed checks that the page shows exactly the newest commits of the
// API, newest first, each once (also in the DOM, not just in the page's map).
export async function assertFeed(page, filter = '') {
	const ids = await pageIDs(page);
	const dom = await page.$$eval('#commits > li', (lis) => lis.length);
	assert.equal(dom, ids.length);
	assert.equal(new Set(ids).size, ids.length, `duplicates on the page: ${ids}`);
	const want = (await apiIDs(filter)).slice(0, ids.length);
	assert.deepEqual(ids, want, 'the page must show the newest commits in order, none missing');
	return ids;
}

export async function waitForTop(page, ids) {
	await page.waitForFunction((want) => {
		const shown = window.feed.ids();
		return want.every((id, i) => shown[i] === id);
	}, ids, WAIT);
}

// openFeed opens the page at base (the proxy's URL, or the HTTPS site)
// with query in a new browser context, and waits for its feed to be live.
export async function openFeed(browser, base, query, contextOptions = {}) {
	const context = await browser.newContext({ viewport: { width: 1000, height: 820 }, ...contextOptions });
	const page = await context.newPage();
	const errors = [];
	page.on('pageerror', (err) => errors.push(err.message));
	if (process.env.DEBUG) page.on('console', (m) => console.log(`[page ${query}] ${m.text()}`));
	await page.goto(`${base}/${query}`);
	await page.waitForFunction(() => window.feed && window.feed.connected, null, WAIT);
	await page.evaluate(() => { window.sameDocument = true; }); // gone if the page reloads
	return { context, page, errors };
}

export async function scrollToBottom(page) {
	await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
}

