"""Helpers for Redis Cluster / Sentinel integration tests: env-provided topologies, private ones started with
scripts/redis-topology.sh, CRC16 hash slots, cluster-aware commands, and a load generator that records every
answer (status, time) so tests can measure admission gaps."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness import get, redis_command

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGY_SCRIPT = os.environ.get("REDIS_TOPOLOGY_SCRIPT") or str(ROOT / "scripts" / "redis-topology.sh")


def cluster_nodes() -> list[str]:
    value = os.environ.get("GATEWAY_TEST_CLUSTER_NODES")
    if not value:
        pytest.skip("GATEWAY_TEST_CLUSTER_NODES is not set (scripts/test.sh starts a Redis Cluster)")
    return value.split(",")


def sentinel_env() -> dict[str, str]:
    if not os.environ.get("GATEWAY_TEST_SENTINEL_NODES"):
        pytest.skip("GATEWAY_TEST_SENTINEL_NODES is not set (scripts/test.sh starts a Sentinel group)")
    return {k: os.environ[k] for k in ("GATEWAY_TEST_SENTINEL_NODES", "GATEWAY_TEST_SENTINEL_MASTER",
                                       "GATEWAY_TEST_SENTINEL_DATA")}


class PrivateTopology:
    """A cluster or sentinel group owned by one test (to kill nodes), started and stopped by redis-topology.sh."""

    def __init__(self, kind: str, workdir: Path):
        self.kind, self.dir = kind, workdir
        out = subprocess.run(["bash", TOPOLOGY_SCRIPT, "start", kind, str(workdir)], capture_output=True, text=True,
                             timeout=180)
        if out.returncode != 0:
            raise RuntimeError(f"redis-topology.sh start {kind} failed:\n{out.stderr[-3000:]}")
        self.env = {}
        for line in out.stdout.splitlines():
            if line.startswith("export ") and "=" in line:
                k, v = line[len("export "):].split("=", 1)
                self.env[k] = v

    def pid(self, node: str) -> int:
        port = node.rsplit(":", 1)[1]
        return int((self.dir / f"redis-{port}.pid").read_text().strip())

    def stop(self):
        subprocess.run(["bash", TOPOLOGY_SCRIPT, "stop", str(self.dir)], capture_output=True, timeout=60)


def crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def key_slot(key: str) -> int:
    data = key.encode()
    start = data.find(b"{")
    if start >= 0:
        end = data.find(b"}", start + 1)
        if end > start + 1:
            data = data[start + 1:end]
    return crc16(data) % 16384


def port_of(node: str) -> int:
    return int(node.rsplit(":", 1)[1])


def slot_owner(nodes: list[str], slot: int) -> str:
    """The primary serving `slot`, per CLUSTER SLOTS of the first node that answers."""
    for node in nodes:
        try:
            for entry in redis_command(port_of(node), "CLUSTER", "SLOTS"):
                if entry[0] <= slot <= entry[1]:
                    return f"{entry[2][0]}:{entry[2][1]}"
        except Exception:  # noqa: BLE001 - a dead node: ask the next
            continue
    raise RuntimeError(f"no node knows slot {slot}")


def cluster_command(nodes: list[str], key: str, *args):
    """A keyed command on the owning primary (follows one MOVED)."""
    owner = slot_owner(nodes, key_slot(key))
    try:
        return redis_command(port_of(owner), *args)
    except RuntimeError as e:
        if str(e).startswith("MOVED"):
            return redis_command(port_of(str(e).split()[2]), *args)
        raise


def role(node: str) -> str | None:
    try:
        return redis_command(port_of(node), "ROLE")[0]
    except Exception:  # noqa: BLE001
        return None


def readyz(gw) -> dict:
    import json
    resp = get(gw.admin_port, "/readyz", timeout=5)
    return {"http": resp.status, **json.loads(resp.body)}


@dataclass
class Load:
    """`threads` workers sending `GET target` (with per-worker headers) to alternating gateways for `seconds`,
    each at most `rate` requests/s. Records (start time, status) per request; a request that raises (timeout,
    reset) is recorded with status 0."""
    gateways: list
    target: str
    headers: dict
    threads: int = 4
    rate: float = 60.0
    results: list = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _worker(self, index: int):
        conns = {}
        n = 0
        while not self._stop.is_set():
            gw = self.gateways[(index + n) % len(self.gateways)]
            n += 1
            t0 = time.monotonic()
            try:
                conn = conns.get(gw.port) or gw.connect(timeout=15)
                conns[gw.port] = conn
                status = conn.request("GET", self.target, self.headers).status
            except Exception:  # noqa: BLE001
                conns.pop(gw.port, None)
                status = 0
            with self._lock:
                self.results.append((t0, time.monotonic(), status))
            pause = 1.0 / self.rate - (time.monotonic() - t0)
            if pause > 0:
                time.sleep(pause)
        for c in conns.values():
            c.close()

    def start(self):
        self._workers = [threading.Thread(target=self._worker, args=(i,), daemon=True) for i in range(self.threads)]
        for w in self._workers:
            w.start()
        return self

    def stop(self):
        self._stop.set()
        for w in self._workers:
            w.join(30)

    def count(self, status: int, after: float = 0.0) -> int:
        return sum(1 for t0, _, s in self.results if s == status and t0 >= after)

    def longest_gap(self, ok=(200, 429)) -> float:
        """Longest stretch without a store-backed answer (200 or 429) among answers in time order."""
        times = sorted(t1 for _, t1, s in self.results if s in ok)
        if len(times) < 2:
            return float("inf")
        return max(b - a for a, b in zip(times, times[1:]))
