#!/usr/bin/env bash
# bench/run.sh: the benchmark of issue 5 in one command. It runs scenarios
# S1-S4 (bench/README.md) against our Caddy and against nginx with Nchan,
# A/B alternately, each run on a freshly started server pinned to core 0,
# the load generator on core 1, and prints every figure with ours/Nchan.
#
#   bench/run.sh [--quick] [--only S1,S3,C] [--rounds N] [--no-nchan] [--cores 1|2]
#                [--original NGINX] [--out DIR]
#
# --cores 2 runs each server on both cores (GOMAXPROCS=2; nginx with two
# workers) with the load generator sharing them. C, the cluster scenario
# (two nodes sharing one Redis), runs only when --only names it.
# --original NGINX adds the original module (an nginx binary built with
# wandenberg/nginx-push-stream-module, bench/RESULTS.md says how) to the
# S1-S4 runs, with our paths and templates; ours/original is printed too.
#
# Results (JSON, text, summary.txt) go to bench/results/<time>/ unless --out.
set -euo pipefail

usage() {
	sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

QUICK=0
ONLY="S1,S2,S3,S4"
ROUNDS=1
WITH_NCHAN=1
OUT=""
CORES=1
ORIGINAL=""
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) QUICK=1 ;;
	--only) ONLY="$2"; shift ;;
	--only=*) ONLY="${1#*=}" ;;
	--rounds) ROUNDS="$2"; shift ;;
	--rounds=*) ROUNDS="${1#*=}" ;;
	--no-nchan) WITH_NCHAN=0 ;;
	--cores) CORES="$2"; shift ;;
	--cores=*) CORES="${1#*=}" ;;
	--original) ORIGINAL="$2"; shift ;;
	--original=*) ORIGINAL="${1#*=}" ;;
	--out) OUT="$2"; shift ;;
	--out=*) OUT="${1#*=}" ;;
	-h | --help) usage 0 ;;
	*) echo "run.sh: unknown argument $1" >&2; usage 2 >&2 ;;
	esac
	shift
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
OURS_PORT="${OURS_PORT:-18080}"
NCHAN_PORT="${NCHAN_PORT:-18081}"
NODE2_PORT="${NODE2_PORT:-18082}" # the cluster's second node, either server's
ORIGINAL_PORT="${ORIGINAL_PORT:-18083}"

# Every process may hold at most the hard limit of open files; a server
# needs one per subscriber, so take all of it (and size S2's big run by it).
ulimit -n "$(ulimit -Hn)"
NOFILE="$(ulimit -n)"

SERVER_CPU=0
CLIENT_CPU=1
if [ "$(nproc)" -lt 2 ]; then
	echo "run.sh: fewer than 2 cores: server and client share core 0, figures are not comparable" >&2
	CLIENT_CPU=0
fi
case "$CORES" in
1) ;;
2)
	# The multi-core run: server and load generator share both cores.
	SERVER_CPU=0,1 CLIENT_CPU=0,1
	;;
*) echo "run.sh: --cores takes 1 or 2" >&2; exit 2 ;;
esac

# Scenario sizes: full, or --quick for a smoke run.
if [ "$QUICK" = 1 ]; then
	S1_SUBS=500 S1_MSGS=200
	S2_SIZES="500 1000"
	S2_HOLD=1s
	S3_DURATION=3s S3_MSGS=2000
	S4_CHANNELS=500 S4_MSGS=5000
	C1_SUBS=500 C1_MSGS=200
	C2_CHANNELS=200 C2_MSGS=2000
else
	S1_SUBS=10000 S1_MSGS=2000
	# "20k": a server holds one descriptor per subscriber under the same
	# hard limit, so the big run stays a little under it.
	big=$((NOFILE - 200))
	[ "$big" -gt 20000 ] && big=20000
	S2_SIZES="10000 $big"
	S2_HOLD=3s
	S3_DURATION=10s S3_MSGS=20000
	S4_CHANNELS=10000 S4_MSGS=100000
	C1_SUBS=5000 C1_MSGS=500
	C2_CHANNELS=2000 C2_MSGS=20000
