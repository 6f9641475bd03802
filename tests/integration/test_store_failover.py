"""SPEC §8 under failure, on private topologies (started with scripts/redis-topology.sh so nodes can be killed):
two gateway instances under steady load while the Redis Cluster migrates the hot slot, fails over by hand
(CLUSTER FAILOVER) and loses the hot primary (SIGKILL); and while a Sentinel group fails over by hand
(SENTINEL FAILOVER) and loses its primary (SIGKILL). Every request must be answered, the store-backed
answers must resume without restarting anything, `on_error: deny` must never exceed the budget, and sessions
made before the failover must survive. The measured gaps are printed (run with -s to see them)."""

from __future__ import annotations

import json
import os
import signal
import textwrap
import time

import pytest

from websockets.sync.client import connect

from harness import make_config, redis_command, wait_for
from topology import Load, PrivateTopology, cluster_nodes, key_slot, port_of, readyz, role, sentinel_env, slot_owner

# A budget the load never exhausts, so every admission is a charge: after the test the hot key's TAT says how
# many charges Redis kept, and `admitted - kept` is the number of charges a failover lost (replication is
# asynchronous), i.e. the possible over-admission. 100000/day: one charge = 0.864 s of TAT.
BUDGET = 100000
INTERVAL_S = 86400 / BUDGET
ROUTES = f"""
- name: login
  match: {{ path: /login, methods: [POST] }}
  upstream: app
  session: issue
- name: private
  match: {{ path_prefix: /private/ }}
  upstream: app
  session: required
- name: events
  match: {{ path: /ws }}
  pubsub:
    subscribe: ["chat:*"]
    publish: ["chat:*"]
- name: limited
  match: {{ path_prefix: /limited/ }}
  upstream: app
  rate_limits:
    - {{ name: hot, key: "header:X-A", limit: {BUDGET}, window: 24h }}
    - {{ name: other, key: "header:X-B", limit: 100000, window: 24h }}
"""


def _config(store: str) -> str:
    sessions = "sessions:\n  cookie: gw_session\n  secret_env: GATEWAY_SESSION_SECRET\n  secure: false\n"
    return make_config(upstreams='app: { replicas: ["${b0}"] }', routes=ROUTES,
                       top=textwrap.dedent(store).strip("\n") + "\n" + sessions)


def _login(gw, user):
    resp = gw.request("POST", "/login", {"Content-Type": "application/json"}, json.dumps({"user": user}).encode())
    assert resp.status == 200, resp.body
    return resp.header("set-cookie").split(";")[0]


def _session_alive(gws, cookie, timeout=20.0):
    """The session works on every instance again within `timeout` (503 while the store is failing over)."""
    for gw in gws:
        wait_for(lambda: gw.get("/private/me", {"Cookie": cookie}).status == 200, timeout,
                 what="the session to be usable after the failover")
    return all(gw.get("/private/me", {"Cookie": cookie}).status != 401 for gw in gws)


def _phase(load: Load, event, settle: float = 4.0):
    """Runs `event()` (returns the time the new owner took over, or None) under load; returns measurements."""
    time.sleep(1.5)
    t_event = time.monotonic()
    promoted = event()
    resumed = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        after = [t1 for t0, t1, s in list(load.results) if s in (200, 429) and t0 >= (promoted or t_event)]
        if after:
            resumed = min(after)
            break
        time.sleep(0.05)
    time.sleep(settle)
    gap_start = max((t1 for t0, t1, s in list(load.results) if s in (200, 429) and t1 <= t_event + 0.001),
                    default=t_event)
    return {
        "event_to_promotion_s": None if promoted is None else round(promoted - t_event, 2),
        "promotion_to_resume_s": None if resumed is None else round(resumed - (promoted or t_event), 2),
        "admission_gap_s": None if resumed is None else round(resumed - gap_start, 2),
    }


