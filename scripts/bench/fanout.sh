#!/usr/bin/env bash
# Pub/sub fan-out: two gateway instances on one Redis, N subscribers split across both, one publisher at a fixed
# rate (publishing on instance A). Reports deliveries/s, publish→receive latency p50/p99 (the publisher embeds a
# timestamp in `data`), then RSS per idle WebSocket connection with IDLE connections open on instance A.
# The load comes from `fanout-client` (Sources/FanoutClient, release build): one process, CLIENT_THREADS event loops
# (default 1), publishing every TICK_MS ms (default 5) and sampling the latency of every SAMPLE_EVERY-th message.
# Targets: ≥ 100k deliveries/s, ≤ 16 KiB per idle connection. Results go to /work/team/fanout-results.md
# (RESULTS=path to change).
# Usage: scripts/bench/fanout.sh [SUBSCRIBERS=200] [RATE=1000 msg/s] [DURATION=10 s] [IDLE=10000]
#        HISTORY=1: the channel keeps a history (SPEC §9): every publish runs the append+publish script and every
#        message carries offset/epoch (history mode). PRESENCE=1: subscribers also join presence (SPEC §9).
#        GATEWAY_BIN=path skips the gateway's release build (e.g. a debug binary for a smoke run);
#        FANOUT_BIN=path skips the client's. STORE=cluster runs it on a local 3+3 Redis Cluster (sharded pub/sub).
#        ROOMS=R spreads the subscribers over R channels bench:fan:0…R-1 and publishes round-robin over them (offered
#        deliveries/s = RATE × SUBSCRIBERS / R); with PRESENCE=1 that is the presence-cost setup (SPEC §9: 10 000
#        clients, e.g. `ROOMS=100 PRESENCE=1 fanout.sh 10000 1000 10 0` vs the same with PRESENCE=0).
source "$(dirname "$0")/lib.sh"
SUBS=${1:-200}
RATE=${2:-1000}
DURATION=${3:-10}
IDLE=${4:-10000}
RESULTS=${RESULTS:-/work/team/fanout-results.md}
command -v redis-server >/dev/null || { echo "redis-server is needed" >&2; exit 1; }
if [ -z "${GATEWAY_BIN:-}" ]; then build_release; fi
if [ -z "${FANOUT_BIN:-}" ]; then
  (cd "$ROOT" && swift build -c release --scratch-path "${SCRATCH_PATH:-.build}" --product fanout-client >&2)
  FANOUT_BIN="$ROOT/${SCRATCH_PATH:-.build}/release/fanout-client"
fi
CLIENT_THREADS=${CLIENT_THREADS:-1}
TICK_MS=${TICK_MS:-5}
SAMPLE_EVERY=${SAMPLE_EVERY:-10}
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "open files limit: $(ulimit -n)" >&2

