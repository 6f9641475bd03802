"""SPEC §2/§3 rate limits: RateLimit-Policy / RateLimit fields, 429 + Retry-After, keys, exactness across
instances sharing Redis, store failure policies."""

import re
import threading

import pytest

from harness import assert_problem, make_config


def _config(limits: str, store: str = 'store: { redis: "${redis_url}", key_prefix: "t${uniq}:" }', route_extra: str = ""):
    return make_config(
        upstreams='app: { replicas: ["${b0}"] }',
        routes=f"""
        - name: limited
          match: {{ path_prefix: /limited/ }}
          upstream: app
          rate_limits:
        {limits}
        {route_extra}
        - name: free
          match: {{ path_prefix: / }}
          upstream: app
        """,
        top=store,
    )


ONE_LIMIT = "    - { name: per-ip, key: client_ip, limit: 5, window: 1m }"


def _fields(resp):
    policy = resp.header("ratelimit-policy")
    current = resp.header("ratelimit")
    assert policy and current, resp.headers
    m = re.search(r'"([^"]+)";r=(\d+);t=(\d+)', current)
    assert m, current
    return policy, m.group(1), int(m.group(2)), int(m.group(3))


def test_policy_and_remaining_fields(gateway, backends):
    gw = gateway(_config(ONE_LIMIT), backends=backends(1))
    remaining = []
    for _ in range(5):
        resp = gw.get("/limited/x")
        assert resp.status == 200
        policy, name, r, t = _fields(resp)
        assert policy == '"per-ip";q=5;w=60'
        assert name == "per-ip" and 0 <= t <= 60
        remaining.append(r)
    assert remaining == [4, 3, 2, 1, 0]


def test_denied_is_429_with_retry_after(gateway, backends):
    gw = gateway(_config(ONE_LIMIT), backends=backends(1))
    for _ in range(5):
        assert gw.get("/limited/x").status == 200
    resp = gw.get("/limited/x")
    assert_problem(resp, 429)
    assert re.fullmatch(r"\d+", resp.header("retry-after") or ""), resp.headers
    assert 0 < int(resp.header("retry-after")) <= 60
    _, _, r, _ = _fields(resp)
    assert r == 0


def test_unlimited_route_has_no_fields(gateway, backends):
    gw = gateway(_config(ONE_LIMIT), backends=backends(1))
    resp = gw.get("/other")
    assert resp.header("ratelimit") is None and resp.header("ratelimit-policy") is None


def test_most_restrictive_limit_reported(gateway, backends):
    limits = ("    - { name: wide, key: client_ip, limit: 100, window: 1m }\n"
              "            - { name: narrow, key: client_ip, limit: 3, window: 1m }")
    gw = gateway(_config(limits), backends=backends(1))
    resp = gw.get("/limited/x")
    policy, name, r, _ = _fields(resp)
    assert name == "narrow" and r == 2
    assert '"narrow";q=3;w=60' in policy


def test_header_key_separates_budgets_and_falls_back_to_ip(gateway, backends):
    limits = "    - { name: per-key, key: \"header:X-Api-Key\", limit: 2, window: 1m }"
    gw = gateway(_config(limits), backends=backends(1))
    for key in ("a", "b"):
        assert [gw.get("/limited/x", {"X-Api-Key": key}).status for _ in range(3)] == [200, 200, 429]
    # no header → the client's IP is the key
    assert [gw.get("/limited/x").status for _ in range(3)] == [200, 200, 429]


def test_route_key_is_one_budget_for_everyone(gateway, backends):
    limits = "    - { name: global, key: route, limit: 3, window: 1m }"
    gw = gateway(_config(limits), backends=backends(1))
    statuses = [gw.get("/limited/x", {"X-Forwarded-For": f"10.0.0.{i}"}).status for i in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_trusted_proxy_xff_defines_client_ip(gateway, backends):
    config = _config("    - { name: per-ip, key: client_ip, limit: 1, window: 1m }").replace(
        "access_log: stdout", "access_log: stdout\n  trusted_proxies: [127.0.0.1/32]")
    gw = gateway(config, backends=backends(1))
    assert gw.get("/limited/x", {"X-Forwarded-For": "198.51.100.1"}).status == 200
    assert gw.get("/limited/x", {"X-Forwarded-For": "198.51.100.2"}).status == 200
    assert gw.get("/limited/x", {"X-Forwarded-For": "198.51.100.1"}).status == 429


@pytest.mark.timeout(120)
def test_exact_across_instances_under_concurrency(gateway, backends):
    limits = "    - { name: shared, key: route, limit: 50, window: 1m }"
    replicas = backends(1)
    gws = [gateway(_config(limits), backends=replicas), gateway(_config(limits), backends=replicas)]
    results = []
    lock = threading.Lock()

    def worker(i):
        gw = gws[i % 2]
        mine = []
        for _ in range(25):
            try:
                mine.append(gw.get("/limited/x", timeout=20).status)
            except OSError as error:
                mine.append(repr(error))
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(100)
    assert len(results) == 200
    assert results.count(200) == 50, {s: results.count(s) for s in set(results)}
    assert results.count(429) == 150


def test_store_down_allow(gateway, backends, closed_port):
    store = f'store: {{ redis: "redis://127.0.0.1:{closed_port}/0", command_timeout: 100ms, on_error: allow }}'
    gw = gateway(_config(ONE_LIMIT, store=store), backends=backends(1))
    assert [gw.get("/limited/x").status for _ in range(7)] == [200] * 7


def test_store_down_deny(gateway, backends, closed_port):
    store = f'store: {{ redis: "redis://127.0.0.1:{closed_port}/0", command_timeout: 100ms, on_error: deny }}'
    gw = gateway(_config(ONE_LIMIT, store=store), backends=backends(1))
    resp = gw.get("/limited/x")
    assert_problem(resp, 503)
    assert resp.header("retry-after") is not None
    assert gw.get("/other").status == 200, "routes without limits are unaffected"


def test_store_down_local(gateway, backends, closed_port):
    store = f'store: {{ redis: "redis://127.0.0.1:{closed_port}/0", command_timeout: 100ms, on_error: local }}'
    gw = gateway(_config(ONE_LIMIT, store=store), backends=backends(1))
    assert [gw.get("/limited/x").status for _ in range(7)] == [200] * 5 + [429] * 2


def test_in_memory_store(gateway, backends):
    gw = gateway(_config(ONE_LIMIT, store=""), backends=backends(1))
    assert [gw.get("/limited/x").status for _ in range(6)] == [200] * 5 + [429]
