#!/usr/bin/env bash
# Static files: nginx (`root`, sendfile on, 2 workers) vs the gateway's `static` route (2 event loops) serving the
# same 4 KiB and 1 MiB files from one directory, runs interleaved. Prints req/s and p99 per size and the
# gateway/nginx ratio (target ≥ 0.8). Set GATEWAY_BIN to skip the release build.
# Usage: scripts/bench/static.sh [ROUNDS=3] [DURATION=10s] [CONNECTIONS=50]
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-3}
DURATION=${2:-10s}
CONNECTIONS=${3:-50}
need nginx wrk
if [ -z "${GATEWAY_BIN:-}" ]; then build_release; fi

NGX=$(free_port); GW=$(free_port); ADMIN=$(free_port)
mkdir -p "$BENCH_TMP/www" && chmod 755 "$BENCH_TMP/www"
head -c 4096 /dev/urandom > "$BENCH_TMP/www/4k.bin"
head -c 1048576 /dev/urandom > "$BENCH_TMP/www/1m.bin"
chmod 644 "$BENCH_TMP"/www/*.bin
start_nginx 2 <<NGINX
  types { application/octet-stream bin; }
  sendfile on; tcp_nopush on; etag on;
  server { listen 127.0.0.1:$NGX; root $BENCH_TMP/www; }
NGINX
cat > "$BENCH_TMP/gateway.yaml" <<YAML
server: { listen: 127.0.0.1:$GW, admin_listen: 127.0.0.1:$ADMIN, access_log: false, workers: 2 }
routes:
  - name: files
    match: { path_prefix: / }
    static: { root: $BENCH_TMP/www }
YAML
"$GATEWAY_BIN" serve --config "$BENCH_TMP/gateway.yaml" --log-level warning &
GW_PID=$!
BENCH_PIDS+=($GW_PID)
wait_port "$NGX"; wait_port "$GW"
for f in 4k.bin 1m.bin; do
  curl -s "http://127.0.0.1:$GW/$f" | cmp - "$BENCH_TMP/www/$f" || { echo "gateway served $f wrongly" >&2; exit 1; }
done
echo "machine: $(nproc) cores, $(uname -r); load average: $(cut -d' ' -f1-3 /proc/loadavg)"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for f in 4k.bin 1m.bin; do
  ratios=()
  printf "%-7s %-6s %12s %10s %12s %10s %8s %14s\n" file round nginx_rps n_p99 gateway_rps g_p99 ratio gw_cpu_us/req
  for round in $(seq 1 "$ROUNDS"); do
    read -r n_rps n_p50 n_p99 n_err <<<"$(wrk_run "http://127.0.0.1:$NGX/$f" "$DURATION" "$CONNECTIONS")"
    before=$(cpu_ticks "$GW_PID")
    read -r g_rps g_p50 g_p99 g_err <<<"$(wrk_run "http://127.0.0.1:$GW/$f" "$DURATION" "$CONNECTIONS")"
    after=$(cpu_ticks "$GW_PID")
    seconds=${DURATION%s}
    cpu=$(python3 -c "r=$g_rps*$seconds; print(f'{($after-$before)*1e6/$(getconf CLK_TCK)/r:.1f}' if r else 'n/a')")
    ratio=$(python3 -c "print(f'{$g_rps/$n_rps:.3f}' if $n_rps else 'n/a')")
    ratios+=("$ratio")
    printf "%-7s %-6s %12s %9sms %12s %9sms %8s %14s\n" "$f" "$round" "$n_rps" "$n_p99" "$g_rps" "$g_p99" "$ratio" "$cpu"
    [ "$n_err" = 0 ] && [ "$g_err" = 0 ] || echo "errors: nginx $n_err, gateway $g_err" >&2
  done
  echo "$f: median gateway/nginx req/s ratio: $(median "${ratios[@]}") (target >= 0.8)"
done
