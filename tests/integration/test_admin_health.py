"""SPEC §2 health (active checks, passive ejection), §3 503 with no healthy replica, §6 admin API and metrics."""

import collections
import re
import time

import pytest

from harness import assert_problem, make_config, wait_for


def _config(upstream_extra: str = "", replicas: str = '["${b0}", "${b1}"]'):
    """`upstream_extra`: keys of the `app` upstream, indented by two spaces."""
    return make_config(
        upstreams=f"app:\n  balance: round_robin\n  replicas: {replicas}\n" + upstream_extra.strip("\n") + "\n",
        routes="""
        - name: all
          match: { path_prefix: / }
          upstream: app
        """,
    )


ACTIVE = """
  health:
    path: /health
    interval: 200ms
    timeout: 200ms
    unhealthy_after: 2
    healthy_after: 2
"""


def _states(gw):
    doc = gw.admin("GET", "/upstreams").json()
    return {r["url"]: r["state"] for r in doc["upstreams"]["app"]["replicas"]}


def test_upstreams_document_shape(gateway, backends):
    replicas = backends(2)
    gw = gateway(_config(ACTIVE), backends=replicas)
    resp = gw.admin("GET", "/upstreams")
    assert resp.status == 200 and resp.content_type == "application/json"
    app = resp.json()["upstreams"]["app"]
    assert app["balance"] == "round_robin"
    assert [r["url"] for r in app["replicas"]] == [b.url for b in replicas]
    for r in app["replicas"]:
        assert r["weight"] == 1
        assert r["state"] in ("healthy", "unhealthy", "ejected", "draining")
        assert isinstance(r["in_flight"], int) and isinstance(r["consecutive_failures"], int)
        assert "ejected_until" in r and "last_check" in r
    wait_for(lambda: all(r["last_check"] for r in gw.admin("GET", "/upstreams").json()["upstreams"]["app"]["replicas"]),
             5, what="a first active check")
    check = gw.admin("GET", "/upstreams").json()["upstreams"]["app"]["replicas"][0]["last_check"]
    assert check["ok"] is True and check["status"] == 200
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", check["at"])


def test_active_checks_take_replica_out_and_back(gateway, backends):
    sick, well = backends(names=["sick", "well"])
    gw = gateway(_config(ACTIVE), backends=[sick, well])
    sick.set_health(503)
    wait_for(lambda: _states(gw)[sick.url] == "unhealthy", 5, what="sick replica marked unhealthy")
    assert {gw.get("/x").json()["replica"] for _ in range(10)} == {"well"}
    sick.set_health(200)
    wait_for(lambda: _states(gw)[sick.url] == "healthy", 5, what="replica healthy again")
    assert {gw.get("/x").json()["replica"] for _ in range(10)} == {"sick", "well"}


def test_no_healthy_replica_is_503_with_retry_after(gateway, backends):
    (only,) = backends(1)
    gw = gateway(_config(ACTIVE, replicas='["${b0}"]'), backends=[only])
    only.set_health(503)
    wait_for(lambda: _states(gw)[only.url] == "unhealthy", 5, what="replica unhealthy")
    resp = gw.get("/x")
    assert_problem(resp, 503)
    assert resp.header("retry-after") is not None


def test_passive_ejection(gateway, backends):
    (well,) = backends(names=["well"])
    config = _config("""
  retries: 0
  passive: { failures: 3, eject_for: 30s }
""", replicas='["${closed_url}", "${b0}"]')
    gw = gateway(config, backends=[well])
    statuses = collections.Counter(gw.get("/x").status for _ in range(12))
    assert statuses[502] == 3, statuses
    assert {gw.get("/x").json()["replica"] for _ in range(6)} == {"well"}
    states = _states(gw)
    assert states[gw.values["closed_url"]] == "ejected"
    doc = gw.admin("GET", "/upstreams").json()["upstreams"]["app"]["replicas"][0]
    assert doc["ejected_until"] is not None


def test_metrics(gateway, backends):
    gw = gateway(_config(replicas='["${b0}"]'), backends=backends(1))
    for _ in range(3):
        gw.get("/m")
    resp = gw.admin("GET", "/metrics")
    assert resp.status == 200
    assert resp.content_type == "text/plain"
    text = resp.body.decode()
    line = [l for l in text.splitlines() if l.startswith("gateway_http_requests_total{") and 'route="all"' in l
            and 'code="200"' in l]
    assert line and float(line[0].rsplit(" ", 1)[1]) >= 3, text[:2000]
    for name in ("gateway_http_request_duration_seconds", "gateway_upstream_requests_total",
                 "gateway_http_in_flight", "gateway_connections_open"):
        assert name in text, name


def test_admin_unknown_path_is_404(gateway, backends):
    gw = gateway(_config(replicas='["${b0}"]'), backends=backends(1))
    assert gw.admin("GET", "/nope").status == 404
