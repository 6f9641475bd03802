#!/usr/bin/env bash
# Runs the whole thing locally, in the foreground:
#   bootstrap → swift build → Redis on 127.0.0.1:6379 (unless one already answers there)
#   → two demo replicas r1 (:9001) and r2 (:9002) → gateway with conf/gateway.yaml (listen :8080, admin :9901).
# Ctrl-C stops everything this script started (and only that).
#
# Environment: GATEWAY_CONFIG (default conf/gateway.yaml), GATEWAY_SESSION_SECRET (a dev value when unset),
#              SKIP_BOOTSTRAP=1 to skip the package check,
#              STORE=redis (default) | cluster (a local 3+3 Redis Cluster) | sentinel (1 primary, 2 replicas,
#              3 sentinels): the topology is started on free ports by scripts/redis-topology.sh and the config's
#              `store.redis` line is replaced by the matching `store.cluster` / `store.sentinel` block.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

config="${GATEWAY_CONFIG:-conf/gateway.yaml}"
say() { printf '\033[1mdev:\033[0m %s\n' "$*" >&2; }

[ "${SKIP_BOOTSTRAP:-0}" = 1 ] || bash scripts/bootstrap.sh
say "building (swift build)…"
swift build
bin="$(swift build --show-bin-path)"

workdir="$(mktemp -d "${TMPDIR:-/tmp}/gateway-dev.XXXXXX")"
pids=()
topology_dir=""
cleanup() {
    trap - EXIT INT TERM
    if [ -n "$topology_dir" ]; then bash scripts/redis-topology.sh stop "$topology_dir"; fi
    if [ "${#pids[@]}" -gt 0 ]; then
        say "stopping ${pids[*]}"
        for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
        for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    fi
    rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

store_mode="${STORE:-redis}"
if [ "$store_mode" = cluster ] || [ "$store_mode" = sentinel ]; then
    say "starting a Redis $store_mode (scripts/redis-topology.sh)…"
    topology_dir="$workdir/$store_mode"
    bash scripts/redis-topology.sh start "$store_mode" "$topology_dir" >/dev/null || { say "the $store_mode did not start"; exit 1; }
    source "$topology_dir/env"
    if [ "$store_mode" = cluster ]; then
        block="  cluster:\n    nodes: [${GATEWAY_TEST_CLUSTER_NODES//,/, }]"
        say "cluster nodes: $GATEWAY_TEST_CLUSTER_NODES"
    else
        block="  sentinel:\n    master: $GATEWAY_TEST_SENTINEL_MASTER\n    nodes: [${GATEWAY_TEST_SENTINEL_NODES//,/, }]"
        say "sentinels: $GATEWAY_TEST_SENTINEL_NODES (data nodes $GATEWAY_TEST_SENTINEL_DATA)"
    fi
    # The same config with the store swapped, next to a copy of its includes.
    cp -r "$(dirname "$config")/routes.d" "$workdir/" 2>/dev/null || true
    sed "s|^  redis: .*|$block|" "$config" >"$workdir/gateway.yaml"
    config="$workdir/gateway.yaml"
    unset GATEWAY_REDIS_URL
elif [ "$store_mode" != redis ]; then
    say "STORE must be redis, cluster or sentinel (got '$store_mode')"; exit 1
elif redis_ping 6379; then
    say "using the Redis already answering on 127.0.0.1:6379"
else
    say "starting redis-server on 127.0.0.1:6379 (data in $workdir)"
    redis-server --bind 127.0.0.1 --port 6379 --dir "$workdir" --save '' --appendonly no \
        --daemonize no --logfile "$workdir/redis.log" &
    pids+=($!)
    wait_until 10 redis_ping 6379 || { say "redis-server did not start; see $workdir/redis.log"; cat "$workdir/redis.log" >&2; exit 1; }
fi

for replica in "r1 9001" "r2 9002"; do
    set -- $replica
    if port_open "$2"; then say "port $2 is already taken; stop whatever listens there and retry"; exit 1; fi
    "$bin/demo-backend" --host 127.0.0.1 --port "$2" --name "$1" >"$workdir/$1.log" 2>&1 &
    pids+=($!)
done
for port in 9001 9002; do
    wait_until 10 http_ok "http://127.0.0.1:$port/health" || { say "demo replica on :$port did not start"; cat "$workdir"/r*.log >&2; exit 1; }
done
say "demo replicas r1 → http://127.0.0.1:9001, r2 → http://127.0.0.1:9002"

export GATEWAY_SESSION_SECRET="${GATEWAY_SESSION_SECRET:-dev-only-session-secret-not-for-production}"
say "starting gateway: $bin/gateway serve --config $config"
"$bin/gateway" serve --config "$config" &
gateway_pid=$!
pids+=("$gateway_pid")

gateway_ready() { kill -0 "$gateway_pid" 2>/dev/null && http_ok "http://127.0.0.1:9901/healthz"; }
if ! wait_until 30 gateway_ready; then
    if ! kill -0 "$gateway_pid" 2>/dev/null; then say "the gateway exited; see its output above"; exit 1; fi
    say "the gateway is running but admin http://127.0.0.1:9901/healthz does not answer yet"
fi

cat >&2 <<MSG

  gateway  http://127.0.0.1:8080      admin  http://127.0.0.1:9901   (Ctrl-C stops everything)

  curl -i http://127.0.0.1:8080/api/v1/hello                   # proxied to r1/r2 (round robin, weights 1:2)
  curl -i http://127.0.0.1:8080/api/v1/slow?ms=500             # a slow upstream answer
  curl -s -o /dev/null -w '%{size_download}\n' http://127.0.0.1:8080/api/v1/bytes?n=10000000
  curl -i -c /tmp/jar -H 'Content-Type: application/json' -d '{"user":"alice"}' http://127.0.0.1:8080/api/v1/login
  curl -i -b /tmp/jar http://127.0.0.1:8080/api/v1/me          # the upstream sees X-Gateway-User: alice
  curl -i --compressed http://127.0.0.1:8080/api/v1/json?kb=64 # gzip when the route compresses
  curl -s http://127.0.0.1:9901/upstreams                      # replica health
  curl -s http://127.0.0.1:9901/metrics | grep gateway_         # Prometheus metrics
  kill -HUP $gateway_pid                                       # reload conf after editing it

MSG

status=0
wait "$gateway_pid" || status=$?
say "gateway exited with status $status"
exit "$status"