def _lost_charges(load: Load, port: int, key: str) -> float:
    """admitted − charges Redis still holds for `key` (TAT = Σ charges − elapsed since the first one)."""
    t_read = time.monotonic()
    tat = int(redis_command(port, "GET", key) or 0)
    now_s, now_us = redis_command(port, "TIME")
    occupancy = max(tat - (int(now_s) * 1_000_000 + int(now_us)), 0) / 1e6
    admitted = [t0 for t0, _, s in load.results if s == 200]
    if not admitted:
        return 0.0
    kept = (occupancy + (t_read - min(admitted))) / INTERVAL_S
    return round(len(admitted) - kept, 1)


def _ws_subscribe(gw, channel):
    ws = connect(f"ws://127.0.0.1:{gw.port}/ws", open_timeout=10)
    ws.send(json.dumps({"type": "subscribe", "channel": channel}))
    assert json.loads(ws.recv(timeout=10)) == {"type": "subscribed", "channel": channel}
    return ws


def _fanout_works(publisher, sockets, channel, tag, timeout=30.0):
    """Publishes on `publisher` until every socket got a message tagged `tag` (publishes may fail with 503
    while the shard fails over), then checks that each socket's messages arrive in publish order."""
    deadline = time.monotonic() + timeout
    n = 0
    seen = {id(ws): [] for ws in sockets}
    while time.monotonic() < deadline:
        resp = publisher.admin("POST", f"/publish/{channel}", {"Content-Type": "application/json"},
                               json.dumps({"tag": tag, "n": n}).encode())
        if resp.status in (200, 202):
            n += 1
        for ws in sockets:
            try:
                while True:
                    frame = json.loads(ws.recv(timeout=0.2))
                    if frame.get("type") == "message" and frame["data"].get("tag") == tag:
                        seen[id(ws)].append(frame["data"]["n"])
            except TimeoutError:
                pass
        if n >= 5 and all(len(v) >= 3 for v in seen.values()):
            return all(v == sorted(v) for v in seen.values())
    return False


def _wait_role(node: str, wanted: str, timeout: float = 30.0) -> float:
    wait_for(lambda: role(node) == wanted, timeout, interval=0.02, what=f"{node} to become {wanted}")
    return time.monotonic()


@pytest.fixture
def private_cluster(tmp_path):
    cluster_nodes()  # skip when scripts/test.sh did not provide topologies
    topo = PrivateTopology("cluster", tmp_path / "cluster")
    yield topo
    topo.stop()


@pytest.fixture
def private_sentinel(tmp_path):
    sentinel_env()
    topo = PrivateTopology("sentinel", tmp_path / "sentinel")
    yield topo
    topo.stop()


def _cluster_view(nodes, slot):
    """(primary, its replicas) of `slot` per CLUSTER SLOTS."""
    for node in nodes:
        try:
            for entry in redis_command(port_of(node), "CLUSTER", "SLOTS"):
                if entry[0] <= slot <= entry[1]:
                    return f"{entry[2][0]}:{entry[2][1]}", [f"{r[0]}:{r[1]}" for r in entry[3:]]
        except Exception:  # noqa: BLE001
            continue
    raise RuntimeError("no cluster view")


