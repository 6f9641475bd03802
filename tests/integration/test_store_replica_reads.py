"""SPEC §8 `store.cluster.read_from_replicas` on the real 3-primary/3-replica Cluster (GATEWAY_TEST_CLUSTER_NODES):
with it, presence reads (the only reads that tolerate replication lag, see README) go to a `READONLY` replica of
the channel's primary; without it they go to the primary. Measured with INFO commandstats on the nodes themselves."""

from __future__ import annotations

import json

from websockets.sync.client import connect

from harness import make_config, redis_command, wait_for
from topology import cluster_nodes, key_slot, port_of, readyz

ROUTES = """
- name: events
  match: { path: /ws }
  pubsub:
    subscribe: ["room:*"]
    presence: ["room:*"]
"""


def config(nodes: list[str], read_from_replicas: bool) -> str:
    seeds = ", ".join(f"redis://{n}" for n in nodes[:2])
    return make_config(
        upstreams='app: { replicas: ["${b0}"] }',
        routes=ROUTES,
        top=f"""
        store:
          cluster:
            nodes: [{seeds}]
            read_from_replicas: {"true" if read_from_replicas else "false"}
          key_prefix: "t${{uniq}}:"
          command_timeout: 2s
        """,
    )


def shard_of(nodes: list[str], slot: int) -> tuple[str, list[str]]:
    """(primary, replicas) serving `slot`, per CLUSTER SLOTS."""
    for entry in redis_command(port_of(nodes[0]), "CLUSTER", "SLOTS"):
        if entry[0] <= slot <= entry[1]:
            return f"{entry[2][0]}:{entry[2][1]}", [f"{r[0]}:{r[1]}" for r in entry[3:]]
    raise AssertionError(f"slot {slot} unassigned")


def calls(node: str, command: str) -> int:
    """cmdstat_<command> calls on that node."""
    info = redis_command(port_of(node), "INFO", "commandstats")
    for line in info.splitlines():
        if line.startswith(f"cmdstat_{command}:"):
            return int(line.split("calls=")[1].split(",")[0])
    return 0


def presence_count(gw, channel: str) -> int:
    resp = gw.admin("GET", f"/channels/{channel}/presence")
    assert resp.status == 200, resp.body
    return len(resp.json()["clients"])


def metric(gw, name: str) -> float:
    for line in gw.admin("GET", "/metrics").body.decode().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} missing")


def test_presence_reads_go_to_replicas_only_when_enabled(gateway, backends):
    nodes = cluster_nodes()
    replicas = backends(1)
    for enabled in (True, False):
        gw = gateway(config(nodes, enabled), backends=replicas)
        wait_for(lambda: readyz(gw)["http"] == 200, 30, what="gateway ready on the cluster")
        channel = f"room:r{int(enabled)}"
        key = f"t{gw.values['uniq']}:ch:{channel}"
        primary, shard_replicas = shard_of(nodes, key_slot(key))
        assert shard_replicas, "the test cluster has a replica per primary"
        with connect(f"ws://127.0.0.1:{gw.port}/ws", open_timeout=10) as ws:
            ws.send(json.dumps({"type": "subscribe", "channel": channel}))
            assert json.loads(ws.recv(timeout=10))["type"] == "subscribed"
            # The join replicated (and, when enabled, the replica connection up and used) before counting.
            wait_for(lambda: presence_count(gw, channel) == 1
                     and (not enabled or metric(gw, "gateway_store_replica_reads_total") > 0), 10,
                     what="the subscriber visible in presence")
            before = {n: calls(n, "zrangebyscore") for n in [primary, *shard_replicas]}
            for _ in range(20):
                assert presence_count(gw, channel) == 1
            on_primary = calls(primary, "zrangebyscore") - before[primary]
            on_replicas = sum(calls(n, "zrangebyscore") - before[n] for n in shard_replicas)
            if enabled:
                assert on_replicas >= 20 and on_primary == 0, (on_replicas, on_primary)
                assert metric(gw, "gateway_store_replica_reads_total") >= 20
                assert any(calls(n, "readonly") > 0 for n in shard_replicas)
            else:
                assert on_primary >= 20 and on_replicas == 0, (on_replicas, on_primary)
                assert metric(gw, "gateway_store_replica_reads_total") == 0
        gw.stop()
