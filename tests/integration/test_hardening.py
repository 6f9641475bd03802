"""Issue 10 / SPEC §13 hardening: every vector of the issue replayed as raw bytes against the gateway, in front of
the demo upstream, a WSGI upstream (wsgiref) and raw upstreams that misbehave on purpose (Python sockets here).

Numbers in the test names are the issue's items.
"""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from harness import HTTPConnection, assert_problem, echo_headers, make_config, run_gateway, wait_for


# ---------------------------------------------------------------------------------------------------------------
# helpers


ROUTES = """
- name: n-admin
  match: { path_prefix: /n/admin/ }
  upstream: app
  session: required
- name: n
  match: { path_prefix: /n/ }
  upstream: app
- name: api
  match: { path_prefix: /api/v1/ }
  upstream: app
  strip_prefix: true
- name: all
  match: { path_prefix: / }
  upstream: app
"""

SESSIONS = """
sessions:
  cookie: gw_session
  secret_env: GATEWAY_SESSION_SECRET
"""


def _config(server: str = "", upstream_extra: str = "", replicas: str = '["${b0}"]') -> str:
    return make_config(
        server=server,
        upstreams=f"app:\n  replicas: {replicas}\n" + upstream_extra,
        routes=ROUTES,
        top=SESSIONS,
    )


@pytest.fixture
def gw(gateway, backends):
    return gateway(_config("timeouts: { client_body: 2s }"), backends=backends(1))


def raw(gw, data: bytes, head_request: bool = False, timeout: float = 10.0):
    """Sends `data` as is on a fresh connection and reads one response."""
    with HTTPConnection(gw.port, timeout=timeout) as conn:
        conn.send_raw(data)
        return conn.read_response(head_request=head_request)


def raw_bytes(port: int, data: bytes, timeout: float = 10.0) -> bytes:
    """Sends `data` and returns every byte the server sends until it closes (or `timeout` passes quietly)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        out = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                out += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        return out


def echo(resp):
    assert resp.status == 200, resp.body[:300]
    return resp.json()


class RawUpstream:
    """A misbehaving upstream: for each request head it receives, sends `respond(head)` bytes verbatim.

    Records the heads it saw and whether each connection was closed by the gateway (EOF seen).
    """

    def __init__(self, respond, read_body: bool = False):
        self.respond = respond
        self.read_body = read_body
        self.heads: list[bytes] = []
        self.eofs = 0
        self.connections = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.stopped = False
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        buffer = b""
        try:
            conn.settimeout(60)
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        with self.lock:
                            self.eofs += 1
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                with self.lock:
                    self.heads.append(head)
                reply = self.respond(head)
                if reply is None:
                    continue  # keep reading (e.g. a body that never completes)
                conn.sendall(reply)
        except OSError:
            with self.lock:
                self.eofs += 1
        finally:
            conn.close()

    def close(self):
        self.stopped = True
        self.sock.close()


@pytest.fixture
def raw_upstream():
    started: list[RawUpstream] = []

    def start(respond) -> RawUpstream:
        upstream = RawUpstream(respond)
        started.append(upstream)
        return upstream

    yield start
    for upstream in started:
        upstream.close()


RAW_UPSTREAM_EXTRA = "  passive: false\n  retries: 0\n"


def _raw_gateway(gateway, upstream: RawUpstream, server: str = ""):
    return gateway(_config(server, RAW_UPSTREAM_EXTRA, replicas=f'["{upstream.url}"]'))


def _in_flight(gw) -> list[int]:
    doc = gw.admin("GET", "/upstreams").json()
    return [r["in_flight"] for r in doc["upstreams"]["app"]["replicas"]]


# ---------------------------------------------------------------------------------------------------------------
# 1. identity spoofing through underscores


SPOOF = (
    b"GET /n/x HTTP/1.1\r\nHost: t\r\n"
    b"X_Gateway_User: admin\r\n"
    b"x-gateway_session: {\"user\":\"admin\"}\r\n"
    b"X-GATEWAY-USER: admin\r\n"
    b"X_Client_Cert_Subject: CN=admin\r\n"
    b"X_Custom: underscore\r\n"
    b"X-Custom: dash\r\n\r\n"
)


def test_1_underscore_and_gateway_owned_headers_are_not_forwarded(gw):
    headers = echo_headers(raw(gw, SPOOF))
    folded = {name.replace("_", "-") for name in headers}
    assert "x-gateway-user" not in folded
    assert "x-gateway-session" not in folded
    assert "x-client-cert-subject" not in folded
    assert "x_custom" not in headers
    assert headers["x-custom"] == ["dash"]


def test_1_underscores_in_headers_opt_in_still_strips_owned_names(gateway, backends):
    gw = gateway(_config("underscores_in_headers: true"), backends=backends(1))
    headers = echo_headers(raw(gw, SPOOF))
    assert headers["x_custom"] == ["underscore"]
    folded = {name.replace("_", "-") for name in headers}
    assert "x-gateway-user" not in folded and "x-gateway-session" not in folded
    assert "x-client-cert-subject" not in folded


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def test_1_wsgi_upstream_never_sees_a_spoofed_user(gateway):
    """The issue's reproduction: a WSGI app reads HTTP_X_GATEWAY_USER, where `_` and `-` are the same."""

    def app(environ, start_response):
        seen = {k: v for k, v in environ.items() if k.startswith("HTTP_X_GATEWAY") or k.startswith("HTTP_X_CLIENT")}
        body = json.dumps(seen).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    server = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        gw = gateway(_config(upstream_extra=RAW_UPSTREAM_EXTRA, replicas=f'["http://127.0.0.1:{server.server_port}"]'))
        for underscores in (b"", b"X_Gateway_Session: {}\r\n"):
            resp = raw(gw, b"GET /n/x HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX_Gateway_User: admin\r\n"
                           + underscores + b"X-Gateway-User: admin\r\n\r\n")
            assert resp.status == 200, resp.body
            assert resp.json() == {}, resp.json()
    finally:
        server.shutdown()
        server.server_close()