def _migrate_slot(nodes, slot, source, target):
    """Live migration of one slot with its keys (what redis-cli --cluster reshard does per slot)."""
    src, dst = port_of(source), port_of(target)
    source_id = redis_command(src, "CLUSTER", "MYID")
    target_id = redis_command(dst, "CLUSTER", "MYID")
    redis_command(dst, "CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
    redis_command(src, "CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)
    while True:
        keys = redis_command(src, "CLUSTER", "GETKEYSINSLOT", slot, 100)
        if not keys:
            break
        redis_command(src, "MIGRATE", "127.0.0.1", dst, "", 0, 5000, "REPLACE", "KEYS", *keys, timeout=10)
    primaries = {n for n in nodes if role(n) == "master"}
    for node in [target, source] + sorted(primaries - {source, target}):
        redis_command(port_of(node), "CLUSTER", "SETSLOT", slot, "NODE", target_id)


def test_cluster_survives_migration_manual_failover_and_sigkill(private_cluster, gateway, backends):
    nodes = private_cluster.env["GATEWAY_TEST_CLUSTER_NODES"].split(",")
    seeds = ", ".join(f"redis://{n}" for n in nodes[:3])
    store = f"""
    store:
      cluster:
        nodes: [{seeds}]
      key_prefix: "f${{uniq}}:"
      command_timeout: 500ms
      on_error: deny
    """
    replicas = backends(1)
    one = gateway(_config(store), backends=replicas)
    two = gateway(_config(store), backends=replicas)
    for gw in (one, two):
        wait_for(lambda: readyz(gw)["http"] == 200, 30, what="cluster readiness")
    prefix = f"f{one.values['uniq']}:"
    hot_key = f"{prefix}rl:limited:hot:h=hot"
    slot = key_slot(hot_key)
    cookie = _login(one, "alice")
    # The hot slot moves to `target`, whose shard then fails over twice: a pub/sub channel of that shard, with
    # a subscriber on each instance, must follow.
    hot_owner = slot_owner(nodes, slot)
    target = next(n for n in nodes if role(n) == "master" and n != hot_owner)
    channel = next(f"chat:c{i}" for i in range(1000)
                   if slot_owner(nodes, key_slot(f"{prefix}ch:chat:c{i}")) == target)
    sockets = [_ws_subscribe(one, channel), _ws_subscribe(two, channel)]
    assert _fanout_works(one, sockets, channel, "before")
    time.sleep(1.1)  # sessions older than one second must survive

    load = Load([one, two], "/limited/x", {"X-A": "hot", "X-B": "load"}, threads=4, rate=40).start()
    report = {}
    try:
        # 1. Live migration of the hot slot to another primary.
        report["migration"] = _phase(load, lambda: (_migrate_slot(nodes, slot, hot_owner, target), time.monotonic())[1])

        # 2. Manual failover of the hot slot's primary (CLUSTER FAILOVER on its replica).
        primary, replicas_of = _cluster_view(nodes, slot)
        replica = replicas_of[0]
        report["cluster_failover"] = _phase(
            load, lambda: (redis_command(port_of(replica), "CLUSTER", "FAILOVER"), _wait_role(replica, "master"))[1])

        # 3. SIGKILL of the hot slot's primary; its replica takes over after cluster-node-timeout.
        primary, replicas_of = _cluster_view(nodes, slot)
        report["sigkill"] = _phase(
            load, lambda: (os.kill(private_cluster.pid(primary), signal.SIGKILL),
                           _wait_role(replicas_of[0], "master", timeout=60))[1], settle=5.0)
    finally:
        load.stop()

    statuses = [s for _, _, s in load.results]
    report["requests"] = len(statuses)
    report["admitted"] = statuses.count(200)
    report["unanswered"] = statuses.count(0)
    owner, _ = _cluster_view([n for n in nodes if role(n)], slot)
    report["lost_charges"] = _lost_charges(load, port_of(owner), hot_key)
    report["status_counts"] = {s: statuses.count(s) for s in sorted(set(statuses))}
    print("\nCLUSTER FAILOVER REPORT", json.dumps(report))
    assert statuses.count(0) == 0, report  # every request answered
    assert set(statuses) <= {200, 429, 503}, report
    # on_error: deny admits nothing without the store; what a failover can cost is the charges it lost
    # (asynchronous replication): measured and reported, bounded here only loosely (0 on an idle machine; a
    # starved replica on a loaded one may lag by a few writes).
    assert report["lost_charges"] <= 20, report
    for phase in ("migration", "cluster_failover", "sigkill"):
        assert report[phase]["admission_gap_s"] is not None, report  # store-backed answers resumed
    # Recovery without restart: both instances answer from the store again, the session survived.
    for gw in (one, two):
        wait_for(lambda: gw.get("/limited/x", {"X-A": "probe", "X-B": "p"}).status == 200, 20, what="recovery")
    assert _session_alive((one, two), cookie)
    # Sharded pub/sub followed the channel's slot to its new primary on both instances.
    assert _fanout_works(two, sockets, channel, "after"), "pub/sub did not recover after the failovers"
    for ws in sockets:
        ws.close()
    metrics = "".join(gw.admin("GET", "/metrics").body.decode() for gw in (one, two))
    assert "gateway_store_failovers_total" in metrics


def test_sentinel_survives_manual_failover_and_sigkill(private_sentinel, gateway, backends):
    env = private_sentinel.env
    sentinels = env["GATEWAY_TEST_SENTINEL_NODES"].split(",")
    data = env["GATEWAY_TEST_SENTINEL_DATA"].split(",")
    store = f"""
    store:
      sentinel:
        master: {env["GATEWAY_TEST_SENTINEL_MASTER"]}
        nodes: [{", ".join(sentinels)}]
      key_prefix: "s${{uniq}}:"
      command_timeout: 500ms
      on_error: deny
    """
    replicas = backends(1)
    one = gateway(_config(store), backends=replicas)
    two = gateway(_config(store), backends=replicas)
    for gw in (one, two):
        wait_for(lambda: readyz(gw)["http"] == 200, 30, what="sentinel readiness")
    ready = readyz(one)
    assert ready["store"] == "sentinel" and ready["master"] == data[0], ready
    cookie = _login(one, "alice")
    time.sleep(1.1)

    def current_primary():
        return next(n for n in data if role(n) == "master")

    def new_primary_after(old):
        wait_for(lambda: any(role(n) == "master" for n in data if n != old), 60, interval=0.02,
                 what="a replica to be promoted")
        return time.monotonic()

    load = Load([one, two], "/limited/x", {"X-A": "hot", "X-B": "load"}, threads=4, rate=40).start()
    report = {}
    try:
        old = current_primary()
        report["sentinel_failover"] = _phase(load, lambda: (
            redis_command(port_of(sentinels[0]), "SENTINEL", "FAILOVER", env["GATEWAY_TEST_SENTINEL_MASTER"]),
            new_primary_after(old))[1])
        # Let the old primary rejoin as a replica before killing the new one (else no replica can take over).
        wait_for(lambda: sum(role(n) == "slave" for n in data) == 2, 60, what="both replicas attached")
        old = current_primary()
        report["sigkill"] = _phase(load, lambda: (os.kill(private_sentinel.pid(old), signal.SIGKILL),
                                                  new_primary_after(old))[1], settle=5.0)
    finally:
        load.stop()

    statuses = [s for _, _, s in load.results]
    report["requests"] = len(statuses)
    report["admitted"] = statuses.count(200)
    report["status_counts"] = {s: statuses.count(s) for s in sorted(set(statuses))}
    report["lost_charges"] = _lost_charges(load, port_of(current_primary()),
                                           f"s{one.values['uniq']}:rl:limited:hot:h=hot")
    print("\nSENTINEL FAILOVER REPORT", json.dumps(report))
    assert statuses.count(0) == 0, report
    assert set(statuses) <= {200, 429, 503}, report
    assert report["lost_charges"] <= 20, report
    for phase in ("sentinel_failover", "sigkill"):
        assert report[phase]["admission_gap_s"] is not None, report
    for gw in (one, two):
        wait_for(lambda: gw.get("/limited/x", {"X-A": "probe", "X-B": "p"}).status == 200, 20, what="recovery")
    assert _session_alive((one, two), cookie)
    new = current_primary()
    wait_for(lambda: readyz(one)["master"] == new, 10, what="/readyz to name the new primary")
    metrics = one.admin("GET", "/metrics").body.decode()
    assert any(line.startswith("gateway_store_failovers_total") and not line.endswith(" 0")
               for line in metrics.splitlines()), metrics[-2000:]