fi
S3_CAP=5000000 # the message cap of the timed S3 runs
# A client process holds at most NOFILE connections: bigger runs are split
# over client processes (--part). The quick run splits its biggest S2 run
# too, so that the split path is exercised.
PER_PROCESS=$((NOFILE - 500))
[ "$QUICK" = 1 ] && PER_PROCESS=600

WORK="$(mktemp -d /tmp/pushstream-bench.XXXXXX)"
OUT="${OUT:-$ROOT/bench/results/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$OUT"
SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"
SERVER_PIDS=() # the servers of the current run (two for a cluster)
REDIS_PID=""

cleanup() {
	local pid
	for pid in ${SERVER_PIDS[@]+"${SERVER_PIDS[@]}"} ${REDIS_PID:+"$REDIS_PID"}; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
		fi
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- build -----------------------------------------------------------------
log "building Caddy (./cmd/caddy) and the load generator"
go build -o "$WORK/caddy" ./cmd/caddy
go build -o "$WORK/loadgen" ./bench/loadgen
LOADGEN=(taskset -c "$CLIENT_CPU" "$WORK/loadgen")

# --- Nchan -----------------------------------------------------------------
NCHAN_MODULE=/usr/lib/nginx/modules/ngx_nchan_module.so
if [ "$WITH_NCHAN" = 1 ]; then
	if ! command -v nginx >/dev/null || [ ! -f "$NCHAN_MODULE" ]; then
		log "installing nginx and libnginx-mod-nchan"
		if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx libnginx-mod-nchan; } >"$WORK/apt.log" 2>&1; then
			tail -20 "$WORK/apt.log" >&2
			log "Nchan could not be installed: running ours only"
			WITH_NCHAN=0
		fi
	fi
fi
# nginx_frame DIR: prints the part of an nginx.conf both nginx servers
# share, up to the inside of its http block: $CORES workers, every file in
# DIR (whose logs and tmp directories the caller makes). worker_connections is
# twice the descriptor limit: with exactly the limit, nginx ran out of
# connection slots first ("worker_connections are not enough") and refused
# about 5% of 19,800 subscribers. nginx warns that it exceeds the
# descriptor limit; harmless.
nginx_frame() {
	local dir=$1
	cat <<EOF
worker_processes $CORES;
worker_rlimit_nofile $NOFILE;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events {
	worker_connections $((2 * NOFILE));
	multi_accept on;
}
http {
	access_log off;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
EOF
}

# nchan_conf DIR PORT [REDIS]: writes and checks DIR/nginx.conf, nginx
# with Nchan on PORT, its pid file, logs and temporary files in DIR. With
# REDIS (host:port) the channels live there: nchan_redis_pass in each
# location (nginx takes it at server level too, but there Nchan 1.3.6
# kept the channels in memory).
nchan_conf() {
	local dir=$1 port=$2 redis=${3:-} upstream="" pass=""
	if [ -n "$redis" ]; then
		upstream="	upstream nchan_redis {
		nchan_redis_server redis://$redis;
	}
"
		pass="			nchan_redis_pass nchan_redis;
"
	fi
	mkdir -p "$dir/logs" "$dir/tmp"
	# Loopback only, and Nchan's counterparts of bench/Caddyfile: ten stored
	# messages per channel, no pings.
	{
		echo "load_module $NCHAN_MODULE;"
		nginx_frame "$dir"
		cat <<EOF
	nchan_shared_memory_size 512M;
	nchan_message_buffer_length 10;
	nchan_message_timeout 30m;
${upstream}	server {
		listen 127.0.0.1:$port backlog=4096;
		# EventSource (Accept: text/event-stream), WebSocket (upgrade) and
		# long polling (anything else) on one location.
		location ~ ^/sub/(.+)\$ {
			nchan_subscriber;
			nchan_channel_id \$1;
${pass}		}
		# The forever stream: one message per line.
		location ~ ^/raw/(.+)\$ {
			nchan_subscriber http-raw-stream;
			nchan_channel_id \$1;
${pass}		}
		location ~ ^/pub/(.+)\$ {
			nchan_publisher;
			nchan_channel_id \$1;
${pass}		}
	}
}
EOF
	} >"$dir/nginx.conf"
	nginx -t -c "$dir/nginx.conf" -p "$dir" >"$dir/logs/test.log" 2>&1 ||
		{ cat "$dir/logs/test.log" >&2; exit 1; }
}
if [ "$WITH_NCHAN" = 1 ]; then
	nchan_conf "$WORK/nginx" "$NCHAN_PORT"
