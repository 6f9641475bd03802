#!/usr/bin/env bash
# The gateway next to its peers, every proxy on ONE thread: nginx (worker_processes 1), HAProxy (nbthread 1),
# Caddy (GOMAXPROCS=1) and the gateway (workers: 1), all in front of the same two nginx upstreams (a separate
# nginx with one worker, returning a small JSON body). wrk -t1 -c50, the proxies interleaved round by round.
#
# For each proxy it prints req/s, p99 and the proxy's own CPU time per request: utime+stime from /proc summed over
# the proxy's processes (nginx master + worker), taken just before and just after the wrk run, divided by the
# requests wrk completed. Then the medians over the rounds and their ratios to nginx.
#
# Usage: scripts/bench/peers.sh [ROUNDS=5] [DURATION=10s]
#   PROXIES="nginx haproxy caddy gateway"  the proxies to run (nginx must stay in for the ratios)
#   GATEWAY_BIN=path                       measure this gateway binary instead of building one
# Serialise with other benchmarks: flock /tmp/bench.lock scripts/bench/peers.sh
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-5}
DURATION=${2:-10s}
PROXIES=${PROXIES:-nginx haproxy caddy gateway}
need nginx wrk
for tool in haproxy caddy; do
  if [[ " $PROXIES " == *" $tool "* ]] && ! command -v "$tool" >/dev/null; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null
  fi
done
[[ " $PROXIES " == *" gateway "* ]] && build_release

UP1=$(free_port); UP2=$(free_port)
declare -A PORT PID
for p in $PROXIES; do PORT[$p]=$(free_port); done
BODY='{"replica":"uN","ok":true}'

start_nginx 1 upstreams <<NGINX
  server { listen 127.0.0.1:$UP1; location / { return 200 '${BODY/uN/u1}'; } }
  server { listen 127.0.0.1:$UP2; location / { return 200 '${BODY/uN/u2}'; } }
NGINX
wait_port "$UP1"; wait_port "$UP2"

for p in $PROXIES; do
  case $p in
    nginx)
      start_nginx 1 proxy <<NGINX
  upstream app { server 127.0.0.1:$UP1; server 127.0.0.1:$UP2; keepalive 64; }
  server {
    listen 127.0.0.1:${PORT[nginx]};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    }
  }
NGINX
      sleep 0.3
      PID[nginx]=$(cat "$BENCH_TMP/proxy.pid")
      ;;
    haproxy)
      cat > "$BENCH_TMP/haproxy.cfg" <<HAPROXY
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
frontend fe
  bind 127.0.0.1:${PORT[haproxy]}
  default_backend app
backend app
  balance roundrobin
  http-reuse always
  option forwardfor
  server u1 127.0.0.1:$UP1
  server u2 127.0.0.1:$UP2
HAPROXY
      haproxy -f "$BENCH_TMP/haproxy.cfg" -db >"$BENCH_TMP/haproxy.log" 2>&1 &
      PID[haproxy]=$!; BENCH_PIDS+=($!)
      ;;
    caddy)
      mkdir -p "$BENCH_TMP/caddy"
      cat > "$BENCH_TMP/Caddyfile" <<CADDY
{
  admin off
  auto_https off
}
http://127.0.0.1:${PORT[caddy]} {
  bind 127.0.0.1
  reverse_proxy 127.0.0.1:$UP1 127.0.0.1:$UP2 {
    lb_policy round_robin
  }
}
CADDY
      GOMAXPROCS=1 HOME="$BENCH_TMP/caddy" XDG_DATA_HOME="$BENCH_TMP/caddy" XDG_CONFIG_HOME="$BENCH_TMP/caddy" \
        caddy run --config "$BENCH_TMP/Caddyfile" --adapter caddyfile >"$BENCH_TMP/caddy.log" 2>&1 &
      PID[caddy]=$!; BENCH_PIDS+=($!)
      ;;
    gateway)
      ADMIN=$(free_port)
      write_single_worker_proxy_config "$BENCH_TMP/gateway.yaml" "${PORT[gateway]}" "$ADMIN" "$UP1" "$UP2"
      "$GATEWAY_BIN" serve --config "$BENCH_TMP/gateway.yaml" --log-level warning &
      PID[gateway]=$!; BENCH_PIDS+=($!)
      ;;
    *) echo "unknown proxy: $p" >&2; exit 2 ;;
  esac
  wait_port "${PORT[$p]}"
  curl -sf "http://127.0.0.1:${PORT[$p]}/" >/dev/null || { echo "$p does not proxy" >&2; exit 1; }
