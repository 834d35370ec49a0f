#!/usr/bin/env bash
# bench/cleanup.sh: the memory-cleanup timings of issue 15 in one run. It
# builds our Caddy and bench/cleanup, then runs the flows of upstream's
# misc/spec/mix/cleanup_memory_spec.rb (docs/SCENARIOS.md mix/cleanup_memory)
# with their production timings against our Caddy and against nginx with the
# original module, each variant on fresh servers of both kinds at the same
# time, and prints the table (bench/RESULTS.md, "Cleanup timing vs the
# original module").
#
#   NGINX=/path/to/sbin/nginx bench/cleanup.sh [--variants a,b] [--parallel] [--out DIR]
#
# NGINX is nginx built with wandenberg/nginx-push-stream-module 0.6.0
# (default /work/original/install/sbin/nginx; bench/RESULTS.md says how).
# A sequential run takes about 7 minutes, --parallel about 2. The table goes to DIR/table.md,
# the step log to DIR/log.txt (DIR defaults to bench/results/cleanup-<time>).
set -euo pipefail

usage() {
	sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

ARGS=()
OUT=""
while [ $# -gt 0 ]; do
	case "$1" in
	--variants) ARGS+=(-variants "$2"); shift ;;
	--variants=*) ARGS+=(-variants "${1#*=}") ;;
	--parallel) ARGS+=(-parallel) ;;
	--out) OUT="$2"; shift ;;
	--out=*) OUT="${1#*=}" ;;
	-h | --help) usage 0 ;;
	*) echo "cleanup.sh: unknown argument $1" >&2; usage 2 >&2 ;;
	esac
	shift
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
NGINX="${NGINX:-/work/original/install/sbin/nginx}"
if [ ! -x "$NGINX" ]; then
	echo "cleanup.sh: no nginx at $NGINX (set NGINX)" >&2
	exit 1
fi
OUT="${OUT:-bench/results/cleanup-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"
BIN="$(mktemp -d)"
trap 'rm -rf "$BIN"' EXIT

go build -o "$BIN/caddy" ./cmd/caddy
go build -o "$BIN/cleanup" ./bench/cleanup
{
	echo "commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (modified)'), $("$NGINX" -V 2>&1 | head -1)"
	echo "started $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/log.txt"
"$BIN/cleanup" -caddy "$BIN/caddy" -nginx "$NGINX" -dir "$OUT/servers" "${ARGS[@]}" \
	2> >(tee -a "$OUT/log.txt" >&2) | tee "$OUT/table.md"
echo "finished $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/log.txt"
