// inbox.js: logging in, and the logged-in user's notifications, which the
// app publishes on a private channel, private-<user id> (someone starred
// your commit, your commit was published). Caddy's forward_auth asks the
// app before every subscription, so only that user's session cookie opens
// it; everybody else is refused (403) on every transport.
//
// URL query: ?transport= as for the feed; ?inbox=<channel> follows another
// channel instead of one's own (to see the refusal).
(function () {
	'use strict';

	const RETRY_DELAYS_MS = [300, 1000, 2000, 5000];

	const params = new URLSearchParams(location.search);
	const requested = params.get('transport');
	const transport = PushTransports.names.includes(requested) ? requested : 'websocket';

	const loginForm = document.getElementById('login');
	const who = document.getElementById('who');
	const whoName = document.getElementById('who-name');
	const box = document.getElementById('inbox');
	const boxStatus = document.getElementById('inbox-status');
	const list = document.getElementById('notifications');

	// state: 'starting' (until /api/v1/me answers), then 'logged-out', or
	// 'connecting', 'live', 'refused'
	const inbox = { user: null, channel: '', state: 'starting', states: [], gaps: 0, received: 0 };
	const position = { since: '', eventId: '', lastModified: '', etag: '' };
	const seen = new Set(); // ids of the notifications shown

	function setState(state, text) {
		inbox.state = state;
		inbox.states.push(state);
		box.dataset.state = state;
		boxStatus.textContent = text;
	}

	function show(n) {
		const li = document.createElement('li');
		li.className = 'notification';
		li.dataset.kind = n.kind;
		li.dataset.commit = String(n.commit_id);
		li.textContent = n.kind === 'starred'
			? n.by + ' starred your commit #' + n.commit_id + ': ' + n.message
			: 'your commit #' + n.commit_id + ' was published: ' + n.message;
		list.prepend(li);
	}

	function follow(channel) {
		inbox.channel = channel;
		let failures = 0;
		let current = null;
		const h = {
			opened() { setState('live', 'notifications · ' + channel + ' · ' + transport); },
			answered() { failures = 0; },
			interrupted() { setState('connecting', 'reconnecting · ' + channel); },
			closed() {
				setState('connecting', 'reconnecting · ' + channel);
				failures++;
				setTimeout(() => current.open(), RETRY_DELAYS_MS[Math.min(failures, RETRY_DELAYS_MS.length) - 1]);
			},
			refused() { setState('refused', 'refused: ' + channel + ' is not yours'); },
			gap() {
				inbox.gaps++;
				const li = document.createElement('li');
				li.className = 'notification missed';
				li.textContent = 'some notifications were missed while you were away';
				list.prepend(li);
			},
			message(text, eventId) {
				let n;
				try {
					n = JSON.parse(text);
				} catch (err) {
					return;
				}
				if (!n || typeof n.kind !== 'string') return;
				// A resume from a time may deliver one twice: drop it by id,
				// and resume after the last one from now on.
				position.eventId = n.id || eventId || position.eventId;
				if (seen.has(n.id)) return;
				seen.add(n.id);
				inbox.received++;
				show(n);
			},
		};
		position.since = new Date(Date.now() - 5000).toUTCString();
		current = PushTransports.make(transport, channel, position, h);
		setState('connecting', 'connecting · ' + channel);
		current.open();
	}

	async function post(url, body) {
		const resp = await fetch(url, { method: 'POST', body });
		if (!resp.ok && resp.status !== 204) throw new Error(resp.status === 401 ? 'log in first' : 'HTTP ' + resp.status);
		return resp;
	}

	loginForm.addEventListener('submit', async (e) => {
		e.preventDefault();
		try {
			await post('/login', new URLSearchParams({ username: loginForm.username.value }));
			location.reload();
		} catch (err) {
			setState('logged-out', 'could not log in (' + err.message + ')');
		}
	});
	document.getElementById('logout').addEventListener('click', async () => {
		await post('/logout');
		location.reload();
	});
	document.getElementById('commits').addEventListener('click', async (e) => {
		const star = e.target.closest('button.star');
		if (!star) return;
		try {
			await post('/api/v1/commit/' + star.dataset.commit + '/star/');
			star.textContent = '★';
		} catch (err) {
			star.title = 'could not star: ' + err.message;
		}
	});

	async function start() {
		let me = null;
		try {
			const resp = await fetch('/api/v1/me', { cache: 'no-store' });
			if (resp.ok) me = await resp.json();
		} catch (err) {
			// the app is away: logged out for now
		}
		inbox.user = me;
		loginForm.hidden = !!me;
		who.hidden = !me;
		if (me) whoName.textContent = me.username;
		const channel = params.get('inbox') || (me ? 'private-' + me.user_id : '');
		if (channel) follow(channel);
		else setState('logged-out', 'log in to get notifications');
	}

	// Test and console hooks.
	window.inbox = inbox;
	start();
})();