fi

# original_conf DIR PORT: writes and checks DIR/nginx.conf, the original
# module on PORT with bench/Caddyfile's store settings, paths and templates
# (the same protocol: loadgen's "ours" style reads it), its pid file, logs
# and temporary files in DIR.
original_conf() {
	local dir=$1 port=$2
	mkdir -p "$dir/logs" "$dir/tmp"
	{
		nginx_frame "$dir"
		cat <<EOF
	push_stream_shared_memory_size 512M;
	push_stream_message_ttl 30m;
	push_stream_max_messages_stored_per_channel 10;
	server {
		listen 127.0.0.1:$port backlog=4096;
		location ~ ^/sub/(.*)\$ {
			push_stream_subscriber;
			push_stream_channels_path \$1;
			push_stream_message_template "~text~\\n";
		}
		location ~ ^/ev/(.*)\$ {
			push_stream_subscriber eventsource;
			push_stream_channels_path \$1;
		}
		location ~ ^/lp/(.*)\$ {
			push_stream_subscriber long-polling;
			push_stream_channels_path \$1;
			push_stream_message_template "~text~\\n";
		}
		location ~ ^/ws/(.*)\$ {
			push_stream_subscriber websocket;
			push_stream_channels_path \$1;
		}
		location /pub {
			push_stream_publisher admin;
			push_stream_channels_path \$arg_id;
			push_stream_store_messages on;
		}
		location /channels-stats {
			push_stream_channels_statistics;
			push_stream_channels_path \$arg_id;
		}
	}
}
EOF
	} >"$dir/nginx.conf"
	"$ORIGINAL" -t -c "$dir/nginx.conf" -p "$dir" >"$dir/logs/test.log" 2>&1 ||
		{ cat "$dir/logs/test.log" >&2; exit 1; }
}
if [ -n "$ORIGINAL" ]; then
	original_conf "$WORK/original" "$ORIGINAL_PORT"
fi

# --- servers ---------------------------------------------------------------
# wait_port PORT PID: waits until PORT accepts connections; fails when PID
# ends first or after 10 s.
wait_port() {
	local port=$1 pid=$2 i
	for i in $(seq 1 200); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			return 1
		fi
		sleep 0.05
	done
	return 1
}

# start_node ours|nchan PORT [REDIS]: one server on $SERVER_CPU listening
# on PORT, its channels shared through the Redis at REDIS (host:port) when
# given (Nchan's configuration for it written by nchan_conf beforehand);
# adds its pid to SERVER_PIDS.
start_node() {
	local kind=$1 port=$2 redis=${3:-} broker="" conf="$WORK/nginx"
	case "$kind" in
	ours)
		[ -n "$redis" ] && broker="broker redis $redis"
		BENCH_PORT=$port BENCH_BROKER=$broker GOMAXPROCS=$CORES taskset -c "$SERVER_CPU" "$WORK/caddy" run \
			--config "$ROOT/bench/Caddyfile" --adapter caddyfile >>"$WORK/caddy.log" 2>&1 &
		;;
	nchan)
		[ -n "$redis" ] && conf="$WORK/nginx-$port"
		taskset -c "$SERVER_CPU" nginx -c "$conf/nginx.conf" -p "$conf" >>"$conf/logs/stdout.log" 2>&1 &
		;;
	original)
		conf="$WORK/original"
		taskset -c "$SERVER_CPU" "$ORIGINAL" -c "$conf/nginx.conf" -p "$conf" >>"$conf/logs/stdout.log" 2>&1 &
		;;
	esac
	SERVER_PIDS+=("$!")
	if ! wait_port "$port" "$!"; then
		log "$kind did not start; its log:"
		tail -20 "$WORK/caddy.log" "$conf/logs/error.log" 2>/dev/null >&2 || true
		exit 1
	fi
}

