"""SPEC §2/§3 limits: 413 body size, 431 header size, 408 slow client, idle keep-alive close, 400 smuggling."""

import time

import pytest

from harness import HTTPConnection, assert_problem, make_config

CONFIG = make_config(
    server="""
    max_header_bytes: 4KiB
    max_body_bytes: 1KiB
    timeouts:
      client_header: 500ms
      client_idle: 1s
    """,
    upstreams='app: { replicas: ["${b0}"] }',
    routes="""
    - name: big
      match: { path_prefix: /big/ }
      upstream: app
      max_body_bytes: 4KiB
    - name: all
      match: { path_prefix: / }
      upstream: app
    """,
)


@pytest.fixture
def gw(gateway, backends):
    return gateway(CONFIG, backends=backends(1))


def test_body_within_limit_passes(gw):
    assert gw.request("POST", "/x", body=b"a" * 1000).json()["body_length"] == 1000


def test_body_over_limit_is_413(gw):
    assert_problem(gw.request("POST", "/x", body=b"a" * 2048), 413)


def test_route_overrides_body_limit(gw):
    assert gw.request("POST", "/big/x", body=b"a" * 3000).json()["body_length"] == 3000
    assert_problem(gw.request("POST", "/big/x", body=b"a" * 5000), 413)


def test_chunked_body_over_limit_is_413(gw):
    with gw.connect() as conn:
        chunk = b"b" * 512
        conn.send_raw(b"POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            for _ in range(16):
                conn.send_raw(b"200\r\n" + chunk + b"\r\n")
            conn.send_raw(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the gateway may answer and close before reading it all
        assert_problem(conn.read_response(), 413)


def test_header_over_limit_is_431(gw):
    assert_problem(gw.get("/x", {"X-Big": "a" * 5000}), 431)
    assert gw.get("/x", {"X-Big": "a" * 2000}).status == 200


def test_default_header_limit_is_16kib(gateway, backends):
    gw = gateway(make_config(
        upstreams='app: { replicas: ["${b0}"] }',
        routes="- name: all\n  match: { path_prefix: / }\n  upstream: app\n",
    ), backends=backends(1))
    assert gw.get("/x", {"X-Big": "a" * 12000}).status == 200
    assert_problem(gw.get("/x", {"X-Big": "a" * 20000}), 431)


def test_slow_request_head_is_408_then_closed(gw):
    with gw.connect() as conn:
        started = time.monotonic()
        conn.send_raw(b"GET /x HTTP/1.1\r\nHost: t\r\nX-Half: ")
        resp = conn.read_response()
        elapsed = time.monotonic() - started
        assert_problem(resp, 408)
        assert 0.4 <= elapsed < 3.0, elapsed
        assert conn.is_closed_by_peer(2.0)


def test_client_header_timeout_covers_the_whole_head(gw):
    """Trickling bytes does not reset the clock: the whole head must arrive within client_header."""
    with gw.connect() as conn:
        conn.send_raw(b"GET /x HTTP/1.1\r\n")
        started = time.monotonic()
        try:
            for i in range(20):
                time.sleep(0.1)
                conn.send_raw(f"X-{i}: y\r\n".encode())
        except (BrokenPipeError, ConnectionResetError):
            pass
        resp = conn.read_response()
        assert resp.status == 408
        assert time.monotonic() - started < 1.9


def test_idle_keepalive_connection_is_closed(gw):
    with gw.connect() as conn:
        assert conn.request("GET", "/x").status == 200
        time.sleep(1.6)
        assert conn.is_closed_by_peer(2.0)


def test_content_length_and_transfer_encoding_is_400(gw):
    with gw.connect() as conn:
        conn.send_raw(b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n")
        assert_problem(conn.read_response(), 400)


def test_conflicting_content_lengths_is_400(gw):
    with gw.connect() as conn:
        conn.send_raw(b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")
        assert_problem(conn.read_response(), 400)


def test_malformed_request_line_is_400(gw):
    with gw.connect() as conn:
        conn.send_raw(b"THIS IS NOT HTTP\r\n\r\n")
        assert conn.read_response().status == 400
