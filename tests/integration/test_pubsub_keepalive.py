"""Pub/sub sockets are kept alive by the gateway: after `client_idle` without a byte from the client it sends a
ping; a client that answers stays connected, one that never answers is closed with 1001 after another period."""

from __future__ import annotations

import base64
import os
import socket
import struct
import time

from websockets.sync.client import connect

from harness import make_config

CONFIG = make_config(
    upstreams='app: { replicas: ["${b0}"] }',
    routes="""
- name: events
  match: { path: /ws }
  pubsub:
    subscribe: ["public:*"]
    publish: []
""",
    server="timeouts: { client_header: 5s, client_idle: 1s }",
)


def test_a_client_that_answers_pings_stays_connected(gateway, backends):
    gw = gateway(CONFIG, backends=backends(1))
    with connect(f"ws://127.0.0.1:{gw.port}/ws?subscribe=public:a", open_timeout=10) as ws:
        assert "subscribed" in ws.recv(timeout=5)
        # Silent for 3.5 idle periods: the library answers the gateway's pings, so the socket must stay open.
        time.sleep(3.5)
        ws.ping().wait(timeout=5)


def _raw_handshake(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def test_a_client_that_never_answers_is_pinged_then_closed_with_1001(gateway, backends):
    gw = gateway(CONFIG, backends=backends(1))
    sock = _raw_handshake(gw.port)
    started = time.monotonic()
    received = b""
    sock.settimeout(6)
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            break
        received += chunk
    elapsed = time.monotonic() - started
    # A ping (0x89, empty) after ~1 s, then a close frame (0x88) with code 1001 after ~2 s, then EOF.
    assert received.startswith(b"\x89\x00"), received
    close_at = received.index(b"\x88")
    (code,) = struct.unpack("!H", received[close_at + 2:close_at + 4])
    assert code == 1001, received
    assert 1.5 <= elapsed <= 4.5, elapsed
