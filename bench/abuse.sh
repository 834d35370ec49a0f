#!/usr/bin/env bash
# bench/abuse.sh: the abuse benchmark (hostile clients) in one command. It
# builds Caddy and the load generator, and runs each flood of
# `loadgen abuse` against a Caddy of its own (bench/abuse.Caddyfile, 8 MiB
# shared_memory_size) on a free loopback port, freshly started for every
# flood; the server's CPU (utime+stime) and RSS are sampled before, during
# and after. Then it prints one table. Every flood is bounded in count and
# to 20 s; the whole run takes about a minute after the build.
#
#   bench/abuse.sh [--out DIR]
#
# The JSON of each flood and the table (table.md) go to
# bench/results/abuse-<time>/ unless --out.
set -euo pipefail

usage() {
	sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

OUT=""
while [ $# -gt 0 ]; do
	case "$1" in
	--out) OUT="$2"; shift ;;
	--out=*) OUT="${1#*=}" ;;
	-h | --help) usage 0 ;;
	*) echo "abuse.sh: unknown argument $1" >&2; usage 2 >&2 ;;
	esac
	shift
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
WORK="$(mktemp -d /tmp/pushstream-abuse.XXXXXX)"
OUT="${OUT:-$ROOT/bench/results/abuse-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
SERVER_PID=""

cleanup() {
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# As in run.sh: the server on core 0 with GOMAXPROCS=1, the clients on
# core 1, so that the server's CPU figures are those of one core.
SERVER_CPU=0
CLIENT_CPU=1
if [ "$(nproc)" -lt 2 ]; then
	log "fewer than 2 cores: server and clients share core 0"
	CLIENT_CPU=0
fi

LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
log "building Caddy (./cmd/caddy) and the load generator"
go build -o "$WORK/caddy" ./cmd/caddy
go build -o "$WORK/loadgen" ./bench/loadgen
PORT="$("$WORK/loadgen" free-port)"
TARGET="http://127.0.0.1:$PORT"

start_server() {
	ABUSE_PORT=$PORT GOMAXPROCS=1 taskset -c "$SERVER_CPU" "$WORK/caddy" run \
		--config "$ROOT/bench/abuse.Caddyfile" --adapter caddyfile >>"$WORK/caddy.log" 2>&1 &
	SERVER_PID=$!
	local i
	for i in $(seq 1 200); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
			sleep 0.5 # let it settle before the idle sample
			return 0
		fi
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.05
	done
	log "Caddy did not start on port $PORT; its log:"
	tail -20 "$WORK/caddy.log" >&2
	exit 1
}

stop_server() {
	kill -TERM "$SERVER_PID" 2>/dev/null || true
	local i
	for i in $(seq 1 50); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=""
}

# flood FILE LABEL loadgen-abuse-args...: one flood on a fresh server; its
# report goes to $OUT/FILE.json and .txt.
REPORTS=()
flood() {
	local file=$1 label=$2
	shift 2
	start_server
	log "$label"
	# The flood stops itself after --timeout; `timeout` is the backstop.
	if timeout 60 taskset -c "$CLIENT_CPU" "$WORK/loadgen" abuse --target "$TARGET" --pid "$SERVER_PID" \
		--timeout 20s --label "$label" --json "$OUT/$file.json" "$@" >"$OUT/$file.txt" 2>&1; then
		REPORTS+=("$OUT/$file.json")
	else
		log "$label failed:"
		tail -5 "$OUT/$file.txt" >&2 || true
	fi
	if ! kill -0 "$SERVER_PID" 2>/dev/null; then
		log "Caddy died during $label; its log:"
		tail -20 "$WORK/caddy.log" >&2 || true
	fi
	stop_server
}

SHM="shared_memory_size=8m"
BUDGET="websocket input bound=64m"

# 1. Large websocket frames to the publishing location: whole, then
#    trickled 1 KiB at a time (8 clients, 1 MiB frames, a channel each).
flood 1a-whole "1a whole 1 MiB frames" --flood whole-frames --path /wsp/ --conns 8 --frames 16
flood 1b-slow "1b slow 1 MiB frames" --flood slow-frames --path /wsp/ --conns 8 --frames 4 --piece 1024 --piece-gap 1ms
# 2. Unfinished fragmented messages up to the location's 1 MiB limit from
#    200 connections: against the process-wide 64 MiB bound, with large and
#    small fragments, and to the location that does not publish; then 1 KiB
#    fragments up to the default 64 KiB limit (below the process bound).
flood 2a-fragments "2a fragments 64 KiB, publishing" --flood fragments --path /wsp/ --conns 200 --fragment 65536 --bound "$BUDGET"
flood 2b-small-fragments "2b fragments 4 KiB, publishing" --flood fragments --path /wsp/ --conns 200 --fragment 4096 --bound "$BUDGET"
flood 2c-discard "2c fragments 64 KiB, not publishing" --flood fragments --path /wsn/ --conns 200 --fragment 65536 --bound "$BUDGET"
flood 2d-default-limit "2d fragments 1 KiB, publishing, default 64 KiB limit" --flood fragments --path /wsd/ --conns 200 --fragment 1024 --limit 65536 --bound "$BUDGET"
# 3. Ids: 20k polling requests each creating a channel of a 256 B id (and
#    the same requests to one channel, the baseline); streaming subscribers
#    naming one channel 500 times; publishes with 10 KB event headers until
#    the cap has refused 50.
flood 3a-channels "3a 20k new channels" --flood channels --path /poll/ --conns 8 --count 20000 --id-len 256 --bound "$SHM"
flood 3a-baseline "3a' 20k polls, one channel" --flood channels --path /poll/ --conns 8 --count 20000 --id-len 256 --same-id --bound "$SHM"
flood 3b-dup-path "3b one channel × 500 in a path" --flood dup-path --path /sub/ --conns 200 --mentions 500 --count 10 --bound "$SHM"
flood 3c-event-headers "3c 10 KB Event-Id/Event-Type" --flood event-headers --path '/pub?id=' --header-size 10000 --refusals 50 --count 2000 --bound "$SHM"

[ "${#REPORTS[@]}" -gt 0 ] || { log "no flood produced a report"; exit 1; }
{
	echo "bench/abuse.sh on $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (work tree modified)')"
	echo "server: bench/abuse.Caddyfile, GOMAXPROCS=1 on core $SERVER_CPU, a fresh process per flood; RSS peak: sampled every 20 ms"
	echo "machine load average (1, 5, 15 min): $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
	echo
	"$WORK/loadgen" abuse-table "${REPORTS[@]}"
} | tee "$OUT/table.md"
log "done: $OUT/table.md"
