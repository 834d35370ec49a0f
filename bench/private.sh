#!/usr/bin/env bash
# What forward_auth costs a subscription (README, "Private channels"): the
# commits example (examples/commits: the app and its Caddyfile) run twice,
# as it is and with its forward_auth block taken out, and bench/subrate
# opening and closing EventSource subscriptions against each for -d
# seconds: a public channel (global, no cookie), the user's private
# channel (private-2 with bruno's session cookie) and, with forward_auth,
# someone else's (carla's cookie: refused). Caddy and the app run on core
# 0, the client on core 1, everything on loopback.
#
#   bench/private.sh [-d 10s] [-c 8]
#
# Prints one JSON line per run and a table; writes them to
# bench/results/private-<time>.txt.
set -euo pipefail

duration=10s
workers=8
while [ $# -gt 0 ]; do
	case "$1" in
	-d) duration="$2"; shift 2 ;;
	-c) workers="$2"; shift 2 ;;
	*) echo "usage: $0 [-d 10s] [-c 8]" >&2; exit 2 ;;
	esac
done

bench="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$bench")"
example="$root/examples/commits"
export PATH="$PATH:/usr/local/go/bin"
work="$(mktemp -d "${TMPDIR:-/tmp}/private-bench.XXXXXX")"
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

echo "building caddy, the app and subrate..." >&2
(cd "$root" && go build -o "$work/caddy" ./cmd/caddy && go build -o "$work/subrate" ./bench/subrate)
(cd "$example" && go build -o "$work/commits" .)

port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# The example's Caddyfile without its forward_auth block.
awk '/^\t@subscribe path_regexp/ {skip=1} skip && /^\t}$/ {skip=0; next} !skip' \
	"$example/Caddyfile" >"$work/noauth.Caddyfile"
cp "$example/Caddyfile" "$work/auth.Caddyfile"
grep -q "^[[:space:]]*forward_auth " "$work/noauth.Caddyfile" && { echo "forward_auth still in the variant" >&2; exit 1; }

# run_config NAME starts the app and Caddy on NAME.Caddyfile, runs the
# measurements and stops both.
run_config() {
	local name="$1" public internal app
	public="$(port)" internal="$(port)" app="$(port)"
	taskset -c 0 "$work/commits" -listen "127.0.0.1:$app" -db "$work/$name.db" -seed 20 \
		-publisher "http://127.0.0.1:$internal/events/pub/" >"$work/$name-app.log" 2>&1 &
	local app_pid=$!
	XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config" \
		COMMITS_PORT="$public" COMMITS_INTERNAL_PORT="$internal" COMMITS_TLS_PORT="$(port)" COMMITS_APP="127.0.0.1:$app" COMMITS_ADMIN=off GOMAXPROCS=1 \
		taskset -c 0 "$work/caddy" run --config "$work/$name.Caddyfile" --adapter caddyfile >"$work/$name-caddy.log" 2>&1 &
	local caddy_pid=$!
	pids+=("$app_pid" "$caddy_pid")
	local base="http://127.0.0.1:$public"
	for _ in $(seq 1 200); do
		curl -fs -o /dev/null "$base/api/v1/commit/schema/" && break
		sleep 0.1
	done
	local bruno carla
	bruno="$(curl -fs -D - -o /dev/null -d username=bruno "$base/login" | sed -n 's/^Set-Cookie: \(session=[^;]*\).*/\1/p')"
	carla="$(curl -fs -D - -o /dev/null -d username=carla "$base/login" | sed -n 's/^Set-Cookie: \(session=[^;]*\).*/\1/p')"
	local measure=(taskset -c 1 "$work/subrate" -c "$workers" -d "$duration" -pids "$caddy_pid,$app_pid")
	echo "{\"config\":\"$name\",\"channel\":\"public\",\"result\":$("${measure[@]}" -url "$base/events/ev/global")}"
	echo "{\"config\":\"$name\",\"channel\":\"own private\",\"result\":$("${measure[@]}" -url "$base/events/ev/private-2" -cookie "$bruno")}"
	if [ "$name" = auth ]; then
		echo "{\"config\":\"$name\",\"channel\":\"someone else's\",\"result\":$("${measure[@]}" -url "$base/events/ev/private-2" -cookie "$carla")}"
	fi
	kill -TERM "$caddy_pid" "$app_pid" 2>/dev/null || true
	wait "$caddy_pid" "$app_pid" 2>/dev/null || true
	pids=()
}

mkdir -p "$bench/results"
out="$bench/results/private-$(date -u +%Y%m%dT%H%M%SZ).txt"
{
	run_config noauth
	run_config auth
} | tee "$out.json"
node -e '
	const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
	console.log("| Caddyfile | channel | subscriptions/s | refused/s | p50 ms | p99 ms | Caddy + app CPU s per 1000 |");
	console.log("| --- | --- | --- | --- | --- | --- | --- |");
	for (const { config, channel, result: r } of rows) {
		const name = config === "auth" ? "with forward_auth" : "without";
		console.log(`| ${name} | ${channel} | ${r.subscriptions_per_second.toFixed(0)} | ${(r.refused / r.seconds).toFixed(0)} | ${r.p50_ms} | ${r.p99_ms} | ${r.server_cpu_seconds_per_1000.toFixed(3)} |`);
	}
' "$out.json" | tee "$out"
