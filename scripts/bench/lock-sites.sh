#!/usr/bin/env bash
# Where the gateway's lock acquisitions come from: allocs.sh counts them, this names them.
# The gateway (workers: 1, the allocs.sh configuration) runs under wrk -t1 -c50 load; gdb attaches, stops at
# SAMPLES pthread_mutex_lock / pthread_rwlock_*lock calls of any thread, and records the first Swift frames of each
# stack; the script prints the call sites by share. Multiply a share by allocs.sh's locks per request to get that
# site's locks per request (background threads are included: the shares of the event-loop thread's request path
# are what the issue's target is about).
# Usage: scripts/bench/lock-sites.sh [SAMPLES=300]        (GATEWAY_BIN=path measures a saved binary)
source "$(dirname "$0")/lib.sh"
SAMPLES=${1:-300}
need nginx wrk
command -v gdb >/dev/null || { echo "needs gdb" >&2; exit 1; }
build_release

UP1=$(free_port); UP2=$(free_port); GW=$(free_port); ADMIN=$(free_port)
start_nginx 1 <<NGINX
  server { listen 127.0.0.1:$UP1; location / { return 200 '{"replica":"u1","ok":true}'; } }
  server { listen 127.0.0.1:$UP2; location / { return 200 '{"replica":"u2","ok":true}'; } }
NGINX
write_single_worker_proxy_config "$BENCH_TMP/gateway.yaml" "$GW" "$ADMIN" "$UP1" "$UP2"
"$GATEWAY_BIN" serve --config "$BENCH_TMP/gateway.yaml" --log-level warning &
GW_PID=$!
BENCH_PIDS+=($GW_PID)
wait_port "$UP1"; wait_port "$GW"
wrk -t1 -c50 -d2s "http://127.0.0.1:$GW/" >/dev/null   # warm-up
wrk -t1 -c50 -d120s "http://127.0.0.1:$GW/" >/dev/null 2>&1 &
WRK_PID=$!
BENCH_PIDS+=($WRK_PID)
sleep 1
cat > "$BENCH_TMP/sites.py" <<PY
import gdb
gdb.execute("set pagination off")
gdb.execute("set print frame-arguments none")
for name in ("pthread_mutex_lock", "pthread_rwlock_rdlock", "pthread_rwlock_wrlock"):
    gdb.execute("break " + name)
out = open("$BENCH_TMP/sites.txt", "w")
for _ in range($SAMPLES):
    gdb.execute("continue", to_string=True)
    frame, names = gdb.newest_frame(), []
    while frame is not None and len(names) < 14:
        names.append(frame.name() or "?")
        frame = frame.older()
    out.write(gdb.selected_thread().name + "\t" + "\t".join(names) + "\n")
out.close()
gdb.execute("delete")
gdb.execute("detach")
PY
gdb -p "$GW_PID" -batch -x "$BENCH_TMP/sites.py" >/dev/null 2>&1 || true
kill "$WRK_PID" 2>/dev/null || true
demangle() { if command -v swift-demangle >/dev/null; then swift-demangle --simplified; else cat; fi; }
# A site = the first frames that are not the lock itself or a lock wrapper (NIOLock, NIOLockedValueBox, Mutex).
python3 - "$BENCH_TMP/sites.txt" <<'PY' | demangle
import sys, collections
skip = ("pthread_", "___pthread", "__pthread", "NIOLock", "LockOperations", "LockStorage", "withLock", "NIOLockedValueBox",
        "Mutex", "?")
sites, threads, total = collections.Counter(), collections.Counter(), 0
for line in open(sys.argv[1]):
    thread, *frames = line.rstrip("\n").split("\t")
    total += 1
    threads[thread] += 1
    useful = [f for f in frames if not any(s in f for s in skip)]
    sites[" <- ".join(useful[:3])] += 1
print(f"{total} samples; by thread: " + ", ".join(f"{t or '?'} {n}" for t, n in threads.most_common()))
for site, n in sites.most_common(25):
    print(f"{100 * n / total:5.1f}%  {site}")
PY
