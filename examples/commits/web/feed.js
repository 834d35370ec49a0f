// The commits page: an endless list of commits, newest first, kept live by
// a push stream subscription. Plain JavaScript, no build step.
//
// URL query:
//   ?user=<id> or ?project=<id>   one user's or project's commits (default: all,
//                                 on channel "global")
//   ?transport=websocket|eventsource|longpolling|stream   (default: the first
//                                 the browser has, in that order; push.js)
//
// Resuming without losing or repeating a commit: the page remembers where
// its subscription stands and asks the push stream module for what came
// after it whenever it (re)connects:
//   * before any message arrived: the time of the first list page (its Date
//     header, less a margin) as ?since=<HTTP date>&tag=0 (WebSocket,
//     EventSource) or If-Modified-Since / If-None-Match: W/0 (long polling);
//   * WebSocket: ?last_event_id=<id of the last commit received>; the app
//     publishes every commit with Event-Id: <commit id>;
//   * EventSource: the browser's own reconnection sends Last-Event-ID; when
//     the page reconnects itself it passes ?last_event_id= instead;
//   * long polling: If-Modified-Since / If-None-Match with the Last-Modified
//     and Etag of the last answer;
//   * the stream: the same query as WebSocket.
// Whatever is delivered twice (a margin, a race with a list page) is dropped
// by commit id. When the server no longer has everything after the page's
// position (the messages expired or were trimmed while the page was away),
// its gap signal says so before anything else, and the page fetches the
// newest commits from the API and merges them (refetchNewest).
(function () {
	'use strict';

	const PAGE_SIZE = 20;
	const RESUME_MARGIN_MS = 5000;
	const RETRY_DELAYS_MS = [300, 1000, 2000, 5000];
	const TRANSPORTS = ['websocket', 'eventsource', 'longpolling', 'stream'];
	const AUTHORS = { 1: 'ana', 2: 'bruno', 3: 'carla', 4: 'diego', 5: 'elisa' };
	const PROJECTS = 3;

	const params = new URLSearchParams(location.search);
	const scope = readScope(params);
	const requested = params.get('transport') || 'auto';

	const list = document.getElementById('commits');
	const more = document.getElementById('more');
	const statusBox = document.getElementById('status');
	const statusText = document.getElementById('status-text');
	document.getElementById('scope').textContent = scope.label;

	const shown = new Map(); // commit id -> <li>, every commit on the page
	let loading = false;
	let exhausted = false;

	// Where the subscription stands (see the comment at the top).
	const position = { since: '', eventId: '', lastModified: '', etag: '' };

	const stats = { pages: 0, messages: 0, duplicates: 0, reconnects: 0, gaps: 0, refetches: 0, refetchErrors: 0 };

	// ---- the list -------------------------------------------------------

	function readScope(q) {
		const positive = (v) => /^[1-9][0-9]{0,17}$/.test(v || '');
		if (positive(q.get('user'))) {
			return { channel: 'user-' + q.get('user'), filter: '&user_id=' + q.get('user'), label: 'user ' + q.get('user') };
		}
		if (positive(q.get('project'))) {
			return { channel: 'project-' + q.get('project'), filter: '&project_id=' + q.get('project'), label: 'project ' + q.get('project') };
		}
		return { channel: 'global', filter: '', label: 'all projects' };
	}

	function scopeLink(kind, id) {
		const q = new URLSearchParams();
		q.set(kind, id);
		if (params.get('transport')) q.set('transport', params.get('transport'));
		return '?' + q.toString();
	}

	function ago(when) {
		const s = Math.max(0, Math.round((Date.now() - when) / 1000));
		if (s < 45) return 'just now';
		const m = Math.round(s / 60);
		if (m < 60) return m + (m === 1 ? ' minute ago' : ' minutes ago');
		const h = Math.round(m / 60);
		if (h < 24) return h + (h === 1 ? ' hour ago' : ' hours ago');
		const d = Math.round(h / 24);
		return d + (d === 1 ? ' day ago' : ' days ago');
	}

	function el(tag, className, text) {
		const node = document.createElement(tag);
		if (className) node.className = className;
		if (text !== undefined) node.textContent = text;
		return node;
	}

	function render(c) {
		const li = el('li', 'commit');
		li.dataset.id = String(c.id);

		const avatar = el('div', 'avatar', (c.author || '?').slice(0, 1));
		avatar.style.background = 'hsl(' + ((c.user_id * 67) % 360) + ' 55% 45%)';
		li.append(avatar);

		const body = el('div', 'body');
		body.append(el('p', 'message', c.message));
		const meta = el('p', 'meta');
		const author = el('a', 'author', c.author);
		author.href = scopeLink('user', c.user_id);
		const project = el('a', 'project', 'project ' + c.project_id);
		project.href = scopeLink('project', c.project_id);
		const time = el('time', '', ago(Date.parse(c.created_at)));
		time.dateTime = c.created_at;
		time.title = new Date(c.created_at).toLocaleString();
		meta.append(author, ' committed to ', project, ' · ', time, ' · #' + c.id);
		body.append(meta);
		li.append(body);

		li.append(el('code', 'sha', (c.sha || '').slice(0, 7)));
		// Starring notifies the author on their private channel (inbox.js).
		const star = el('button', 'star', '☆');
		star.type = 'button';
		star.title = 'star this commit';
		star.dataset.commit = String(c.id);
		li.append(star);
		return li;
	}

	// addCommit puts c in its place (newest first) unless it is already shown.
	function addCommit(c, live) {
		if (shown.has(c.id)) {
			stats.duplicates++;
			return;
		}
		const li = render(c);
		shown.set(c.id, li);
		if (live) {
			// New commits belong at the top; walk down past newer ones.
			let next = list.firstElementChild;
			while (next && Number(next.dataset.id) > c.id) next = next.nextElementSibling;
			list.insertBefore(li, next);
			li.classList.add('live');
			setTimeout(() => li.classList.remove('live'), 4000);
		} else {
			// Older commits belong at the bottom; walk up past older ones.
			let prev = list.lastElementChild;
			while (prev && Number(prev.dataset.id) < c.id) prev = prev.previousElementSibling;
			list.insertBefore(li, prev ? prev.nextElementSibling : list.firstElementChild);
		}
	}

	// loadPage fetches the next page of older commits. The offset is the
	// number of commits the page holds: commits that arrived live shift the
	// list by as many, so counting them keeps the pages aligned (and a
	// commit seen twice in a race is dropped by id).
	async function loadPage() {
		if (loading || exhausted) return false;
		loading = true;
		more.textContent = 'loading…';
		let ok = false;
		try {
			const url = '/api/v1/commit/?offset=' + shown.size + '&limit=' + PAGE_SIZE + scope.filter;
			const resp = await fetch(url, { cache: 'no-store' });
			if (!resp.ok) throw new Error('HTTP ' + resp.status);
			const page = await resp.json();
			if (!position.since) {
				const served = Date.parse(resp.headers.get('Date') || '') || Date.now();
				position.since = new Date(served - RESUME_MARGIN_MS).toUTCString();
			}
			for (const c of page.objects) addCommit(c, false);
			stats.pages++;
			exhausted = page.meta.next === null;
			more.textContent = exhausted ? (shown.size ? 'the beginning of history' : 'no commits yet') : '';
			ok = true;
		} catch (err) {
			more.textContent = 'could not load commits (' + err.message + '); scroll to retry';
		} finally {
			loading = false;
		}
		if (ok && !exhausted && nearBottom()) return loadPage();
		return ok;
	}

	function nearBottom() {
		return more.getBoundingClientRect().top < window.innerHeight + 300;
	}

	window.addEventListener('scroll', () => { if (nearBottom()) loadPage(); }, { passive: true });
	window.addEventListener('resize', () => { if (nearBottom()) loadPage(); });
	setInterval(() => {
		for (const t of list.querySelectorAll('time')) t.textContent = ago(Date.parse(t.dateTime));
	}, 30000);

	// ---- a gap: the server no longer has what the page missed ------------

	// refetchNewest merges the newest commits from the API after a gap: page
	// after page from the newest, until a page holds a commit the page
	// already shows (so the list stays one unbroken run of the newest
	// commits, which keeps loadPage's offsets right) or history ends.
	async function refetchNewest() {
		while (loading) await new Promise((r) => setTimeout(r, 50));
		loading = true;
		try {
			for (let offset = 0; ; offset += PAGE_SIZE) {
				const url = '/api/v1/commit/?offset=' + offset + '&limit=' + PAGE_SIZE + scope.filter;
				const resp = await fetch(url, { cache: 'no-store' });
				if (!resp.ok) throw new Error('HTTP ' + resp.status);
				const page = await resp.json();
				if (offset === 0 && !position.eventId) {
					// Resume from this list, not from the point that had a gap.
					const served = Date.parse(resp.headers.get('Date') || '') || Date.now();
					position.since = new Date(served - RESUME_MARGIN_MS).toUTCString();
				}
				let overlap = false;
				for (const c of page.objects) {
					if (shown.has(c.id)) overlap = true;
					else addCommit(c, true);
				}
				if (overlap || page.meta.next === null) break;
			}
			stats.refetches++;
		} catch (err) {
			// The next gap or reload tries again; the live feed goes on.
			stats.refetchErrors++;
		} finally {
			loading = false;
		}
	}

	// ---- the subscription -----------------------------------------------

	// In automatic mode a transport that never manages to open (a proxy
	// that drops WebSocket upgrades, say) gives way to the next one.
	const candidates = TRANSPORTS.includes(requested) ? [requested] : TRANSPORTS.filter(PushTransports.supported);

	let current = null;
	let currentName = '';
	let wanted = true; // false between feed.disconnect() and feed.connect()
	let open = false;
	let everOpened = false;
	let failures = 0;
	let retryTimer = null;

	const handlers = {
		// opened: the subscription is up (long polling: its loop runs).
		opened() {
			open = true;
			everOpened = true;
			setStatus('live', 'live · ' + currentName);
		},
		// answered: the server answered, so the next failure retries soon.
		answered() {
			failures = 0;
		},
		interrupted() {
			open = false;
			setStatus('connecting', 'reconnecting · ' + currentName);
		},
		closed() {
			open = false;
			if (!wanted) return;
			failures++;
			const next = candidates.indexOf(currentName) + 1;
			if (!everOpened && failures >= 2 && next < candidates.length) {
				use(candidates[next]);
				failures = 0;
			}
			setStatus('connecting', 'reconnecting · ' + currentName);
			const delay = RETRY_DELAYS_MS[Math.min(failures, RETRY_DELAYS_MS.length) - 1] || RETRY_DELAYS_MS[0];
			clearTimeout(retryTimer);
			retryTimer = setTimeout(reopen, delay);
		},
		refused() {
			open = false;
			setStatus('offline', 'refused · ' + currentName);
		},
		gap() {
			// Messages the page missed are gone from the server: whatever
			// comes next on this connection is newer, and the API has the
			// rest. The next resume starts from the refetched list.
			stats.gaps++;
			position.eventId = '';
			refetchNewest();
		},
		message(text, eventId) {
			let c;
			try {
				c = JSON.parse(text);
			} catch (err) {
				return; // not a commit (a channel-deleted notice, say)
			}
			if (!c || typeof c.id !== 'number') return;
			position.eventId = eventId || String(c.id);
			stats.messages++;
			addCommit(c, true);
		},
	};

	function use(name) {
		currentName = name;
		everOpened = false;
		current = PushTransports.make(name, scope.channel, position, handlers);
	}

	function reopen() {
		retryTimer = null;
		if (!wanted) return;
		stats.reconnects++;
		current.open();
	}

	function setStatus(state, text) {
		statusBox.dataset.state = state;
		statusText.textContent = text;
	}

	// ---- the form -------------------------------------------------------

	function fillSelect(select, n, label) {
		for (let i = 1; i <= n; i++) {
			const opt = el('option', '', label(i));
			opt.value = String(i);
			select.append(opt);
		}
	}
	fillSelect(document.getElementById('new-user'), 5, (i) => AUTHORS[i]);
	fillSelect(document.getElementById('new-project'), PROJECTS, String);
	document.getElementById('new-commit').addEventListener('submit', async (e) => {
		e.preventDefault();
		const form = e.target;
		const userID = Number(form.user_id.value);
		const body = {
			message: form.message.value,
			user_id: userID,
			project_id: Number(form.project_id.value),
			author: AUTHORS[userID],
		};
		// The page does not add the commit itself: it arrives through the
		// subscription, like everybody else's.
		const resp = await fetch('/api/v1/commit/', {
			method: 'POST',
			headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify(body),
		});
		if (resp.ok) form.message.value = '';
	});

	// ---- start ----------------------------------------------------------

	// Test and console hooks.
	window.feed = {
		get transport() { return currentName; },
		get channel() { return scope.channel; },
		get connected() { return open; },
		position,
		stats,
		ids() { return Array.from(list.children, (li) => Number(li.dataset.id)); },
		loadMore: loadPage,
		// disconnect drops the subscriber connection and stays offline.
		disconnect() {
			wanted = false;
			open = false;
			clearTimeout(retryTimer);
			retryTimer = null;
			if (current) current.close();
			setStatus('offline', 'offline · ' + currentName);
		},
		// connect subscribes again, resuming where the page stands.
		connect() {
			if (wanted) return;
			wanted = true;
			failures = 0;
			stats.reconnects++;
			setStatus('connecting', 'connecting · ' + currentName);
			current.open();
		},
	};

	async function start() {
		// The first page fixes the starting position, so subscribe after it.
		while (!(await loadPage())) {
			await new Promise((r) => setTimeout(r, 3000));
		}
		if (candidates.length === 0) {
			setStatus('offline', 'no transport');
			return;
		}
		use(candidates[0]);
		setStatus('connecting', 'connecting · ' + currentName);
		current.open();
	}
	start();
})();