# start_server ours|nchan|ours-redis|nchan-redis: fresh servers on
# $SERVER_CPU: one node, or (-redis) two sharing the cluster scenario's
# Redis, emptied first. Sets TARGET (their URLs, comma-separated), STYLE
# and WATCH (loadgen's --pid and --broker-pid).
start_server() {
	local kind=${1%-redis} port=$OURS_PORT
	[ "$kind" = nchan ] && port=$NCHAN_PORT
	[ "$kind" = original ] && port=$ORIGINAL_PORT
	STYLE=$kind TARGET="http://127.0.0.1:$port"
	# The original module speaks our protocol on our paths.
	[ "$kind" = original ] && STYLE=ours
	if [ "$1" = "$kind" ]; then
		start_node "$kind" "$port"
		WATCH=(--pid "${SERVER_PIDS[0]}")
	else
		redis-cli -p "$REDIS_PORT" flushall >/dev/null
		start_node "$kind" "$port" "127.0.0.1:$REDIS_PORT"
		start_node "$kind" "$NODE2_PORT" "127.0.0.1:$REDIS_PORT"
		TARGET+=",http://127.0.0.1:$NODE2_PORT"
		WATCH=(--pid "${SERVER_PIDS[0]},${SERVER_PIDS[1]}" --broker-pid "$REDIS_PID")
	fi
	sleep 0.5 # let it settle before the idle sample
}

# stop_server stops the servers of start_server: TERM, then KILL after 10 s.
stop_server() {
	local pid i
	for pid in "${SERVER_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${SERVER_PIDS[@]}"; do
		for i in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	SERVER_PIDS=()
}

# start_redis: the cluster scenario's Redis on $SERVER_CPU, on a free
# loopback port, keeping nothing on disk; sets REDIS_PORT and REDIS_PID.
start_redis() {
	REDIS_PORT=$("$WORK/loadgen" free-port)
	mkdir -p "$WORK/redis"
	taskset -c "$SERVER_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$WORK/redis" --logfile "$WORK/redis/redis.log" &
	REDIS_PID=$!
	if ! wait_port "$REDIS_PORT" "$REDIS_PID"; then
		log "redis-server did not start; its log:"
		tail -20 "$WORK/redis/redis.log" >&2 || true
		exit 1
	fi
}

# stop_redis stops the Redis of start_redis.
stop_redis() {
	kill -TERM "$REDIS_PID" 2>/dev/null || true
	wait "$REDIS_PID" 2>/dev/null || true
	REDIS_PID=""
}

# measure NAME TARGET SUBSCRIBERS loadgen-args...: one run on fresh
# servers (TARGET as start_server takes it), split over client processes
# when it needs more connections than one may hold. Writes
# $OUT/NAME.TARGET.json and .txt.
measure() {
	local name=$1 target=$2 subs=$3
	shift 3
	local base="$OUT/$name.$target"
	start_server "$target"
	local common=(--target "$TARGET" --style "$STYLE" "${WATCH[@]}"
		--subscribers "$subs" --label "$name $target" "$@")
	local parts=$(((subs + PER_PROCESS - 1) / PER_PROCESS))
	[ "$parts" -lt 1 ] && parts=1
	log "$name on $target ($subs subscribers, $parts client process(es))"
	if [ "$parts" = 1 ]; then
		"${LOADGEN[@]}" "${common[@]}" --json "$base.json" >"$base.txt" 2>&1 || true
	else
		local sync="$WORK/sync.$name.$target" prefix="b$RANDOM$RANDOM" i pids=()
		mkdir -p "$sync"
		for i in $(seq 0 $((parts - 1))); do
			"${LOADGEN[@]}" "${common[@]}" --part "$i/$parts" --sync-dir "$sync" --prefix "$prefix" \
				--json "$base.part$i.json" >"$base.part$i.txt" 2>&1 &
			pids+=($!)
		done
		for i in "${pids[@]}"; do wait "$i" || true; done
		"$WORK/loadgen" merge --json "$base.json" "$base".part*.json >"$base.txt" 2>&1 || true
	fi
	stop_server
	if [ ! -s "$base.json" ]; then
		log "$name on $target produced no report:"
		tail -5 "$base"*.txt >&2 || true
	fi
}

