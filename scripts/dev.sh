#!/usr/bin/env bash
# Runs the gateway locally, in the foreground, in front of the demo replicas or your own apps:
#   bootstrap → swift build → read the config with `gateway check --json`
#   → Redis (when the config uses one on this machine and none answers there)
#   → demo replicas (only for replicas the config points at on 127.0.0.1:9001/9002 that nothing serves yet)
#   → gateway serve --config FILE.
# Ctrl-C, `kill -TERM <dev.sh pid>` and `kill -INT -- -<process group>` all stop everything this script started
# (and only that: a Redis or an app that was already running is left alone).
#
# Usage: scripts/dev.sh [--config FILE] [--release] [--watch]
#   --config FILE   the config to serve (default conf/gateway.yaml; GATEWAY_CONFIG works too)
#   --release       build optimised (swift build -c release): about 3x faster than the default debug build
#   --watch         pass --watch to `gateway serve` (reload when a config file changes)
# Environment: GATEWAY_SESSION_SECRET (a dev value when unset), SKIP_BOOTSTRAP=1, DEV_BIN_DIR=DIR (use binaries
#   already built there, skip the build), DEV_DEMO_PORTS="9001 9002" (where demo replicas r1, r2… may be
#   started), STORE=redis (default) | cluster (a local 3+3 Redis Cluster) | sentinel (1 primary, 2 replicas,
#   3 sentinels): the topology is started on free ports by scripts/redis-topology.sh and the config's
#   `store.redis` line is replaced by the matching `store.cluster` / `store.sentinel` block.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

say() { printf '\033[1mdev:\033[0m %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

config="${GATEWAY_CONFIG:-conf/gateway.yaml}"
configuration=debug
serve_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --config|-c) [ $# -ge 2 ] || die "--config needs a file"; config="$2"; shift 2 ;;
        --config=*) config="${1#--config=}"; shift ;;
        --release) configuration=release; shift ;;
        --watch) serve_args+=(--watch); shift ;;
        -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (try --help)" ;;
    esac
done
[ -f "$config" ] || die "no config file at $config"

[ "${SKIP_BOOTSTRAP:-0}" = 1 ] || bash scripts/bootstrap.sh
if [ -n "${DEV_BIN_DIR:-}" ]; then
    bin="$DEV_BIN_DIR"
else
    say "building (swift build -c $configuration)…"
    swift build -c "$configuration"
    bin="$(swift build -c "$configuration" --show-bin-path)"
fi
[ -x "$bin/gateway" ] || die "no gateway binary in $bin"

workdir="$(mktemp -d "${TMPDIR:-/tmp}/gateway-dev.XXXXXX")"
pids=()
topology_dir=""
cleanup() {
    trap - EXIT INT TERM HUP
    if [ -n "$topology_dir" ]; then bash scripts/redis-topology.sh stop "$topology_dir"; fi
    if [ "${#pids[@]}" -gt 0 ]; then
        say "stopping ${pids[*]}"
        for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
        for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    fi
    rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# What the config asks for, from the gateway itself (not by parsing YAML here).
if ! "$bin/gateway" check --json --config "$config" >"$workdir/summary.json" 2>"$workdir/check.err"; then
    cat "$workdir/check.err" >&2
    die "the config does not pass 'gateway check'"
fi
summary() { python3 -c "import json,sys; d=json.load(open('$workdir/summary.json')); $1" ; }
listen="$(summary 'print(d["listen"]["address"])')"
listen_port="$(summary 'print(d["listen"]["port"])')"
admin="$(summary 'print(d["admin_listen"]["address"] if d["admin_listen"] else "")')"
admin_port="$(summary 'print(d["admin_listen"]["port"] if d["admin_listen"] else "")')"
store_mode="$(summary 'print(d["store"]["mode"])')"
redis_url="$(summary 'print(d["store"].get("redis", ""))')"
# "PORT NAME" for each replica on this machine at a demo port (9001 → r1, 9002 → r2).
demo_replicas="$(summary '
seen = set()
for u in d["upstreams"]:
    for r in u["replicas"]:
        if r["host"] in ("127.0.0.1", "localhost") and r["port"] not in seen:
            seen.add(r["port"]); print(r["port"], r["url"])
')"
local_host() { case "$1" in 127.0.0.1|localhost|::1|0.0.0.0|"") return 0 ;; *) return 1 ;; esac; }
host_of() { local a="${1%:*}"; a="${a#[}"; echo "${a%]}"; }

