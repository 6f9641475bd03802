#!/usr/bin/env bash
# HTTPS at the edge, gateway vs nginx, one worker each, the same ECDSA P-256 certificate (from `gateway cert dev`),
# both proxying to the same plain upstream (a separate nginx returning a small body):
#   1. HTTPS keep-alive HTTP/1.1 req/s (wrk, 50 connections) and proxy CPU time per request (from /proc);
#   2. new TLS handshakes per second: `Connection: close`, so every request is a new TCP connection + handshake;
#   3. HTTPS HTTP/2 req/s and proxy CPU per request (h2load, 10 connections x 10 concurrent streams), when h2load
#      (Debian's nghttp2-client) is installed.
# Runs are interleaved; prints per-round numbers and the median ratios.
# Usage: scripts/bench/tls.sh [ROUNDS=3] [DURATION=10s]   (GATEWAY_BIN=path skips the release build)
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-3}
DURATION=${2:-10s}
need nginx wrk
if [ -z "${GATEWAY_BIN:-}" ]; then build_release; fi

"$GATEWAY_BIN" cert dev --out "$BENCH_TMP/certs" >/dev/null
CERT="$BENCH_TMP/certs/localhost.pem"; KEY="$BENCH_TMP/certs/localhost-key.pem"
chmod 644 "$KEY"  # nginx workers run as another user in some setups; the directory is private to this run

UP=$(free_port); NGX=$(free_port); GW=$(free_port); ADMIN=$(free_port)
# The upstream: its own nginx (2 workers) so it is never the bottleneck and never shares a worker with the proxy.
mkdir -p "$BENCH_TMP/up"
cat > "$BENCH_TMP/up/nginx.conf" <<NGINX
worker_processes 2;
pid $BENCH_TMP/up/nginx.pid;
error_log $BENCH_TMP/up/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $BENCH_TMP/up/body;
  server { listen 127.0.0.1:$UP; location / { return 200 '{"ok":true}'; } }
}
NGINX
nginx -c "$BENCH_TMP/up/nginx.conf" -e "$BENCH_TMP/up/error.log"
start_nginx 1 <<NGINX
  upstream app { server 127.0.0.1:$UP; keepalive 64; }
  server {
    listen 127.0.0.1:$NGX ssl http2;
    ssl_certificate $CERT;
    ssl_certificate_key $KEY;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto https;
    }
  }
NGINX
cat > "$BENCH_TMP/gateway.yaml" <<YAML
server:
  listen: 127.0.0.1:$(free_port)
  admin_listen: 127.0.0.1:$ADMIN
  access_log: false
  workers: 1
  listeners:
    - address: 127.0.0.1:$GW
      tls:
        certificates: [{ cert: $CERT, key: $KEY }]
