"""SPEC §3: bodies stream both ways with backpressure (memory does not grow with body size); keep-alive and
pipelining on the client side; pooled keep-alive connections upstream."""

import hashlib
import socket
import threading
import time

import pytest
import requests

from harness import HTTPConnection, make_config, pattern_sha256, rss_kib

MIB = 1024 * 1024

CONFIG = make_config(
    server="max_body_bytes: 512MiB",
    upstreams='app: { replicas: ["${b0}"], keepalive: 8 }',
    routes="""
    - name: all
      match: { path_prefix: / }
      upstream: app
      timeouts: { connect: 1s, response: 30s }
    """,
)


@pytest.fixture
def gw(gateway, backends):
    return gateway(CONFIG, backends=backends(1))


class RSSWatcher:
    """Samples a process's resident memory while a transfer runs."""

    def __init__(self, pid):
        self.pid, self.peak, self._stop = pid, rss_kib(pid), threading.Event()
        self.baseline = self.peak
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.05):
            try:
                self.peak = max(self.peak, rss_kib(self.pid))
            except (FileNotFoundError, ProcessLookupError):
                return

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def growth_mib(self):
        return (self.peak - self.baseline) / 1024


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_200mib_download_streams(gw):
    n = 200 * MIB
    with RSSWatcher(gw.pid) as watch:
        with requests.get(f"{gw.url}/bytes?n={n}", stream=True, timeout=60) as resp:
            assert resp.status_code == 200
            h, got = hashlib.sha256(), 0
            for chunk in resp.iter_content(1 << 20):
                h.update(chunk)
                got += len(chunk)
    assert got == n
    assert h.hexdigest() == pattern_sha256(n)
    assert watch.growth_mib < 100, f"gateway RSS grew by {watch.growth_mib:.0f} MiB for a {n // MIB} MiB body"


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_200mib_upload_streams_with_content_length(gw):
    n = 200 * MIB
    block = bytes(range(256)) * 4096  # 1 MiB
    expected = hashlib.sha256()
    for _ in range(n // len(block)):
        expected.update(block)
    with RSSWatcher(gw.pid) as watch:
        with HTTPConnection(gw.port, timeout=60) as conn:
            conn.send_raw(f"PUT /upload HTTP/1.1\r\nHost: t\r\nContent-Length: {n}\r\n\r\n".encode())
            for _ in range(n // len(block)):
                conn.send_raw(block)
            doc = conn.read_response().json()
    assert doc["body_length"] == n
    assert doc["body_sha256"] == expected.hexdigest()
    assert watch.growth_mib < 100, f"gateway RSS grew by {watch.growth_mib:.0f} MiB"


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_chunked_upload_streams(gw):
    n = 64 * MIB
    block = b"q" * MIB

    def body():
        for _ in range(n // MIB):
            yield block

    resp = requests.post(f"{gw.url}/chunked-upload", data=body(), timeout=60)
    expected = hashlib.sha256(block * (n // MIB)).hexdigest()
    doc = resp.json()
    assert (doc["body_length"], doc["body_sha256"]) == (n, expected)


def test_slow_reader_does_not_grow_gateway_memory(gw):
    """A client that stops reading: the gateway must stop reading from the upstream too."""
    baseline = rss_kib(gw.pid)
    s = socket.create_connection(("127.0.0.1", gw.port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    s.sendall(f"GET /bytes?n={1024 * MIB} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    s.recv(1024)
    time.sleep(2.0)
    grown = (rss_kib(gw.pid) - baseline) / 1024
    s.close()
    assert grown < 100, f"gateway buffered {grown:.0f} MiB for a client that is not reading"
    assert gw.get("/after").status == 200


def test_client_keepalive_reuses_connection(gw):
    with gw.connect() as conn:
        for i in range(20):
            resp = conn.request("GET", f"/k/{i}")
            assert resp.status == 200 and resp.json()["path"] == f"/k/{i}"
            assert (resp.header("connection") or "").lower() != "close"


def test_upstream_connections_are_pooled(gw):
    """Sequential requests reuse a kept-alive upstream connection (demo counts requests per connection)."""
    counts = [gw.get("/pool").json()["connection_requests"] for _ in range(10)]
    assert max(counts) > 1, counts


def test_pipelined_requests_answered_in_order(gw):
    with gw.connect() as conn:
        conn.send_raw(b"".join(f"GET /p/{i} HTTP/1.1\r\nHost: t\r\n\r\n".encode() for i in range(5)))
        paths = [conn.read_response().json()["path"] for _ in range(5)]
    assert paths == [f"/p/{i}" for i in range(5)]


def test_pipelined_slow_request_does_not_reorder(gw):
    with gw.connect() as conn:
        conn.send_raw(b"GET /slow?ms=300 HTTP/1.1\r\nHost: t\r\n\r\nGET /fast HTTP/1.1\r\nHost: t\r\n\r\n")
        first, second = conn.read_response(), conn.read_response()
    assert (first.json()["path"], second.json()["path"]) == ("/slow", "/fast")


def test_connection_close_is_honoured(gw):
    with gw.connect() as conn:
        resp = conn.request("GET", "/bye", {"Connection": "close"})
        assert resp.status == 200
        assert conn.is_closed_by_peer(2.0)


def test_http10_client(gw):
    with gw.connect() as conn:
        conn.send_raw(b"GET /old HTTP/1.0\r\nHost: t\r\n\r\n")
        resp = conn.read_response()
    assert resp.status == 200 and resp.json()["path"] == "/old"


def test_chunked_response_streams_incrementally(gw):
    """Lines from /stream arrive as they are produced, not all at the end."""
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
    s.sendall(b"GET /stream?chunks=3&interval_ms=700 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    started = time.monotonic()
    data = b""
    while b"chunk 0 of 3" not in data:
        part = s.recv(4096)
        assert part, "closed early"
        data += part
    first_at = time.monotonic() - started
    s.close()
    assert first_at < 0.6, f"first line only after {first_at:.2f}s: the response was buffered"