# ab NAME SUBSCRIBERS loadgen-args...: the run on both servers, the order
# flipping from one A/B pair to the next, then the comparison table.
AB_COUNT=0
ab() {
	local name=$1
	shift
	local round order target
	for round in $(seq 1 "$ROUNDS"); do
		local tag=$name
		[ "$ROUNDS" -gt 1 ] && tag="$name.r$round"
		if [ "$WITH_NCHAN" = 0 ]; then
			order="ours"
		elif [ $((AB_COUNT % 2)) = 0 ]; then
			order="ours nchan"
		else
			order="nchan ours"
		fi
		AB_COUNT=$((AB_COUNT + 1))
		if [ -n "$ORIGINAL" ]; then
			# The original module, when given, runs second.
			order="${order%% *} original${order#"${order%% *}"}"
		fi
		for target in $order; do
			measure "$tag" "$target" "$@"
		done
		if [ "$WITH_NCHAN" = 1 ] && [ -s "$OUT/$tag.ours.json" ] && [ -s "$OUT/$tag.nchan.json" ]; then
			"$WORK/loadgen" compare --title "$tag" "$OUT/$tag.ours.json" "$OUT/$tag.nchan.json" | tee -a "$SUMMARY"
		else
			cat "$OUT/$tag.ours.txt" | tee -a "$SUMMARY"
		fi
		if [ -n "$ORIGINAL" ] && [ -s "$OUT/$tag.ours.json" ] && [ -s "$OUT/$tag.original.json" ]; then
			echo | tee -a "$SUMMARY"
			"$WORK/loadgen" compare --names ours,original --title "$tag, against the original module" \
				"$OUT/$tag.ours.json" "$OUT/$tag.original.json" | tee -a "$SUMMARY"
		fi
		echo | tee -a "$SUMMARY"
	done
}

wants() { [[ ",$ONLY," == *",$1,"* ]]; }

# batches NAME NCHAN_RUN loadgen-args...: NAME with the batch publish at
# 1, 10 and 100 messages per request (ours only), each compared with
# Nchan's one-message requests of run NCHAN_RUN of the same scenario.
batches() {
	local name=$1 nchan=$2 n
	shift 2
	[ "$ROUNDS" -gt 1 ] && nchan="$nchan.r$ROUNDS"
	for n in 1 10 100; do
		measure "$name-batch$n" ours "$@" --batch-publish "$n"
		if [ -s "$OUT/$nchan.nchan.json" ] && [ -s "$OUT/$name-batch$n.ours.json" ]; then
			"$WORK/loadgen" compare --title "$name-batch$n vs Nchan per request" \
				"$OUT/$name-batch$n.ours.json" "$OUT/$nchan.nchan.json" | tee -a "$SUMMARY"
		else
			tee -a "$SUMMARY" <"$OUT/$name-batch$n.ours.txt"
		fi
		echo | tee -a "$SUMMARY"
	done
}

# cluster SHAPE SUBSCRIBERS loadgen-args...: SHAPE on one node of each
# server (its memory store), then on two nodes sharing Redis with the
# subscribers split between them and every publish to node 1, then
# (SHAPE-alt) with each channel's publishes alternating between the nodes;
# one table of every run, and the two clusters compared.
cluster() {
	local shape=$1 subs=$2 servers=ours server variant
	shift 2
	if [ "$WITH_NCHAN" = 1 ]; then
		servers="ours nchan"
		[ $((AB_COUNT % 2)) = 1 ] && servers="nchan ours"
	fi
	AB_COUNT=$((AB_COUNT + 1))
	for variant in single first alternate; do
		for server in $servers; do
			case "$variant" in
			single) measure "$shape" "$server" "$subs" "$@" ;;
			first) measure "$shape" "$server-redis" "$subs" "$@" ;;
			alternate) measure "$shape-alt" "$server-redis" "$subs" "$@" --publish-to alternate ;;
			esac
		done
	done
	local files=() run
	for run in "$shape.ours" "$shape.ours-redis" "$shape-alt.ours-redis" \
		"$shape.nchan" "$shape.nchan-redis" "$shape-alt.nchan-redis"; do
		[ -s "$OUT/$run.json" ] && files+=("$OUT/$run.json")
	done
	echo "== $shape: one node, two nodes on Redis (publishing to node 1; -alt: alternating)" | tee -a "$SUMMARY"
	if [ "${#files[@]}" -gt 0 ]; then
		"$WORK/loadgen" table "${files[@]}" | tee -a "$SUMMARY"
	fi
	echo | tee -a "$SUMMARY"
	if [ -s "$OUT/$shape.ours-redis.json" ] && [ -s "$OUT/$shape.nchan-redis.json" ]; then
		"$WORK/loadgen" compare --title "$shape, two nodes on Redis" \
			"$OUT/$shape.ours-redis.json" "$OUT/$shape.nchan-redis.json" | tee -a "$SUMMARY"
		echo | tee -a "$SUMMARY"
	fi
}

