#!/usr/bin/env bash
# Fuzzes the byte-level HTTP/1 parsers of GatewayHTTP (request head, response head, chunked body, and the upstream
# head writer) with libFuzzer, for a bounded time, starting from the committed corpus in Fuzz/corpus.
# Usage: scripts/fuzz.sh [SECONDS=60] [extra libFuzzer flags...]
#   New interesting inputs go to a scratch corpus under /tmp (Fuzz/corpus stays as committed unless you copy the
#   good ones in); a crash leaves crash-* in Fuzz/artifacts/ (ignored by git: copy it into Fuzz/corpus as a regression
#   once fixed) and makes the script exit non-zero.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_TO_RUN=${1:-60}
shift || true
cd "$ROOT/Fuzz"
swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --product HTTP1Fuzzer >&2
BIN="$ROOT/Fuzz/.build/release/HTTP1Fuzzer"
WORK=$(mktemp -d /tmp/gateway-fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
cp "$ROOT/Fuzz/corpus/"* "$WORK/"
mkdir -p "$ROOT/Fuzz/artifacts"
"$BIN" -max_total_time="$SECONDS_TO_RUN" -max_len=2048 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$ROOT/Fuzz/artifacts/" \
  -print_final_stats=1 "$@" "$WORK"
