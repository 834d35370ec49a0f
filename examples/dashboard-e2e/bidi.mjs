// A minimal WebDriver BiDi client for Debian's firefox-esr, whose BiDi
// lacks commands playwright-core's Firefox support sends on every new
// page (emulation.setMediaFeaturesOverride). It starts a headless Firefox
// on a fresh profile, opens one tab, and evaluates expressions in it.
// Needs Node's WebSocket (node --experimental-websocket on Node 20).
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export class BiDiFirefox {
	static async launch(executablePath) {
		const profile = await mkdtemp(path.join(os.tmpdir(), 'dashboard-firefox-'));
		await writeFile(path.join(profile, 'user.js'), [
			'user_pref("browser.shell.checkDefaultBrowser", false);',
			'user_pref("datareporting.policy.dataSubmissionEnabled", false);',
			'user_pref("browser.startup.homepage_override.mstone", "ignore");',
			'user_pref("app.update.disabledForTesting", true);',
			'',
		].join('\n'));
		const proc = spawn(executablePath, ['--headless', '--no-remote', '--profile', profile, '--remote-debugging-port', '0', 'about:blank'], {
			stdio: ['ignore', 'ignore', 'pipe'],
		});
		const url = await new Promise((resolve, reject) => {
			let log = '';
			proc.stderr.on('data', (chunk) => {
				log += chunk;
				const m = /WebDriver BiDi listening on (ws:\/\/\S+)/.exec(log);
				if (m) resolve(m[1]);
			});
			proc.on('exit', (code) => reject(new Error(`firefox exited (${code}): ${log}`)));
		});
		const ff = new BiDiFirefox(proc, profile);
		await ff.connect(url.replace(/\/$/, '') + '/session');
		return ff;
	}

	constructor(proc, profile) {
		this.proc = proc;
		this.profile = profile;
		this.nextID = 0;
		this.pending = new Map();
		this.logs = [];
	}

	async connect(url) {
		this.ws = new WebSocket(url);
		await new Promise((resolve, reject) => {
			this.ws.onopen = resolve;
			this.ws.onerror = () => reject(new Error('cannot connect to ' + url));
		});
		this.ws.onmessage = (ev) => {
			const msg = JSON.parse(ev.data);
			if (msg.id !== undefined && this.pending.has(msg.id)) {
				const { resolve, reject } = this.pending.get(msg.id);
				this.pending.delete(msg.id);
				if (msg.type === 'error') reject(new Error(`${msg.error}: ${msg.message}`));
				else resolve(msg.result);
			} else if (msg.method === 'log.entryAdded') {
				this.logs.push(msg.params);
			}
		};
		await this.send('session.new', { capabilities: {} });
		await this.send('session.subscribe', { events: ['log.entryAdded'] });
		this.context = (await this.send('browsingContext.create', { type: 'tab' })).context;
	}

	send(method, params) {
		const id = ++this.nextID;
		this.ws.send(JSON.stringify({ id, method, params }));
		return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
	}

	async goto(url) {
		await this.send('browsingContext.navigate', { context: this.context, url, wait: 'complete' });
	}

	// evaluate returns the value of a JavaScript expression in the tab
	// (strings, numbers and booleans).
	async evaluate(expression) {
		const res = await this.send('script.evaluate', { expression, target: { context: this.context }, awaitPromise: true });
		if (res.type === 'exception') throw new Error(`${expression}: ${res.exceptionDetails.text}`);
		return res.result.value;
	}

	// waitFor polls a boolean expression until it holds, at most timeout ms.
	async waitFor(expression, timeout) {
		const deadline = Date.now() + timeout;
		while (!(await this.evaluate(expression))) {
			if (Date.now() > deadline) throw new Error(`timed out waiting for ${expression}`);
			await new Promise((r) => setTimeout(r, 100));
		}
	}

	// errors returns the page's error log entries so far.
	errors() {
		return this.logs.filter((e) => e.level === 'error').map((e) => e.text);
	}

	async close() {
		try {
			await Promise.race([this.send('browser.close', {}), new Promise((r) => setTimeout(r, 5000))]);
		} catch {}
		this.ws?.close();
		if (this.proc.exitCode === null) {
			const exited = new Promise((r) => this.proc.once('exit', r));
			this.proc.kill('SIGTERM');
			await exited;
		}
		await rm(this.profile, { recursive: true, force: true });
	}
}
