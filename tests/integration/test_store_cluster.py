"""SPEC §8 on a real 3-primary/3-replica Redis Cluster (GATEWAY_TEST_CLUSTER_NODES from scripts/test.sh): two
gateway instances share exact budgets (multi-limit routes whose keys live in different slots), sessions and
sharded pub/sub fan-out; /readyz and /metrics report the topology."""

from __future__ import annotations

import json
import subprocess
import threading

import pytest
from websockets.sync.client import connect

from harness import assert_problem, echo_headers, make_config, redis_command, wait_for
from topology import cluster_command, cluster_nodes, key_slot, port_of, readyz, slot_owner

ROUTES = """
- name: login
  match: { path: /login, methods: [POST] }
  upstream: app
  session: issue
- name: private
  match: { path_prefix: /private/ }
  upstream: app
  session: required
- name: limited
  match: { path_prefix: /limited/ }
  upstream: app
  rate_limits:
    - { name: per-a, key: "header:X-A", limit: 7, window: 24h }
    - { name: per-b, key: "header:X-B", limit: 40, window: 24h }
- name: events
  match: { path: /ws }
  pubsub:
    subscribe: ["chat:*"]
    publish: ["chat:*"]
- name: public
  match: { path_prefix: / }
  upstream: app
"""


# Windows of a day: GCRA refills continuously (40/min would return a request every 1.5 s), and the exact counts
# below must not depend on how fast a loaded machine runs the test.
def cluster_config(nodes: list[str], on_error: str = "deny", timeout: str = "2s") -> str:
    seeds = ", ".join(f"redis://{n}" for n in nodes[:2])
    return make_config(
        upstreams='app: { replicas: ["${b0}"] }',
        routes=ROUTES,
        top=f"""
        store:
          cluster:
            nodes: [{seeds}]
          key_prefix: "t${{uniq}}:"
          command_timeout: {timeout}
          on_error: {on_error}
        sessions:
          cookie: gw_session
          secret_env: GATEWAY_SESSION_SECRET
          secure: false
        """,
    )


def wait_cluster_ready(gw, timeout: float = 30.0):
    wait_for(lambda: readyz(gw)["http"] == 200, timeout, what="gateway /readyz ready on the cluster")


@pytest.fixture
def pair(gateway, backends):
    nodes = cluster_nodes()
    replicas = backends(1)
    one = gateway(cluster_config(nodes), backends=replicas)
    two = gateway(cluster_config(nodes), backends=replicas)
    wait_cluster_ready(one)
    wait_cluster_ready(two)
    return one, two


def _value_in_other_slot(prefix: str, first: str) -> str:
    """A header value whose per-b key hashes to a different slot than per-a's key with value `first`."""
    a_slot = key_slot(f"{prefix}rl:limited:per-a:h={first}")
    for i in range(100):
        value = f"b{i}"
        if key_slot(f"{prefix}rl:limited:per-b:h={value}") != a_slot:
            return value
    raise AssertionError("no value in another slot")


def test_readyz_and_metrics_report_the_cluster(pair):
    one, _ = pair
    ready = readyz(one)
    assert ready["status"] == "ready" and ready["store"] == "cluster", ready
    assert ready["nodes"] == 6 and ready["primaries"] == 3 and ready["primaries_up"] == 3, ready
    metrics = one.admin("GET", "/metrics").body.decode()
    assert 'gateway_store_redirects_total{kind="moved"}' in metrics
    assert "gateway_store_failovers_total" in metrics


def test_multi_limit_budget_exact_across_instances_and_slots(pair):
    one, two = pair
    prefix = f"t{one.values['uniq']}:"
    b = _value_in_other_slot(prefix, "a1")
    # Concurrent: 30 requests over both instances, same X-A (limit 7) and X-B (limit 40): exactly 7 admitted.
    statuses = []
    lock = threading.Lock()

    def hit(gw, n):
        for _ in range(n):
            status = gw.get("/limited/x", {"X-A": "a1", "X-B": b}).status
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=hit, args=(gw, 5)) for gw in (one, two, one, two, one, two)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(statuses) == 30
    assert statuses.count(200) == 7, statuses
    assert statuses.count(429) == 23, statuses
    # The 23 refused requests were charged on per-b's slot and refunded: per-b used exactly 7 of 40.
    # Sequentially, each with a fresh X-A: exactly 33 more fit per-b's budget, alternating instances.
    results = [(one if i % 2 else two).get("/limited/x", {"X-A": f"fresh{i}", "X-B": b}).status for i in range(40)]
    assert results.count(200) == 33, results
    assert results[:33] == [200] * 33, results
    denied = two.get("/limited/x", {"X-A": "fresh-last", "X-B": b})
    assert_problem(denied, 429)
    assert '"per-b"' in (denied.header("ratelimit") or ""), denied.headers


