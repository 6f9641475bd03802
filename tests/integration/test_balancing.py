"""SPEC §2 upstreams: weighted round robin, retries; SPEC §3: 502 and 504 problems."""

import collections
import time

from harness import assert_problem, make_config


def test_weighted_round_robin_is_exact(gateway, backends):
    replicas = backends(names=["one", "two"])
    gw = gateway(make_config(
        upstreams="""
        app:
          balance: round_robin
          replicas:
            - "${b0}"
            - { url: "${b1}", weight: 2 }
        """,
        routes="""
        - name: all
          match: { path_prefix: / }
          upstream: app
        """,
    ), backends=replicas)
    counts = collections.Counter()
    with gw.connect() as conn:
        for _ in range(300):
            resp = conn.request("GET", "/rr")
            assert resp.status == 200
            counts[resp.json()["replica"]] += 1
    assert counts == {"one": 100, "two": 200}


def test_round_robin_across_connections(gateway, backends):
    replicas = backends(names=["one", "two"])
    gw = gateway(make_config(
        upstreams='app: { balance: round_robin, replicas: ["${b0}", "${b1}"] }',
        routes="""
        - name: all
          match: { path_prefix: / }
          upstream: app
        """,
    ), backends=replicas)
    counts = collections.Counter(gw.get("/rr").json()["replica"] for _ in range(40))
    # new connections may land on different event loops; the split stays even, if not exact
    assert set(counts) == {"one", "two"} and abs(counts["one"] - counts["two"]) <= 4, counts


def test_closed_replica_port_is_502(gateway):
    gw = gateway(make_config(
        upstreams='dead: { replicas: ["${closed_url}"] }',
        routes="""
        - name: all
          match: { path_prefix: / }
          upstream: dead
        """,
    ))
    assert_problem(gw.get("/x"), 502)


def test_response_timeout_is_504(gateway, backends):
    gw = gateway(make_config(
        upstreams='app: { replicas: ["${b0}"] }',
        routes="""
        - name: all
          match: { path_prefix: / }
          upstream: app
          timeouts: { connect: 1s, response: 300ms }
        """,
    ), backends=backends(1))
    started = time.monotonic()
    assert_problem(gw.get("/slow?ms=3000"), 504)
    elapsed = time.monotonic() - started
    assert 0.25 <= elapsed < 2.0, elapsed
    assert gw.get("/slow?ms=10").status == 200, "the gateway keeps serving after a timeout"


def test_response_timeout_counts_from_each_request_on_a_keepalive_connection(gateway, backends):
    """One connection, several requests: each request gets the full `timeouts.response`, counted from its own
    start, never from an earlier request's (the gateway keeps one timer per connection and moves it along)."""
    gw = gateway(make_config(
        upstreams='app: { replicas: ["${b0}"] }',
        routes="""
        - name: all
          match: { path_prefix: / }
          upstream: app
          timeouts: { connect: 1s, response: 800ms }
        """,
    ), backends=backends(1))
    with gw.connect() as conn:
        assert conn.request("GET", "/slow?ms=10").status == 200
        time.sleep(0.5)
        # Within its own 800 ms although the first request's deadline passes meanwhile.
        assert conn.request("GET", "/slow?ms=600").status == 200
        for _ in range(3):  # back-to-back requests, each well inside the timeout
            assert conn.request("GET", "/slow?ms=300").status == 200
        started = time.monotonic()
        resp = conn.request("GET", "/slow?ms=3000")
        elapsed = time.monotonic() - started
    assert_problem(resp, 504)
    assert 0.75 <= elapsed < 1.6, elapsed


def test_idempotent_requests_retry_on_another_replica(gateway, backends):
    replicas = backends(names=["alive"])
    gw = gateway(make_config(
        upstreams="""
        app:
          balance: round_robin
          retries: 1
          replicas: ["${closed_url}", "${b0}"]
        """,
        routes="""
        - name: all
          match: { path_prefix: / }
          upstream: app
        """,
    ), backends=replicas)
    for _ in range(10):
        resp = gw.get("/retry")
        assert resp.status == 200 and resp.json()["replica"] == "alive"


def test_upstream_error_status_passes_through(gateway, backends):
    gw = gateway(make_config(
        upstreams='app: { replicas: ["${b0}"], passive: false }',
        routes="""
        - name: all
          match: { path_prefix: / }
          upstream: app
        """,
    ), backends=backends(1))
    resp = gw.get("/status/503")
    assert resp.status == 503
    assert resp.content_type == "application/json", "an upstream's own error is not rewritten"
