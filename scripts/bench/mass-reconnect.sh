#!/usr/bin/env bash
# Mass reconnect (SPEC §9 / issue 14): SUBS subscribers (default 5000) on instance A, spread over CHANNELS history
# channels; messages are published at RATE/s (default 200, round-robin over the channels, through B's admin API);
# after WARMUP s instance A is SIGKILLed. Every subscriber reconnects to B (random 0–1 s backoff) with its last
# offset/epoch and must end with every message of its channel exactly once, in order. Reports the time from the
# kill until every subscriber has its `subscribed … recovered:true` and has caught up, and the Redis work it took
# (history reads counted by the gateway, XRANGE calls counted by Redis).
# The client is Python asyncio (scripts/bench/mass_reconnect.py, `websockets` package), not fanout-client: it needs
# per-subscriber offsets, a resubscribe with `since` and an exactly-once check.
# Usage: scripts/bench/mass-reconnect.sh [SUBS=5000] [CHANNELS=1000] [RATE=200] [WARMUP=3] [AFTER=5]
#        GATEWAY_BIN=path skips the release build. STORE=cluster runs it on a local 3+3 Redis Cluster.
source "$(dirname "$0")/lib.sh"
SUBS=${1:-5000}
CHANNELS=${2:-1000}
RATE=${3:-200}
WARMUP=${4:-3}
AFTER=${5:-5}
if [ -z "${GATEWAY_BIN:-}" ]; then build_release; fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [ "${STORE:-redis}" = cluster ]; then
  bash "$ROOT/scripts/redis-topology.sh" start cluster "$BENCH_TMP/cluster" >/dev/null
  trap 'bash "$ROOT/scripts/redis-topology.sh" stop "$BENCH_TMP/cluster"; bench_cleanup' EXIT
  source "$BENCH_TMP/cluster/env"
  STORE_YAML="store: { cluster: { nodes: [${GATEWAY_TEST_CLUSTER_NODES//,/, }] }, key_prefix: \"mr:\", command_timeout: 2s }"
  REDIS_PORTS=$(echo "$GATEWAY_TEST_CLUSTER_NODES" | tr , '\n' | sed 's/.*://' | paste -sd,)
else
  REDIS=$(free_port)
  redis-server --bind 127.0.0.1 --port "$REDIS" --save "" --appendonly no --dir "$BENCH_TMP" >/dev/null 2>&1 &
  BENCH_PIDS+=($!)
  wait_port "$REDIS"
  STORE_YAML="store: { redis: \"redis://127.0.0.1:$REDIS/0\", key_prefix: \"mr:\", command_timeout: 2s }"
  REDIS_PORTS=$REDIS
fi

start_gateway() {  # NAME -> PORT_<NAME>, ADMIN_<NAME>, PID_<NAME>
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
      history: { channels: ["bench:*"], size: 1000, ttl: 5m }
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

python3 "$ROOT/scripts/bench/mass_reconnect.py" --port-a "$PORT_A" --port-b "$PORT_B" --admin-b "$ADMIN_B" \
  --pid-a "$PID_A" --redis "$REDIS_PORTS" --subscribers "$SUBS" --channels "$CHANNELS" --rate "$RATE" \
  --warmup "$WARMUP" --after "$AFTER"
