// Browser test of the push stream dashboard (push_stream_dashboard) as
// examples/Caddyfile serves it, in Debian's headless Chromium driven by
// playwright-core: the page loads nothing from elsewhere, follows the
// events channel, and its figures, channel list and rate charts move as
// subscribers come and messages are published.
//
// Environment: DASHBOARD_BASE (Caddy, default http://127.0.0.1:8080),
// CHROMIUM (default /usr/bin/chromium), DASHBOARD_SCREENSHOT (a path: take
// the README's screenshot there).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const BASE = (process.env.DASHBOARD_BASE || 'http://127.0.0.1:8080').replace(/\/$/, '');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT = process.env.DASHBOARD_SCREENSHOT || '';
const WAIT = { timeout: 60_000 }; // a busy machine: be patient, assert no timing

let browser;
const subscribers = [];

before(async () => {
	browser = await chromium.launch({
		executablePath: CHROMIUM,
		args: [
			'--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking',
			'--disable-component-update', '--disable-sync', '--no-first-run',
		],
	});
});

after(async () => {
	for (const s of subscribers) s.abort();
	await browser?.close();
});

// subscribe opens a streaming subscriber on the channels of path and
// resolves once its response head arrived; the stream stays open until
// the test ends.
async function subscribe(path) {
	const abort = new AbortController();
	const res = await fetch(BASE + '/sub/' + path, { signal: abort.signal });
	assert.equal(res.status, 200);
	const reader = res.body.getReader();
	(async () => {
		try {
			while (!(await reader.read()).done);
		} catch {}
	})();
	subscribers.push(abort);
}

async function publish(id, text) {
	const res = await fetch(`${BASE}/pub?id=${encodeURIComponent(id)}`, { method: 'POST', body: text });
	assert.equal(res.status, 200, `publish to ${id}`);
}

// number reads a figure the page shows, such as "1,234".
async function number(page, id) {
	return Number((await page.textContent('#' + id)).replace(/[^0-9]/g, ''));
}

test('the dashboard moves live as subscribers come and messages are published', async () => {
	const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
	const foreign = [];
	page.on('request', (req) => {
		if (!req.url().startsWith(BASE + '/')) foreign.push(req.url());
	});
	const errors = [];
	page.on('pageerror', (err) => errors.push(String(err)));
	page.on('console', (msg) => {
		if (msg.type() === 'error') errors.push(msg.text());
	});

	await page.goto(BASE + '/dashboard');
	// The events channel is followed: the state reads "live".
	await page.waitForFunction(() => document.getElementById('state').textContent === 'live', null, WAIT);
	const published0 = await number(page, 'published');
	const deliveries0 = await number(page, 'deliveries');

	// A new channel with two subscribers appears without a reload.
	const id = `dash_${Date.now()}`;
	await subscribe(id);
	await subscribe(`${id}/news`);
	await page.waitForFunction((id) => {
		const row = document.querySelector(`tr[data-channel="${id}"]`);
		return row && row.children[1].textContent === '2';
	}, id, WAIT);

	// Messages move the totals, the row and the rate charts.
	let publishing = true;
	let sent = 0;
	const publisher = (async () => {
		while (publishing) {
			await publish(id, `message ${++sent}`);
			await new Promise((r) => setTimeout(r, 50));
		}
	})();
	try {
		await page.waitForFunction(() => Number(document.getElementById('publish-rate').textContent.replace(/[^0-9]/g, '')) > 0, null, WAIT);
		await page.waitForFunction(() => Number(document.getElementById('delivery-rate').textContent.replace(/[^0-9]/g, '')) > 0, null, WAIT);
	} finally {
		publishing = false;
		await publisher;
	}
	await page.waitForFunction(([id, sent]) => {
		const row = document.querySelector(`tr[data-channel="${id}"]`);
		return row && row.children[3].textContent.replace(/[^0-9]/g, '') === String(sent);
	}, [id, sent], WAIT);
	await page.waitForFunction(([pub, del, sent]) => {
		const n = (id) => Number(document.getElementById(id).textContent.replace(/[^0-9]/g, ''));
		return n('published') >= pub + sent && n('deliveries') >= del + 2 * sent;
	}, [published0, deliveries0, sent], WAIT);
	assert.ok(await number(page, 'memory') > 0, 'memory used is shown');
	assert.match(await page.textContent('#memory-limit'), /of 32\.0 MiB/);

	// The search box narrows the list.
	await page.fill('#search', id);
	await page.waitForFunction((id) => {
		const rows = [...document.querySelectorAll('#rows tr')];
		return rows.length === 1 && rows[0].dataset.channel === id;
	}, id, WAIT);
	await page.fill('#search', 'no channel is called this');
	await page.waitForSelector('#empty:not([hidden])', WAIT);
	await page.fill('#search', '');

	if (SCREENSHOT) {
		// Some traffic for the charts: 20 seconds of a rate that swells and
		// ebbs, over a few channels.
		const channels = [['news', 3], ['sports', 1], ['chat-lobby', 2]];
		for (const [channel, subs] of channels) {
			for (let i = 0; i < subs; i++) await subscribe(channel);
		}
		for (let tick = 0; tick < 80; tick++) {
			const burst = Math.round(4 + 3 * Math.sin(tick / 6));
			for (let i = 0; i < burst; i++) await publish(channels[(tick + i) % channels.length][0], `update ${tick}.${i}`);
			await new Promise((r) => setTimeout(r, 250));
		}
		await page.waitForFunction(() => document.querySelector('tr[data-channel="chat-lobby"]'), null, WAIT);
		await page.fill('#search', '');
		await page.screenshot({ path: SCREENSHOT, fullPage: true });
	}

	assert.deepEqual(foreign, [], 'the page fetches nothing from anywhere else');
	assert.deepEqual(errors, [], 'no script errors');
	await page.close();
});

test('the page may load nothing from elsewhere; /health answers a load balancer', async () => {
	const res = await fetch(BASE + '/dashboard');
	assert.equal(res.status, 200);
	const csp = res.headers.get('content-security-policy');
	assert.match(csp, /default-src 'none'/);
	assert.match(csp, /connect-src 'self'/);
	const health = await fetch(BASE + '/health');
	assert.equal(health.status, 200);
	assert.deepEqual(await health.json(), { status: 'ok' });
});
