"""The JavaScript client of conf/examples/realtime-client.js against two real instances: it keeps offsets, its
instance is SIGKILLed, it reconnects with backoff to the other one and resumes, and gets every message exactly once,
in order. Needs Node.js with WebSocket (≥ 22, or 20 with --experimental-websocket); skipped without it."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from harness import make_config, wait_for

ROOT = Path(__file__).resolve().parents[2]

DRIVER = """
import { RealtimeClient } from "./realtime-client.mjs";
const ports = process.argv.slice(2);
let next = 0;
const rt = new RealtimeClient(() => `ws://127.0.0.1:${ports[next++ % ports.length]}/ws`, {
  onOpen: () => console.log(JSON.stringify({ open: true })),
  onSubscribed: (f) => console.log(JSON.stringify({ subscribed: f })),
  onMessage: (channel, data, meta) => console.log(JSON.stringify({ channel, data, meta })),
  onReset: (channel) => console.log(JSON.stringify({ reset: channel })),
});
rt.subscribe("chat:js");
"""

ROUTES = """
- name: events
  match: { path: /ws }
  pubsub:
    subscribe: ["chat:*"]
    history: { channels: ["chat:*"], size: 100, ttl: 10m }
"""


def _node() -> list[str] | None:
    node = shutil.which("node")
    if not node:
        return None
    for flags in ([], ["--experimental-websocket"]):
        probe = subprocess.run([node, *flags, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)"],
                               capture_output=True, timeout=20)
        if probe.returncode == 0:
            return [node, *flags]
    return None


def test_js_client_resumes_on_the_other_instance_after_a_kill(gateway, redis_url, tmp_path):
    node = _node()
    if node is None:
        pytest.skip("Node.js with a global WebSocket is not installed")
    store = f'store: {{ redis: "{redis_url}", key_prefix: "js${{uniq}}:", command_timeout: 2s }}'
    config = make_config(upstreams='app: { replicas: ["http://127.0.0.1:9"] }', routes=ROUTES, top=store)
    one, two = gateway(config), gateway(config)
    shutil.copy(ROOT / "conf/examples/realtime-client.js", tmp_path / "realtime-client.mjs")
    (tmp_path / "driver.mjs").write_text(DRIVER)
    proc = subprocess.Popen([*node, "driver.mjs", str(one.port), str(two.port)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[dict] = []

    def read():
        for line in proc.stdout:
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                lines.append({"raw": line})

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def publish(gw, n):
        resp = gw.admin("POST", "/publish/chat:js", {"Content-Type": "application/json"}, json.dumps({"n": n}).encode())
        assert resp.status == 200, resp.body

    def numbers():
        return [line["data"]["n"] for line in lines if "data" in line]

    try:
        wait_for(lambda: any("subscribed" in line for line in lines), 20, what=f"client subscribed: {lines}")
        for n in range(1, 6):
            publish(one, n)
        wait_for(lambda: len(numbers()) == 5, 20, what=f"five messages: {lines}")
        one.stop(sig=signal.SIGKILL)
        for n in range(6, 16):  # published while the client is away
            publish(two, n)
        try:
            wait_for(lambda: len(numbers()) >= 15, 25, what="resumed messages")
        except TimeoutError:
            raise AssertionError(f"not resumed: {[l for l in lines if 'data' not in l]} {numbers()}")
        publish(two, 16)
        wait_for(lambda: len(numbers()) >= 16, 20, what="a live message after the resume")
        time.sleep(0.5)
        assert numbers() == list(range(1, 17)), lines
        assert not any("reset" in line for line in lines), lines
        offsets = [line["meta"]["offset"] for line in lines if "data" in line]
        assert offsets == list(range(1, 17))
        resumed = [line["subscribed"] for line in lines if "subscribed" in line][-1]
        assert resumed["recovered"] is True and resumed["offset"] >= 5, resumed
    finally:
        proc.kill()
        proc.wait(10)