upstreams:
  app: { replicas: [http://127.0.0.1:$UP], keepalive: 64 }
routes:
  - name: all
    match: { path_prefix: / }
    upstream: app
YAML
"$GATEWAY_BIN" serve --config "$BENCH_TMP/gateway.yaml" --log-level warning &
GW_PID=$!
BENCH_PIDS+=($GW_PID)
wait_port "$UP"; wait_port "$NGX"; wait_port "$GW"
NGX_WORKER=$(pgrep -P "$(cat "$BENCH_TMP/nginx.pid")" | head -1)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# h2load_run URL DURATION -> "reqs_per_sec failed" (10 connections, 10 streams each)
h2load_run() {
  local out
  out=$(h2load -D "${2%s}" -c 10 -m 10 "$1" 2>&1)
  python3 -c "
import re,sys
t=sys.stdin.read()
rps=re.search(r'finished in [0-9.]+m?s, ([0-9.]+) req/s', t)
fail=re.search(r'requests: .* ([0-9]+) failed', t)
print(rps.group(1) if rps else 0, fail.group(1) if fail else '?')" <<<"$out"
}
# run_h2 PID URL -> "rps cpu_us_per_request failed"
run_h2() {
  local pid=$1 url=$2 before after rps failed
  before=$(cpu_ticks "$pid")
  read -r rps failed <<<"$(h2load_run "$url" "$DURATION")"
  after=$(cpu_ticks "$pid")
  python3 -c "
ticks=$after-$before; hz=$(getconf CLK_TCK); secs=float('${DURATION%s}')
print(f'$rps {ticks/hz*1e6/max(1.0,$rps*secs):.1f} $failed')"
}
# run PID URL CONNECTIONS [wrk args] -> "rps cpu_us_per_request errors"
run() {
  local pid=$1 url=$2 connections=$3; shift 3
  local before after rps p50 p99 errors
  before=$(cpu_ticks "$pid")
  read -r rps p50 p99 errors <<<"$(wrk_run "$url" "$DURATION" "$connections" "$@")"
  after=$(cpu_ticks "$pid")
  python3 -c "
ticks=$after-$before; hz=$(getconf CLK_TCK); secs=float('${DURATION%s}')
print(f'$rps {ticks/hz*1e6/max(1.0,$rps*secs):.1f} $errors')"
}

echo "warm-up" >&2
wrk_run "https://127.0.0.1:$NGX/" 2s 50 >/dev/null
wrk_run "https://127.0.0.1:$GW/" 2s 50 >/dev/null
if command -v h2load >/dev/null; then h2load_run "https://127.0.0.1:$GW/" 2s >/dev/null; fi

ka=(); cpu=(); hs=(); h2=(); h2cpu=()
printf "%-6s %-10s %12s %14s %12s %14s %8s %8s\n" round mode nginx_rps nginx_cpu_us gateway_rps gateway_cpu_us rps_x cpu_x
for round in $(seq 1 "$ROUNDS"); do
  read -r n_rps n_cpu n_err <<<"$(run "$NGX_WORKER" "https://127.0.0.1:$NGX/" 50)"
  read -r g_rps g_cpu g_err <<<"$(run "$GW_PID" "https://127.0.0.1:$GW/" 50)"
  rx=$(python3 -c "print(f'{$g_rps/$n_rps:.3f}')"); cx=$(python3 -c "print(f'{$g_cpu/$n_cpu:.3f}')")
  ka+=("$rx"); cpu+=("$cx")
  printf "%-6s %-10s %12s %14s %12s %14s %8s %8s  (errors %s/%s)\n" "$round" keepalive "$n_rps" "$n_cpu" "$g_rps" "$g_cpu" "$rx" "$cx" "$n_err" "$g_err"
  read -r n_rps n_cpu n_err <<<"$(run "$NGX_WORKER" "https://127.0.0.1:$NGX/" 20 -H "Connection: close")"
  read -r g_rps g_cpu g_err <<<"$(run "$GW_PID" "https://127.0.0.1:$GW/" 20 -H "Connection: close")"
  hx=$(python3 -c "print(f'{$g_rps/$n_rps:.3f}')"); cx=$(python3 -c "print(f'{$g_cpu/$n_cpu:.3f}')")
  hs+=("$hx")
  printf "%-6s %-10s %12s %14s %12s %14s %8s %8s  (errors %s/%s)\n" "$round" handshakes "$n_rps" "$n_cpu" "$g_rps" "$g_cpu" "$hx" "$cx" "$n_err" "$g_err"
  if command -v h2load >/dev/null; then
    read -r n_rps n_cpu n_err <<<"$(run_h2 "$NGX_WORKER" "https://127.0.0.1:$NGX/")"
    read -r g_rps g_cpu g_err <<<"$(run_h2 "$GW_PID" "https://127.0.0.1:$GW/")"
    rx=$(python3 -c "print(f'{$g_rps/max($n_rps,1):.3f}')"); cx=$(python3 -c "print(f'{$g_cpu/max($n_cpu,0.1):.3f}')")
    h2+=("$rx"); h2cpu+=("$cx")
    printf "%-6s %-10s %12s %14s %12s %14s %8s %8s  (failed %s/%s)\n" "$round" http2 "$n_rps" "$n_cpu" "$g_rps" "$g_cpu" "$rx" "$cx" "$n_err" "$g_err"
  fi
done
echo "median gateway/nginx HTTPS keep-alive req/s:  $(median "${ka[@]}")   (target >= 0.7)"
echo "median gateway/nginx CPU per request:          $(median "${cpu[@]}")   (target <= 1.5)"
echo "median gateway/nginx new handshakes/s:         $(median "${hs[@]}")   (target >= 0.8)"
if [ "${#h2[@]}" -gt 0 ]; then
  echo "median gateway/nginx HTTPS HTTP/2 req/s:       $(median "${h2[@]}")   (target >= 0.7)"
  echo "median gateway/nginx HTTP/2 CPU per request:   $(median "${h2cpu[@]}")   (target <= 1.5)"
fi
kill "$(cat "$BENCH_TMP/up/nginx.pid")" 2>/dev/null || true
