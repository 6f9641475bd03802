#!/usr/bin/env bash
# Starts and stops the Redis topologies the gateway supports besides a single node, on free loopback ports:
#
#   scripts/redis-topology.sh start cluster  DIR   # 3 primaries + 3 replicas (redis-cli --cluster create)
#   scripts/redis-topology.sh start sentinel DIR   # 1 primary + 2 replicas + 3 sentinels (master "mymaster")
#   scripts/redis-topology.sh stop DIR             # stops every server started in DIR (by pid file), removes DIR
#
# `start` waits until the topology is usable (cluster_state:ok and every node knows all 6; sentinels see the
# primary, both replicas and each other), then writes DIR/env (shell `export` lines) and prints it:
#   cluster:  GATEWAY_TEST_CLUSTER_NODES=127.0.0.1:P1,...  (the 6 data nodes, primaries first)
#   sentinel: GATEWAY_TEST_SENTINEL_NODES=127.0.0.1:S1,... GATEWAY_TEST_SENTINEL_MASTER=mymaster
#             GATEWAY_TEST_SENTINEL_DATA=127.0.0.1:P,127.0.0.1:R1,127.0.0.1:R2
# Every server runs daemonized with its pid in DIR/*.pid, so `stop` finds them even if the caller died.
# Used by scripts/test.sh (CI), scripts/dev.sh (STORE=cluster|sentinel) and destructive integration tests.
#
# Timeouts are short enough for failover tests (cluster-node-timeout / down-after 2 s) and long enough not to
# fail over spuriously on a loaded 2-core machine.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"

