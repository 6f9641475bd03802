#!/usr/bin/env bash
# Pub/sub fan-out: two gateway instances on one Redis, N subscribers split across both, one publisher at a fixed
# rate (publishing on instance A). Reports deliveries/s, publish→receive latency p50/p99 (the publisher embeds a
# timestamp in `data`), then RSS per idle WebSocket connection with IDLE connections open on instance A.
# Targets: ≥ 100k deliveries/s, ≤ 16 KiB per idle connection. Results go to /work/team/fanout-results.md
# (RESULTS=path to change).
# Usage: scripts/bench/fanout.sh [SUBSCRIBERS=200] [RATE=1000 msg/s] [DURATION=10 s] [IDLE=10000]
#        GATEWAY_BIN=path skips the release build (e.g. a debug binary for a smoke run).
source "$(dirname "$0")/lib.sh"
SUBS=${1:-200}
RATE=${2:-1000}
DURATION=${3:-10}
IDLE=${4:-10000}
RESULTS=${RESULTS:-/work/team/fanout-results.md}
command -v redis-server >/dev/null || { echo "redis-server is needed" >&2; exit 1; }
if [ -z "${GATEWAY_BIN:-}" ]; then build_release; fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "open files limit: $(ulimit -n)" >&2

REDIS=$(free_port)
redis-server --bind 127.0.0.1 --port "$REDIS" --save "" --appendonly no --dir "$BENCH_TMP" >/dev/null 2>&1 &
BENCH_PIDS+=($!)
wait_port "$REDIS"

start_gateway() {  # NAME -> sets PORT_<NAME>, ADMIN_<NAME>, PID_<NAME>
  local name=$1 port admin
  port=$(free_port); admin=$(free_port)
  cat > "$BENCH_TMP/$name.yaml" <<YAML
server:
  listen: 127.0.0.1:$port
  admin_listen: 127.0.0.1:$admin
  access_log: false
store: { redis: "redis://127.0.0.1:$REDIS/0", key_prefix: "bench:" }
upstreams:
  app: { replicas: ["http://127.0.0.1:9"] }
routes:
  - name: events
    match: { path: /ws }
    pubsub:
      subscribe: ["bench:*"]
      publish: ["bench:*"]
YAML
  "$GATEWAY_BIN" serve --config "$BENCH_TMP/$name.yaml" > "$BENCH_TMP/$name.log" 2>&1 &
  local pid=$!
  BENCH_PIDS+=($pid)
  wait_port "$port"
  printf -v "PORT_$name" '%s' "$port"; printf -v "ADMIN_$name" '%s' "$admin"; printf -v "PID_$name" '%s' "$pid"
}
start_gateway A
start_gateway B

cat > "$BENCH_TMP/client.py" <<'PY'
"""Minimal asyncio WebSocket client for the fan-out benchmark (raw frames, no library: the client must be cheaper
than the server it measures)."""
import asyncio, base64, json, os, struct, sys, time

async def handshake(port, path):
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head[:100]
    return reader, writer

def masked_text(text):
    payload = text.encode()
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    n = len(payload)
    head = bytes([0x81, 0x80 | n]) if n < 126 else bytes([0x81, 0x80 | 126]) + struct.pack(">H", n)
    return head + mask + body

async def read_frame(reader):
    b0, b1 = await reader.readexactly(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack(">H", await reader.readexactly(2))[0]
    elif n == 127:
        n = struct.unpack(">Q", await reader.readexactly(8))[0]
    return b0 & 0x0F, await reader.readexactly(n)

async def subscriber(port, channel, stop_at, stats, ready):
    reader, writer = await handshake(port, f"/ws?subscribe={channel}")
    await read_frame(reader)  # subscribed
    ready.append(1)
    count = 0
    try:
        while time.time() < stop_at:
            opcode, payload = await asyncio.wait_for(read_frame(reader), max(0.1, stop_at - time.time()))
            count += 1
            if count % 20 == 0:  # sample latency on every 20th message
                sent = json.loads(payload)["data"]["t"]
                stats["lat"].append(time.time_ns() - sent)
    except (asyncio.TimeoutError, asyncio.IncompleteReadError):
        pass
    stats["count"] += count
    writer.close()

async def run_subscribers(ports, n, seconds, start_at):
    stats = {"count": 0, "lat": []}
    ready = []
    stop_at = start_at + seconds
    tasks = [asyncio.create_task(subscriber(ports[i % len(ports)], "bench:fan", stop_at, stats, ready))
             for i in range(n)]
    await asyncio.gather(*tasks)
    print(json.dumps({"count": stats["count"], "lat": stats["lat"]}))

async def publisher(port, rate, seconds, start_at):
    reader, writer = await handshake(port, "/ws")
    await asyncio.sleep(max(0, start_at - time.time()))
    sent = 0
    t0 = time.time()
    while time.time() - t0 < seconds:
        due = int((time.time() - t0) * rate)
        while sent < due:
            writer.write(masked_text(json.dumps({"type": "publish", "channel": "bench:fan",
                                                 "data": {"t": time.time_ns(), "n": sent}})))
            sent += 1
        await writer.drain()
        await asyncio.sleep(0.001)
    print(json.dumps({"sent": sent}))

async def idle(port, n, hold):
    conns = []
    for i in range(n):
        conns.append(await handshake(port, "/ws"))
        if i % 500 == 499:
            await asyncio.sleep(0)
    print("open", flush=True)
    await asyncio.sleep(hold)

mode = sys.argv[1]
if mode == "sub":
    ports = [int(p) for p in sys.argv[2].split(",")]
    asyncio.run(run_subscribers(ports, int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])))
