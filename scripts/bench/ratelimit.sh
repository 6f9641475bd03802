#!/usr/bin/env bash
# Cost of a Redis-backed rate limit: the same gateway, the same upstream, one route with a limit that is never
# reached and one without, runs interleaved. Prints the throughput ratio and the added p50/p99.
# Usage: scripts/bench/ratelimit.sh [ROUNDS=5] [DURATION=10s]
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-5}
DURATION=${2:-10s}
need nginx wrk
command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }
build_release

UP=$(free_port); GW=$(free_port); ADMIN=$(free_port); REDIS=$(free_port)
redis-server --port "$REDIS" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --pidfile "$BENCH_TMP/redis.pid" --logfile "$BENCH_TMP/redis.log"
BENCH_PIDS+=("$(sleep 0.3; cat "$BENCH_TMP/redis.pid")")
start_nginx 1 <<NGINX
  server { listen 127.0.0.1:$UP; location / { return 200 '{"ok":true}'; } }
NGINX
cat > "$BENCH_TMP/gateway.yaml" <<YAML
server:
  listen: 127.0.0.1:$GW
  admin_listen: 127.0.0.1:$ADMIN
  access_log: false
store:
  redis: redis://127.0.0.1:$REDIS/0
upstreams:
  app:
    replicas: [http://127.0.0.1:$UP]
routes:
  - name: limited
    match: { path_prefix: /limited/ }
    upstream: app
    rate_limits:
      - { name: huge, key: client_ip, limit: 1000000000, window: 1s }
  - name: free
    match: { path_prefix: /free/ }
    upstream: app
YAML
"$GATEWAY_BIN" serve --config "$BENCH_TMP/gateway.yaml" --log-level warning &
BENCH_PIDS+=($!)
wait_port "$UP"; wait_port "$GW"
curl -sf "http://127.0.0.1:$GW/limited/x" -D - -o /dev/null | grep -i '^ratelimit' >&2 || { echo "limited route not limited?" >&2; exit 1; }
wrk_run "http://127.0.0.1:$GW/free/" 2s 50 >/dev/null
wrk_run "http://127.0.0.1:$GW/limited/" 2s 50 >/dev/null

ratios=(); p50s=(); p99s=()
printf "%-6s %10s %9s %9s %10s %9s %9s %8s\n" round free_rps p50 p99 limit_rps p50 p99 ratio
for round in $(seq 1 "$ROUNDS"); do
  read -r f_rps f_p50 f_p99 f_err <<<"$(wrk_run "http://127.0.0.1:$GW/free/" "$DURATION" 50)"
  read -r l_rps l_p50 l_p99 l_err <<<"$(wrk_run "http://127.0.0.1:$GW/limited/" "$DURATION" 50)"
  ratio=$(python3 -c "print(f'{$l_rps/$f_rps:.3f}')")
  ratios+=("$ratio"); p50s+=("$(python3 -c "print($l_p50-$f_p50)")"); p99s+=("$(python3 -c "print($l_p99-$f_p99)")")
  printf "%-6s %10s %8sms %8sms %10s %8sms %8sms %8s  (errors %s/%s)\n" "$round" "$f_rps" "$f_p50" "$f_p99" "$l_rps" "$l_p50" "$l_p99" "$ratio" "$f_err" "$l_err"
done
echo "median limited/unlimited throughput ratio: $(median "${ratios[@]}")  (1.0 = free; target >= 0.90)"
echo "median added latency: p50 $(median "${p50s[@]}") ms, p99 $(median "${p99s[@]}") ms"
# What Redis did: script calls, µs per call, and limited requests per call (checks are batched per loop turn).
limited_requests=$(curl -s "http://127.0.0.1:$ADMIN/metrics" \
  | awk '/^gateway_ratelimit_decisions_total/ && /route="limited"/ {s += $NF} END {printf "%d", s}')
redis-cli -p "$REDIS" info commandstats | tr -d '\r' | awk -F'[:,=]' -v n="$limited_requests" '
  /^cmdstat_(evalsha|eval):/ {calls += $3; usec += $5}
  END {if (calls) printf "redis: %d script calls, %.1f us/call, %.1f limited requests/call, %.1f us of Redis per request\n",
       calls, usec / calls, n / calls, usec / n}'
