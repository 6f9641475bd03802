"""The demo upstream itself: the other tests, scripts/dev.sh and the benchmarks rely on these behaviours."""

import asyncio
import hashlib
import socket
import time

import pytest
import websockets

from harness import HTTPConnection, echo_headers, get, pattern_sha256, request, rss_kib


def test_health_and_override(backends):
    (b,) = backends(1)
    assert get(b.port, "/health").body == b"ok"
    b.set_health(503)
    assert get(b.port, "/health").status == 503
    b.set_health(200)
    assert get(b.port, "/health").status == 200


def test_echo_document(backends):
    (b,) = backends(names=["alpha"])
    body = b"hello world"
    resp = request(b.port, "POST", "/some/path?a=1&b=two", [("X-One", "1"), ("X-Two", "2")], body)
    assert resp.status == 200
    doc = resp.json()
    assert doc["replica"] == "alpha"
    assert doc["method"] == "POST"
    assert doc["path"] == "/some/path"
    assert doc["query"] == "a=1&b=two"
    assert doc["uri"] == "/some/path?a=1&b=two"
    names = [n.lower() for n, _ in doc["headers"]]
    assert names.index("x-one") < names.index("x-two")
    assert doc["body_length"] == len(body)
    assert doc["body_sha256"] == hashlib.sha256(body).hexdigest()


def test_keepalive_and_pipelining(backends):
    (b,) = backends(1)
    with HTTPConnection(b.port) as conn:
        conn.send_raw(b"GET /slow?ms=100 HTTP/1.1\r\nHost: x\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /status/201 HTTP/1.1\r\nHost: x\r\n\r\n")
        first, second, third = conn.read_response(), conn.read_response(), conn.read_response()
        assert (first.json()["path"], second.json()["path"], third.status) == ("/slow", "/a", 201)
        assert second.json()["connection_requests"] == 2


def test_slow_waits(backends):
    (b,) = backends(1)
    started = time.monotonic()
    assert get(b.port, "/slow?ms=300").status == 200
    assert time.monotonic() - started >= 0.29


def test_bytes_content_length_and_chunked(backends):
    (b,) = backends(1)
    resp = get(b.port, "/bytes?n=100000&type=application/json")
    assert resp.header("content-length") == "100000"
    assert resp.content_type == "application/json"
    assert hashlib.sha256(resp.body).hexdigest() == pattern_sha256(100000)
    resp = get(b.port, "/bytes?n=70000&chunked=1&chunk=1000")
    assert resp.header("transfer-encoding") == "chunked"
    assert hashlib.sha256(resp.body).hexdigest() == pattern_sha256(70000)


def test_status_json_headers_stream(backends):
    (b,) = backends(1)
    assert get(b.port, "/status/418").status == 418
    assert get(b.port, "/status/204").body == b""
    doc = get(b.port, "/json?kb=8")
    assert doc.header("etag") == '"v1"' and doc.content_type == "application/json"
    assert 8 * 1024 <= len(doc.body) < 9 * 1024
    assert get(b.port, "/json", {"If-None-Match": 'W/"v1"'}).status == 304
    resp = get(b.port, "/headers?Cache-Control=no-transform&ETag=%22abc%22")
    assert resp.header("cache-control") == "no-transform" and resp.header("etag") == '"abc"'
    with HTTPConnection(b.port) as conn:
        started = time.monotonic()
        resp = conn.request("GET", "/stream?chunks=3&interval_ms=100")
        assert resp.body.count(b"\n") == 3
        assert time.monotonic() - started >= 0.19


def test_login_logout(backends):
    (b,) = backends(1)
    resp = request(b.port, "POST", "/login", {"Content-Type": "application/json"}, b'{"user":"alice"}')
    assert resp.status == 200
    assert resp.header("x-gateway-session") == '{"user":"alice","role":"user"}'
    resp = request(b.port, "POST", "/login", {"Content-Type": "application/x-www-form-urlencoded"}, b"user=bob")
    assert resp.header("x-gateway-session") == '{"user":"bob","role":"user"}'
    assert request(b.port, "POST", "/logout", body=b"").header("x-gateway-session") == "clear"


def test_websocket_echo(backends):
    (b,) = backends(1)

    async def run():
        async with websockets.connect(f"ws://127.0.0.1:{b.port}/socket/echo") as ws:
            await ws.send("hello")
            assert await ws.recv() == "hello"
            await ws.send(b"\x00\x01\x02")
            assert await ws.recv() == b"\x00\x01\x02"

    asyncio.run(run())


@pytest.mark.slow
def test_large_upload_and_download_stream(backends):
    (b,) = backends(1)
    n = 256 * 1024 * 1024
    with socket.create_connection(("127.0.0.1", b.port)) as s:
        s.sendall(f"GET /bytes?n={n} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(65536)
        body = data.split(b"\r\n\r\n", 1)[1]
        h = hashlib.sha256(body)
        got = len(body)
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            h.update(chunk)
            got += len(chunk)
    assert got == n and h.hexdigest() == pattern_sha256(n)

    block = b"z" * (1 << 20)
    with socket.create_connection(("127.0.0.1", b.port)) as s:
        s.sendall(f"PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: {n}\r\n\r\n".encode())
        for _ in range(n // len(block)):
            s.sendall(block)
        conn = HTTPConnection.__new__(HTTPConnection)
        conn.sock, conn.buffer, conn.host = s, b"", ""
        doc = conn.read_response().json()
    expected = hashlib.sha256()
    for _ in range(n // len(block)):
        expected.update(block)
    assert doc["body_length"] == n and doc["body_sha256"] == expected.hexdigest()
    assert rss_kib(b.proc.pid) < 200 * 1024


def test_head_has_no_body(backends):
    (b,) = backends(1)
    with HTTPConnection(b.port) as conn:
        resp = conn.request("HEAD", "/bytes?n=5000")
        assert resp.status == 200 and resp.header("content-length") == "5000"
        resp = conn.request("HEAD", "/x")
        assert resp.status == 200 and int(resp.header("content-length")) > 0
        assert conn.request("GET", "/after").json()["path"] == "/after", "no stray body bytes on the connection"
