#!/usr/bin/env bash
# Cost of edge auth (SPEC §10 targets): the same gateway (one worker), the same nginx upstream, three routes run
# interleaved — `free` (no auth), `jwt` (ES256 from a JWKS file; the client sends one token, as a browser does)
# and `forward` (forward auth with `cache: 60s`, the auth service is a second nginx). Prints per round the req/s of
# each route, the ratio to `free` and the gateway's CPU time per request (utime+stime from /proc, µs).
# Targets: jwt ≥ 0.90 of free, forward ≥ 0.85 of free.
# Usage: flock /tmp/bench.lock scripts/bench/edgeauth.sh [ROUNDS=5] [DURATION=10s]
source "$(dirname "$0")/lib.sh"
ROUNDS=${1:-5}
DURATION=${2:-10s}
need nginx wrk
python3 -c 'import jwt, cryptography' 2>/dev/null || { echo "needs PyJWT and cryptography (scripts/bootstrap.sh)" >&2; exit 1; }
build_release

UP=$(free_port); AUTH=$(free_port); GW=$(free_port); ADMIN=$(free_port)
start_nginx 1 <<NGINX
  server { listen 127.0.0.1:$UP; location / { return 200 '{"ok":true}'; } }
  server { listen 127.0.0.1:$AUTH; location / { add_header X-User-Id 42; return 200 ''; } }
NGINX
TOKEN=$(python3 - "$BENCH_TMP" <<'PY'
import json, sys, time, jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
key = ec.generate_private_key(ec.SECP256R1())
jwk = json.loads(ECAlgorithm.to_jwk(key.public_key())); jwk.update(kid="bench", alg="ES256")
open(sys.argv[1] + "/jwks.json", "w").write(json.dumps({"keys": [jwk]}))
print(jwt.encode({"sub": "bench", "aud": "api", "iss": "https://idp.example/", "exp": int(time.time()) + 86400},
                 key, algorithm="ES256", headers={"kid": "bench"}))
PY
)
cat > "$BENCH_TMP/gateway.yaml" <<YAML
server:
  listen: 127.0.0.1:$GW
  admin_listen: 127.0.0.1:$ADMIN
  access_log: false
  workers: 1
upstreams:
  app:
    replicas: [http://127.0.0.1:$UP]
auth:
  jwt:
    main:
      jwks_file: $BENCH_TMP/jwks.json
      issuer: https://idp.example/
      audience: [api]
      algorithms: [ES256]
      claims_to_headers: { sub: X-User-Id }
  forward:
    svc:
      url: http://127.0.0.1:$AUTH/verify
      copy_headers: [X-User-Id]
      cache: 60s
routes:
  - { name: free, match: { path_prefix: /free/ }, upstream: app }
  - { name: jwt, match: { path_prefix: /jwt/ }, upstream: app, auth: { jwt: main } }
  - { name: forward, match: { path_prefix: /forward/ }, upstream: app, auth: { forward: svc } }
YAML
"$GATEWAY_BIN" serve --config "$BENCH_TMP/gateway.yaml" --log-level warning &
GW_PID=$!
BENCH_PIDS+=("$GW_PID")
wait_port "$UP"; wait_port "$GW"
H=(-H "Authorization: Bearer $TOKEN")
curl -sf "http://127.0.0.1:$GW/jwt/x" "${H[@]}" -o /dev/null || { echo "jwt route refused the token" >&2; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GW/jwt/x")" = 401 ] || { echo "jwt route open?" >&2; exit 1; }
curl -sf "http://127.0.0.1:$GW/forward/x" "${H[@]}" -o /dev/null || { echo "forward route refused" >&2; exit 1; }
for path in free jwt forward; do wrk_run "http://127.0.0.1:$GW/$path/" 2s 50 "${H[@]}" >/dev/null; done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$GW_PID/stat"; }
TICK=$(getconf CLK_TCK)
# run PATH -> "rps cpu_us_per_request errors"
run() {
  local before after rps p50 p99 err
  before=$(cpu_ticks)
  read -r rps p50 p99 err <<<"$(wrk_run "http://127.0.0.1:$GW/$1/" "$DURATION" 50 "${H[@]}")"
  after=$(cpu_ticks)
  local secs=${DURATION%s}
  python3 -c "print(f'$rps {($after-$before)/$TICK*1e6/max(1,$rps*$secs):.1f} $err')"
}

jr=(); fr=(); jc=(); fc=()
printf "%-6s %9s %7s | %9s %7s %6s | %9s %7s %6s\n" round free_rps cpu_us jwt_rps cpu_us ratio fwd_rps cpu_us ratio
for round in $(seq 1 "$ROUNDS"); do
  read -r f_rps f_cpu f_err <<<"$(run free)"
  read -r j_rps j_cpu j_err <<<"$(run jwt)"
  read -r w_rps w_cpu w_err <<<"$(run forward)"
  j_ratio=$(python3 -c "print(f'{$j_rps/$f_rps:.3f}')"); w_ratio=$(python3 -c "print(f'{$w_rps/$f_rps:.3f}')")
  jr+=("$j_ratio"); fr+=("$w_ratio")
  jc+=("$(python3 -c "print($j_cpu/$f_cpu)")"); fc+=("$(python3 -c "print($w_cpu/$f_cpu)")")
  printf "%-6s %9s %7s | %9s %7s %6s | %9s %7s %6s  (errors %s/%s/%s)\n" "$round" "$f_rps" "$f_cpu" "$j_rps" "$j_cpu" "$j_ratio" "$w_rps" "$w_cpu" "$w_ratio" "$f_err" "$j_err" "$w_err"
done
echo "median throughput ratio  jwt/free: $(median "${jr[@]}") (target >= 0.90)   forward(cache)/free: $(median "${fr[@]}") (target >= 0.85)"
echo "median CPU per request   jwt/free: $(median "${jc[@]}")   forward(cache)/free: $(median "${fc[@]}")"
curl -s "http://127.0.0.1:$ADMIN/metrics" | grep '^gateway_auth_decisions_total' >&2 || true
