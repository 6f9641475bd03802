#!/usr/bin/env bash
# What tracing costs: three gateways side by side — tracing off, `sample_ratio: 0.1`, `sample_ratio: 1.0` — each
# with one worker, proxying to the same nginx upstream, exporting over OTLP/HTTP to an nginx sink that accepts
# `POST /v1/traces` (an empty 200 is a valid ExportTraceServiceResponse). Rounds are interleaved (off, 0.1, 1.0,
# off, …) so load from other processes hits all three alike; medians of the per-round ratios are printed.
# Per run: wrk throughput and the gateway's CPU per request (/proc utime+stime).
# Targets (issue 17): 0.1 costs <= 5 % throughput; 1.0 is reported.
# Usage: flock /tmp/bench.lock scripts/bench/tracing.sh [ROUNDS=5] [DURATION=8s] [CONNECTIONS=50]
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-5}
DURATION=${2:-8s}
CONNECTIONS=${3:-50}
need nginx wrk
[ -n "${GATEWAY_BIN:-}" ] || build_release   # GATEWAY_BIN=path skips the build

UP1=$(free_port); UP2=$(free_port); SINK=$(free_port)
start_nginx 1 <<NGINX
  server { listen 127.0.0.1:$UP1; location / { return 200 '{"replica":"u1","ok":true}'; } }
  server { listen 127.0.0.1:$UP2; location / { return 200 '{"replica":"u2","ok":true}'; } }
  server {
    listen 127.0.0.1:$SINK;
    client_max_body_size 64m;
    client_body_buffer_size 1m;
    access_log $BENCH_TMP/sink.log;
    location = /v1/traces { default_type application/x-protobuf; return 200 ''; }
  }
NGINX

declare -A GW_PORT GW_PID
start_gateway() {  # NAME [RATIO]
  local name=$1 ratio=${2:-} port admin
  port=$(free_port); admin=$(free_port)
  write_single_worker_proxy_config "$BENCH_TMP/$name.yaml" "$port" "$admin" "$UP1" "$UP2"
  if [ -n "$ratio" ]; then
    printf 'observability:\n  tracing:\n    otlp_endpoint: http://127.0.0.1:%s\n    sample_ratio: %s\n' "$SINK" "$ratio" \
      >> "$BENCH_TMP/$name.yaml"
  fi
  "$GATEWAY_BIN" serve --config "$BENCH_TMP/$name.yaml" --log-level warning &
  GW_PID[$name]=$!
  BENCH_PIDS+=("$!")
  GW_PORT[$name]=$port
  wait_port "$port"
}
start_gateway off
start_gateway r01 0.1
start_gateway r10 1.0
wait_port "$UP1"; wait_port "$SINK"
HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# one run against NAME: prints "rps cpu_us_per_request"
run() {
  local name=$1 before after rps p50 p99 err
  before=$(cpu_ticks "${GW_PID[$name]}")
  read -r rps p50 p99 err <<<"$(wrk_run "http://127.0.0.1:${GW_PORT[$name]}/api/x" "$DURATION" "$CONNECTIONS")"
  after=$(cpu_ticks "${GW_PID[$name]}")
  if [ "$err" != 0 ]; then echo "$name: $err errors" >&2; fi
  python3 -c "rps=$rps; t=($after-$before)/$HZ; print(f'{rps:.0f} {t*1e6/(rps*${DURATION%s}):.2f}')"
}

echo "warm-up" >&2
for name in off r01 r10; do wrk_run "http://127.0.0.1:${GW_PORT[$name]}/api/x" 3s "$CONNECTIONS" >/dev/null; done

t01=(); t10=(); c01=(); c10=()
printf "%-6s %9s %9s %9s %9s %9s %9s %8s %8s %8s %8s\n" round rps_off cpu_off rps_0.1 cpu_0.1 rps_1.0 cpu_1.0 \
  tput0.1 tput1.0 cpu0.1 cpu1.0
for round in $(seq 1 "$ROUNDS"); do
  read -r ro co <<<"$(run off)"
  read -r r1 c1 <<<"$(run r01)"
  read -r r2 c2 <<<"$(run r10)"
  read -r a b c d <<<"$(python3 -c "print(f'{$r1/$ro:.3f} {$r2/$ro:.3f} {$c1/$co:.3f} {$c2/$co:.3f}')")"
  t01+=("$a"); t10+=("$b"); c01+=("$c"); c10+=("$d")
  printf "%-6s %9s %9s %9s %9s %9s %9s %8s %8s %8s %8s\n" "$round" "$ro" "$co" "$r1" "$c1" "$r2" "$c2" "$a" "$b" "$c" "$d"
done
sleep 6  # the last batches (5 s schedule delay) reach the sink
echo "median throughput ratio, sample_ratio 0.1 / off: $(median "${t01[@]}")  (target >= 0.95)"
echo "median throughput ratio, sample_ratio 1.0 / off: $(median "${t10[@]}")"
echo "median CPU-per-request ratio, 0.1 / off:         $(median "${c01[@]}")"
echo "median CPU-per-request ratio, 1.0 / off:         $(median "${c10[@]}")"
echo "OTLP export requests received by the sink: $(grep -c 'POST /v1/traces' "$BENCH_TMP/sink.log" || true)" \
  "(non-200: $(grep 'POST /v1/traces' "$BENCH_TMP/sink.log" | awk '$9 != 200' | wc -l))"
