"""Issue 12 (HTTP/2 half): HTTP/2 downstream over TLS (ALPN h2) and h2c with prior knowledge, every stream an
exchange through the usual phases; `server.http2` limits and the flood defences (rapid reset, CONTINUATION, PING and
SETTINGS floods, HPACK bomb), each closing only the offending connection. Real clients: curl --http2, the python `h2`
state machine, hand-made frames, h2load."""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
import threading
import time

import pytest

from harness import echo_headers, free_port, make_config, rss_kib, wait_for
import hpack

from h2_helpers import (CONTINUATION, DATA, ENHANCE_YOUR_CALM, END_HEADERS, END_STREAM, HEADERS, PING, PROTOCOL_ERROR,
                        REFUSED_STREAM,
                        RST_STREAM, SETTINGS, GOAWAY, H2Client, RawH2, closed, frame, goaway_code)
from tls_helpers import cert_dev, client_context, https_get

ROUTES = """
- name: all
  match: { path_prefix: / }
  upstream: app
"""


def _config(http2: str = "", plain_http2: bool = False, tls_http2: str = "") -> str:
    """The usual plain listener (`http2: true` on it with `plain_http2`) plus an HTTPS one at ${tls_listen};
    `http2` is the body of `server.http2`."""
    lines = ["listeners:",
             "  - address: ${h2c_listen}" if plain_http2 else "",
             "    http2: true" if plain_http2 else "",
             "  - address: ${tls_listen}", "    tls:", "      certificates:",
             "        - { cert: '${cert}', key: '${key}' }"]
    if tls_http2:
        lines.append(f"    http2: {tls_http2}")
    if http2:
        lines += ["http2:"] + ["  " + line for line in textwrap.dedent(http2).strip().splitlines()]
    server = "\n".join(line for line in lines if line)
    return make_config(upstreams='app: { replicas: ["${b0}"] }', routes=ROUTES, server=server)


@pytest.fixture
def h2gw(tmp_path, gateway, backends):
    """Factory: an HTTPS (h2) gateway → (gateway, tls_port, ssl context, certs, h2c_port)."""
    certs = cert_dev(tmp_path / "certs")

    def start(http2: str = "", plain_http2: bool = False, tls_http2: str = "", n_backends: int = 1):
        tls_port, h2c_port = free_port(), free_port()
        gw = gateway(_config(http2, plain_http2, tls_http2), backends=backends(n_backends),
                     tls_listen=f"127.0.0.1:{tls_port}", h2c_listen=f"127.0.0.1:{h2c_port}",
                     cert=certs["cert"], key=certs["key"])
        return gw, tls_port, client_context(certs["ca"]), certs, h2c_port

    return start


def _log_entries(gw, predicate):
    out = []
    for line in gw.log().splitlines():
        if "{" not in line:
            continue
        try:
            entry = json.loads(line[line.index("{"):])
        except ValueError:
            continue
        if predicate(entry):
            out.append(entry)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Serving HTTP/2


