// Browser test of the push stream dashboard (push_stream_dashboard) as
// examples/Caddyfile serves it, in Debian's headless Chromium driven by
// playwright-core: the page loads nothing from elsewhere, follows the
// events channel, and its figures, channel list and rate charts move as
// subscribers come and messages are published.
//
// Environment: DASHBOARD_BASE (Caddy, default http://127.0.0.1:8080),
// DASHBOARD_BROWSERS (comma-separated, default chromium; firefox drives
// Debian's firefox-esr over WebDriver BiDi, bidi.mjs), CHROMIUM (default
// /usr/bin/chromium), FIREFOX (default /usr/bin/firefox-esr),
// DASHBOARD_SCREENSHOT (a path: Chromium takes the README's screenshot
// there).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { BiDiFirefox } from './bidi.mjs';

const BASE = (process.env.DASHBOARD_BASE || 'http://127.0.0.1:8080').replace(/\/$/, '');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';
const BROWSERS = (process.env.DASHBOARD_BROWSERS || 'chromium').split(',').map((b) => b.trim()).filter(Boolean);
const SCREENSHOT = process.env.DASHBOARD_SCREENSHOT || '';
const WAIT = { timeout: 60_000 }; // a busy machine: be patient, assert no timing

const closers = [];
const subscribers = [];

after(async () => {
	for (const s of subscribers) s.abort();
	for (const close of closers) await close();
});

// A driver is what the test needs of a browser tab: go to a URL, wait for
// a JavaScript expression to hold, evaluate one. chromiumDriver drives
// Chromium through playwright-core and also reports requests to other
// origins and takes screenshots; firefoxDriver drives Firefox over BiDi.
async function chromiumDriver() {
	const browser = await chromium.launch({
		executablePath: CHROMIUM,
		args: [
			'--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking',
			'--disable-component-update', '--disable-sync', '--no-first-run',
		],
	});
	closers.push(() => browser.close());
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
	// Expressions go to the page as functions: Playwright evaluates a
	// string with eval, which the dashboard's Content-Security-Policy forbids.
	const fn = (expr) => new Function(`return (${expr});`);
	return {
		goto: (url) => page.goto(url),
		waitFor: (expr) => page.waitForFunction(fn(expr), null, WAIT),
		evaluate: (expr) => page.evaluate(fn(expr)),
		errors: () => errors,
		foreign: () => foreign,
		screenshot: (file) => page.screenshot({ path: file, fullPage: true }),
	};
}

async function firefoxDriver() {
	const ff = await BiDiFirefox.launch(FIREFOX);
	closers.push(() => ff.close());
	return {
		goto: (url) => ff.goto(url),
		waitFor: (expr) => ff.waitFor(expr, WAIT.timeout),
		evaluate: (expr) => ff.evaluate(expr),
		errors: () => ff.errors(),
		foreign: () => [],
		screenshot: null,
	};
}

const drivers = { chromium: chromiumDriver, firefox: firefoxDriver };

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

// figure is the expression of a number the page shows, such as "1,234".
const figure = (id) => `Number(document.getElementById(${JSON.stringify(id)}).textContent.replace(/[^0-9]/g, ''))`;
// row is the expression of the table row of a channel, or null.
const row = (id) => `document.querySelector('tr[data-channel=' + ${JSON.stringify(JSON.stringify(id))} + ']')`;
// search is the expression that types text into the search box.
const search = (text) => `(() => { const s = document.getElementById('search'); s.value = ${JSON.stringify(text)}; s.dispatchEvent(new Event('input')); return true; })()`;

for (const name of BROWSERS) {
	test(`${name}: the dashboard moves live as subscribers come and messages are published`, async () => {
		assert.ok(drivers[name], `unknown browser ${name}`);
		await dashboardMoves(await drivers[name](), name === 'chromium' ? SCREENSHOT : '');
	});
}

async function dashboardMoves(tab, screenshot) {
	await tab.goto(BASE + '/dashboard');
	// The events channel is followed: the state reads "live".
	await tab.waitFor(`document.getElementById('state').textContent === 'live'`);
	const published0 = await tab.evaluate(figure('published'));
	const deliveries0 = await tab.evaluate(figure('deliveries'));

	// A new channel with two subscribers appears without a reload.
	const id = `dash_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
	await subscribe(id);
	await subscribe(`${id}/news`);
	await tab.waitFor(`${row(id)}?.children[1].textContent === '2'`);

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
		await tab.waitFor(`${figure('publish-rate')} > 0`);
		await tab.waitFor(`${figure('delivery-rate')} > 0`);
	} finally {
		publishing = false;
		await publisher;
	}
	await tab.waitFor(`${row(id)}?.children[3].textContent.replace(/[^0-9]/g, '') === '${sent}'`);
	await tab.waitFor(`${figure('published')} >= ${published0 + sent} && ${figure('deliveries')} >= ${deliveries0 + 2 * sent}`);
	assert.ok(await tab.evaluate(figure('memory')) > 0, 'memory used is shown');
	assert.match(await tab.evaluate(`document.getElementById('memory-limit').textContent`), /of 32\.0 MiB/);

	// The search box narrows the list.
	await tab.evaluate(search(id));
	await tab.waitFor(`(() => { const rows = [...document.querySelectorAll('#rows tr')]; return rows.length === 1 && rows[0].dataset.channel === ${JSON.stringify(id)}; })()`);
	await tab.evaluate(search('no channel is called this'));
	await tab.waitFor(`!document.getElementById('empty').hidden`);
	await tab.evaluate(search(''));

	if (screenshot) {
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
		await tab.waitFor(`!!${row('chat-lobby')}`);
		await tab.screenshot(screenshot);
	}

	assert.deepEqual(tab.foreign(), [], 'the page fetches nothing from anywhere else');
	assert.deepEqual(tab.errors(), [], 'no script errors');
}

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
