#!/usr/bin/env bash
# Response cache HIT path: nginx `proxy_cache` (1 worker, cache on tmpfs) vs the gateway's cache (1 event loop,
# memory tier in front of Redis) serving the same cached 4 KiB JSON from the same upstream (a separate nginx),
# runs interleaved. Prints req/s, p99 and proxy CPU time per request (/proc utime+stime) for both, and the
# gateway/nginx req/s ratio (target >= 1.0). Set GATEWAY_BIN to skip the release build.
# Usage: scripts/bench/cache.sh [ROUNDS=3] [DURATION=10s] [CONNECTIONS=50]
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-3}
DURATION=${2:-10s}
CONNECTIONS=${3:-50}
need nginx wrk
command -v redis-server >/dev/null || { echo "redis-server is needed" >&2; exit 1; }
if [ -z "${GATEWAY_BIN:-}" ]; then build_release; fi

UP=$(free_port); NGX=$(free_port); GW=$(free_port); ADMIN=$(free_port); REDIS=$(free_port)
python3 -c 'import json; print(json.dumps({"items": ["x" * 60] * 60})[:4096].ljust(4096))' > "$BENCH_TMP/object.json"
chmod 644 "$BENCH_TMP/object.json"
start_nginx 1 upstream <<NGINX
  types { application/json json; }
  server { listen 127.0.0.1:$UP; root $BENCH_TMP; location / { add_header Cache-Control "max-age=3600"; } }
NGINX
CACHE_DIR=$(mktemp -d /dev/shm/gateway-bench-nginx-cache.XXXXXX)
chmod 777 "$CACHE_DIR"
trap 'rm -rf "$CACHE_DIR"; bench_cleanup' EXIT
start_nginx 1 proxy <<NGINX
  proxy_cache_path $CACHE_DIR levels=1:2 keys_zone=bench:10m max_size=64m inactive=1h use_temp_path=off;
  upstream app { server 127.0.0.1:$UP; keepalive 16; }
  server {
    listen 127.0.0.1:$NGX;
    location / {
      proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_cache bench; proxy_cache_valid 200 1h; proxy_cache_lock on;
      add_header X-Cache \$upstream_cache_status;
    }
  }
NGINX
redis-server --bind 127.0.0.1 --port "$REDIS" --save "" --appendonly no --daemonize no >/dev/null &
BENCH_PIDS+=($!)
cat > "$BENCH_TMP/gateway.yaml" <<YAML
server: { listen: 127.0.0.1:$GW, admin_listen: 127.0.0.1:$ADMIN, access_log: false, workers: 1 }
store: { redis: "redis://127.0.0.1:$REDIS/0" }
cache: { max_object_bytes: 1MiB, memory: 64MiB }
upstreams:
  app: { replicas: [http://127.0.0.1:$UP], keepalive: 16 }
routes:
  - name: all
    match: { path_prefix: / }
    upstream: app
    cache: { ttl: 1h }
YAML
wait_port "$REDIS"
"$GATEWAY_BIN" serve --config "$BENCH_TMP/gateway.yaml" --log-level warning &
GW_PID=$!
BENCH_PIDS+=($GW_PID)
wait_port "$UP"; wait_port "$NGX"; wait_port "$GW"
for port in "$NGX" "$GW"; do
  curl -s -o /dev/null "http://127.0.0.1:$port/object.json"
  curl -s "http://127.0.0.1:$port/object.json" | cmp - "$BENCH_TMP/object.json" || { echo "port $port served the object wrongly" >&2; exit 1; }
done
echo "nginx:   $(curl -s -D - -o /dev/null "http://127.0.0.1:$NGX/object.json" | grep -i '^x-cache' | tr -d '\r')"
echo "gateway: $(curl -s -D - -o /dev/null "http://127.0.0.1:$GW/object.json" | grep -i '^x-cache' | tr -d '\r')"
NGX_WORKER=$(pgrep -P "$(cat "$BENCH_TMP/proxy.pid")" | head -1)
echo "machine: $(nproc) cores, $(uname -r); load average: $(cut -d' ' -f1-3 /proc/loadavg)"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cpu_per_request() {  # TICKS_BEFORE TICKS_AFTER RPS
  python3 -c "r=$3*${DURATION%s}; print(f'{($2-$1)*1e6/$(getconf CLK_TCK)/r:.1f}' if r else 'n/a')"
}
ratios=(); cpu_ratios=()
printf "%-6s %11s %9s %11s %11s %9s %11s %8s %10s\n" round nginx_rps n_p99 n_cpu_us gateway_rps g_p99 g_cpu_us ratio cpu_ratio
for round in $(seq 1 "$ROUNDS"); do
  before=$(cpu_ticks "$NGX_WORKER")
  read -r n_rps n_p50 n_p99 n_err <<<"$(wrk_run "http://127.0.0.1:$NGX/object.json" "$DURATION" "$CONNECTIONS")"
  n_cpu=$(cpu_per_request "$before" "$(cpu_ticks "$NGX_WORKER")" "$n_rps")
  before=$(cpu_ticks "$GW_PID")
  read -r g_rps g_p50 g_p99 g_err <<<"$(wrk_run "http://127.0.0.1:$GW/object.json" "$DURATION" "$CONNECTIONS")"
  g_cpu=$(cpu_per_request "$before" "$(cpu_ticks "$GW_PID")" "$g_rps")
  ratio=$(python3 -c "print(f'{$g_rps/$n_rps:.3f}' if $n_rps else 'n/a')")
  cpu_ratio=$(python3 -c "print(f'{$g_cpu/$n_cpu:.3f}')" 2>/dev/null || echo n/a)
  ratios+=("$ratio"); cpu_ratios+=("$cpu_ratio")
  printf "%-6s %11s %8sms %11s %11s %8sms %11s %8s %10s\n" "$round" "$n_rps" "$n_p99" "$n_cpu" "$g_rps" "$g_p99" "$g_cpu" "$ratio" "$cpu_ratio"
  [ "$n_err" = 0 ] && [ "$g_err" = 0 ] || echo "errors: nginx $n_err, gateway $g_err" >&2
done
echo "median gateway/nginx req/s ratio: $(median "${ratios[@]}") (target >= 1.0); median CPU/request ratio: $(median "${cpu_ratios[@]}") (lower is better)"
curl -s "http://127.0.0.1:$ADMIN/cache/stats"; echo