elif mode == "pub":
    asyncio.run(publisher(int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])))
elif mode == "idle":
    asyncio.run(idle(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])))
PY

# --- fan-out: subscribers in CLIENTS client processes, each spreading its share over A and B; publisher on A ----
CLIENTS=${CLIENTS:-4}
START=$(python3 -c 'import time; print(time.time() + 3 + '"$SUBS"' / 500)')
PIDS=()
for i in $(seq 1 "$CLIENTS"); do
  share=$(( SUBS / CLIENTS + (i <= SUBS % CLIENTS ? 1 : 0) ))
  if (( i % 2 )); then ports="$PORT_A,$PORT_B"; else ports="$PORT_B,$PORT_A"; fi
  python3 "$BENCH_TMP/client.py" sub "$ports" "$share" "$DURATION" "$START" > "$BENCH_TMP/sub$i.json" &
  PIDS+=($!)
done
python3 "$BENCH_TMP/client.py" pub "$PORT_A" "$RATE" "$DURATION" "$START" > "$BENCH_TMP/pub.json" &
PIDS+=($!)
wait "${PIDS[@]}" || true  # every client stops by itself DURATION s after START

# --- idle connections on A -------------------------------------------------------------------------------------
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
sleep 1
RSS_BEFORE=$(rss "$PID_A")
HALF_IDLE=$(( IDLE / 2 ))
python3 "$BENCH_TMP/client.py" idle "$PORT_A" "$HALF_IDLE" 600 > "$BENCH_TMP/idle1.txt" &
I1=$!
python3 "$BENCH_TMP/client.py" idle "$PORT_A" "$(( IDLE - HALF_IDLE ))" 600 > "$BENCH_TMP/idle2.txt" &
I2=$!
for _ in $(seq 1 600); do
  if grep -q open "$BENCH_TMP/idle1.txt" 2>/dev/null && grep -q open "$BENCH_TMP/idle2.txt" 2>/dev/null; then break; fi
  sleep 0.2
done
sleep 2
RSS_AFTER=$(rss "$PID_A")
kill "$I1" "$I2" 2>/dev/null || true

python3 - "$BENCH_TMP" "$SUBS" "$RATE" "$DURATION" "$IDLE" "$RSS_BEFORE" "$RSS_AFTER" "$RESULTS" "$GATEWAY_BIN" <<'PY'
import json, statistics, sys, datetime
tmp, subs, rate, duration, idle, before, after, results, binary = sys.argv[1:]
subs, rate, duration, idle, before, after = int(subs), float(rate), float(duration), int(idle), int(before), int(after)
count, lat = 0, []
import glob
for name in sorted(glob.glob(f"{tmp}/sub*.json")):
    try:
        doc = json.load(open(name))
        count += doc["count"]; lat += doc["lat"]
    except Exception as e:
        print(f"{name}: {e}", file=sys.stderr)
try:
    sent = json.load(open(f"{tmp}/pub.json"))["sent"]
except Exception:
    sent = 0
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] / 1e6 if lat else float("nan")
per_conn = (after - before) * 1024 / idle if idle else 0
lines = [
    f"## Pub/sub fan-out ({datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, `scripts/bench/fanout.sh {subs} {int(rate)} {int(duration)} {idle}`)",
    "",
    f"binary: `{binary}`; 2 gateway instances + Redis + Python asyncio clients, all on one 2-core machine",
    "",
    "| metric | value | target |",
    "|---|---|---|",
    f"| subscribers (split over 2 instances) | {subs} | |",
    f"| published | {sent} msgs at {int(rate)}/s for {duration:.0f} s | |",
    f"| delivered | {count} ({count / max(1, sent * subs):.1%} of published × subscribers) | 100% |",
    f"| deliveries/s | {count / duration:,.0f} | ≥ 100,000 |",
    f"| publish→receive latency p50 / p99 | {pct(0.5):.2f} ms / {pct(0.99):.2f} ms | |",
    f"| RSS of instance A before / after {idle} idle connections | {before} KiB / {after} KiB | |",
    f"| RSS per idle connection | {per_conn / 1024:.1f} KiB | ≤ 16 KiB |",
    "",
]
text = "\n".join(lines)
print(text)
with open(results, "a") as f:
    f.write(text + "\n")
PY
