"""SPEC §3 compression: gzip when accepted (q-values), big enough or of unknown length, compressible type, not
already encoded, no `no-transform`; `Vary: Accept-Encoding`; strong ETag becomes weak; streams stay streams."""

import gzip
import socket
import time
import zlib
from urllib.parse import quote

import pytest

from harness import get, make_config

CONFIG = make_config(
    upstreams='app: { replicas: ["${b0}"] }',
    routes="""
    - name: plain
      match: { path_prefix: /plain/ }
      upstream: app
      strip_prefix: true
    - name: zipped
      match: { path_prefix: / }
      upstream: app
      compress: { min_bytes: 1024 }
    """,
)

GZIP = {"Accept-Encoding": "gzip"}


@pytest.fixture
def setup(gateway, backends):
    (b,) = backends(1)
    return gateway(CONFIG, backends=[b]), b


def test_gzip_when_accepted(setup):
    gw, b = setup
    resp = gw.get("/json?kb=16", GZIP)
    assert resp.header("content-encoding") == "gzip"
    assert gzip.decompress(resp.body) == get(b.port, "/json?kb=16").body
    assert "accept-encoding" in (resp.header("vary") or "").lower()
    assert len(resp.body) < 8 * 1024


def test_strong_etag_becomes_weak(setup):
    gw, _ = setup
    assert gw.get("/json?kb=16", GZIP).header("etag") == 'W/"v1"'
    assert gw.get("/json?kb=16").header("etag") == '"v1"', "uncompressed responses keep the strong ETag"


def test_no_accept_encoding_means_identity(setup):
    gw, _ = setup
    resp = gw.get("/json?kb=16")
    assert resp.header("content-encoding") is None
    assert resp.body.startswith(b"{")


@pytest.mark.parametrize("accept, compressed", [
    ("gzip;q=0, identity", False),
    ("gzip;q=0", False),
    ("br;q=1, gzip;q=0.5", True),
    ("deflate, gzip", True),
    ("GZIP", True),
    ("br", False),
])
def test_q_values(setup, accept, compressed):
    gw, _ = setup
    resp = gw.get("/json?kb=16", {"Accept-Encoding": accept})
    assert (resp.header("content-encoding") == "gzip") is compressed, resp.headers


def test_small_body_not_compressed(setup):
    gw, _ = setup
    resp = gw.get("/headers?_kb=0", GZIP)  # ~100 bytes of JSON with a Content-Length
    assert resp.header("content-encoding") is None


def test_unknown_length_compressed(setup):
    gw, _ = setup
    resp = gw.get("/bytes?n=100&chunked=1&type=application/json", GZIP)
    assert resp.header("content-encoding") == "gzip"
    assert gzip.decompress(resp.body) == (b"abcdefghijklmnopqrstuvwxyz" * 4)[:100]


def test_incompressible_type_not_compressed(setup):
    gw, _ = setup
    resp = gw.get("/bytes?n=20000&type=image/png", GZIP)
    assert resp.header("content-encoding") is None
    assert len(resp.body) == 20000


@pytest.mark.parametrize("ctype", ["text/html", "text/css", "application/javascript", "image/svg+xml",
                                   "application/xml"])
def test_default_compressible_types(setup, ctype):
    gw, _ = setup
    resp = gw.get(f"/bytes?n=4096&type={quote(ctype)}", GZIP)
    assert resp.header("content-encoding") == "gzip", ctype


def test_already_encoded_passes_untouched(setup):
    gw, _ = setup
    resp = gw.get("/headers?Content-Encoding=br&_kb=4", GZIP)
    assert resp.header_values("content-encoding") == ["br"]


def test_no_transform_respected(setup):
    gw, _ = setup
    resp = gw.get("/headers?Cache-Control=no-transform&_kb=4", GZIP)
    assert resp.header("content-encoding") is None


def test_route_without_compress(setup):
    gw, _ = setup
    resp = gw.get("/plain/json?kb=16", GZIP)
    assert resp.header("content-encoding") is None


def test_compressed_stream_is_flushed_per_chunk(setup):
    gw, _ = setup
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
    s.sendall(b"GET /stream?chunks=3&interval_ms=700&type=text/event-stream HTTP/1.1\r\nHost: t\r\n"
              b"Accept-Encoding: gzip\r\nConnection: close\r\n\r\n")
    started = time.monotonic()
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    head, raw = data.split(b"\r\n\r\n", 1)
    assert b"content-encoding: gzip" in head.lower()
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    text = b""
    buffered = raw
    while b'"chunk":0' not in text:
        # de-chunk what we have so far
        body, rest = b"", buffered
        while b"\r\n" in rest:
            size_line, after = rest.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            if len(after) < size + 2:
                break
            body += after[:size]
            rest = after[size + 2:]
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        text = inflater.decompress(body)
        if b'"chunk":0' in text:
            break
        part = s.recv(4096)
        assert part, "closed early"
        buffered += part
    s.close()
    assert time.monotonic() - started < 0.6, "the first event was held back by the compressor"