log "results in $OUT"
{
	echo "bench/run.sh $([ "$QUICK" = 1 ] && echo --quick) on $(nproc) cores, server on $CORES, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (work tree modified)')"
	echo "ratio = ours/Nchan: above 1 is better for connected, deliveries/s, publishes/s; below 1 for the rest"
	echo
} | tee -a "$SUMMARY"

if wants S1; then
	ab S1-fanout-eventsource "$S1_SUBS" --mode eventsource --channels 1 --messages "$S1_MSGS" --size 100 --publishers 1
fi
if wants S2; then
	for mode in eventsource websocket; do
		for n in $S2_SIZES; do
			ab "S2-idle-$mode-$n" "$n" --mode "$mode" --channels 1 --messages 0 --hold "$S2_HOLD"
		done
	done
fi
if wants S3; then
	ab S3a-publish-0subs 0 --mode none --channels 1 --messages "$S3_CAP" --duration "$S3_DURATION" --publishers 16
	batches S3a-publish-0subs S3a-publish-0subs 0 --mode none --channels 1 --messages "$S3_CAP" --duration "$S3_DURATION" --publishers 16
	# Caddy's own floor: the same POSTs answered by `respond` (ours only),
	# what any Caddy handler costs before it does anything.
	measure S3a-caddy-floor ours 0 --mode none --channels 1 --messages "$S3_CAP" --duration "$S3_DURATION" \
		--publishers 16 --pub-path "/floor?id={ch}"
	tee -a "$SUMMARY" <"$OUT/S3a-caddy-floor.ours.txt"
	echo | tee -a "$SUMMARY"
	ab S3b-publish-100subs 100 --mode eventsource --channels 1 --messages "$S3_CAP" --duration "$S3_DURATION" --publishers 16
	ab S3c-100subs-8publishers 100 --mode eventsource --channels 1 --messages "$S3_MSGS" --publishers 8
fi
if wants S4; then
	ab S4-10k-channels "$S4_CHANNELS" --mode eventsource --channels "$S4_CHANNELS" --messages "$S4_MSGS" --publishers 8
	batches S4-10k-channels S4-10k-channels "$S4_CHANNELS" --mode eventsource --channels "$S4_CHANNELS" --messages "$S4_MSGS" --publishers 8
fi
if wants C; then
	if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
		log "redis-server or redis-cli missing (apt-get install redis-server): no cluster scenario"
	else
		start_redis
		if [ "$WITH_NCHAN" = 1 ]; then
			nchan_conf "$WORK/nginx-$NCHAN_PORT" "$NCHAN_PORT" "127.0.0.1:$REDIS_PORT"
			nchan_conf "$WORK/nginx-$NODE2_PORT" "$NODE2_PORT" "127.0.0.1:$REDIS_PORT"
		fi
		echo "cluster: $(redis-server --version | cut -d' ' -f1-3), load before:$(uptime | sed 's/.*load average://')" | tee -a "$SUMMARY"
		cluster C1-one-channel "$C1_SUBS" --mode eventsource --channels 1 --messages "$C1_MSGS" --size 100 --publishers 1
		cluster C2-many-channels "$C2_CHANNELS" --mode eventsource --channels "$C2_CHANNELS" --messages "$C2_MSGS" --publishers 8
		echo "cluster: load after:$(uptime | sed 's/.*load average://')" | tee -a "$SUMMARY"
		stop_redis
	fi
fi
log "done: $SUMMARY"