# STORE=cluster: the same through sharded pub/sub on a local 3-primary/3-replica Redis Cluster.
if [ "${STORE:-redis}" = cluster ]; then
  bash "$ROOT/scripts/redis-topology.sh" start cluster "$BENCH_TMP/cluster" >/dev/null
  trap 'bash "$ROOT/scripts/redis-topology.sh" stop "$BENCH_TMP/cluster"; bench_cleanup' EXIT
  source "$BENCH_TMP/cluster/env"
  STORE_YAML="store: { cluster: { nodes: [${GATEWAY_TEST_CLUSTER_NODES//,/, }] }, key_prefix: \"bench:\" }"
  REDIS_PIDS=$(cat "$BENCH_TMP"/cluster/*.pid)
else
  REDIS=$(free_port)
  redis-server --bind 127.0.0.1 --port "$REDIS" --save "" --appendonly no --dir "$BENCH_TMP" >/dev/null 2>&1 &
  BENCH_PIDS+=($!)
  REDIS_PIDS=$!
  wait_port "$REDIS"
  STORE_YAML="store: { redis: \"redis://127.0.0.1:$REDIS/0\", key_prefix: \"bench:\" }"
fi

start_gateway() {  # NAME -> sets PORT_<NAME>, ADMIN_<NAME>, PID_<NAME>
  local name=$1 port admin
  port=$(free_port); admin=$(free_port)
  cat > "$BENCH_TMP/$name.yaml" <<YAML
server:
  listen: 127.0.0.1:$port
  admin_listen: 127.0.0.1:$admin
  access_log: false
$STORE_YAML
upstreams:
  app: { replicas: ["http://127.0.0.1:9"] }
routes:
  - name: events
    match: { path: /ws }
    pubsub:
      subscribe: ["bench:*"]
      publish: ["bench:*"]
$( [ "${HISTORY:-0}" = 1 ] && echo '      history: { channels: ["bench:*"], size: 1000, ttl: 5m }' || true )
$( [ "${PRESENCE:-0}" = 1 ] && echo '      presence: ["bench:*"]' || true )
YAML
  "$GATEWAY_BIN" serve --config "$BENCH_TMP/$name.yaml" > "$BENCH_TMP/$name.log" 2>&1 &
  local pid=$!
  BENCH_PIDS+=($pid)
  wait_port "$port"
  printf -v "PORT_$name" '%s' "$port"; printf -v "ADMIN_$name" '%s' "$admin"; printf -v "PID_$name" '%s' "$pid"
}
start_gateway A
start_gateway B
for admin in "$ADMIN_A" "$ADMIN_B"; do  # store connected (a Cluster's slot map known) before subscribing
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$admin/readyz" >/dev/null && break; sleep 0.1; done
done

# --- fan-out: SUBS subscribers spread over A and B, publisher on A; CPU time of every process is read around it -----
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime, in clock ticks
redis_ticks() { local t=0 pid; for pid in $REDIS_PIDS; do t=$((t + $(cpu_ticks "$pid"))); done; echo "$t"; }
CPU_BEFORE="$(cpu_ticks "$PID_A") $(cpu_ticks "$PID_B") $(redis_ticks)"
"$FANOUT_BIN" --ports "$PORT_A,$PORT_B" --publish-port "$PORT_A" --subscribers "$SUBS" --rate "$RATE" \
  --duration "$DURATION" --threads "$CLIENT_THREADS" --rooms "${ROOMS:-1}" --tick-ms "$TICK_MS" --sample-every "$SAMPLE_EVERY" \
  > "$BENCH_TMP/fanout.json"
CPU_AFTER="$(cpu_ticks "$PID_A") $(cpu_ticks "$PID_B") $(redis_ticks)"

# --- idle connections on A -------------------------------------------------------------------------------------
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
sleep 1
RSS_BEFORE=$(rss "$PID_A")
IDLE_PID=""
if (( IDLE > 0 )); then
  "$FANOUT_BIN" --ports "$PORT_A" --idle "$IDLE" --hold > "$BENCH_TMP/idle.json" &
  IDLE_PID=$!
  BENCH_PIDS+=($IDLE_PID)
  for _ in $(seq 1 600); do
    if grep -q idle_open "$BENCH_TMP/idle.json" 2>/dev/null; then break; fi
    kill -0 "$IDLE_PID" 2>/dev/null || { echo "fanout-client (idle) exited early" >&2; break; }
    sleep 0.2
  done
  sleep 2
fi
RSS_AFTER=$(rss "$PID_A")
if [ -n "$IDLE_PID" ]; then kill "$IDLE_PID" 2>/dev/null || true; fi

python3 - "$BENCH_TMP" "$SUBS" "$RATE" "$DURATION" "$IDLE" "$RSS_BEFORE" "$RSS_AFTER" "$RESULTS" "$GATEWAY_BIN" \
  "$CPU_BEFORE" "$CPU_AFTER" "$(getconf CLK_TCK)" "$CLIENT_THREADS" <<'PY'
import json, sys, datetime, os
tmp, subs, rate, duration, idle, before, after, results, binary, cpu0, cpu1, hz, threads = sys.argv[1:]
subs, rate, duration, idle, before, after = int(subs), float(rate), float(duration), int(idle), int(before), int(after)
try:
    run = json.load(open(f"{tmp}/fanout.json"))
except Exception as e:
    print(f"fanout-client output: {e}", file=sys.stderr)
    run = {}
idle_open = 0
try:
    idle_open = json.load(open(f"{tmp}/idle.json"))["idle_open"]
except Exception:
    pass
g = lambda key, default=float("nan"): run.get(key, default) if run.get(key) is not None else default
window = g("window_s", 0) or float(duration)
cpu = [(int(b) - int(a)) / int(hz) / window * 100 for a, b in zip(cpu0.split(), cpu1.split())]
cpu_client = g("cpu_s", float("nan")) / window * 100
delivered = g("delivered", 0) or 0
gateway_us = sum((int(b) - int(a)) for a, b in list(zip(cpu0.split(), cpu1.split()))[:2]) / int(hz) / delivered * 1e6 if delivered else float("nan")
per_conn = (after - before) * 1024 / idle_open if idle_open else float("nan")
lines = [
    f"## Pub/sub fan-out{' on a Cluster' if os.environ.get('STORE') == 'cluster' else ''}{' (history mode)' if os.environ.get('HISTORY') == '1' else ''}{' (presence on)' if os.environ.get('PRESENCE') == '1' else ''} ({datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, `scripts/bench/fanout.sh {subs} {int(rate)} {int(duration)} {idle}`)",
    "",
    f"binary: `{binary}`; 2 gateway instances + {'a 3+3 Redis Cluster' if os.environ.get('STORE') == 'cluster' else 'Redis'} + fanout-client ({threads} event loop), all on one {os.cpu_count()}-core machine",
    "",
    "| metric | value | target |",
    "|---|---|---|",
    f"| subscribers (split over 2 instances) | {subs} in {os.environ.get('ROOMS', '1')} room(s) | |",
    f"| published | {g('sent', 0)} msgs at {int(rate)}/s for {g('duration_s', 0):.1f} s | |",
    f"| offered deliveries/s | {g('offered_per_s', 0):,.0f} | |",
    f"| delivered | {g('delivered', 0)} of {g('expected', 0)} ({g('delivered_pct'):.2f} %), per subscriber {g('min_per_subscriber', 0)}–{g('max_per_subscriber', 0)} | 100 % |",
    f"| deliveries/s (first publish → last delivery, {window:.2f} s) | {g('deliveries_per_s', 0):,.0f} | ≥ 100,000 |",
    f"| publish→receive latency p50 / p99 / max | {g('p50_ms'):.2f} ms / {g('p99_ms'):.2f} ms / {g('max_ms'):.2f} ms ({g('latency_samples', 0)} samples) | |",
    f"| subscribers closed early (1013 slow consumer) | {g('closed_early', 0)} ({g('closed_1013', 0)}) | 0 |",
    f"| CPU during the run: gateway A / B / Redis / client | {cpu[0]:.0f} % / {cpu[1]:.0f} % / {cpu[2]:.0f} % / {cpu_client:.0f} % of a core | |",
    f"| gateway CPU (A + B) per delivery | {gateway_us:.2f} µs | |",
    f"| RSS of instance A before / after {idle_open} idle connections | {before} KiB / {after} KiB | |",
    f"| RSS per idle connection | {per_conn / 1024:.1f} KiB | ≤ 16 KiB |",
    "",
]
text = "\n".join(lines)
print(text)
print(json.dumps(run), file=sys.stderr)
with open(results, "a") as f:
    f.write(text + "\n")
PY
