#!/usr/bin/env bash
# What watching costs: proxy throughput and gateway CPU per request with 0 vs 10 dashboard viewers (10 clients
# reading GET /events), runs interleaved; plus the gateway's idle CPU with 0 vs 10 viewers.
# Target (issue 17): 10 viewers cost <= 2 % throughput.
# Usage: flock /tmp/bench.lock scripts/bench/dashboard.sh [ROUNDS=5] [DURATION=10s]
#        IDLE_ONLY=1 scripts/bench/dashboard.sh   (no wrk: only the idle CPU with 0 vs 10 viewers and the frame
#        size; light enough to run on a shared machine without the bench lock)
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-5}
DURATION=${2:-10s}
need nginx wrk
[ -n "${GATEWAY_BIN:-}" ] || build_release   # GATEWAY_BIN=path skips the build

UP1=$(free_port); UP2=$(free_port); GW=$(free_port); ADMIN=$(free_port)
start_nginx 1 <<NGINX
  server { listen 127.0.0.1:$UP1; location / { return 200 '{"replica":"u1","ok":true}'; } }
  server { listen 127.0.0.1:$UP2; location / { return 200 '{"replica":"u2","ok":true}'; } }
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
  - name: api
    match: { path_prefix: /api/ }
    upstream: app
  - name: all
    match: { path_prefix: / }
    upstream: app
YAML
"$GATEWAY_BIN" serve --config "$BENCH_TMP/gateway.yaml" --log-level warning &
GW_PID=$!
BENCH_PIDS+=("$GW_PID")
wait_port "$UP1"; wait_port "$GW"; wait_port "$ADMIN"

# utime+stime of the gateway in clock ticks
cpu_ticks() { awk '{print $14 + $15}' "/proc/$GW_PID/stat"; }
HZ=$(getconf CLK_TCK)

VIEWERS=()
start_viewers() {
  for _ in $(seq 1 "$1"); do
    curl -sN "http://127.0.0.1:$ADMIN/events" >/dev/null &
    VIEWERS+=($!)
  done
  sleep 2  # the first frames are out
}
stop_viewers() {
  for pid in "${VIEWERS[@]:-}"; do kill "$pid" 2>/dev/null || true; done
  wait "${VIEWERS[@]:-}" 2>/dev/null || true
  VIEWERS=()
}
trap 'stop_viewers; bench_cleanup' EXIT

# one run: prints "rps cpu_us_per_request"
run() {
  local before after rps p50 p99 err
  before=$(cpu_ticks)
  read -r rps p50 p99 err <<<"$(wrk_run "http://127.0.0.1:$GW/api/x" "$DURATION" 50)"
  after=$(cpu_ticks)
  local seconds=${DURATION%s}
  python3 -c "rps=$rps; t=($after-$before)/$HZ; print(f'{rps:.0f} {t*1e6/(rps*$seconds):.2f}')"
}

if [ "${IDLE_ONLY:-0}" != 1 ]; then
echo "warm-up" >&2
wrk_run "http://127.0.0.1:$GW/api/x" 3s 50 >/dev/null

tput_ratios=(); cpu_ratios=()
printf "%-6s %12s %12s %12s %12s %8s %8s\n" round rps_0 cpu_us_0 rps_10 cpu_us_10 rps_x cpu_x
for round in $(seq 1 "$ROUNDS"); do
  read -r r0 c0 <<<"$(run)"
  start_viewers 10
  read -r r10 c10 <<<"$(run)"
  stop_viewers
  rx=$(python3 -c "print(f'{$r10/$r0:.3f}')"); cx=$(python3 -c "print(f'{$c10/$c0:.3f}')")
  tput_ratios+=("$rx"); cpu_ratios+=("$cx")
  printf "%-6s %12s %12s %12s %12s %8s %8s\n" "$round" "$r0" "$c0" "$r10" "$c10" "$rx" "$cx"
done
echo "median throughput ratio, 10 viewers / 0 viewers: $(median "${tput_ratios[@]}")  (target >= 0.98)"
echo "median CPU-per-request ratio, 10 viewers / 0:     $(median "${cpu_ratios[@]}")"
fi

# idle: what the gateway burns per second with nobody, and with 10 viewers (no traffic)
idle() {
  local before after
  before=$(cpu_ticks); sleep 20; after=$(cpu_ticks)
  python3 -c "print(f'{($after-$before)/$HZ/20*1000:.2f} ms CPU per second')"
}
for _ in $(seq 1 50); do curl -s "http://127.0.0.1:$GW/api/x" >/dev/null; done  # a little history to render
echo "frame size: $(timeout 3 curl -sN "http://127.0.0.1:$ADMIN/events" | grep -m1 '^data: ' | wc -c) bytes"
echo "idle, 0 viewers:  $(idle)"
start_viewers 10
echo "idle, 10 viewers: $(idle)"
stop_viewers