def test_1_upstream_identity_headers_do_not_reach_the_client(gateway, raw_upstream):
    body = b"ok"
    upstream = raw_upstream(lambda head: (
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Gateway-User: admin\r\nX_Gateway_User: admin\r\n"
        b"X-Gateway-Session: {\"user\":\"x\"}\r\nX-Other: kept\r\n\r\n" + body))
    gw = _raw_gateway(gateway, upstream)
    resp = raw(gw, b"GET /n/x HTTP/1.1\r\nHost: t\r\n\r\n")
    assert resp.status == 200 and resp.body == body
    names = {name.lower().replace("_", "-") for name, _ in resp.headers}
    assert "x-gateway-user" not in names and "x-gateway-session" not in names
    assert resp.header("x-other") == "kept"


# ---------------------------------------------------------------------------------------------------------------
# 2. dot segments and path normalisation


@pytest.mark.parametrize("target", [
    "/n/admin/secret",
    "/n/x/../admin/secret",
    "/n/x/%2e%2e/admin/secret",
    "/n/x/%2E./admin/secret",
    "/n/x/.%2e/admin/secret",
    "/n/./admin/secret",
    "//n//admin/secret",
    "/n/%61dmin/secret",
])
def test_2_every_spelling_of_the_protected_path_needs_the_session(gw, target):
    resp = raw(gw, f"GET {target} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    assert_problem(resp, 401)


def test_2_upstream_gets_the_normalised_path(gw):
    assert echo(raw(gw, b"GET /api/v1/../../admin/secret HTTP/1.1\r\nHost: t\r\n\r\n"))["uri"] == "/admin/secret"
    assert echo(raw(gw, b"GET /n/x/../y?a=%2e%2e/../b HTTP/1.1\r\nHost: t\r\n\r\n"))["uri"] == "/n/y?a=%2e%2e/../b"
    assert echo(raw(gw, b"GET /api/v1/a/./b/%7Ec HTTP/1.1\r\nHost: t\r\n\r\n"))["uri"] == "/a/b/~c"


def test_2_encoded_slash_stays_encoded(gw):
    assert echo(raw(gw, b"GET /n/a%2fb/..%2Fc HTTP/1.1\r\nHost: t\r\n\r\n"))["uri"] == "/n/a%2Fb/..%2Fc"


@pytest.mark.parametrize("target", ["/..", "/n/../../admin", "/%2e%2e/etc/passwd", "/n/a%zz", "/n/a%00b"])
def test_2_paths_above_root_or_malformed_are_400(gw, target):
    resp = raw(gw, f"GET {target} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    assert_problem(resp, 400)


def test_2_merge_slashes_can_be_turned_off(gateway, backends):
    gw = gateway(_config("merge_slashes: false"), backends=backends(1))
    assert echo(raw(gw, b"GET //n//x HTTP/1.1\r\nHost: t\r\n\r\n"))["uri"] == "//n//x"


# ---------------------------------------------------------------------------------------------------------------
# 3. request body stall


def _stalled_body_gets_408_and_upstream_is_closed(gateway, raw_upstream, head: bytes, body: bytes):
    upstream = raw_upstream(lambda head: None)  # reads the head and the body it gets, never answers
    gw = _raw_gateway(gateway, upstream, "timeouts: { client_body: 1s }")
    with HTTPConnection(gw.port, timeout=15) as conn:
        conn.send_raw(head)
        wait_for(lambda: upstream.heads, 10, what="the head to reach the upstream")
        conn.send_raw(body)
        started = time.monotonic()
        resp = conn.read_response()
        assert_problem(resp, 408)
        assert resp.header("connection") == "close"
        assert time.monotonic() - started < 10
        assert conn.is_closed_by_peer(5)
    # The upstream connection that waited for the body is closed, not pooled.
    wait_for(lambda: upstream.eofs >= 1, 10, what="the gateway to close the upstream connection")
    wait_for(lambda: _in_flight(gw) == [0], 10, what="in_flight back to 0")


def test_3_stalled_content_length_body_is_408(gateway, raw_upstream):
    _stalled_body_gets_408_and_upstream_is_closed(
        gateway, raw_upstream, b"POST /n/x HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n", b"hello")


def test_3_stalled_chunked_body_is_408(gateway, raw_upstream):
    _stalled_body_gets_408_and_upstream_is_closed(
        gateway, raw_upstream, b"POST /n/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"5\r\nhello\r\n")


def test_3_a_slow_but_steady_body_is_not_cut(gw):
    """The timeout is the gap between two reads, not the whole body: 8 pieces 0.25 s apart with a 2 s timeout."""
    with gw.connect(timeout=20) as conn:
        conn.send_raw(b"POST /n/x HTTP/1.1\r\nHost: t\r\nContent-Length: 8\r\n\r\n")
        for _ in range(8):
            time.sleep(0.25)
            conn.send_raw(b"x")
        doc = echo(conn.read_response())
        assert doc["body_length"] == 8


# ---------------------------------------------------------------------------------------------------------------
# 4. every upstream attempt ends exactly once


def _abort_during_head(gw):
    with gw.connect() as conn:
        conn.send_raw(b"GET /n/x HTTP/1.1\r\nHost: t\r\nX-Partial: ")
        time.sleep(0.1)


def _abort_during_body(gw):
    with gw.connect() as conn:
        conn.send_raw(b"POST /n/x HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" + b"x" * 10)
        time.sleep(0.3)


def _abort_waiting_for_response(gw):
    with gw.connect() as conn:
        conn.send_raw(b"GET /slow?ms=3000 HTTP/1.1\r\nHost: t\r\n\r\n")
        time.sleep(0.3)


def _abort_during_response_body(gw):
    with gw.connect() as conn:
        conn.send_raw(b"GET /stream?chunks=50&interval_ms=100 HTTP/1.1\r\nHost: t\r\n\r\n")
        conn._read_until(b"\r\n\r\n")
        time.sleep(0.2)


PHASES = [_abort_during_head, _abort_during_body, _abort_waiting_for_response, _abort_during_response_body]


def test_4_in_flight_returns_to_zero_after_aborts_in_every_phase(gateway, backends):
    gw = gateway(_config(upstream_extra="  balance: least_conn\n", replicas='["${b0}", "${b1}"]'), backends=backends(2))
    for phase in PHASES:
        for _ in range(3):
            phase(gw)
        wait_for(lambda: _in_flight(gw) == [0, 0], 15, what=f"in_flight back to 0 after {phase.__name__}")
    gw.reload()
    time.sleep(1)
    assert _in_flight(gw) == [0, 0]


def test_4_an_abort_mid_response_does_not_lower_another_requests_count(gateway, backends):
    """The response head already ended the attempt; the abort must not end it a second time (floor hid that)."""
    gw = gateway(_config(), backends=backends(1))
    holder = HTTPConnection(gw.port, timeout=30)
    try:
        holder.send_raw(b"GET /slow?ms=10000 HTTP/1.1\r\nHost: t\r\n\r\n")
        wait_for(lambda: _in_flight(gw) == [1], 10, what="the slow request to be in flight")
        for _ in range(3):
            _abort_during_response_body(gw)
        time.sleep(0.5)
        assert _in_flight(gw) == [1]
        assert holder.read_response().status == 200
        wait_for(lambda: _in_flight(gw) == [0], 10, what="in_flight back to 0")
    finally:
        holder.close()


# ---------------------------------------------------------------------------------------------------------------
# 5. CONNECT


def test_5_connect_is_405_and_close(gw):
    out = raw_bytes(gw.port, b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
                             b"GET /n/x HTTP/1.1\r\nHost: t\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 405 "), out[:200]
    assert b"connection: close" in out.lower()
    assert out.count(b"HTTP/1.1 ") == 1, "nothing is answered after CONNECT: the connection closes"


def test_5_authority_form_without_connect_is_400(gw):
    assert_problem(raw(gw, b"GET example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n"), 400)


# ---------------------------------------------------------------------------------------------------------------
# 6. Host


@pytest.mark.parametrize("head", [
    b"GET /n/x HTTP/1.1\r\n\r\n",
    b"GET /n/x HTTP/1.1\r\nHost: a b\r\n\r\n",
    b"GET /n/x HTTP/1.1\r\nHost: user@example.com\r\n\r\n",
    b"GET /n/x HTTP/1.1\r\nHost: \r\n\r\n",
    b"GET /n/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
])
def test_6_http11_without_a_valid_host_is_400(gw, head):
    assert_problem(raw(gw, head), 400)


def test_6_connection_host_does_not_remove_host(gw):
    headers = echo_headers(raw(gw, b"GET /n/x HTTP/1.1\r\nHost: t.example\r\nConnection: Host\r\n\r\n"))
    assert headers["host"] == ["t.example"]


def test_6_http10_without_host_gets_the_listener_address(gw):
    headers = echo_headers(raw(gw, b"GET /n/x HTTP/1.0\r\n\r\n"))
    assert headers["host"] == [f"127.0.0.1:{gw.port}"]


# ---------------------------------------------------------------------------------------------------------------
# 7. transfer codings


@pytest.mark.parametrize("coding", [b"gzip, chunked", b"identity, chunked", b"deflate,chunked"])
def test_7_transfer_codings_other_than_chunked_are_501(gw, coding):
    resp = raw(gw, b"POST /n/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: " + coding + b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    assert_problem(resp, 501)
    assert resp.header("connection") == "close"


def test_7_chunked_twice_is_refused_by_the_parser(gw):
    resp = raw(gw, b"POST /n/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n")
    assert_problem(resp, 400)


# ---------------------------------------------------------------------------------------------------------------
# 8 and 10. upstream responses that are broken before anything reached the client


@pytest.mark.parametrize("reply", [
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffffffff\r\n",
])
def test_8_broken_chunked_body_before_any_byte_is_502(gateway, raw_upstream, reply):
    upstream = raw_upstream(lambda head: reply)
    gw = _raw_gateway(gateway, upstream)
    assert_problem(raw(gw, b"GET /n/x HTTP/1.1\r\nHost: t\r\n\r\n"), 502)


@pytest.mark.parametrize("status", [b"099", b"999", b"600"])
def test_10_status_outside_100_599_is_502(gateway, raw_upstream, status):
    upstream = raw_upstream(lambda head: b"HTTP/1.1 " + status + b" Odd\r\nContent-Length: 2\r\n\r\nok")
    gw = _raw_gateway(gateway, upstream)
    assert_problem(raw(gw, b"GET /n/x HTTP/1.1\r\nHost: t\r\n\r\n"), 502)


# ---------------------------------------------------------------------------------------------------------------
# 9. absolute-form targets


def test_9_absolute_form_is_routed_on_its_path_with_its_authority_as_host(gw):
    doc = echo(raw(gw, b"GET http://api.example:8080/api/v1/x?q=1 HTTP/1.1\r\nHost: other\r\n\r\n"))
    assert doc["uri"] == "/x?q=1"
    assert dict((k.lower(), v) for k, v in doc["headers"])["host"] == "api.example:8080"


def test_9_absolute_form_is_normalised_too(gw):
    assert_problem(raw(gw, b"GET http://h/n/x/../admin/secret HTTP/1.1\r\nHost: h\r\n\r\n"), 401)


# ---------------------------------------------------------------------------------------------------------------
# 11. long URIs


def _send_in_background(port: int, data: bytes):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn = HTTPConnection.__new__(HTTPConnection)
    conn.sock, conn.buffer, conn.host = sock, b"", f"127.0.0.1:{port}"

    def send():
        try:
            sock.sendall(data)
        except OSError:
            pass

    threading.Thread(target=send, daemon=True).start()
    return conn


@pytest.mark.parametrize("length", [10 * 1024, 64 * 1024])
def test_11_long_uri_is_414(gw, length):
    conn = _send_in_background(gw.port, b"GET /n/" + b"a" * length + b" HTTP/1.1\r\nHost: t\r\n\r\n")
    try:
        assert_problem(conn.read_response(), 414)
    finally:
        conn.close()


def test_11_uri_under_the_limit_passes_and_big_headers_stay_431(gw):
    assert echo(raw(gw, b"GET /n/" + b"a" * 6000 + b" HTTP/1.1\r\nHost: t\r\n\r\n"))["path"].startswith("/n/aaa")
    conn = _send_in_background(gw.port, b"GET /n/x HTTP/1.1\r\nHost: t\r\nX-Big: " + b"b" * 40000 + b"\r\n\r\n")
    try:
        assert_problem(conn.read_response(), 431)
    finally:
        conn.close()


def test_11_max_uri_bytes_is_configurable(gateway, backends):
    gw = gateway(_config("max_uri_bytes: 100"), backends=backends(1))
    assert_problem(raw(gw, b"GET /n/" + b"a" * 120 + b" HTTP/1.1\r\nHost: t\r\n\r\n"), 414)
    assert echo(raw(gw, b"GET /n/" + b"a" * 80 + b" HTTP/1.1\r\nHost: t\r\n\r\n"))


# ---------------------------------------------------------------------------------------------------------------
# 12. informational responses


EARLY_HINTS = (b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
               b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")


def test_12_early_hints_reach_http11_clients(gateway, raw_upstream):
    upstream = raw_upstream(lambda head: EARLY_HINTS)
    gw = _raw_gateway(gateway, upstream)
    out = raw_bytes(gw.port, b"GET /n/x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 103 Early Hints\r\n"), out[:300]
    hints, _, rest = out.partition(b"\r\n\r\n")
    assert b"link: </style.css>; rel=preload" in hints.lower()
    assert rest.startswith(b"HTTP/1.1 200 OK\r\n") and rest.endswith(b"\r\n\r\nok")


def test_12_early_hints_are_not_sent_to_http10_clients(gateway, raw_upstream):
    upstream = raw_upstream(lambda head: EARLY_HINTS)
    gw = _raw_gateway(gateway, upstream)
    out = raw_bytes(gw.port, b"GET /n/x HTTP/1.0\r\nHost: t\r\n\r\n")
    assert out.startswith(b"HTTP/1.0 200 OK\r\n"), out[:300]


def test_12_an_unasked_100_continue_is_not_forwarded(gateway, raw_upstream):
    upstream = raw_upstream(lambda head: b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    gw = _raw_gateway(gateway, upstream)
    out = raw_bytes(gw.port, b"GET /n/x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK\r\n"), out[:300]


# ---------------------------------------------------------------------------------------------------------------
# 13. HTTP/1.0 keep-alive


def test_13_http10_keep_alive_is_announced_and_kept(gw):
    with gw.connect() as conn:
        for _ in range(2):
            conn.send_raw(b"GET /n/x HTTP/1.0\r\nHost: t\r\nConnection: keep-alive\r\n\r\n")
            resp = conn.read_response()
            assert resp.status == 200
            assert resp.version == "HTTP/1.0"
            assert resp.header("connection").lower() == "keep-alive"


def test_13_http10_keep_alive_with_an_unframed_body_closes(gw):
    with gw.connect() as conn:
        conn.send_raw(b"GET /stream?chunks=2&interval_ms=10 HTTP/1.0\r\nHost: t\r\nConnection: keep-alive\r\n\r\n")
        resp = conn.read_response()
        assert resp.status == 200
        assert resp.header("connection").lower() == "close"
        assert resp.body.count(b"\n") == 2


# ---------------------------------------------------------------------------------------------------------------
# 14. canonical Content-Length, fragments, trailers


def test_14_content_length_is_sent_canonical(gw):
    doc = echo(raw(gw, b"POST /n/x HTTP/1.1\r\nHost: t\r\nContent-Length: 005\r\n\r\nhello"))
    headers = dict((k.lower(), v) for k, v in doc["headers"])
    assert headers["content-length"] == "5"
    assert doc["body_length"] == 5


def test_14_fragment_is_not_forwarded(gw):
    assert echo(raw(gw, b"GET /n/x?a=1#frag HTTP/1.1\r\nHost: t\r\n\r\n"))["uri"] == "/n/x?a=1"


def test_14_trailers_travel_with_their_trailer_field(gateway, raw_upstream):
    upstream = raw_upstream(lambda head: (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n"
        b"2\r\nok\r\n0\r\nX-Checksum: abc\r\n\r\n"))
    gw = _raw_gateway(gateway, upstream)
    out = raw_bytes(gw.port, b"GET /n/x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    head, _, body = out.partition(b"\r\n\r\n")
    assert b"\r\ntrailer: x-checksum" in head.lower(), head
    assert b"x-checksum: abc" in body.lower(), body
    # HTTP/1.0 clients get neither (no chunked encoding to carry trailers).
    out = raw_bytes(gw.port, b"GET /n/x HTTP/1.0\r\nHost: t\r\n\r\n")
    assert b"trailer" not in out.lower() and b"x-checksum" not in out.lower(), out


# ---------------------------------------------------------------------------------------------------------------
# 15. panic mode


HEALTH = """  health:
    path: /health
    interval: 200ms
    timeout: 500ms
    unhealthy_after: 1
    healthy_after: 1
"""


def _metric(gw, name: str) -> float:
    total = 0.0
    for line in gw.admin("GET", "/metrics").body.decode().splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_15_panic_threshold_balances_over_all_replicas(gateway, backends):
    replicas = backends(2)
    gw = gateway(_config(upstream_extra=HEALTH + "  panic_threshold: 50%\n", replicas='["${b0}", "${b1}"]'),
                 backends=replicas)
    for backend in replicas:
        backend.set_health(500)
    wait_for(lambda: all(r["state"] == "unhealthy"
                         for r in gw.admin("GET", "/upstreams").json()["upstreams"]["app"]["replicas"]),
             15, what="both replicas unhealthy")
    seen = {echo(gw.get("/n/x"))["replica"] for _ in range(6)}
    assert seen == {"r0", "r1"}
    assert _metric(gw, "gateway_upstream_panic_total") >= 6


def test_15_without_panic_threshold_no_healthy_replica_is_still_503(gateway, backends):
    replicas = backends(2)
    gw = gateway(_config(upstream_extra=HEALTH, replicas='["${b0}", "${b1}"]'), backends=replicas)
    for backend in replicas:
        backend.set_health(500)
    wait_for(lambda: gw.get("/n/x").status == 503, 15, what="503 once both replicas are unhealthy")


def test_15_check_hints_at_short_health_timeouts_without_panic_threshold(tmp_path):
    base = "server: { listen: 127.0.0.1:0, admin_listen: false }\nroutes: [{ name: r, match: { path_prefix: / }, upstream: app }]\n"
    path = tmp_path / "gw.yaml"
    path.write_text(base + "upstreams:\n  app:\n    replicas: [http://127.0.0.1:9]\n    health: { timeout: 1s }\n")
    result = run_gateway("check", "--config", str(path))
    assert result.returncode == 0, result.stderr
    assert "hint: upstream 'app'" in result.stderr and "panic_threshold" in result.stderr
    path.write_text(base + "upstreams:\n  app:\n    replicas: [http://127.0.0.1:9]\n    health: { timeout: 1s }\n"
                           "    panic_threshold: 50%\n")
    result = run_gateway("check", "--config", str(path))
    assert result.returncode == 0, result.stderr
    assert "hint:" not in result.stderr
