"""A scripted HTTP upstream for cache tests: each path answers what the test set (status, headers, body, delay)
and counts the requests it got, with their headers. Conditional requests are answered 304 when the script says
`etag`/`last_modified` match (as a real origin would)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import free_port


@dataclass
class Script:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b"hello"
    delay: float = 0.0
    # answer If-None-Match / If-Modified-Since with 304 when they match these
    etag: str | None = None
    last_modified: str | None = None


class ScriptedUpstream:
    def __init__(self):
        self.port = free_port()
        self.scripts: dict[str, Script] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.lock = threading.Lock()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self, head_only: bool):
                path = self.path.split("?")[0]
                with upstream.lock:
                    upstream.requests.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
                    script = upstream.scripts.get(path, Script())
                if script.delay:
                    time.sleep(script.delay)
                status, body = script.status, script.body
                inm = self.headers.get("If-None-Match")
                ims = self.headers.get("If-Modified-Since")
                if script.etag and inm and script.etag in [t.strip() for t in inm.split(",")]:
                    status, body = 304, b""
                elif script.last_modified and ims and not inm and ims == script.last_modified:
                    status, body = 304, b""
                self.send_response(status)
                for name, value in script.headers:
                    self.send_header(name, value)
                if script.etag:
                    self.send_header("ETag", script.etag)
                if script.last_modified:
                    self.send_header("Last-Modified", script.last_modified)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304 and not head_only:
                    self.wfile.write(body)

            def do_GET(self):
                self._answer(False)

            def do_HEAD(self):
                self._answer(True)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ScriptedUpstream":
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def script(self, path: str, **kw) -> Script:
        script = Script(**kw)
        with self.lock:
            self.scripts[path] = script
        return script

    def count(self, path: str | None = None) -> int:
        with self.lock:
            return sum(1 for _, p, _ in self.requests if path is None or p.split("?")[0] == path)

    def last_headers(self, path: str) -> dict[str, str]:
        with self.lock:
            return [h for _, p, h in self.requests if p.split("?")[0] == path][-1]