def test_curl_http2_over_tls_goes_through_the_proxy_and_is_logged_as_http2(h2gw):
    gw, port, _, certs, _ = h2gw()
    done = subprocess.run(
        ["curl", "-sS", "--http2", "--cacert", str(certs["ca"]), "-w", "\\n%{http_version}",
         "-H", "X-Forwarded-Proto: http", f"https://localhost:{port}/h2/curl?x=1"],
        capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    body, version = done.stdout.rsplit("\n", 1)
    assert version == "2"
    echo = json.loads(body)
    seen = {name.lower(): value for name, value in echo["headers"]}
    assert echo["path"] == "/h2/curl" and echo["query"] == "x=1"
    # Upstream side is HTTP/1.1 with the usual forwarded headers; :authority became Host.
    assert seen["x-forwarded-proto"] == "https" and seen["host"] == f"localhost:{port}"
    assert "x-request-id" in seen
    entry = wait_for(lambda: _log_entries(gw, lambda e: e.get("uri") == "/h2/curl?x=1"), 10, what="access log")[0]
    assert entry["protocol"] == "HTTP/2" and entry["status"] == 200 and entry["tls"] in ("TLSv1.3", "TLSv1.2")
    # The same listener still speaks HTTP/1.1 to clients that do not offer h2.
    done = subprocess.run(["curl", "-sS", "--http1.1", "--cacert", str(certs["ca"]), "-o", "/dev/null",
                           "-w", "%{http_version}", f"https://localhost:{port}/h1"],
                          capture_output=True, text=True, timeout=30)
    assert done.stdout == "1.1", done.stderr
    h1 = https_get(port, "/h1-python", client_context(certs["ca"]))
    assert h1.status == 200


def test_http2_false_on_a_tls_listener_offers_only_http11(h2gw):
    _, port, ctx, certs, _ = h2gw(tls_http2="false")
    done = subprocess.run(["curl", "-sS", "--http2", "--cacert", str(certs["ca"]), "-o", "/dev/null",
                           "-w", "%{http_version}", f"https://localhost:{port}/"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and done.stdout == "1.1", done.stderr


def test_h2c_prior_knowledge_and_http11_share_a_plain_listener(h2gw):
    gw, _, _, _, h2c_port = h2gw(plain_http2=True)
    done = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-w", "\\n%{http_version}",
                           f"http://127.0.0.1:{h2c_port}/h2c"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    body, version = done.stdout.rsplit("\n", 1)
    assert version == "2"
    assert {n.lower(): v for n, v in json.loads(body)["headers"]}["x-forwarded-proto"] == "http"
    with H2Client(h2c_port) as client:
        resp = client.get("/h2c-python")
        assert resp["headers"][":status"] == "200"
    # HTTP/1.1 on the same port, and curl's `--http2` (Upgrade: h2c) is answered in HTTP/1.1.
    done = subprocess.run(["curl", "-sS", "--http1.1", "-o", "/dev/null", "-w", "%{http_version}",
                           f"http://127.0.0.1:{h2c_port}/h1"], capture_output=True, text=True, timeout=30)
    assert done.stdout == "1.1", done.stderr
    done = subprocess.run(["curl", "-sS", "--http2", "-o", "/dev/null", "-w", "%{http_code} %{http_version}",
                           f"http://127.0.0.1:{h2c_port}/upgrade"], capture_output=True, text=True, timeout=30)
    assert done.stdout == "200 1.1", done.stderr
    # The default plain listener (no `http2: true`) does not speak h2c.
    done = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_version}",
                           f"http://127.0.0.1:{gw.port}/"], capture_output=True, text=True, timeout=30)
    assert done.stdout != "2"


def test_100_concurrent_streams_on_one_connection_run_in_parallel(h2gw):
    _, port, ctx, _, _ = h2gw(n_backends=1)
    with H2Client(port, ctx) as client:
        started = time.monotonic()
        ids = [client.request("GET", f"/slow?ms=300&i={i}") for i in range(100)]
        responses = client.wait(ids, timeout=60)
        elapsed = time.monotonic() - started
    assert all(r["headers"][":status"] == "200" for r in responses)
    queries = sorted(json.loads(r["body"])["query"] for r in responses)
    assert queries == sorted(f"ms=300&i={i}" for i in range(100))
    # Serially this would be 30 s; in parallel a few hundred ms plus connection setup to the upstream.
    assert elapsed < 10, elapsed


