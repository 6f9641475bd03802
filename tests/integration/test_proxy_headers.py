"""SPEC §3: headers the upstream sees and headers the client gets back."""

import pytest

from harness import UUID_RE, echo_headers, make_config

CONFIG = make_config(
    upstreams="""
    app: { replicas: ["${b0}"] }
    """,
    routes="""
    - name: all
      match: { path_prefix: / }
      upstream: app
    """,
)


@pytest.fixture
def gw(gateway, backends):
    return gateway(CONFIG, backends=backends(1))


def _xff(seen):
    return [part.strip() for value in seen.get("x-forwarded-for", []) for part in value.split(",")]


def test_forwarded_headers_added(gw):
    resp = gw.get("/h", host="client.example:1234")
    seen = echo_headers(resp)
    assert _xff(seen) == ["127.0.0.1"]
    assert seen.get("x-forwarded-proto") == ["http"]
    assert seen.get("x-forwarded-host") == ["client.example:1234"]
    assert seen.get("via") and "1.1" in seen["via"][0]
    assert seen.get("host") == ["client.example:1234"], "Host is kept"


def test_x_forwarded_for_is_appended(gw):
    seen = echo_headers(gw.get("/h", {"X-Forwarded-For": "203.0.113.9"}))
    assert _xff(seen) == ["203.0.113.9", "127.0.0.1"]


def test_valid_request_id_kept_and_echoed(gw):
    rid = "abc-123_X.y"
    resp = gw.get("/h", {"X-Request-Id": rid})
    assert echo_headers(resp)["x-request-id"] == [rid]
    assert resp.header("x-request-id") == rid


def test_request_id_of_200_characters_kept(gw):
    rid = "a" * 200
    resp = gw.get("/h", {"X-Request-Id": rid})
    assert echo_headers(resp)["x-request-id"] == [rid]


@pytest.mark.parametrize("bad", ["has space", "a" * 201, "semi;colon", "ünïcode"])
def test_invalid_request_id_replaced_by_uuid(gw, bad):
    resp = gw.get("/h", [("X-Request-Id", bad.encode("utf-8").decode("latin-1"))])
    sent = echo_headers(resp)["x-request-id"]
    assert len(sent) == 1 and UUID_RE.match(sent[0]), sent
    assert resp.header("x-request-id") == sent[0]


def test_missing_request_id_gets_uuid(gw):
    resp = gw.get("/h")
    sent = echo_headers(resp)["x-request-id"]
    assert len(sent) == 1 and UUID_RE.match(sent[0])
    assert resp.header("x-request-id") == sent[0]


def test_request_ids_are_unique(gw):
    ids = {gw.get("/h").header("x-request-id") for _ in range(20)}
    assert len(ids) == 20


def test_hop_by_hop_request_headers_removed(gw):
    resp = gw.get("/h", [
        ("Connection", "keep-alive, X-Custom-Hop"),
        ("X-Custom-Hop", "1"),
        ("Keep-Alive", "timeout=5"),
        ("TE", "trailers"),
        ("Trailer", "X-T"),
        ("Proxy-Authorization", "Basic eDp5"),
        ("Proxy-Foo", "bar"),
        ("Upgrade", "foo/1"),
        ("X-Normal", "yes"),
    ])
    seen = echo_headers(resp)
    for name in ("x-custom-hop", "keep-alive", "te", "trailer", "proxy-authorization", "proxy-foo", "upgrade"):
        assert name not in seen, f"{name} was forwarded: {seen}"
    assert "x-custom-hop" not in ",".join(seen.get("connection", [])).lower()
    assert seen.get("x-normal") == ["yes"]


def test_client_identity_headers_are_stripped(gw):
    seen = echo_headers(gw.get("/h", {"X-Gateway-User": "mallory", "X-Gateway-Session": '{"user":"mallory"}'}))
    assert "x-gateway-user" not in seen
    assert "x-gateway-session" not in seen


def test_repeated_headers_keep_order(gw):
    seen = echo_headers(gw.get("/h", [("X-Multi", "1"), ("X-Multi", "2")]))
    assert ",".join(seen["x-multi"]).replace(" ", "") == "1,2"


def test_body_and_method_forwarded(gw):
    import hashlib

    body = b"some bytes" * 100
    doc = gw.request("PUT", "/put/here?x=1", {"Content-Type": "application/octet-stream"}, body).json()
    assert doc["method"] == "PUT"
    assert doc["uri"] == "/put/here?x=1"
    assert doc["body_length"] == len(body)
    assert doc["body_sha256"] == hashlib.sha256(body).hexdigest()


def test_upstream_status_and_headers_pass_through(gw):
    assert gw.get("/status/418").status == 418
    assert gw.get("/status/204").status == 204
    resp = gw.get("/headers?X-Up=1&Keep-Alive=timeout%3D9")
    assert resp.header("x-up") == "1"
    assert resp.header("keep-alive") is None, "hop-by-hop response headers are not forwarded"
