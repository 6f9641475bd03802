"""The client side of scripts/bench/mass-reconnect.sh (see there). Prints one JSON line and a Markdown table."""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import signal
import socket
import threading
import time

from websockets.asyncio.client import connect


def redis_info_commandstats(ports: str) -> dict[str, int]:
    """Calls per command, summed over the comma-separated Redis ports (a Cluster's nodes)."""
    total: dict[str, int] = {}
    for port in ports.split(","):
        for name, calls in node_commandstats(int(port)).items():
            total[name] = total.get(name, 0) + calls
    return total


def node_commandstats(port: int) -> dict[str, int]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"*2\r\n$4\r\nINFO\r\n$12\r\ncommandstats\r\n")
        data = b""
        while True:
            data += s.recv(65536)
            head, _, rest = data.partition(b"\r\n")
            if head.startswith(b"$") and len(rest) >= int(head[1:]):
                break
    out = {}
    for line in rest.decode().splitlines():
        if line.startswith("cmdstat_"):
            name, _, fields = line.partition(":")
            calls = dict(f.split("=") for f in fields.split(","))["calls"]
            out[name[len("cmdstat_"):]] = int(calls)
    return out


def metric(port: int, name: str) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/metrics")
    body = conn.getresponse().read().decode()
    total = 0.0
    for line in body.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


class Subscriber:
    def __init__(self, index: int, channel: str):
        self.index, self.channel = index, channel
        self.position = None  # (offset, epoch)
        self.numbers: list[int] = []
        self.duplicates = 0
        self.recovered_at = None
        self.recovered = None
        self.reconnects = 0


async def run_subscriber(sub: Subscriber, args, killed: asyncio.Event, ready: asyncio.Event, counter):
    port = args.port_a
    while True:
        try:
            async with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=60, max_queue=None,
                               ping_interval=None) as ws:
                frame = {"type": "subscribe", "channel": sub.channel}
                if sub.position:
                    frame["since"] = {"offset": sub.position[0], "epoch": sub.position[1]}
                await ws.send(json.dumps(frame))
                async for raw in ws:
                    msg = json.loads(raw)
                    if msg["type"] == "subscribed":
                        if sub.position is None:
                            sub.position = (msg["offset"], msg["epoch"])
                            counter[0] += 1
                            if counter[0] == args.subscribers:
                                ready.set()
                        else:
                            sub.recovered = msg.get("recovered")
                            sub.last_subscribed = msg
                            sub.recovered_at = time.monotonic()
                    elif msg["type"] == "error":
                        if os.environ.get("DEBUG"):
                            print(f"subscriber {sub.index}: {msg}", flush=True)
                    elif msg["type"] == "message":
                        offset, epoch = msg["offset"], msg["epoch"]
                        if sub.position and epoch == sub.position[1] and offset <= sub.position[0]:
                            sub.duplicates += 1
                            continue
                        sub.position = (offset, epoch)
                        sub.numbers.append(msg["data"]["n"])
                        if sub.done_at is None and sub.target and len(sub.numbers) >= sub.target:
                            sub.done_at = time.monotonic()
            return
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - the instance died: come back on the other one
            if os.environ.get("DEBUG"):
                print(f"subscriber {sub.index} on {port}: {error!r}", flush=True)
            if port == args.port_b and not killed.is_set():
                raise
            port = args.port_b
            sub.reconnects += 1
            await asyncio.sleep(random.random())  # backoff with jitter


def publisher(args, stop: threading.Event, counts: dict[str, int], lock: threading.Lock):
    conn = http.client.HTTPConnection("127.0.0.1", args.admin_b, timeout=10)
    interval = 1.0 / args.rate
    next_at = time.monotonic()
    i = 0
    while not stop.is_set():
        channel = f"bench:c{i % args.channels}"
        with lock:
            n = counts.get(channel, 0) + 1
            counts[channel] = n
        conn.request("POST", f"/publish/{channel}", body=json.dumps({"n": n}),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200, resp.status
        i += 1
        next_at += interval
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)


