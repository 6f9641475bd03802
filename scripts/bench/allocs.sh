#!/usr/bin/env bash
# Heap allocations and lock acquisitions per proxied keep-alive request on a plain route (no limits, no session, no
# gzip, no access log).
# The gateway (workers: 1) runs with scripts/bench/alloccount.c preloaded, which counts every malloc-family call of
# the process, and every pthread_mutex_lock / pthread_rwlock_*lock (NIOLock, NIOLockedValueBox, NIO's own queues); the
# counts are read before and after a wrk run (-t1 -c50, keep-alive) and divided by the requests wrk completed.
# Background work (health checks, metrics, NIO's loop housekeeping) is included, so the figures are slight overestimates.
# Usage: scripts/bench/allocs.sh [DURATION=5s]      (GATEWAY_BIN=path measures a saved binary)
source "$(dirname "$0")/lib.sh"
DURATION=${1:-5s}
need nginx wrk
build_release
cc -O2 -shared -fPIC -o "$BENCH_TMP/alloccount.so" "$ROOT/scripts/bench/alloccount.c" -lpthread

UP1=$(free_port); UP2=$(free_port); GW=$(free_port); ADMIN=$(free_port)
start_nginx 1 <<NGINX
  server { listen 127.0.0.1:$UP1; location / { return 200 '{"replica":"u1","ok":true}'; } }
  server { listen 127.0.0.1:$UP2; location / { return 200 '{"replica":"u2","ok":true}'; } }
NGINX
write_single_worker_proxy_config "$BENCH_TMP/gateway.yaml" "$GW" "$ADMIN" "$UP1" "$UP2"
ALLOCCOUNT_FILE="$BENCH_TMP/allocs" LD_PRELOAD="$BENCH_TMP/alloccount.so" \
  "$GATEWAY_BIN" serve --config "$BENCH_TMP/gateway.yaml" --log-level warning &
BENCH_PIDS+=($!)
wait_port "$UP1"; wait_port "$GW"
wrk -t1 -c50 -d2s "http://127.0.0.1:$GW/" >/dev/null   # warm-up: pools, caches, metric handles
sleep 0.2
before=$(cat "$BENCH_TMP/allocs")
out=$(wrk -t1 -c50 -d"$DURATION" "http://127.0.0.1:$GW/" 2>&1)
sleep 0.2
after=$(cat "$BENCH_TMP/allocs")
requests=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$out")
python3 -c "
b, a, n = '$before'.split(), '$after'.split(), int('$requests')
allocs, locks = int(a[0]) - int(b[0]), int(a[1]) - int(b[1])
print(f'{allocs} allocations / {n} requests = {allocs / n:.1f} allocations per proxied keep-alive request')
print(f'{locks} lock acquisitions / {n} requests = {locks / n:.1f} lock acquisitions per proxied keep-alive request')"
