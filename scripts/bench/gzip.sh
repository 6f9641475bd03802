#!/usr/bin/env bash
# gzip at the edge: nginx (`gzip on`) vs the gateway compressing the same ~100 KB JSON from the same upstream at the
# same level, runs interleaved. Prints req/s of both, their ratio, and the compressed sizes.
# Usage: scripts/bench/gzip.sh [ROUNDS=5] [DURATION=10s] [LEVEL=5]
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-5}
DURATION=${2:-10s}
LEVEL=${3:-5}
need nginx wrk
build_release

UP=$(free_port); NGX=$(free_port); GW=$(free_port); ADMIN=$(free_port)
mkdir -p "$BENCH_TMP/www" && chmod 755 "$BENCH_TMP/www"
python3 - "$BENCH_TMP/www/data.json" <<'PY'
import json, random, sys
random.seed(7)
items = [{"id": i, "name": f"user-{i}", "email": f"user{i}@example.com", "active": i % 3 == 0,
          "score": round(random.random() * 1000, 3), "tags": random.sample(["a", "b", "c", "d", "e", "f"], 3)}
         for i in range(900)]
open(sys.argv[1], "w").write(json.dumps({"items": items}))
PY
start_nginx 2 <<NGINX
  types { application/json json; }
  server { listen 127.0.0.1:$UP; root $BENCH_TMP/www; }
  upstream app { server 127.0.0.1:$UP; keepalive 64; }
  server {
    listen 127.0.0.1:$NGX;
    gzip on; gzip_comp_level $LEVEL; gzip_min_length 1024; gzip_proxied any; gzip_vary on;
    gzip_types application/json;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
NGINX
cat > "$BENCH_TMP/gateway.yaml" <<YAML
server: { listen: 127.0.0.1:$GW, admin_listen: 127.0.0.1:$ADMIN, access_log: false }
upstreams:
  app: { replicas: [http://127.0.0.1:$UP], keepalive: 64 }
routes:
  - name: all
    match: { path_prefix: / }
    upstream: app
    compress: { min_bytes: 1024, level: $LEVEL }
YAML
"$GATEWAY_BIN" serve --config "$BENCH_TMP/gateway.yaml" --log-level warning &
BENCH_PIDS+=($!)
wait_port "$UP"; wait_port "$NGX"; wait_port "$GW"

original=$(curl -s "http://127.0.0.1:$UP/data.json" | wc -c)
n_size=$(curl -s -H 'Accept-Encoding: gzip' "http://127.0.0.1:$NGX/data.json" | wc -c)
g_size=$(curl -s -H 'Accept-Encoding: gzip' "http://127.0.0.1:$GW/data.json" | wc -c)
curl -s -H 'Accept-Encoding: gzip' "http://127.0.0.1:$GW/data.json" | gunzip | cmp - "$BENCH_TMP/www/data.json" \
  && echo "gateway output decompresses to the original byte for byte" >&2
echo "body: $original bytes; gzip level $LEVEL: nginx $n_size bytes, gateway $g_size bytes (size ratio $(python3 -c "print(f'{$g_size/$n_size:.3f}')"))"

ratios=()
printf "%-6s %12s %10s %12s %10s %8s\n" round nginx_rps n_p99 gateway_rps g_p99 ratio
for round in $(seq 1 "$ROUNDS"); do
  read -r n_rps n_p50 n_p99 n_err <<<"$(wrk_run "http://127.0.0.1:$NGX/data.json" "$DURATION" 50 -H 'Accept-Encoding: gzip')"
  read -r g_rps g_p50 g_p99 g_err <<<"$(wrk_run "http://127.0.0.1:$GW/data.json" "$DURATION" 50 -H 'Accept-Encoding: gzip')"
  ratio=$(python3 -c "print(f'{$g_rps/$n_rps:.3f}')")
  ratios+=("$ratio")
  printf "%-6s %12s %9sms %12s %9sms %8s\n" "$round" "$n_rps" "$n_p99" "$g_rps" "$g_p99" "$ratio"
done
echo "median gateway/nginx gzip throughput ratio: $(median "${ratios[@]}")"
