#!/usr/bin/env bash
# Everything CI checks, from a fresh clone: bootstrap → swift build --build-tests → a private Redis on a free
# port, a 3-primary/3-replica Redis Cluster and a 1+2 Sentinel group (scripts/redis-topology.sh) → swift test
# (unit) → pytest tests/integration (real gateway and demo-backend processes).
# Exits non-zero when either suite fails. Always stops what it started.
#
# Usage: scripts/test.sh [pytest arguments…]      e.g. scripts/test.sh -k routing -x
# Environment: SKIP_BOOTSTRAP=1, SKIP_UNIT=1 (no swift test), SKIP_INTEGRATION=1 (no pytest),
#              SWIFT_TEST_ARGS (extra args for swift test, e.g. "--filter GatewayConfigTests"),
#              SWIFT_TEST_TIMEOUT (seconds, default 900: a hung unit test must not hang CI).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

say() { printf '== test: %s\n' "$*" >&2; }

if [ "${SKIP_BOOTSTRAP:-0}" != 1 ]; then
    bash scripts/bootstrap.sh </dev/null || { say "bootstrap failed"; exit 1; }
fi

say "swift build --build-tests"
swift build --build-tests </dev/null || { say "build failed"; exit 1; }
bin="$(swift build --show-bin-path)"

workdir="$(mktemp -d "${TMPDIR:-/tmp}/gateway-test.XXXXXX")"
redis_pid=""
cleanup() {
    trap - EXIT INT TERM
    if [ -n "$redis_pid" ]; then kill -TERM "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null; fi
    bash scripts/redis-topology.sh stop "$workdir/cluster"
    bash scripts/redis-topology.sh stop "$workdir/sentinel"
    rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port="$(free_port)"
redis-server --bind 127.0.0.1 --port "$port" --dir "$workdir" --save '' --appendonly no \
    --daemonize no --logfile "$workdir/redis.log" </dev/null &
redis_pid=$!
if ! wait_until 10 redis_ping "$port"; then
    say "redis-server did not start on port $port"; cat "$workdir/redis.log" >&2; exit 1
fi
export GATEWAY_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
export REDIS_SERVER_PORT="$port"
say "redis-server on 127.0.0.1:$port"

# The cluster and the sentinel group start side by side (each takes ~15 s, mostly waiting for gossip).
bash scripts/redis-topology.sh start cluster "$workdir/cluster" >/dev/null &
cluster_starter=$!
bash scripts/redis-topology.sh start sentinel "$workdir/sentinel" >/dev/null &
sentinel_starter=$!
wait "$cluster_starter" || { say "the Redis Cluster did not start"; exit 1; }
wait "$sentinel_starter" || { say "the Redis Sentinel group did not start"; exit 1; }
source "$workdir/cluster/env"
source "$workdir/sentinel/env"
export REDIS_TOPOLOGY_SCRIPT="$PWD/scripts/redis-topology.sh"
say "redis cluster on $GATEWAY_TEST_CLUSTER_NODES; sentinels on $GATEWAY_TEST_SENTINEL_NODES"

unit=0
if [ "${SKIP_UNIT:-0}" != 1 ]; then
    say "swift test --skip-build ${SWIFT_TEST_ARGS:-}"
    # shellcheck disable=SC2086
    timeout --kill-after=10 "${SWIFT_TEST_TIMEOUT:-900}" swift test --skip-build ${SWIFT_TEST_ARGS:-} </dev/null
    unit=$?
    [ $unit -eq 124 ] && say "swift test timed out after ${SWIFT_TEST_TIMEOUT:-900}s"
fi

integration=0
if [ "${SKIP_INTEGRATION:-0}" != 1 ]; then
    say "pytest tests/integration $*"
    GATEWAY_BIN="$bin/gateway" DEMO_BIN="$bin/demo-backend" \
        python3 -m pytest -q tests/integration "$@" </dev/null
    integration=$?
fi

say "unit tests: $([ $unit -eq 0 ] && echo passed || echo "FAILED ($unit)"); integration tests: $([ $integration -eq 0 ] && echo passed || echo "FAILED ($integration)")"
[ $unit -eq 0 ] && [ $integration -eq 0 ]
