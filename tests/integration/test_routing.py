"""SPEC §2 route matching and §3 error documents: exact beats prefix, longest prefix, host, methods,
404/405 as application/problem+json, strip_prefix."""

import pytest

from harness import assert_problem, make_config

CONFIG = make_config(
    upstreams="""
    u0: { replicas: ["${b0}"] }
    u1: { replicas: ["${b1}"] }
    u2: { replicas: ["${b2}"] }
    u3: { replicas: ["${b3}"] }
    """,
    routes="""
    - name: api
      match: { path_prefix: /api/ }
      upstream: u1
    - name: api-v1
      match: { path_prefix: /api/v1/ }
      upstream: u2
    - name: special
      match: { path: /api/v1/special }
      upstream: u0
    - name: hosted
      match: { host: example.test, path_prefix: /site/ }
      upstream: u3
    - name: post-only
      match: { path: /only-post, methods: [POST] }
      upstream: u0
    - name: strip
      match: { path_prefix: /strip/ }
      upstream: u0
      strip_prefix: true
    - name: strip-string
      match: { path_prefix: /svc/v2/ }
      upstream: u0
      strip_prefix: /svc
    - name: no-strip
      match: { path_prefix: /keep/ }
      upstream: u0
    """,
)


@pytest.fixture
def gw(gateway, backends):
    replicas = backends(names=["b0", "b1", "b2", "b3"])
    return gateway(CONFIG, backends=replicas)


def _replica(resp):
    assert resp.status == 200, (resp.status, resp.body[:300])
    return resp.json()["replica"]


def test_exact_path_beats_any_prefix(gw):
    assert _replica(gw.get("/api/v1/special")) == "b0"


def test_exact_path_does_not_match_longer_paths(gw):
    assert _replica(gw.get("/api/v1/special/more")) == "b2"


def test_longest_prefix_wins_over_file_order(gw):
    assert _replica(gw.get("/api/v1/users")) == "b2"
    assert _replica(gw.get("/api/other")) == "b1"


def test_query_does_not_affect_matching(gw):
    assert _replica(gw.get("/api/v1/special?x=1")) == "b0"


def test_host_match(gw):
    assert _replica(gw.get("/site/page", host="example.test")) == "b3"


def test_host_match_ignores_port(gw):
    assert _replica(gw.get("/site/page", host="example.test:8080")) == "b3"


def test_host_mismatch_is_404(gw):
    assert_problem(gw.get("/site/page", host="other.test"), 404)


def test_method_not_allowed_is_405_problem(gw):
    assert_problem(gw.get("/only-post"), 405)
    assert _replica(gw.request("POST", "/only-post", body=b"x")) == "b0"


def test_405_lists_allowed_methods(gw):
    resp = gw.get("/only-post")
    assert resp.status == 405
    assert "POST" in (resp.header("allow") or ""), resp.headers


def test_no_route_is_404_problem_with_request_id(gw):
    resp = gw.get("/nothing/here")
    doc = assert_problem(resp, 404)
    assert resp.header("x-request-id") == doc["request_id"]


def test_strip_prefix_true(gw):
    doc = gw.get("/strip/users?a=1").json()
    assert doc["path"] == "/users"
    assert doc["uri"] == "/users?a=1"


def test_strip_prefix_true_to_root(gw):
    assert gw.get("/strip/").json()["path"] == "/"


def test_strip_prefix_string(gw):
    doc = gw.get("/svc/v2/items?q=z").json()
    assert doc["path"] == "/v2/items"
    assert doc["query"] == "q=z"


def test_no_strip_keeps_path(gw):
    assert gw.get("/keep/a/b").json()["path"] == "/keep/a/b"