def test_request_bodies_and_streamed_responses_over_http2(h2gw):
    _, port, ctx, _, _ = h2gw()
    body = bytes(range(256)) * 4096  # 1 MiB, more than every initial flow-control window
    with H2Client(port, ctx) as client:
        post = client.request("POST", "/upload", [("content-type", "application/octet-stream")], body=body)
        stream = client.request("GET", "/stream?chunks=5&interval_ms=20")
        download = client.request("GET", "/bytes?n=3000000")
        r_post, r_stream, r_download = client.wait([post, stream, download], timeout=60)
    import hashlib
    echo = json.loads(r_post["body"])
    assert echo["body_length"] == len(body) and echo["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert r_stream["headers"][":status"] == "200" and r_stream["body"].count(b"\n") == 5
    assert len(r_download["body"]) == 3_000_000
    # No HTTP/1 connection headers leak into HTTP/2 responses (they are illegal there).
    for r in (r_post, r_stream, r_download):
        assert not {"connection", "transfer-encoding", "keep-alive"} & set(r["headers"])


def test_local_answers_limits_and_errors_per_stream(h2gw):
    """404/413 answered by the gateway on one stream leave the connection serving the others."""
    _, port, ctx, _, _ = h2gw()
    with H2Client(port, ctx) as client:
        missing = client.request("GET", "/%2e%2e/x/%00")
        fine = client.request("GET", "/fine")
        r_missing, r_fine = client.wait([missing, fine])
        assert r_missing["headers"][":status"] == "400"
        assert r_missing["headers"]["content-type"] == "application/problem+json"
        assert r_fine["headers"][":status"] == "200"
        again = client.get("/again")
        assert again["headers"][":status"] == "200"


def test_max_concurrent_streams_is_announced_and_enforced(h2gw):
    _, port, ctx, _, _ = h2gw(http2="max_concurrent_streams: 3")
    raw = RawH2(port, ctx)
    settings = raw.read_frames(lambda fs: any(f[0] == SETTINGS and not f[1] & 1 for f in fs))
    payload = next(f[3] for f in settings if f[0] == SETTINGS and not f[1] & 1)
    announced = {int.from_bytes(payload[i:i + 2], "big"): int.from_bytes(payload[i + 2:i + 6], "big")
                 for i in range(0, len(payload), 6)}
    assert announced[0x3] == 3  # SETTINGS_MAX_CONCURRENT_STREAMS
    # Four slow requests at once: the fourth is refused, the first three are answered.
    for i in range(4):
        raw.send(frame(HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, raw.headers_block(f"/slow?ms=500&i={i}")))
    frames = raw.read_frames(lambda fs: sum(1 for f in fs if f[0] == HEADERS) >= 3, timeout=20)
    # nio-http2 treats the excess stream as a protocol violation: RST_STREAM on it, or GOAWAY PROTOCOL_ERROR
    # naming the last stream it still serves; either way stream 7 is never answered and 1, 3, 5 are.
    resets = [(f[2], int.from_bytes(f[3], "big")) for f in frames if f[0] == RST_STREAM]
    refused = resets == [(7, REFUSED_STREAM)] or resets == [(7, PROTOCOL_ERROR)] or \
        goaway_code(frames) == PROTOCOL_ERROR
    assert refused, [f[:3] for f in frames]
    assert sorted({f[2] for f in frames if f[0] == HEADERS}) == [1, 3, 5]
    raw.close()


def test_header_list_limit_and_hpack_bomb_close_only_that_connection(h2gw):
    gw, port, ctx, _, _ = h2gw(http2="max_header_list_bytes: 8KiB")
    with H2Client(port, ctx) as bystander:
        assert bystander.get("/before")["headers"][":status"] == "200"
        # HPACK bomb: one 4 KiB header indexed once, then referenced 200 times (a few hundred bytes on the
        # wire, 800 KiB decoded).
        raw = RawH2(port, ctx)
        raw.read_frames(lambda fs: any(f[0] == SETTINGS for f in fs))
        block = raw.headers_block("/bomb", [("x-bomb", "b" * 4000)] * 200)
        assert len(block) < 5000
        raw.send(frame(HEADERS, END_HEADERS | END_STREAM, 1, block))
        frames = raw.read_frames(lambda fs: closed(fs) or goaway_code(fs) is not None, timeout=15)
        assert goaway_code(frames) is not None or closed(frames), frames
        assert not any(f[0] == HEADERS for f in frames), frames
        raw.close()
        # A plain oversized header (9 KiB) is refused too.
        with H2Client(port, ctx) as big:
            big.wait_for_settings()
            stream = big.request("GET", "/big", [("x-big", "y" * 9000)])
            try:
                r = big.wait([stream], timeout=15)[0]
                assert r["headers"] is None and r["reset"] is not None, r
            except ConnectionError:
                pass  # GOAWAY: the header block could not be decoded within the limit
        assert bystander.get("/after")["headers"][":status"] == "200"
    assert gw.get("/plain").status == 200


@pytest.mark.parametrize("flood", ["rapid_reset", "continuation", "ping", "settings"])
def test_floods_get_goaway_enhance_your_calm_and_other_clients_are_unaffected(h2gw, flood):
    gw, port, ctx, _, _ = h2gw(http2="""
        max_resets: 50
        reset_window: 10s
        max_control_frames: 50
        control_frame_window: 10s
    """)
    with H2Client(port, ctx) as bystander:
        assert bystander.get("/before")["headers"][":status"] == "200"
        raw = RawH2(port, ctx)
        raw.read_frames(lambda fs: any(f[0] == SETTINGS for f in fs))
        if flood == "rapid_reset":
            # CVE-2023-44487: open a stream and cancel it at once, over and over.
            burst = b"".join(frame(HEADERS, END_HEADERS, sid, raw.headers_block(f"/slow?ms=2000&s={sid}"))
                             + frame(RST_STREAM, 0, sid, (0x8).to_bytes(4, "big"))
                             for sid in range(1, 2 * 200, 2))
        elif flood == "continuation":
            # CVE-2024-27316: a header block that never ends, in tiny CONTINUATION frames.
            burst = frame(HEADERS, 0, 1, raw.headers_block("/cont")) + b"".join(
                frame(CONTINUATION, 0, 1, b"\x40\x01a\x01b") for _ in range(2000))
        elif flood == "ping":
            burst = b"".join(frame(PING, 0, 0, i.to_bytes(8, "big")) for i in range(500))
        else:
            burst = b"".join(frame(SETTINGS, 0, 0, b"\x00\x03\x00\x00\x00\x64") for _ in range(500))
        raw.send(burst)
        frames = raw.read_frames(closed, timeout=20)
        assert goaway_code(frames) == ENHANCE_YOUR_CALM, [f[:3] for f in frames][-10:]
        assert closed(frames)
        raw.close()
        # The other connection, and new ones, are served as before.
        assert bystander.get("/after")["headers"][":status"] == "200"
    with H2Client(port, ctx) as fresh:
        assert fresh.get("/fresh")["headers"][":status"] == "200"
    metrics = gw.admin("GET", "/metrics").body.decode()
    assert "gateway_http2_flood_closes_total" in metrics


def test_resets_below_the_limit_are_fine_and_abort_the_upstream_request(h2gw):
    _, port, ctx, _, _ = h2gw(http2="max_resets: 50")
    with H2Client(port, ctx) as client:
        for _ in range(10):
            stream = client.request("GET", "/slow?ms=3000")
            client.conn.reset_stream(stream, error_code=0x8)
            client.flush()
        assert client.get("/still-fine")["headers"][":status"] == "200"


def test_slow_http2_reader_is_flow_controlled_and_memory_stays_flat(h2gw):
    """A 64 MiB download read slowly: flow control holds the gateway, which holds the upstream; RSS stays flat."""
    gw, port, ctx, _, _ = h2gw()
    size = 64 * 1024 * 1024
    with H2Client(port, ctx) as client:
        client.auto_ack = False
        client.discard_body = True
        stream = client.request("GET", f"/bytes?n={size}")
        response = client.responses[stream]
        # Without WINDOW_UPDATEs only the initial 64 KiB window can arrive; the gateway must then hold still.
        deadline = time.monotonic() + 5
        while response["length"] < 65535 and time.monotonic() < deadline:
            client.pump(timeout=5)
        time.sleep(1.5)
        client.sock.settimeout(0.5)
        try:
            client.pump(timeout=0.5)
        except OSError:
            pass
        assert response["length"] <= 65535, response["length"]
        stalled_rss = rss_kib(gw.pid)
        # Now read it all, acknowledging as we go.
        client.auto_ack = True
        client.conn.acknowledge_received_data(response["length"], stream)
        client.flush()
        peak = stalled_rss
        reads = 0
        while not response["ended"]:
            assert client.pump(timeout=30), "connection closed mid-download"
            reads += 1
            if reads % 200 == 0:
                peak = max(peak, rss_kib(gw.pid))
    assert response["length"] == size
    assert peak - stalled_rss < 48 * 1024, (stalled_rss, peak)


def test_graceful_shutdown_sends_goaway_and_finishes_open_streams(h2gw):
    """SIGTERM: GOAWAY NO_ERROR naming the open stream, the stream is still answered, then close and exit 0.
    (Hand-made frames: python-h2 refuses frames after a GOAWAY, which RFC 9113 §6.8 allows.)"""
    gw, port, ctx, _, _ = h2gw()
    raw = RawH2(port, ctx)
    raw.read_frames(lambda fs: any(f[0] == SETTINGS for f in fs))
    raw.send(frame(HEADERS, END_HEADERS | END_STREAM, 1, raw.headers_block("/slow?ms=800")))
    time.sleep(0.2)
    gw.send_signal(15)
    frames = raw.read_frames(closed, timeout=20)
    kinds = [f[0] for f in frames]
    assert GOAWAY in kinds and HEADERS in kinds, kinds
    goaway = next(f for f in frames if f[0] == GOAWAY)
    assert int.from_bytes(goaway[3][:4], "big") == 1 and goaway_code(frames) == 0
    assert kinds.index(GOAWAY) < kinds.index(HEADERS)
    head = hpack.Decoder().decode(next(f[3] for f in frames if f[0] == HEADERS and f[2] == 1))
    assert (":status", "200") in head, head
    assert any(f[0] == DATA and f[1] & END_STREAM and f[2] == 1 for f in frames), frames
    assert closed(frames)
    assert gw.proc.wait(15) == 0


@pytest.mark.skipif(shutil.which("h2load") is None, reason="h2load (nghttp2-client) not installed")
def test_h2load_smoke(h2gw):
    _, port, _, _, _ = h2gw()
    done = subprocess.run(["h2load", "-n", "400", "-c", "4", "-m", "10", f"https://127.0.0.1:{port}/"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "400 succeeded, 0 failed, 0 errored" in done.stdout, done.stdout
    assert "h2" in done.stdout
