#!/usr/bin/env bash
# Gateway vs nginx as a reverse proxy in front of the same two upstreams (nginx serving a small body), wrk at 50
# connections, runs interleaved. Prints req/s and p99 per run and the median of the per-pair ratios.
# Usage: scripts/bench/proxy.sh [ROUNDS=5] [DURATION=10s]
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-5}
DURATION=${2:-10s}
need nginx wrk
build_release

UP1=$(free_port); UP2=$(free_port); NGX=$(free_port); GW=$(free_port); ADMIN=$(free_port)
start_nginx 2 <<NGINX
  server { listen 127.0.0.1:$UP1; location / { return 200 '{"replica":"u1","ok":true}'; } }
  server { listen 127.0.0.1:$UP2; location / { return 200 '{"replica":"u2","ok":true}'; } }
  upstream app { server 127.0.0.1:$UP1; server 127.0.0.1:$UP2; keepalive 64; }
  server {
    listen 127.0.0.1:$NGX;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    }
  }
NGINX
cat > "$BENCH_TMP/gateway.yaml" <<YAML
server:
  listen: 127.0.0.1:$GW
  admin_listen: 127.0.0.1:$ADMIN
  access_log: false
upstreams:
  app:
    replicas: [http://127.0.0.1:$UP1, http://127.0.0.1:$UP2]
    keepalive: 64
routes:
  - name: all
    match: { path_prefix: / }
    upstream: app
YAML
"$GATEWAY_BIN" serve --config "$BENCH_TMP/gateway.yaml" --log-level warning &
BENCH_PIDS+=($!)
wait_port "$UP1"; wait_port "$NGX"; wait_port "$GW"

echo "warm-up" >&2
wrk_run "http://127.0.0.1:$NGX/" 2s 50 >/dev/null
wrk_run "http://127.0.0.1:$GW/" 2s 50 >/dev/null

rps_ratios=(); p99_ratios=()
printf "%-6s %12s %10s %12s %10s %8s %8s\n" round nginx_rps nginx_p99 gateway_rps gw_p99 rps_x p99_x
for round in $(seq 1 "$ROUNDS"); do
  read -r n_rps n_p50 n_p99 n_err <<<"$(wrk_run "http://127.0.0.1:$NGX/" "$DURATION" 50)"
  read -r g_rps g_p50 g_p99 g_err <<<"$(wrk_run "http://127.0.0.1:$GW/" "$DURATION" 50)"
  rps_x=$(python3 -c "print(f'{$g_rps/$n_rps:.3f}')")
  p99_x=$(python3 -c "print(f'{$g_p99/$n_p99:.3f}')")
  rps_ratios+=("$rps_x"); p99_ratios+=("$p99_x")
  printf "%-6s %12s %9sms %12s %9sms %8s %8s   (errors: nginx %s, gateway %s)\n" \
    "$round" "$n_rps" "$n_p99" "$g_rps" "$g_p99" "$rps_x" "$p99_x" "$n_err" "$g_err"
done
echo "median gateway/nginx throughput ratio: $(median "${rps_ratios[@]}")  (>= 1 means the gateway is faster)"
echo "median gateway/nginx p99 ratio:        $(median "${p99_ratios[@]}")  (<= 1 means the gateway's tail is shorter)"
