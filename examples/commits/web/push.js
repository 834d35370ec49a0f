// push.js: the four ways a page here follows a push stream channel, behind
// one interface. Plain JavaScript, no build step; feed.js and inbox.js use it.
//
//   const t = PushTransports.make(name, channel, position, handlers);
//   t.open(); ... t.close();
//
// name is 'websocket', 'eventsource', 'longpolling' or 'stream' (a forever
// response read with fetch). position says where to resume and is kept up
// to date: { since, eventId, lastModified, etag } (see feed.js). handlers:
//   opened()            the subscription is up (long polling: its loop runs)
//   answered()          the server answered, so the next failure retries soon
//   interrupted()       EventSource lost its connection and reconnects itself
//   closed()            the subscription ended; the caller decides when to reopen
//   refused()           the server refused the channel (403): do not retry
//   message(text, id)   one message: its text, and its event id if it had one
//   gap()               the server no longer has everything after position
//                       (the Caddyfile's gap_signal): refetch from the API
(function () {
	'use strict';

	// The gap message's text on the WebSocket, long-polling and stream
	// locations (gap_message_text); EventSource gets the event "gap".
	const GAP_TEXT = '{"gap": true}';

	const PREFIXES = { websocket: '/events/ws/', eventsource: '/events/ev/', longpolling: '/events/lp/', stream: '/events/sub/' };

	function channelPath(prefix, channel) {
		return prefix + encodeURIComponent(channel);
	}

	// resumeQuery tells the WebSocket, EventSource and stream locations where
	// to start (their Caddyfile maps these query arguments to last_event_id,
	// last_received_message_time and last_received_message_tag).
	function resumeQuery(position) {
		if (position.eventId) return '?last_event_id=' + encodeURIComponent(position.eventId);
		if (position.since) return '?since=' + encodeURIComponent(position.since) + '&tag=0';
		return '';
	}

	// deliver hands one received text to the handlers: the gap marker to
	// gap(), anything else to message().
	function deliver(h, text, eventId) {
		if (text === GAP_TEXT) h.gap();
		else h.message(text, eventId);
	}

	// failedBeforeOpen tells a refusal from a network failure for the
	// transports whose browser API hides the status (WebSocket, EventSource):
	// it asks the same channel in polling mode, through the same forward_auth.
	async function failedBeforeOpen(channel, h) {
		try {
			const resp = await fetch(channelPath(PREFIXES.eventsource, channel), {
				headers: { 'X-Nginx-PushStream-Mode': 'polling' }, cache: 'no-store',
			});
			if (resp.status === 403) {
				h.refused();
				return;
			}
		} catch (err) {
			// the network is down: a failure like any other
		}
		h.closed();
	}

	function websocket(channel, position, h) {
		let ws = null;
		return {
			open() {
				const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
				const sock = new WebSocket(scheme + location.host + channelPath(PREFIXES.websocket, channel) + resumeQuery(position));
				let opened = false;
				sock.onopen = () => {
					opened = true;
					h.opened();
					h.answered();
				};
				sock.onmessage = (e) => deliver(h, e.data, '');
				sock.onclose = () => {
					if (ws !== sock) return;
					ws = null;
					if (opened) h.closed();
					else failedBeforeOpen(channel, h);
				};
				ws = sock;
			},
			close() {
				const sock = ws;
				ws = null;
				if (sock) sock.close();
			},
		};
	}

	function eventsource(channel, position, h) {
		let es = null;
		return {
			open() {
				const src = new EventSource(channelPath(PREFIXES.eventsource, channel) + resumeQuery(position));
				let opened = false;
				src.onopen = () => {
					opened = true;
					h.opened();
					h.answered();
				};
				src.onmessage = (e) => deliver(h, e.data, e.lastEventId);
				// The gap message is the event "gap", which onmessage never sees.
				src.addEventListener('gap', () => h.gap());
				src.onerror = () => {
					if (es !== src) return;
					if (src.readyState === EventSource.CLOSED) {
						// The browser gave up (a refusal does this at once):
						// reconnect ourselves, with ?last_event_id= since a page
						// cannot set the header.
						es = null;
						if (opened) h.closed();
						else failedBeforeOpen(channel, h);
					} else {
						// The browser reconnects by itself and sends
						// Last-Event-ID: <id of the last event it got>.
						h.interrupted();
					}
				};
				es = src;
			},
			close() {
				const src = es;
				es = null;
				if (src) src.close();
			},
		};
	}

	function longpolling(channel, position, h) {
		let ctrl = null;
		async function poll(c) {
			let opened = false;
			while (ctrl === c) {
				const headers = {};
				const since = position.lastModified || position.since;
				if (since) {
					headers['If-Modified-Since'] = since;
					headers['If-None-Match'] = position.lastModified ? (position.etag || 'W/0') : 'W/0';
				}
				let resp;
				let text = '';
				try {
					if (!opened) {
						opened = true;
						h.opened();
					}
					resp = await fetch(channelPath(PREFIXES.longpolling, channel), { headers, cache: 'no-store', signal: c.signal });
					if (resp.status === 200) text = await resp.text();
				} catch (err) {
					if (ctrl !== c) return;
					ctrl = null;
					h.closed();
					return;
				}
				if (ctrl !== c) return;
				if (resp.status === 403) {
					ctrl = null;
					h.refused();
					return;
				}
				if (resp.status === 200 || resp.status === 304) h.answered();
				if (resp.status === 200) {
					// A gap: the header, and the marker line, which is skipped.
					if (resp.headers.get('X-Nginx-PushStream-Gap')) h.gap();
					// One answer may carry several messages (all those stored
					// after our position), one per line (message_template
					// "~text~\n"). Take the position only after handling them.
					for (const line of text.split('\n')) {
						if (line.trim() && line !== GAP_TEXT) h.message(line, '');
					}
					position.lastModified = resp.headers.get('Last-Modified') || position.lastModified;
					position.etag = resp.headers.get('Etag') || position.etag;
				} else if (resp.status !== 304) {
					// 304: the wait timed out with nothing new; ask again from
					// the same position. Anything else: back off and retry.
					ctrl = null;
					h.closed();
					return;
				}
			}
		}
		return {
			open() {
				const c = new AbortController();
				ctrl = c;
				poll(c);
			},
			close() {
				const c = ctrl;
				ctrl = null;
				if (c) c.abort();
			},
		};
	}

	// stream reads the forever stream, one message per line (message_template
	// "~text~\n"); pings are blank lines.
	function stream(channel, position, h) {
		let ctrl = null;
		async function run(c) {
			let resp;
			try {
				resp = await fetch(channelPath(PREFIXES.stream, channel) + resumeQuery(position), { cache: 'no-store', signal: c.signal });
			} catch (err) {
				if (ctrl === c) {
					ctrl = null;
					h.closed();
				}
				return;
			}
			if (ctrl !== c) return;
			if (resp.status === 403) {
				ctrl = null;
				h.refused();
				return;
			}
			if (resp.status !== 200 || !resp.body) {
				ctrl = null;
				h.closed();
				return;
			}
			h.opened();
			h.answered();
			const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
			let buf = '';
			try {
				for (;;) {
					const { value, done } = await reader.read();
					if (done || ctrl !== c) break;
					buf += value;
					let nl;
					while ((nl = buf.indexOf('\n')) >= 0) {
						const line = buf.slice(0, nl);
						buf = buf.slice(nl + 1);
						if (line.trim()) deliver(h, line, '');
					}
				}
			} catch (err) {
				// the connection broke
			}
			if (ctrl === c) {
				ctrl = null;
				h.closed();
			}
		}
		return {
			open() {
				const c = new AbortController();
				ctrl = c;
				run(c);
			},
			close() {
				const c = ctrl;
				ctrl = null;
				if (c) c.abort();
			},
		};
	}

	const makers = { websocket, eventsource, longpolling, stream };

	window.PushTransports = {
		names: Object.keys(makers),
		supported(name) {
			if (name === 'websocket') return 'WebSocket' in window;
			if (name === 'eventsource') return 'EventSource' in window;
			if (name === 'stream') return 'fetch' in window && 'TextDecoderStream' in window;
			return 'fetch' in window;
		},
		make(name, channel, position, handlers) {
			return makers[name](channel, position, handlers);
		},
	};
})();
