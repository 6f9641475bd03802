"""TLS helpers for the integration tests: certificates made by `gateway cert dev`, HTTPS requests with Python's
`ssl` (explicit SNI, trust and client certificates), and a small HTTPS upstream."""

from __future__ import annotations

import http.server
import json
import socket
import ssl
import subprocess
import threading
from pathlib import Path

from harness import GATEWAY_BIN, HTTPConnection


def cert_dev(out: Path, *names: str) -> dict[str, Path]:
    """Runs `gateway cert dev --out OUT [--name …]`; returns the four paths."""
    argv = [GATEWAY_BIN, "cert", "dev", "--out", str(out)]
    for name in names:
        argv += ["--name", name]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    return {
        "ca": out / "ca.pem", "ca_key": out / "ca-key.pem",
        "cert": out / "localhost.pem", "key": out / "localhost-key.pem", "stdout": done.stdout,
    }


def client_context(cafile: Path | None, certfile: Path | None = None, keyfile: Path | None = None,
                   maximum: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(cafile)) if cafile else ssl._create_unverified_context()
    if maximum is not None:
        ctx.maximum_version = maximum
    if certfile:
        ctx.load_cert_chain(str(certfile), str(keyfile))
    return ctx


class TLSConnection(HTTPConnection):
    """harness.HTTPConnection over TLS to 127.0.0.1:PORT with SNI `server_name`."""

    def __init__(self, port: int, ctx: ssl.SSLContext, server_name: str = "localhost", timeout: float = 10.0):
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = ctx.wrap_socket(raw, server_hostname=server_name)
        self.buffer = b""
        self.host = f"{server_name}:{port}"

    def peer_names(self) -> list[str]:
        return [v for k, v in self.sock.getpeercert().get("subjectAltName", ()) if k == "DNS"]


def https_get(port: int, target: str, ctx: ssl.SSLContext, server_name: str = "localhost", headers=None):
    with TLSConnection(port, ctx, server_name) as conn:
        return conn.request("GET", target, headers=headers)


class HTTPSUpstream:
    """An HTTPS HTTP/1.1 server in a thread: `/health` → 200, anything else → JSON of the request headers."""

    def __init__(self, certfile: Path, keyfile: Path, client_ca: Path | None = None):
        handler = _EchoHandler
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(certfile), str(keyfile))
        if client_ca:
            ctx.load_verify_locations(str(client_ca))
            ctx.verify_mode = ssl.CERT_REQUIRED
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class _EchoHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        body = b"ok" if self.path == "/health" else json.dumps(
            {"path": self.path, "headers": [[k, v] for k, v in self.headers.items()]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
