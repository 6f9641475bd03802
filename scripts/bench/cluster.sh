#!/usr/bin/env bash
# Rate-limited throughput with two gateway instances against a 3-primary Redis Cluster vs against one Redis, side
# by side in one run (rounds interleaved), and Redis CPU per decision per node from INFO commandstats.
#
#   scripts/bench/cluster.sh [ROUNDS=3] [DURATION=10s] [CONNECTIONS=50]
#
# Route `one`: one limit keyed by X-User (wrk sends a random user out of 100000 per request, so keys spread over
# every slot). Route `two`: that limit plus a per-IP one, i.e. two keys in different slots in a Cluster (checked
# per slot in parallel; see docs/architecture.md). Limits are never reached: every request is a charge.
# BENCH_DEBUG=1 uses the debug build (no release build needed; slower, only ratios are meaningful);
# GATEWAY_BIN=path uses that binary.
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-3}
DURATION=${2:-10s}
CONNECTIONS=${3:-50}
need nginx wrk
if [ -n "${GATEWAY_BIN:-}" ]; then
  :  # GATEWAY_BIN=path: use that binary (e.g. .build/release/gateway built by `swift build -c release --product gateway`)
elif [ "${BENCH_DEBUG:-0}" = 1 ]; then
  GATEWAY_BIN="$ROOT/.build/debug/gateway"
else
  build_release
fi

REDIS=$(free_port); UP=$(free_port)
redis-server --port "$REDIS" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --pidfile "$BENCH_TMP/redis.pid" --logfile "$BENCH_TMP/redis.log"
BENCH_PIDS+=("$(sleep 0.3; cat "$BENCH_TMP/redis.pid")")
bash "$ROOT/scripts/redis-topology.sh" start cluster "$BENCH_TMP/cluster" >/dev/null
source "$BENCH_TMP/cluster/env"
trap 'bash "$ROOT/scripts/redis-topology.sh" stop "$BENCH_TMP/cluster"; bench_cleanup' EXIT
start_nginx 1 <<NGINX
  server { listen 127.0.0.1:$UP; location / { return 200 '{"ok":true}'; } }
NGINX

# gateway NAME STORE-YAML → starts one instance; sets PORT_<NAME> and ADMIN_<NAME> (no command substitution:
# the pid must reach BENCH_PIDS of this shell so the cleanup stops it)
gateway() {
  local name=$1 store=$2 port admin
  port=$(free_port); admin=$(free_port)
  cat > "$BENCH_TMP/$name.yaml" <<YAML
server:
  listen: 127.0.0.1:$port
  admin_listen: 127.0.0.1:$admin
  access_log: false
store:
$store
  command_timeout: 1s
upstreams:
  app:
    replicas: [http://127.0.0.1:$UP]
routes:
  - name: one
    match: { path_prefix: /one/ }
    upstream: app
    rate_limits:
      - { name: user, key: "header:X-User", limit: 1000000000, window: 1s }
  - name: two
    match: { path_prefix: /two/ }
    upstream: app
    rate_limits:
      - { name: user, key: "header:X-User", limit: 1000000000, window: 1s }
      - { name: ip, key: client_ip, limit: 1000000000, window: 1s }
YAML
  "$GATEWAY_BIN" serve --config "$BENCH_TMP/$name.yaml" --log-level warning >"$BENCH_TMP/$name.log" 2>&1 &
  BENCH_PIDS+=($!)
  wait_port "$port" >&2
  printf -v "PORT_$name" '%s' "$port"; printf -v "ADMIN_$name" '%s' "$admin"
}
seeds=$(echo "$GATEWAY_TEST_CLUSTER_NODES" | cut -d, -f1-2 | sed 's/,/, /')
gateway single1 "  redis: redis://127.0.0.1:$REDIS/0"
gateway single2 "  redis: redis://127.0.0.1:$REDIS/0"
gateway cluster1 "  cluster: { nodes: [$seeds] }"
gateway cluster2 "  cluster: { nodes: [$seeds] }"
S1=$PORT_single1; SA1=$ADMIN_single1; S2=$PORT_single2; SA2=$ADMIN_single2
C1=$PORT_cluster1; CA1=$ADMIN_cluster1; C2=$PORT_cluster2; CA2=$ADMIN_cluster2
for admin in "$CA1" "$CA2"; do
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$admin/readyz" >/dev/null && break; sleep 0.1; done
done

cat > "$BENCH_TMP/users.lua" <<'LUA'
request = function()
  return wrk.format("GET", nil, { ["X-User"] = "u" .. math.random(1, 100000) })
end
LUA

# pair PORT1 PORT2 PATH → total requests/s of two wrk runs side by side (one per instance)
pair() {
  local a b
  wrk -t1 -c$((CONNECTIONS / 2)) -d"$DURATION" -s "$BENCH_TMP/users.lua" "http://127.0.0.1:$1$3" >"$BENCH_TMP/wrk1" 2>&1 &
  local w1=$!
  wrk -t1 -c$((CONNECTIONS / 2)) -d"$DURATION" -s "$BENCH_TMP/users.lua" "http://127.0.0.1:$2$3" >"$BENCH_TMP/wrk2" 2>&1
  wait "$w1"
  a=$(awk '/Requests\/sec/ {print $2}' "$BENCH_TMP/wrk1"); b=$(awk '/Requests\/sec/ {print $2}' "$BENCH_TMP/wrk2")
  python3 -c "print(f'{$a + $b:.0f}')"
}

printf "%-6s %-5s %12s %12s %7s\n" round route single_rps cluster_rps ratio
declare -A ratios
for round in $(seq 1 "$ROUNDS"); do
  for route in one two; do
    s=$(pair "$S1" "$S2" "/$route/x"); c=$(pair "$C1" "$C2" "/$route/x")
    r=$(python3 -c "print(f'{$c/$s:.2f}')")
    ratios[$route]="${ratios[$route]:-} $r"
    printf "%-6s %-5s %12s %12s %7s\n" "$round" "$route" "$s" "$c" "$r"
  done
done
for route in one two; do
  # shellcheck disable=SC2086
  echo "route $route: median cluster/single throughput ratio $(median ${ratios[$route]}) (target >= 1.0)"
done

decisions() {  # ADMIN... → rate-limit decisions counted by those instances
  for admin in "$@"; do curl -s "http://127.0.0.1:$admin/metrics"; done \
    | awk '/^gateway_ratelimit_decisions_total/ {s += $NF} END {printf "%d", s}'
}
script_usec() {  # PORT → "calls usec" of EVAL/EVALSHA on that node
  redis-cli -p "$1" info commandstats | tr -d '\r' | awk -F'[:,=]' \
    '/^cmdstat_(evalsha|eval):/ {c += $3; u += $5} END {printf "%d %d", c, u}'
}
n=$(decisions "$SA1" "$SA2")
read -r calls usec <<<"$(script_usec "$REDIS")"
python3 -c "print(f'single Redis: {$n} decisions, {$calls} script calls, {$usec/max($n,1):.2f} us of Redis CPU per decision')"
n=$(decisions "$CA1" "$CA2")
total=0
for node in $(echo "$GATEWAY_TEST_CLUSTER_NODES" | tr , ' '); do
  port=${node##*:}
  read -r calls usec <<<"$(script_usec "$port")"
  [ "$calls" -gt 0 ] || continue
  total=$((total + usec))
  python3 -c "print(f'cluster node {\"$node\"}: {$calls} script calls, {$usec/max($n,1):.2f} us per decision (of all {$n})')"
done
python3 -c "print(f'cluster total: {$total/max($n,1):.2f} us of Redis CPU per decision')"
