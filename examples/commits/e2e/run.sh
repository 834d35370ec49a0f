#!/usr/bin/env bash
# The commits example end to end: builds Caddy with the plugin and the app,
# starts the app on a fresh SQLite database seeded with 60 commits, starts
# Caddy on examples/commits/Caddyfile, then
#
#   run.sh          runs the browser tests (npm ci first if node_modules is
#                   missing) and stops both, whatever happens;
#   run.sh serve    keeps both running until Ctrl-C (Caddy on
#                   http://localhost:${COMMITS_PORT:-8081}/).
#
# Needs Go and Node.js; the tests need Chromium (/usr/bin/chromium, or
# $CHROMIUM). CADDY_BIN may name an already built Caddy with the plugin.
set -euo pipefail

mode="${1:-test}"
case "$mode" in
test | serve) ;;
*)
	echo "usage: $0 [test|serve]" >&2
	exit 2
	;;
esac

e2e="$(cd "$(dirname "$0")" && pwd)"
example="$(dirname "$e2e")"
root="$(cd "$example/../.." && pwd)"
export PATH="$PATH:/usr/local/go/bin"

work="$(mktemp -d "${TMPDIR:-/tmp}/commits-e2e.XXXXXX")"
pids=()

stop_all() {
	local pid
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		# Both exit on SIGTERM within a second or two; don't wait forever.
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	pids=()
}

show_logs() {
	echo "---- app log (last 40 lines) ----" >&2
	tail -n 40 "$work/app.log" >&2 || true
	echo "---- caddy log (last 40 lines) ----" >&2
	tail -n 40 "$work/caddy.log" >&2 || true
}

cleanup() {
	local status=$?
	stop_all
	if [ "$status" -ne 0 ] && [ "$mode" = test ]; then
		show_logs
	fi
	rm -rf "$work"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

if [ "$mode" = serve ]; then
	port="${COMMITS_PORT:-8081}"
	internal_port="${COMMITS_INTERNAL_PORT:-8082}"
	tls_port="${COMMITS_TLS_PORT:-8443}"
	app_port="${COMMITS_APP_PORT:-8000}"
else
	port="${COMMITS_PORT:-$(free_port)}"
	internal_port="${COMMITS_INTERNAL_PORT:-$(free_port)}"
	tls_port="${COMMITS_TLS_PORT:-$(free_port)}"
	app_port="${COMMITS_APP_PORT:-$(free_port)}"
	# Stored messages expire quickly, so that the tests see the gap signal:
	# a page away for longer than this is told and refetches from the API.
	export COMMITS_MESSAGE_TTL="${COMMITS_MESSAGE_TTL:-15s}"
fi
base="http://127.0.0.1:$port"
internal="http://127.0.0.1:$internal_port"
tls="https://localhost:$tls_port"

echo "building caddy and the app..."
caddy="${CADDY_BIN:-}"
if [ -z "$caddy" ]; then
	caddy="$work/caddy"
	(cd "$root" && go build -o "$caddy" ./cmd/caddy)
fi
(cd "$example" && go build -o "$work/commits" .)

"$work/commits" -listen "127.0.0.1:$app_port" -db "$work/commits.db" -seed 60 \
	-publisher "$internal/events/pub/" >"$work/app.log" 2>&1 &
pids+=($!)

XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config" \
	COMMITS_PORT="$port" COMMITS_INTERNAL_PORT="$internal_port" COMMITS_TLS_PORT="$tls_port" COMMITS_APP="127.0.0.1:$app_port" COMMITS_ADMIN=off \
	"$caddy" run --config "$example/Caddyfile" --adapter caddyfile >"$work/caddy.log" 2>&1 &
pids+=($!)

# Ready when the app answers through Caddy.
if ! node -e '
	const url = process.argv[1];
	const deadline = Date.now() + 120000;
	(async () => {
		for (;;) {
			try {
				const r = await fetch(url);
				if (r.ok) return;
			} catch {}
			if (Date.now() > deadline) { console.error("not up: " + url); process.exit(1); }
			await new Promise((r) => setTimeout(r, 200));
		}
	})();
' "$base/api/v1/commit/schema/"; then
	show_logs
	exit 1
fi

if [ "$mode" = serve ]; then
	echo "the commits example runs on http://localhost:$port/ (Ctrl-C stops it)"
	echo "  transports: http://localhost:$port/?transport=websocket|eventsource|longpolling|stream"
	echo "  over HTTPS (HTTP/2, Caddy's internal CA): $tls/"
	echo "  publisher and statistics (loopback only): $internal/events/stats/ALL"
	echo "  browser tests against it: (cd $e2e && npm ci && COMMITS_URL=$base COMMITS_INTERNAL_URL=$internal COMMITS_TLS_URL=$tls npm test)"
	# Until Ctrl-C, or until one of the two stops by itself.
	wait -n "${pids[@]}"
	echo "a process stopped" >&2
	show_logs
	exit 1
fi

cd "$e2e"
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund
COMMITS_URL="$base" COMMITS_INTERNAL_URL="$internal" COMMITS_TLS_URL="$tls" node --test --test-concurrency=1 feed.test.mjs private.test.mjs gap.test.mjs tls.test.mjs
