#!/usr/bin/env bash
# Instructions per proxied request under valgrind's callgrind: a load-independent cost figure for a shared, busy
# machine. The proxy runs under callgrind (workers: 1 / a single nginx process), is warmed up, its counters are
# zeroed (callgrind_control -z), a fixed-duration wrk run is sent, the counters dumped (-d), and the total
# instructions (Ir) divided by the requests wrk completed. nginx, configured the same way as in peers.sh, is the
# reference. Usage: scripts/bench/callgrind.sh [DURATION=15s]   (PROXIES="gateway nginx", GATEWAY_BIN=path)
source "$(dirname "$0")/lib.sh"
DURATION=${1:-15s}
PROXIES=${PROXIES:-gateway nginx}
need nginx wrk
command -v valgrind >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }
[[ " $PROXIES " == *" gateway "* ]] && build_release

UP1=$(free_port); UP2=$(free_port)
start_nginx 1 upstreams <<NGINX
  server { listen 127.0.0.1:$UP1; location / { return 200 '{"replica":"u1","ok":true}'; } }
  server { listen 127.0.0.1:$UP2; location / { return 200 '{"replica":"u2","ok":true}'; } }
NGINX

run_one() {
  local p=$1 port pid
  port=$(free_port)
  mkdir -p "$BENCH_TMP/cg-$p"
  case $p in
    gateway)
      write_single_worker_proxy_config "$BENCH_TMP/gateway.yaml" "$port" "$(free_port)" "$UP1" "$UP2"
      # Valgrind 3.19 cannot read the DWARF 5 debug info Swift emits ("possibly corrupted debuginfo"): run a copy
      # without it (the symbol table stays, so callgrind_annotate still names functions).
      strip -g -o "$BENCH_TMP/gateway-nodebug" "$GATEWAY_BIN"
      # The Swift runtime's crash backtracer (signal handlers on an alternate stack) crashes valgrind: off.
      SWIFT_BACKTRACE=enable=no valgrind --tool=callgrind --callgrind-out-file="$BENCH_TMP/cg-$p/out.%p" \
        "$BENCH_TMP/gateway-nodebug" serve --config "$BENCH_TMP/gateway.yaml" --log-level warning 2>"$BENCH_TMP/cg-$p/valgrind.log" &
      pid=$!
      ;;
    nginx)
      mkdir -p "$BENCH_TMP/cgnginx"
      cat > "$BENCH_TMP/cgnginx.conf" <<NGINX
daemon off;
master_process off;
worker_processes 1;
pid $BENCH_TMP/cgnginx/nginx.pid;
error_log $BENCH_TMP/cgnginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $BENCH_TMP/cgnginx/body;
  proxy_temp_path $BENCH_TMP/cgnginx/proxy;
  upstream app { server 127.0.0.1:$UP1; server 127.0.0.1:$UP2; keepalive 64; }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    }
  }
}
NGINX
      valgrind --tool=callgrind --callgrind-out-file="$BENCH_TMP/cg-$p/out.%p" \
        nginx -c "$BENCH_TMP/cgnginx.conf" -e "$BENCH_TMP/cgnginx/error.log" 2>"$BENCH_TMP/cg-$p/valgrind.log" &
      pid=$!
      ;;
  esac
  for _ in $(seq 1 1200); do curl -sf -m 5 "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.25; done
  wrk -t1 -c10 -d3s "http://127.0.0.1:$port/" >/dev/null
  callgrind_control -z "$pid" >/dev/null
  local out requests
  out=$(wrk -t1 -c10 -d"$DURATION" "http://127.0.0.1:$port/" 2>&1)
  callgrind_control -d "$pid" >/dev/null
  requests=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' <<<"$out")
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  # The dump written by -d is the newest file with a part number; its "totals:" line is the Ir count.
  local dump ir
  dump=$(ls -t "$BENCH_TMP/cg-$p"/out.*.[0-9]* 2>/dev/null | head -1)
  ir=$(awk '/^totals:/ {print $2}' "$dump")
  python3 -c "print(f'%-8s %12d requests %16d Ir %12.0f instructions per request' % ('$p', $requests, $ir, $ir / $requests))"
}
for p in $PROXIES; do run_one "$p"; done
