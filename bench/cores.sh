#!/usr/bin/env bash
# The multi-core Go benchmarks of issue 12, each round on core 0 alone, on
# core 1 alone (taskset, -cpu 1) and on both (-cpu 2), with the calibration
# loops of bench/calibrate measured the same way. A shared machine's cores
# are not always equal (a core whose sibling thread another tenant keeps
# busy runs memory-bound code at a fraction of the other's speed), so each
# round prints two ratios for every benchmark:
#
#   both/core0   the rate on both cores over core 0's alone: "-cpu 2 over
#                -cpu 1" when core 0 is the one -cpu 1 gets;
#   both/sum     the rate on both cores over the sum of each core's rate
#                alone: 1.00 is perfect scaling whatever the two cores give.
#
#   bench/cores.sh [rounds]     # default 5; about 40 s a round
#
# Prints one line per benchmark and round, then the medians.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
export PATH="$PATH:/usr/local/go/bin"
rounds="${1:-5}"
work="$(mktemp -d "${TMPDIR:-/tmp}/cores.XXXXXX")"
trap 'rm -rf "$work"' EXIT

(cd "$root" &&
	go test -c -o "$work/engine.test" ./pushstream/engine/ &&
	go test -c -o "$work/transport.test" ./pushstream/transport/ &&
	go test -c -o "$work/calibrate.test" ./bench/calibrate/)

# rate BINARY PATTERN CPU UNIT taskset-args...: the benchmarks matching
# PATTERN at -cpu CPU, one "name value" line each, value the figure in
# UNIT (ns/op or deliveries/s).
rate() {
	local bin=$1 pattern=$2 cpu=$3 unit=$4
	shift 4
	"$@" "$work/$bin" -test.run '^$' -test.bench "$pattern" -test.cpu "$cpu" -test.benchtime 0.5s |
		awk -v unit="$unit" '/^Benchmark/ { name = $1; sub(/-[0-9]+$/, "", name)
			for (i = 3; i < NF; i++) if ($(i + 1) == unit) print name, $i }' | sort
}

# round BINARY PATTERN UNIT: one round of core 0, core 1, both.
round() {
	local bin=$1 pattern=$2 unit=$3
	rate "$bin" "$pattern" 1 "$unit" taskset -c 0 >"$work/c0"
	rate "$bin" "$pattern" 1 "$unit" taskset -c 1 >"$work/c1"
	rate "$bin" "$pattern" 2 "$unit" taskset -c 0,1 >"$work/both"
	join "$work/c0" "$work/c1" | join - "$work/both" | awk -v unit="$unit" '{
		# as rates: ns/op is inverted
		if (unit == "ns/op") { r0 = 1 / $2; r1 = 1 / $3; rb = 1 / $4 } else { r0 = $2; r1 = $3; rb = $4 }
		printf "%-52s core0 %10s  core1 %10s  both %10s %-13s both/core0 %.2f  both/sum %.2f\n",
			$1, $2, $3, $4, unit, rb / r0, rb / (r0 + r1) }'
}

echo "load before: $(uptime)"
for i in $(seq "$rounds"); do
	round calibrate.test 'PureCPU|MemoryWrite|Allocate|SharedLine|PrivateLine' ns/op
	round engine.test 'PublishParallel/(channels|disjoint)=1024' ns/op
	round transport.test 'FanOutCores' deliveries/s
done | tee "$work/rounds"
echo "load after: $(uptime)"
echo
echo "medians over $rounds rounds:"
# median: the median of the numbers on its input, separated by spaces.
median() {
	tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
awk '{ key = $1; a[key] = a[key] " " $(NF - 2); s[key] = s[key] " " $NF } END {
	for (k in a) { print k, a[k], "|", s[k] } }' "$work/rounds" | sort | while read -r name rest; do
	core0=$(echo "$rest" | cut -d'|' -f1 | median)
	sum=$(echo "$rest" | cut -d'|' -f2 | median)
	printf "%-52s both/core0 %s  both/sum %s\n" "$name" "$core0" "$sum"
done
