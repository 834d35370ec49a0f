#!/usr/bin/env bash
# The dashboard's browser test: builds Caddy with the plugin, runs it on
# examples/Caddyfile (moved to free ports), then runs dashboard.test.mjs
# in Debian's headless Chromium (npm ci first if node_modules is missing)
# and stops Caddy, whatever happens.
#
# Needs Go, Node.js and Chromium (/usr/bin/chromium, or $CHROMIUM).
# CADDY_BIN may name an already built Caddy with the plugin;
# DASHBOARD_SCREENSHOT=<path> takes the README's screenshot.
set -euo pipefail

e2e="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$e2e/../.." && pwd)"
export PATH="$PATH:/usr/local/go/bin"

work="$(mktemp -d "${TMPDIR:-/tmp}/dashboard-e2e.XXXXXX")"
caddy_pid=""

cleanup() {
	local status=$?
	if [ -n "$caddy_pid" ]; then
		kill -TERM "$caddy_pid" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$caddy_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$caddy_pid" 2>/dev/null || true
		wait "$caddy_pid" 2>/dev/null || true
	fi
	if [ "$status" -ne 0 ]; then
		echo "---- caddy log (last 40 lines) ----" >&2
		tail -n 40 "$work/caddy.log" >&2 || true
	fi
	rm -rf "$work"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}
port="$(free_port)"
admin="$(free_port)"
base="http://127.0.0.1:$port"

caddy="${CADDY_BIN:-}"
if [ -z "$caddy" ]; then
	echo "building caddy..."
	caddy="$work/caddy"
	(cd "$root" && go build -o "$caddy" ./cmd/caddy)
fi

# The example as it is, on this run's ports.
sed -e "s/^:8080 {/:$port {/" -e "s/admin localhost:2019/admin localhost:$admin/" \
	"$root/examples/Caddyfile" >"$work/Caddyfile"
grep -q "^:$port {" "$work/Caddyfile"
XDG_DATA_HOME="$work" XDG_CONFIG_HOME="$work" \
	"$caddy" run --config "$work/Caddyfile" --adapter caddyfile >"$work/caddy.log" 2>&1 &
caddy_pid=$!

# Ready when the health check answers.
node -e '
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
' "$base/health"

cd "$e2e"
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund
DASHBOARD_BASE="$base" node --experimental-websocket --test --test-concurrency=1 dashboard.test.mjs
