# Shared helpers for the benchmark scripts: builds, free ports, nginx upstreams, wrk parsing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH_TMP="$(mktemp -d /tmp/gateway-bench.XXXXXX)"
chmod 755 "$BENCH_TMP"  # nginx workers (not root) serve files from here
BENCH_PIDS=()

bench_cleanup() {
  for pid in "${BENCH_PIDS[@]:-}"; do kill "$pid" 2>/dev/null || true; done
  for pidfile in "$BENCH_TMP"/*.pid; do
    if [ -f "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi
  done
  wait 2>/dev/null || true
  rm -rf "$BENCH_TMP"
}
trap bench_cleanup EXIT

need() {
  local missing=()
  for tool in "$@"; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: nginx-light wrk (missing: ${missing[*]})" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light wrk >/dev/null
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Release builds (SCRATCH_PATH=dir selects another build folder, e.g. .build-bench). GATEWAY_BIN=path (and
# optionally DEMO_BIN=path) set in the environment skips the build, e.g. to measure a saved baseline binary.
build_release() {
  if [ -n "${GATEWAY_BIN:-}" ] && [ -x "$GATEWAY_BIN" ]; then
    DEMO_BIN=${DEMO_BIN:-$(dirname "$GATEWAY_BIN")/demo-backend}
    return 0
  fi
  local scratch=${SCRATCH_PATH:-.build}
  (cd "$ROOT" && swift build -c release --scratch-path "$scratch" --product gateway >&2 \
     && swift build -c release --scratch-path "$scratch" --product demo-backend >&2)
  GATEWAY_BIN="$ROOT/$scratch/release/gateway"
  DEMO_BIN="$ROOT/$scratch/release/demo-backend"
}

# start_nginx WORKERS [NAME=nginx] < http-block-body: writes $BENCH_TMP/NAME.conf (pid $BENCH_TMP/NAME.pid, logs and
# temp paths in $BENCH_TMP/NAME, access log off) around the `http { … }` contents read from stdin, and starts nginx
# with it. A second NAME runs a second, independent nginx (e.g. upstreams apart from a measured proxy).
start_nginx() {
  local workers=$1 name=${2:-nginx}
  mkdir -p "$BENCH_TMP/$name"
  {
    printf 'worker_processes %s;\npid %s/%s.pid;\nerror_log %s/%s/error.log warn;\n' "$workers" "$BENCH_TMP" "$name" "$BENCH_TMP" "$name"
    printf 'events { worker_connections 4096; }\nhttp {\n  access_log off;\n  keepalive_requests 1000000;\n'
    printf '  client_body_temp_path %s/%s/body;\n  proxy_temp_path %s/%s/proxy;\n' "$BENCH_TMP" "$name" "$BENCH_TMP" "$name"
    cat
    printf '}\n'
  } > "$BENCH_TMP/$name.conf"
  nginx -c "$BENCH_TMP/$name.conf" -e "$BENCH_TMP/$name/error.log"
}

wait_port() {
  local port=$1
  for _ in $(seq 1 100); do
    if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on $port" >&2
  return 1
}

# wrk_run URL DURATION CONNECTIONS [extra wrk args...] -> prints "reqs_per_sec p50_ms p99_ms errors"
wrk_run() {
  local url=$1 duration=$2 connections=$3
  shift 3
  local out
  out=$(wrk -t2 -c"$connections" -d"$duration" --latency "$@" "$url" 2>&1)
  python3 - "$out" <<'PY'
import re, sys
text = sys.argv[1]
def ms(v, unit):
    v = float(v)
    return {"us": v / 1000, "ms": v, "s": v * 1000}[unit]
rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", text)
p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
errs = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
e = int(errs.group(1)) if errs else 0
if sock: e += sum(int(x) for x in sock.groups())
print(f"{float(rps.group(1)) if rps else 0:.0f} {ms(*p50.groups()) if p50 else 0:.3f} {ms(*p99.groups()) if p99 else 0:.3f} {e}")
PY
}

median() {
  python3 -c 'import sys, statistics; v=[float(x) for x in sys.argv[1:]]; print(f"{statistics.median(v):.3f}")' "$@"
}

# The plain one-worker proxy config the per-request cost benchmarks share (peers.sh, allocs.sh, callgrind.sh):
# every path to upstream `app` (two replicas, keep-alive pool), no access log.
# Usage: write_single_worker_proxy_config FILE LISTEN_PORT ADMIN_PORT UPSTREAM_PORT_1 UPSTREAM_PORT_2
write_single_worker_proxy_config() {
    cat > "$1" <<YAML
server:
  listen: 127.0.0.1:$2
  admin_listen: 127.0.0.1:$3
  access_log: false
  workers: 1
upstreams:
  app:
    replicas: [http://127.0.0.1:$4, http://127.0.0.1:$5]
    keepalive: 64
routes:
  - name: all
    match: { path_prefix: / }
    upstream: app
YAML
}
