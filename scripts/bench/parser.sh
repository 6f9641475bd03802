#!/usr/bin/env bash
# Request-head parse cost: GatewayHTTP's hand-written parser vs Debian's libhttp-parser (the candidate system
# library), same heads, single thread. Prints ns per head for each. Usage: scripts/bench/parser.sh [ITERATIONS=2000000]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
N=${1:-2000000}
[ -f /usr/include/http_parser.h ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libhttp-parser-dev >/dev/null; }
TMP=$(mktemp -d /tmp/gateway-parser.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cc -O2 -o "$TMP/http_parser_bench" "$ROOT/scripts/bench/http_parser_bench.c" -lhttp_parser
(cd "$ROOT/Fuzz" && swift build -c release --scratch-path .build-bench --product HTTP1Bench >&2)
"$TMP/http_parser_bench" probe
"$TMP/http_parser_bench" "$N"
"$ROOT/Fuzz/.build-bench/release/HTTP1Bench" "$N"
# Wall time above depends on the machine's load; instructions per head (callgrind, the difference between a run of
# 30000 and one of 10000 heads, so start-up cancels out) do not.
instructions() {
  local out1 out2
  valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.1" "$@" 10000 "$HEAD" >/dev/null 2>&1
  valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.2" "$@" 30000 "$HEAD" >/dev/null 2>&1
  python3 -c "
import sys
def total(p): return int([l for l in open(p) if l.startswith(('totals:', 'summary:'))][0].split()[1])
print(f'{(total(\"$TMP/cg.2\") - total(\"$TMP/cg.1\")) / 20000:.0f}')"
}
for HEAD in wrk browser; do
  echo "instructions per head ($HEAD): libhttp-parser $(instructions "$TMP/http_parser_bench")," \
    "GatewayHTTP $(instructions "$ROOT/Fuzz/.build-bench/release/HTTP1Bench")"
done