async def main():
    parser = argparse.ArgumentParser()
    for name in ("port-a", "port-b", "admin-b", "pid-a", "subscribers", "channels"):
        parser.add_argument(f"--{name}", type=int, required=True)
    parser.add_argument("--redis", required=True, help="Redis port, or a Cluster's node ports comma-separated")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--after", type=float, default=5)
    args = parser.parse_args()
    Subscriber.done_at = None
    Subscriber.target = None
    subs = [Subscriber(i, f"bench:c{i % args.channels}") for i in range(args.subscribers)]
    killed, ready = asyncio.Event(), asyncio.Event()
    counter = [0]
    started = time.monotonic()
    sem = asyncio.Semaphore(200)

    async def start(sub):
        async with sem:
            await asyncio.sleep(0)
        await run_subscriber(sub, args, killed, ready, counter)

    tasks = []
    for sub in subs:
        tasks.append(asyncio.create_task(start(sub)))
        if len(tasks) % 200 == 0:
            await asyncio.sleep(0.05)
    try:
        await asyncio.wait_for(ready.wait(), float(os.environ.get("CONNECT_TIMEOUT", "300")))
    except asyncio.TimeoutError:
        missing = [s.index for s in subs if s.position is None]
        print(json.dumps({"error": "not all subscribed", "subscribed": counter[0], "missing": missing[:20]}))
        os._exit(1)
    connect_s = time.monotonic() - started

    counts: dict[str, int] = {}
    lock = threading.Lock()
    stop = threading.Event()
    pub = threading.Thread(target=publisher, args=(args, stop, counts, lock), daemon=True)
    pub.start()
    await asyncio.sleep(args.warmup)
    stats_before = redis_info_commandstats(args.redis)
    reads_before = metric(args.admin_b, "gateway_pubsub_history_reads_total")
    os.kill(args.pid_a, signal.SIGKILL)
    killed_at = time.monotonic()
    killed.set()
    await asyncio.sleep(args.after)
    stop.set()
    pub.join(30)
    with lock:
        final = dict(counts)
    for sub in subs:
        sub.target = final.get(sub.channel, 0)
        if len(sub.numbers) >= sub.target:
            sub.done_at = sub.done_at or time.monotonic()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and any(len(s.numbers) < final.get(s.channel, 0) for s in subs):
        await asyncio.sleep(0.2)
    stats_after = redis_info_commandstats(args.redis)
    reads_after = metric(args.admin_b, "gateway_pubsub_history_reads_total")
    recoveries = metric(args.admin_b, 'gateway_pubsub_recoveries_total{result="recovered"}')
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    exact = sum(1 for s in subs if s.numbers == list(range(1, final.get(s.channel, 0) + 1)))
    recovered = [s for s in subs if s.recovered is True]
    last_recovered = max((s.recovered_at for s in recovered), default=killed_at) - killed_at
    total_published = sum(final.values())
    result = {
        "subscribers": args.subscribers, "channels": args.channels, "rate": args.rate,
        "connect_s": round(connect_s, 2), "published": total_published,
        "reconnected": sum(1 for s in subs if s.reconnects > 0),
        "recovered_true": len(recovered), "recovered_false": sum(1 for s in subs if s.recovered is False),
        "exactly_once_in_order": exact, "duplicates_dropped_by_client": sum(s.duplicates for s in subs),
        "time_to_all_recovered_s": round(last_recovered, 2),
        "history_reads": reads_after - reads_before, "recoveries_metric_b": recoveries,
        "redis_xrange_calls": stats_after.get("xrange", 0) - stats_before.get("xrange", 0),
        "redis_evalsha_calls": stats_after.get("evalsha", 0) - stats_before.get("evalsha", 0),
    }
    if os.environ.get("DEBUG"):
        print([(s.index, s.reconnects, getattr(s, "last_subscribed", None)) for s in subs if s.recovered is None][:5])
    print(json.dumps(result))
    print(f"""
| metric | value |
|---|---|
| subscribers on A / channels / publish rate | {args.subscribers} / {args.channels} / {args.rate:.0f} msg/s (through B's admin API) |
| messages published (whole run) | {total_published} |
| subscribers that reconnected to B | {result['reconnected']} |
| `subscribed` with `recovered:true` / `false` | {result['recovered_true']} / {result['recovered_false']} |
| subscribers with every message exactly once, in order | **{exact} of {args.subscribers}** |
| time from SIGKILL until the last `recovered:true` | {last_recovered:.2f} s (0–1 s reconnect jitter included) |
| history reads (gateway B) / XRANGE calls (Redis) / EVALSHA calls (Redis, reads + publishes) | {result['history_reads']:.0f} / {result['redis_xrange_calls']} / {result['redis_evalsha_calls']} |
""")


asyncio.run(main())
