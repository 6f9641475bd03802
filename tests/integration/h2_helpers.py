"""HTTP/2 client helpers for the integration tests: a blocking client on the python `h2` state machine (ALPN over
TLS, or h2c with prior knowledge), plus raw frame writing for the flood tests (which must send what a well-behaved
client library refuses to send)."""

from __future__ import annotations

import socket
import ssl
import struct
import time

import h2.config
import h2.connection
import h2.events
import h2.settings
import hpack

# Frame types and flags (RFC 9113 §6)
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
PROTOCOL_ERROR, REFUSED_STREAM, CANCEL, ENHANCE_YOUR_CALM = 0x1, 0x7, 0x8, 0xB
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frame(kind: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream_id) + payload


def open_socket(port: int, ctx: ssl.SSLContext | None, server_name: str = "localhost", timeout: float = 10.0):
    """TCP to 127.0.0.1:PORT; with `ctx`, TLS offering ALPN h2 only (asserts the server picked it)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if ctx is None:
        return raw
    ctx.set_alpn_protocols(["h2"])
    sock = ctx.wrap_socket(raw, server_hostname=server_name)
    assert sock.selected_alpn_protocol() == "h2", sock.selected_alpn_protocol()
    return sock


class H2Client:
    """A blocking HTTP/2 client: send requests on many streams, then `wait()` for their responses."""

    def __init__(self, port: int, ctx: ssl.SSLContext | None = None, authority: str | None = None,
                 timeout: float = 15.0, window: int | None = None):
        self.sock = open_socket(port, ctx, timeout=timeout)
        self.scheme = "https" if ctx else "http"
        self.authority = authority or f"localhost:{port}"
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        if window is not None:
            self.conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
        self.flush()
        self.responses: dict[int, dict] = {}
        self.events: list = []
        self.closed = False
        self.goaway: h2.events.ConnectionTerminated | None = None
        self.auto_ack = True
        # Count DATA bytes in "length" but keep none of them (large downloads).
        self.discard_body = False

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(self, method: str, path: str, headers=(), body: bytes | None = None) -> int:
        stream_id = self.conn.get_next_available_stream_id()
        fields = [(":method", method), (":scheme", self.scheme), (":authority", self.authority), (":path", path)]
        fields += list(headers)
        self.conn.send_headers(stream_id, fields, end_stream=body is None)
        self.responses[stream_id] = {"headers": None, "body": bytearray(), "length": 0, "trailers": None,
                                     "ended": False, "reset": None}
        self.flush()
        if body is not None:
            self.send_body(stream_id, body)
        return stream_id

    def send_body(self, stream_id: int, body: bytes, timeout: float = 30.0):
        """Sends `body` and END_STREAM, as fast as the server's flow-control windows allow."""
        deadline = time.monotonic() + timeout
        view = memoryview(body)
        while view:
            window = min(self.conn.local_flow_control_window(stream_id), self.conn.max_outbound_frame_size)
            if window <= 0:
                assert time.monotonic() < deadline, "flow-control window never reopened"
                if not self.pump(timeout=deadline - time.monotonic()):
                    raise ConnectionError("closed while sending a body")
                continue
            self.conn.send_data(stream_id, view[:window].tobytes())
            view = view[window:]
            self.flush()
        self.conn.end_stream(stream_id)
        self.flush()

    def wait_for_settings(self, timeout: float = 10.0):
        """Reads until the server's SETTINGS arrived (and our ACK went out), so its limits are in force."""
        deadline = time.monotonic() + timeout
        while not any(isinstance(e, h2.events.RemoteSettingsChanged) for e in self.events):
            assert time.monotonic() < deadline, "no SETTINGS from the server"
            if not self.pump(timeout=deadline - time.monotonic()):
                raise ConnectionError("closed before SETTINGS")

    def pump(self, timeout: float | None = None) -> bool:
        """Reads once and handles the events; False when the peer closed."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
            data = b""
        if not data:
            self.closed = True
            return False
        for event in self.conn.receive_data(data):
            self.events.append(event)
            self._handle(event)
        self.flush()
        return True

    def _handle(self, event):
        if isinstance(event, h2.events.ResponseReceived):
            self.responses[event.stream_id]["headers"] = dict(event.headers)
        elif isinstance(event, h2.events.DataReceived):
            self.responses[event.stream_id]["length"] += len(event.data)
            if not self.discard_body:
                self.responses[event.stream_id]["body"] += event.data
            if self.auto_ack:
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.TrailersReceived):
            self.responses[event.stream_id]["trailers"] = dict(event.headers)
        elif isinstance(event, h2.events.StreamEnded):
            self.responses[event.stream_id]["ended"] = True
        elif isinstance(event, h2.events.StreamReset):
            if event.stream_id in self.responses:
                self.responses[event.stream_id]["reset"] = event.error_code
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.goaway = event

    def wait(self, stream_ids, timeout: float = 30.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        pending = set(stream_ids)
        while pending:
            pending = {s for s in pending if not (self.responses[s]["ended"] or self.responses[s]["reset"] is not None)}
            if not pending:
                break
            if self.goaway is not None and (self.goaway.error_code != 0 or
                                            max(pending) > self.goaway.last_stream_id):
                # A graceful GOAWAY (NO_ERROR) still answers streams up to its last stream id.
                raise ConnectionError(f"GOAWAY {self.goaway.error_code} with streams {sorted(pending)} open")
            left = deadline - time.monotonic()
            assert left > 0, f"streams {sorted(pending)} not answered in {timeout}s"
            if not self.pump(timeout=left):
                raise ConnectionError(f"closed with streams {sorted(pending)} open; goaway={self.goaway}")
        return [self.responses[s] for s in stream_ids]

    def get(self, path: str, headers=()) -> dict:
        return self.wait([self.request("GET", path, headers)])[0]

    def close(self):
        try:
            self.conn.close_connection()
            self.flush()
        except Exception:
            pass
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class RawH2:
    """A connection that writes hand-made frames (after the preface and an empty SETTINGS) and reads frames back."""

    def __init__(self, port: int, ctx: ssl.SSLContext | None = None, timeout: float = 10.0):
        self.sock = open_socket(port, ctx, timeout=timeout)
        self.sock.sendall(PREFACE + frame(SETTINGS, 0, 0))
        self.buffer = b""
        self.encoder = hpack.Encoder()
        self.authority = f"localhost:{port}"
        self.scheme = "https" if ctx else "http"

    def send(self, data: bytes) -> bool:
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            return False

    def headers_block(self, path: str = "/", extra=()) -> bytes:
        return self.encoder.encode([(":method", "GET"), (":scheme", self.scheme), (":authority", self.authority),
                                    (":path", path), *extra])

    def read_frames(self, until, timeout: float = 10.0) -> list[tuple[int, int, int, bytes]]:
        """Reads frames until `until(frames)` is true or the peer closes; returns (type, flags, stream, payload)."""
        frames = []
        deadline = time.monotonic() + timeout
        while not until(frames):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            while len(self.buffer) >= 9:
                length = int.from_bytes(self.buffer[:3], "big")
                if len(self.buffer) < 9 + length:
                    break
                kind, flags = self.buffer[3], self.buffer[4]
                stream = int.from_bytes(self.buffer[5:9], "big") & 0x7FFFFFFF
                frames.append((kind, flags, stream, self.buffer[9:9 + length]))
                self.buffer = self.buffer[9 + length:]
                if kind == SETTINGS and not flags & ACK:
                    self.send(frame(SETTINGS, ACK, 0))
            if until(frames):
                break
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except (ConnectionResetError, ssl.SSLError, socket.timeout, OSError):
                data = b""
            if not data:
                frames.append(("closed", 0, 0, b""))
                break
            self.buffer += data
        return frames

    def close(self):
        self.sock.close()


def goaway_code(frames) -> int | None:
    for kind, _, _, payload in frames:
        if kind == GOAWAY:
            return int.from_bytes(payload[4:8], "big")
    return None


def closed(frames) -> bool:
    return any(f[0] == "closed" for f in frames)
