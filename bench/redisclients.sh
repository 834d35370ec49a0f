#!/usr/bin/env bash
# go-redis against rueidis on what the Redis broker does (issue 11): builds
# bench/redisclients (a module of its own) and runs it with redis-server
# pinned to core 0 and the program to core 1 (so GOMAXPROCS=1, as the
# server of the other benchmarks). The program starts and stops its own
# redis-server; Debian's is installed if missing. The load average is
# printed before and after: the machine is shared.
#
#   bench/redisclients.sh [-d 3s] [-rounds 5] [-callers 1,8,64] [-fill 200000] [-size 60]
#
# Prints one line per run on stderr and Markdown tables of the medians on
# stdout (about 3 minutes with the defaults).
set -euo pipefail

bench="$(cd "$(dirname "$0")" && pwd)"
export PATH="$PATH:/usr/local/go/bin"
if ! command -v redis-server >/dev/null; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/redisclients.XXXXXX")"
trap 'rm -rf "$work"' EXIT

(cd "$bench/redisclients" && go build -o "$work/redisclients" .)
echo "load before: $(uptime)"
taskset -c 1 "$work/redisclients" -redis-cpus 0 "$@"
echo "load after: $(uptime)"
