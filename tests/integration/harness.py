"""Process and socket helpers for the integration tests (imported by conftest.py and the tests).

Everything here talks to real processes over real sockets on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GATEWAY_BIN = os.environ.get("GATEWAY_BIN") or str(REPO / ".build" / "debug" / "gateway")
DEMO_BIN = os.environ.get("DEMO_BIN") or str(REPO / ".build" / "debug" / "demo-backend")
if not os.path.isabs(GATEWAY_BIN):
    GATEWAY_BIN = str(REPO / GATEWAY_BIN)
if not os.path.isabs(DEMO_BIN):
    DEMO_BIN = str(REPO / DEMO_BIN)

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
PATTERN = b"abcdefghijklmnopqrstuvwxyz"


# ---------------------------------------------------------------------------------------------------------------
# small utilities


_handed_out: set[int] = set()


def free_port() -> int:
    """A port the OS considers free right now (bind 127.0.0.1:0, read it, close), never one this process handed out
    before: the OS may give the same ephemeral port to two binds in a row, and a gateway whose `listen` and
    `admin_listen` got the same port cannot start (seen once in CI)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def wait_for(predicate, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Polls `predicate` until it returns a truthy value; returns it, or raises TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except Exception:  # noqa: BLE001 - "not yet" for our purposes
            value = None
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def port_accepts(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def pattern_sha256(n: int) -> str:
    """SHA-256 of the first `n` bytes demo-backend's `/bytes` serves (byte i = 'a' + i % 26)."""
    block = PATTERN * (1 << 15)  # 851,968 bytes, a multiple of 26
    h = hashlib.sha256()
    while n > 0:
        take = min(n, len(block))
        h.update(block[:take])
        n -= take
    return h.hexdigest()


def rss_kib(pid: int) -> int:
    """Resident set size of a process, in KiB (Linux)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# ---------------------------------------------------------------------------------------------------------------
# a minimal HTTP/1.1 client over raw sockets: full control of bytes sent, keep-alive and pipelining


@dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    version: str = "HTTP/1.1"

    def header(self, name: str, default: str | None = None) -> str | None:
        """First value of a response header (case-insensitive)."""
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()


class ConnectionClosed(Exception):
    """The server closed the connection before a complete response arrived."""


class HTTPConnection:
    """One TCP connection to a server; send requests and read responses one at a time, in order."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.host = f"{host}:{port}"

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data: bytes):
        self.sock.sendall(data)

    def send(self, method: str, target: str, headers=None, body: bytes | None = None, host: str | None = None):
        lines = [f"{method} {target} HTTP/1.1", f"Host: {host or self.host}"]
        for k, v in headers.items() if isinstance(headers, dict) else (headers or []):
            lines.append(f"{k}: {v}")
        if body is not None and not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in _pairs(headers)):
            lines.append(f"Content-Length: {len(body)}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))

    def request(self, method: str, target: str, headers=None, body: bytes | None = None, host: str | None = None) -> Response:
        self.send(method, target, headers, body, host)
        return self.read_response(head_request=(method == "HEAD"))

    # -- reading

    def _fill(self) -> bool:
        data = self.sock.recv(1 << 16)
        if not data:
            return False
        self.buffer += data
        return True

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            if not self._fill():
                raise ConnectionClosed(f"closed while waiting for {marker!r}; have {self.buffer[:200]!r}")
        index = self.buffer.index(marker)
        out, self.buffer = self.buffer[:index], self.buffer[index + len(marker):]
        return out

    def _read_exact(self, n: int) -> bytes:
        while len(self.buffer) < n:
            if not self._fill():
                raise ConnectionClosed(f"closed with {len(self.buffer)} of {n} body bytes")
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def read_response(self, head_request: bool = False) -> Response:
        while True:
            head = self._read_until(b"\r\n\r\n").decode("latin-1")
            lines = head.split("\r\n")
            version, status, *reason = lines[0].split(" ", 2)
            headers = []
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers.append((name.strip(), value.strip()))
            status = int(status)
            if 100 <= status < 200 and status != 101:
                continue  # interim response
            break
        resp = Response(status, reason[0] if reason else "", headers, b"", version)
        if head_request or status in (204, 304) or status == 101:
            return resp
        te = (resp.header("transfer-encoding") or "").lower()
        if "chunked" in te:
            body = bytearray()
            while True:
                size_line = self._read_until(b"\r\n")
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    # trailers until an empty line
                    while self._read_until(b"\r\n"):
                        pass
                    break
                body += self._read_exact(size)
                self._read_exact(2)
            resp.body = bytes(body)
        elif resp.header("content-length") is not None:
            resp.body = self._read_exact(int(resp.header("content-length")))
        else:
            while self._fill():
                pass
            resp.body, self.buffer = self.buffer, b""
        return resp

    def is_closed_by_peer(self, timeout: float = 2.0) -> bool:
        """True when the server closes (EOF or reset) within `timeout` without sending more bytes."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1)
            return data == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


def _pairs(headers):
    if headers is None:
        return []
    return list(headers.items()) if isinstance(headers, dict) else list(headers)


def request(port: int, method: str, target: str, headers=None, body: bytes | None = None, host: str | None = None,
            timeout: float = 10.0) -> Response:
    """One request on a fresh connection."""
    with HTTPConnection(port, timeout=timeout) as conn:
        return conn.request(method, target, headers, body, host)


def get(port: int, target: str, headers=None, **kw) -> Response:
    return request(port, "GET", target, headers, **kw)


def echo_headers(resp: Response) -> dict[str, list[str]]:
    """The headers demo-backend saw, from its echo body: lower-case name → values in order."""
    out: dict[str, list[str]] = {}
    for name, value in resp.json()["headers"]:
        out.setdefault(name.lower(), []).append(value)
    return out


def assert_problem(resp: Response, status: int):
    """The gateway's own errors: application/problem+json with status, title, detail, request_id."""
    assert resp.status == status, f"expected {status}, got {resp.status}: {resp.body[:300]!r}"
    assert resp.content_type == "application/problem+json", resp.headers
    doc = resp.json()
    assert doc.get("status") == status, doc
    assert isinstance(doc.get("title"), str) and doc["title"], doc
    assert isinstance(doc.get("detail"), str), doc
    assert isinstance(doc.get("request_id"), str) and doc["request_id"], doc
    return doc


# ---------------------------------------------------------------------------------------------------------------
# processes


@dataclass
class Backend:
    """A demo-backend process."""

    name: str
    port: int
    log_path: Path
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0):
        self.log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [DEMO_BIN, "--host", "127.0.0.1", "--port", str(self.port), "--name", self.name],
            stdout=self.log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )

        def healthy():
            if self.proc.poll() is not None:
                raise RuntimeError(f"demo-backend {self.name} exited: {self.log_path.read_text()[-2000:]}")
            return get(self.port, "/health", timeout=1).status == 200

        deadline = time.monotonic() + timeout
        while True:
            try:
                if healthy():
                    return self
            except RuntimeError:
                raise
            except Exception:  # noqa: BLE001
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"demo-backend {self.name} on :{self.port} did not become healthy")
            time.sleep(0.05)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "log_file", None):
            self.log_file.close()
            self.log_file = None

    def set_health(self, status: int):
        assert request(self.port, "POST", f"/admin/health?status={status}", body=b"").status == 200