say() { printf '== redis-topology: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

node_timeout_ms="${REDIS_TOPOLOGY_NODE_TIMEOUT_MS:-2000}"

start_server() {  # DIR PORT [extra redis-server args...]
    local dir="$1" port="$2"
    shift 2
    mkdir -p "$dir/$port"
    redis-server --bind 127.0.0.1 --port "$port" --dir "$dir/$port" --save '' --appendonly no \
        --daemonize yes --pidfile "$dir/redis-$port.pid" --logfile "$dir/$port/redis.log" "$@" </dev/null \
        || die "redis-server on $port did not start"
}

cluster_ok() {  # PORT COUNT
    local info
    info="$(redis-cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null)" || return 1
    grep -q '^cluster_state:ok' <<<"$info" && grep -q "^cluster_known_nodes:$2" <<<"$info"
}

replicas_synced() {  # PORT: a replica whose link to its primary is up
    redis-cli -h 127.0.0.1 -p "$1" info replication 2>/dev/null | grep -q '^master_link_status:up'
}

start_cluster() {
    local dir="$1" ports=() p
    for _ in 1 2 3 4 5 6; do
        # A free port whose +10000 bus port is free too.
        while :; do
            p="$(free_port)"
            if [ "$p" -lt 55000 ] && ! port_open $((p + 10000)); then break; fi
        done
        ports+=("$p")
        start_server "$dir" "$p" --cluster-enabled yes --cluster-config-file "$dir/$p/nodes.conf" \
            --cluster-node-timeout "$node_timeout_ms" --cluster-replica-validity-factor 0
    done
    for p in "${ports[@]}"; do wait_until 10 redis_ping "$p" || die "redis-server on $p did not answer"; done
    local addresses=()
    for p in "${ports[@]}"; do addresses+=("127.0.0.1:$p"); done
    redis-cli --cluster create "${addresses[@]}" --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1 \
        || { cat "$dir/create.log" >&2; die "redis-cli --cluster create failed"; }
    for p in "${ports[@]}"; do
        wait_until 30 cluster_ok "$p" 6 || die "cluster node $p did not reach cluster_state:ok"
    done
    # Primaries first (redis-cli assigns the first three as primaries, but ask rather than assume).
    local primaries=() replicas=()
    for p in "${ports[@]}"; do
        if redis-cli -h 127.0.0.1 -p "$p" role 2>/dev/null | head -1 | grep -q master; then
            primaries+=("127.0.0.1:$p")
        else
            wait_until 30 replicas_synced "$p" || die "replica $p did not sync"
            replicas+=("127.0.0.1:$p")
        fi
    done
    local all
    all="$(IFS=,; echo "${primaries[*]},${replicas[*]}")"
    echo "export GATEWAY_TEST_CLUSTER_NODES=$all" >"$dir/env"
}

sentinel_ready() {  # SENTINEL_PORT
    local info
    info="$(redis-cli -h 127.0.0.1 -p "$1" sentinel master mymaster 2>/dev/null | paste -sd' ')" || return 1
    grep -q 'num-slaves 2 ' <<<"$info " && grep -q 'num-other-sentinels 2 ' <<<"$info "
}

start_sentinel() {
    local dir="$1" primary r1 r2 s
    primary="$(free_port)"
    start_server "$dir" "$primary"
    wait_until 10 redis_ping "$primary" || die "primary $primary did not answer"
    r1="$(free_port)"; start_server "$dir" "$r1" --replicaof 127.0.0.1 "$primary"
    r2="$(free_port)"; start_server "$dir" "$r2" --replicaof 127.0.0.1 "$primary"
    wait_until 30 replicas_synced "$r1" || die "replica $r1 did not sync"
    wait_until 30 replicas_synced "$r2" || die "replica $r2 did not sync"
    local sentinels=()
    for _ in 1 2 3; do
        s="$(free_port)"
        mkdir -p "$dir/$s"
        cat >"$dir/$s/sentinel.conf" <<CONF
bind 127.0.0.1
port $s
daemonize yes
pidfile $dir/sentinel-$s.pid
logfile $dir/$s/sentinel.log
dir $dir/$s
sentinel monitor mymaster 127.0.0.1 $primary 2
sentinel down-after-milliseconds mymaster $node_timeout_ms
sentinel failover-timeout mymaster 10000
sentinel parallel-syncs mymaster 2
CONF
        redis-server "$dir/$s/sentinel.conf" --sentinel </dev/null || die "sentinel on $s did not start"
        sentinels+=("127.0.0.1:$s")
    done
    for s in "${sentinels[@]}"; do
        wait_until 30 sentinel_ready "${s#*:}" || die "sentinel $s did not discover the group"
    done
    {
        echo "export GATEWAY_TEST_SENTINEL_NODES=$(IFS=,; echo "${sentinels[*]}")"
        echo "export GATEWAY_TEST_SENTINEL_MASTER=mymaster"
        echo "export GATEWAY_TEST_SENTINEL_DATA=127.0.0.1:$primary,127.0.0.1:$r1,127.0.0.1:$r2"
    } >"$dir/env"
}

stop_all() {
    local dir="$1" pidfile pid pids=()
    [ -d "$dir" ] || return 0
    for pidfile in "$dir"/*.pid; do
        [ -f "$pidfile" ] || continue
        pid="$(cat "$pidfile" 2>/dev/null)"
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null && pids+=("$pid"); fi
    done
    local deadline=$((SECONDS + 10))
    for pid in "${pids[@]}"; do
        while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -rf "$dir"
}

case "${1:-}" in
    start)
        kind="${2:-}"; dir="${3:-}"
        [ -n "$dir" ] || die "usage: $0 start cluster|sentinel DIR"
        mkdir -p "$dir"; dir="$(cd "$dir" && pwd)"
        case "$kind" in
            cluster) ( start_cluster "$dir" ) || { stop_all "$dir"; exit 1; } ;;
            sentinel) ( start_sentinel "$dir" ) || { stop_all "$dir"; exit 1; } ;;
            *) die "unknown topology '$kind' (cluster | sentinel)" ;;
        esac
        cat "$dir/env"
        ;;
    stop)
        [ -n "${2:-}" ] || die "usage: $0 stop DIR"
        stop_all "$2"
        ;;
    *)
        die "usage: $0 start cluster|sentinel DIR | stop DIR"
        ;;
esac