def test_concurrent_contention_never_exceeds_either_budget(pair):
    """Both limits contend (X-B budget 40 shared by many X-A values of budget 7): admitted ≤ 40 always."""
    one, two = pair
    prefix = f"t{one.values['uniq']}:"
    b = _value_in_other_slot(prefix, "c0")
    statuses = []
    lock = threading.Lock()

    def hit(gw, worker):
        for i in range(20):
            status = gw.get("/limited/x", {"X-A": f"c{worker % 8}", "X-B": b}).status
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=hit, args=((one, two)[w % 2], w)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(statuses) == 160 and set(statuses) <= {200, 429}, statuses
    admitted = statuses.count(200)
    assert admitted <= 40, admitted
    # Conservative at worst, never generous; and after the dust settles the remaining budget is exact.
    remaining = sum(1 for i in range(60) if one.get("/limited/x", {"X-A": f"after{i}", "X-B": b}).status == 200)
    assert admitted + remaining == 40, (admitted, remaining)


def test_sessions_created_on_one_instance_work_on_the_other(pair):
    one, two = pair
    resp = one.request("POST", "/login", {"Content-Type": "application/json"}, json.dumps({"user": "alice"}).encode())
    assert resp.status == 200, resp.body
    cookie = resp.header("set-cookie").split(";")[0]
    assert echo_headers(two.get("/private/me", {"Cookie": cookie}))["x-gateway-user"] == ["alice"]
    assert echo_headers(one.get("/private/me", {"Cookie": cookie}))["x-gateway-user"] == ["alice"]
    # A second session for alice, then DELETE /sessions?user=alice on the other instance ends both.
    resp2 = two.request("POST", "/login", {"Content-Type": "application/json"}, json.dumps({"user": "alice"}).encode())
    cookie2 = resp2.header("set-cookie").split(";")[0]
    assert one.get("/private/me", {"Cookie": cookie2}).status == 200
    deleted = two.admin("DELETE", "/sessions?user=alice")
    assert 200 <= deleted.status < 300, deleted.body
    assert_problem(one.get("/private/me", {"Cookie": cookie}), 401)
    assert_problem(two.get("/private/me", {"Cookie": cookie2}), 401)


def _ws(gw):
    return connect(f"ws://127.0.0.1:{gw.port}/ws", open_timeout=10)


def _subscribe(ws, channel):
    ws.send(json.dumps({"type": "subscribe", "channel": channel}))
    assert json.loads(ws.recv(timeout=10)) == {"type": "subscribed", "channel": channel}


def test_sharded_pubsub_fans_out_across_instances_in_order(pair):
    one, two = pair
    nodes = cluster_nodes()
    prefix = f"t{one.values['uniq']}:"
    channels = [f"chat:room{i}" for i in range(6)]
    assert len({slot_owner(nodes, key_slot(f"{prefix}ch:{c}")) for c in channels}) >= 2
    subscribers = {c: [_ws(one), _ws(two)] for c in channels}
    for c, sockets in subscribers.items():
        for ws in sockets:
            _subscribe(ws, c)
    # Each instance holds a sharded subscription on the channel's shard.
    for c in channels:
        key = f"{prefix}ch:{c}"
        wait_for(lambda: cluster_command(nodes, key, "PUBSUB", "SHARDNUMSUB", key)[1] >= 2, 10,
                 what=f"2 sharded subscribers on {key}")
    n = 50
    with _ws(one) as pub:
        for i in range(n):
            for c in channels:
                pub.send(json.dumps({"type": "publish", "channel": c, "data": {"n": i}}))
    # A backend's raw SPUBLISH works like PUBLISH does on a single node.
    for c in channels:
        key = f"{prefix}ch:{c}"
        owner = slot_owner(nodes, key_slot(key))
        commands = "".join(f"SPUBLISH {key} '{json.dumps({'data': {'n': n + i}})}'\n" for i in range(n))
        subprocess.run(["redis-cli", "-p", str(port_of(owner))], input=commands.encode(), check=True,
                       capture_output=True, timeout=30)
    for c, sockets in subscribers.items():
        for ws in sockets:
            got = []
            while len(got) < 2 * n:
                frame = json.loads(ws.recv(timeout=15))
                if frame.get("type") == "message":
                    assert frame["channel"] == c
                    got.append(frame["data"]["n"])
            # Order is kept per publisher (the WebSocket client, then redis-cli); the two may interleave.
            assert [x for x in got if x < n] == list(range(n)), (c, got)
            assert [x for x in got if x >= n] == list(range(n, 2 * n)), (c, got)
            ws.close()


def test_config_rejects_two_topologies(tmp_path):
    from harness import run_gateway
    path = tmp_path / "gw.yaml"
    path.write_text(
        "server:\n"
        "  listen: 127.0.0.1:1\n"
        "store:\n"
        "  redis: redis://127.0.0.1:6379\n"
        "  cluster:\n"
        "    nodes: [127.0.0.1:7000]\n"
        "upstreams: { app: { replicas: [\"http://127.0.0.1:1\"] } }\n"
        "routes: [ { name: r, match: { path_prefix: / }, upstream: app } ]\n")
    out = run_gateway("check", "--config", str(path))
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert f"{path}:5:3" in text and "exactly one of redis | cluster | sentinel" in text, text