_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def substitute(text: str, values: dict[str, object]) -> str:
    """Replaces `${name}` placeholders; an unknown name is a test bug and raises KeyError."""

    def repl(m):
        if m.group(1) not in values:
            raise KeyError(f"unknown placeholder ${{{m.group(1)}}}; known: {sorted(values)}")
        return str(values[m.group(1)])

    return _PLACEHOLDER.sub(repl, text)


@dataclass
class Gateway:
    """A gateway process started from a YAML text with placeholders.

    Placeholders: `${listen}` / `${admin_listen}` (127.0.0.1:PORT), `${port}`, `${admin_port}`, `${b0}`, `${b1}`…
    (URLs of the backends passed in), `${dir}` (the config directory), `${redis_url}` (when a Redis was asked for),
    `${closed_url}` (a URL where nothing listens), plus any extra keyword values.
    """

    workdir: Path
    values: dict[str, object]
    env: dict[str, str]
    args: list[str] | None = None
    proc: subprocess.Popen | None = None
    config_path: Path = field(init=False)
    log_path: Path = field(init=False)

    def __post_init__(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = self.workdir / "gateway.yaml"
        self.log_path = self.workdir / "gateway.log"

    @property
    def port(self) -> int:
        return int(self.values["port"])

    @property
    def admin_port(self) -> int:
        return int(self.values["admin_port"])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def write_config(self, text: str, files: dict[str, str] | None = None):
        """(Re)writes the main config file (and extra files relative to it) with placeholders filled in."""
        for rel, content in (files or {}).items():
            path = self.workdir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(substitute(content, self.values))
        self.config_path.write_text(substitute(text, self.values))

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_excerpt(self, limit: int = 4000) -> str:
        """Head and tail of the log (a crash report's cause is at its top)."""
        text = self.log()
        if len(text) <= limit:
            return text
        return text[: limit // 2] + "\n[…]\n" + text[-limit // 2:]

    def start(self, wait: bool = True, timeout: float = 20.0):
        self.log_file = open(self.log_path, "ab")
        argv = self.args or ["serve", "--config", str(self.config_path)]
        self.proc = subprocess.Popen(
            [GATEWAY_BIN, *argv], stdout=self.log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=self.env, cwd=str(self.workdir),
        )
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 20.0):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gateway exited with {self.proc.returncode} before it was ready:\n{self.log_excerpt()}")
            try:
                if port_accepts(self.port) and get(self.admin_port, "/healthz", timeout=1).status == 200:
                    return
            except Exception:  # noqa: BLE001
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"gateway not ready after {timeout}s (listen :{self.port}, admin :{self.admin_port}):\n"
                                   f"{self.log_excerpt()}")
            time.sleep(0.05)

    def send_signal(self, sig: int):
        self.proc.send_signal(sig)

    def reload(self):
        """SIGHUP."""
        self.proc.send_signal(signal.SIGHUP)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "log_file", None):
            self.log_file.close()
            self.log_file = None
        return self.proc.returncode

    # convenience: requests through the gateway
    def get(self, target: str, headers=None, **kw) -> Response:
        return request(self.port, "GET", target, headers, **kw)

    def request(self, method: str, target: str, headers=None, body: bytes | None = None, **kw) -> Response:
        return request(self.port, method, target, headers, body, **kw)

    def admin(self, method: str, target: str, headers=None, body: bytes | None = None, **kw) -> Response:
        return request(self.admin_port, method, target, headers, body, **kw)

    def connect(self, timeout: float = 10.0) -> HTTPConnection:
        return HTTPConnection(self.port, timeout=timeout)