done

# CPU ticks (utime+stime) of PID and all its descendants.
cpu_ticks() {
  python3 - "$1" <<'PY'
import os, sys
root = int(sys.argv[1]); parent = {}; ticks = {}
for d in os.listdir("/proc"):
    if not d.isdigit(): continue
    try: s = open(f"/proc/{d}/stat").read()
    except OSError: continue
    f = s[s.rindex(")") + 2:].split()
    parent[int(d)] = int(f[1]); ticks[int(d)] = int(f[11]) + int(f[12])
def under(p):
    while p > 1:
        if p == root: return True
        p = parent.get(p, 0)
    return False
print(sum(t for p, t in ticks.items() if under(p)))
PY
}
HZ=$(getconf CLK_TCK)

# measure PROXY DURATION -> "rps p99_ms cpu_us_per_request errors"
measure() {
  local p=$1 duration=$2 before after out
  before=$(cpu_ticks "${PID[$p]}")
  out=$(wrk -t1 -c50 -d"$duration" --latency "http://127.0.0.1:${PORT[$p]}/" 2>&1)
  after=$(cpu_ticks "${PID[$p]}")
  python3 - "$out" "$before" "$after" "$HZ" <<'PY'
import re, sys
text, before, after, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def ms(v, unit): return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
n = re.search(r"(\d+) requests in", text)
errs = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
e = (int(errs.group(1)) if errs else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
count = int(n.group(1)) if n else 0
cpu_us = (after - before) / hz * 1e6 / count if count else 0
print(f"{float(rps.group(1)) if rps else 0:.0f} {ms(*p99.groups()) if p99 else 0:.3f} {cpu_us:.1f} {e}")
PY
}

echo "warm-up" >&2
for p in $PROXIES; do measure "$p" 2s >/dev/null; done

declare -A RPS P99 CPU
printf "%-6s %-8s %10s %10s %14s %7s\n" round proxy req/s p99_ms cpu_us/req errors
for round in $(seq 1 "$ROUNDS"); do
  for p in $PROXIES; do
    read -r rps p99 cpu err <<<"$(measure "$p" "$DURATION")"
    RPS[$p]+="$rps "; P99[$p]+="$p99 "; CPU[$p]+="$cpu "
    printf "%-6s %-8s %10s %10s %14s %7s\n" "$round" "$p" "$rps" "$p99" "$cpu" "$err"
  done
done

echo
echo "median of $ROUNDS rounds, wrk -t1 -c50 -d$DURATION, every proxy on one thread; ratios to nginx"
printf "%-8s %10s %10s %14s %8s %8s %8s\n" proxy req/s p99_ms cpu_us/req rps_x p99_x cpu_x
n_rps=$(median ${RPS[nginx]:-0}); n_p99=$(median ${P99[nginx]:-0}); n_cpu=$(median ${CPU[nginx]:-0})
for p in $PROXIES; do
  m_rps=$(median ${RPS[$p]}); m_p99=$(median ${P99[$p]}); m_cpu=$(median ${CPU[$p]})
  python3 -c "
r, p, c, nr, np, nc = $m_rps, $m_p99, $m_cpu, $n_rps, $n_p99, $n_cpu
x = lambda a, b: f'{a / b:.2f}' if b else '-'
print(f'%-8s %10.0f %10.3f %14.1f %8s %8s %8s' % ('$p', r, p, c, x(r, nr), x(p, np), x(c, nc)))"
done