# --- the store ------------------------------------------------------------------------------------------------
start_store_redis() {
    local url="$1" hostport host port
    hostport="${url#redis://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
    host="${hostport%:*}"; port="${hostport##*:}"
    [ "$host" = "$hostport" ] && port=6379
    if ! local_host "$host"; then say "store: Redis at $host:$port (not started here)"; return; fi
    if redis_ping "$port"; then
        say "store: using the Redis already answering on 127.0.0.1:$port"
        return
    fi
    say "store: starting redis-server on 127.0.0.1:$port (data in $workdir)"
    redis-server --bind 127.0.0.1 --port "$port" --dir "$workdir" --save '' --appendonly no \
        --daemonize no --logfile "$workdir/redis.log" &
    pids+=($!)
    wait_until 10 redis_ping "$port" || { cat "$workdir/redis.log" >&2; die "redis-server did not start"; }
}
# A local Redis Cluster or Sentinel group (scripts/redis-topology.sh); the config is copied with its store swapped.
start_store_topology() {
    local kind="$1" block
    say "store: starting a Redis $kind (scripts/redis-topology.sh)…"
    topology_dir="$workdir/$kind"
    bash scripts/redis-topology.sh start "$kind" "$topology_dir" >/dev/null || die "the $kind did not start"
    source "$topology_dir/env"
    if [ "$kind" = cluster ]; then
        block="  cluster:\n    nodes: [${GATEWAY_TEST_CLUSTER_NODES//,/, }]"
        say "cluster nodes: $GATEWAY_TEST_CLUSTER_NODES"
    else
        block="  sentinel:\n    master: $GATEWAY_TEST_SENTINEL_MASTER\n    nodes: [${GATEWAY_TEST_SENTINEL_NODES//,/, }]"
        say "sentinels: $GATEWAY_TEST_SENTINEL_NODES (data nodes $GATEWAY_TEST_SENTINEL_DATA)"
    fi
    cp -r "$(dirname "$config")/routes.d" "$workdir/" 2>/dev/null || true
    sed "s|^  redis: .*|$block|" "$config" >"$workdir/gateway.yaml"
    config="$workdir/gateway.yaml"
    unset GATEWAY_REDIS_URL
}
case "${STORE:-redis}" in
    redis|single)
        if [ "$store_mode" = redis ] && [ -n "$redis_url" ]; then start_store_redis "$redis_url"
        else say "store: $store_mode (the config has no store.redis)"; fi ;;
    cluster|sentinel) start_store_topology "$STORE" ;;
    *) die "STORE must be redis, cluster or sentinel (got '${STORE}')" ;;
esac

# --- demo replicas, only where the config points and nothing answers --------------------------------------------
demo_ports="${DEV_DEMO_PORTS:-9001 9002}"  # the Nth port gets demo replica rN
while read -r port url; do
    [ -n "${port:-}" ] || continue
    name="" number=0
    for demo_port in $demo_ports; do
        number=$((number + 1))
        [ "$demo_port" = "$port" ] && name="r$number"
    done
    if port_open "$port"; then
        say "upstream $url: something already listens there; using it"
    elif [ -n "$name" ]; then
        "$bin/demo-backend" --host 127.0.0.1 --port "$port" --name "$name" >"$workdir/$name.log" 2>&1 &
        pids+=($!)
        wait_until 10 http_ok "http://127.0.0.1:$port/health" || { cat "$workdir/$name.log" >&2; die "demo replica on :$port did not start"; }
        say "upstream $url: started demo replica $name"
    else
        say "upstream $url: nothing listens there yet (start your app; the gateway answers 502 until then)"
    fi
done <<<"$demo_replicas"

# --- the gateway --------------------------------------------------------------------------------------------------
export GATEWAY_SESSION_SECRET="${GATEWAY_SESSION_SECRET:-dev-only-session-secret-not-for-production}"
say "starting gateway: $bin/gateway serve --config $config ${serve_args[*]:-}"
"$bin/gateway" serve --config "$config" "${serve_args[@]}" &
gateway_pid=$!
pids+=("$gateway_pid")

listen_host="$(host_of "$listen")"; local_host "$listen_host" && listen_host=127.0.0.1
if [ -n "$admin_port" ]; then
    admin_host="$(host_of "$admin")"; local_host "$admin_host" && admin_host=127.0.0.1
    gateway_ready() { kill -0 "$gateway_pid" 2>/dev/null && http_ok "http://$admin_host:$admin_port/healthz"; }
else
    gateway_ready() { kill -0 "$gateway_pid" 2>/dev/null && port_open "$listen_port"; }
fi
if ! wait_until 30 gateway_ready; then
    kill -0 "$gateway_pid" 2>/dev/null || die "the gateway exited; see its output above"
    say "the gateway is running but does not answer yet"
fi

{
    echo
    echo "  gateway  http://$listen_host:$listen_port" \
        "${admin_port:+     admin  http://$admin_host:$admin_port}   (pid $gateway_pid; Ctrl-C stops everything)"
    echo "  config   $config   (kill -HUP $gateway_pid reloads it; kill -USR1 $gateway_pid reopens the access log)"
    if [ "$config" = conf/gateway.yaml ]; then
        echo "  try      curl -i http://127.0.0.1:$listen_port/api/v1/hello      (the README tour continues from here)"
    fi
    echo
} >&2

status=0
wait "$gateway_pid" || status=$?
say "gateway exited with status $status"
exit "$status"