def run_gateway(*args: str, timeout: float = 30.0, cwd: str | None = None) -> subprocess.CompletedProcess:
    """Runs the gateway CLI to completion (check, --version…), capturing stdout and stderr as text."""
    return subprocess.run([GATEWAY_BIN, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, cwd=cwd or str(REPO))


# ---------------------------------------------------------------------------------------------------------------
# config text helpers


def _block(text: str, indent: str) -> str:
    import textwrap

    text = textwrap.dedent(text).strip("\n")
    return textwrap.indent(text, indent) + "\n" if text else ""


def make_config(upstreams: str, routes: str, server: str = "", top: str = "") -> str:
    """A gateway.yaml with `server.listen`/`admin_listen` placeholders filled by the `gateway` fixture.

    `upstreams` and `routes` are YAML blocks written at column 0 (they are indented under their keys);
    `server` adds keys under `server:`; `top` adds top-level YAML at the end.
    """
    return (
        "server:\n"
        "  listen: ${listen}\n"
        "  admin_listen: ${admin_listen}\n"
        "  access_log: stdout\n"
        + _block(server, "  ")
        + "upstreams:\n"
        + _block(upstreams, "  ")
        + "routes:\n"
        + _block(routes, "  ")
        + _block(top, "")
    )


# ---------------------------------------------------------------------------------------------------------------
# Redis


@dataclass
class RedisServer:
    """A private redis-server process (for tests that stop the store mid-test)."""

    port: int
    workdir: Path
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.workdir),
             "--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        )
        wait_for(lambda: redis_command(self.port, "PING") == "PONG", 10, what=f"redis-server on :{self.port}")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def _resp_encode(*args) -> bytes:
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(f"${len(data)}\r\n".encode() + data + b"\r\n")
    return b"".join(out)


def redis_command(port_or_url, *args, timeout: float = 2.0):
    """One Redis command over a fresh connection (RESP2). Returns str/int/list/None; raises on -ERR."""
    if isinstance(port_or_url, str):
        m = re.match(r"redis://(?:[^@]*@)?([^:/]+):(\d+)(?:/(\d+))?", port_or_url)
        host, port, db = m.group(1), int(m.group(2)), int(m.group(3) or 0)
    else:
        host, port, db = "127.0.0.1", int(port_or_url), 0
    with socket.create_connection((host, port), timeout=timeout) as s:
        f = s.makefile("rb")
        if db:
            s.sendall(_resp_encode("SELECT", db))
            _resp_read(f)
        s.sendall(_resp_encode(*args))
        return _resp_read(f)


def _resp_read(f):
    line = f.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode(errors="replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_resp_read(f) for _ in range(n)]
    raise RuntimeError(f"bad RESP line {line!r}")
