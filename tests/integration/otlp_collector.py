"""A small OTLP/HTTP (protobuf) trace receiver for the tracing tests: `POST /v1/traces` bodies are decoded with
`opentelemetry-proto` into plain `Span` records, kept in memory, and can be waited for."""

from __future__ import annotations

import gzip
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

KIND = {
    trace_pb2.Span.SPAN_KIND_INTERNAL: "internal",
    trace_pb2.Span.SPAN_KIND_SERVER: "server",
    trace_pb2.Span.SPAN_KIND_CLIENT: "client",
    trace_pb2.Span.SPAN_KIND_PRODUCER: "producer",
    trace_pb2.Span.SPAN_KIND_CONSUMER: "consumer",
}
STATUS = {
    trace_pb2.Status.STATUS_CODE_UNSET: "unset",
    trace_pb2.Status.STATUS_CODE_OK: "ok",
    trace_pb2.Status.STATUS_CODE_ERROR: "error",
}


def _value(any_value):
    kind = any_value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in any_value.array_value.values]
    return getattr(any_value, kind) if kind else None


@dataclass
class Span:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: str
    attributes: dict
    status: str
    status_message: str
    events: list[str]
    service: str
    start_ns: int
    end_ns: int
    resource: dict = field(default_factory=dict)


class Collector:
    def __init__(self):
        self.spans: list[Span] = []
        self.requests = 0
        self.content_types: set[str] = set()
        self.lock = threading.Condition()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces":
                    self.send_response(404)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                request = trace_service_pb2.ExportTraceServiceRequest()
                request.ParseFromString(body)
                collector._add(request, self.headers.get("content-type", ""))
                reply = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "Collector":
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def _add(self, request, content_type: str):
        spans = []
        for resource_spans in request.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for s in scope_spans.spans:
                    spans.append(Span(
                        name=s.name, trace_id=s.trace_id.hex(), span_id=s.span_id.hex(),
                        parent_span_id=s.parent_span_id.hex(), kind=KIND.get(s.kind, str(s.kind)),
                        attributes={a.key: _value(a.value) for a in s.attributes},
                        status=STATUS.get(s.status.code, str(s.status.code)), status_message=s.status.message,
                        events=[e.name for e in s.events], service=resource.get("service.name", ""),
                        start_ns=s.start_time_unix_nano, end_ns=s.end_time_unix_nano, resource=resource))
        with self.lock:
            self.requests += 1
            self.content_types.add(content_type)
            self.spans.extend(spans)
            self.lock.notify_all()

    def trace(self, trace_id: str) -> list[Span]:
        with self.lock:
            return [s for s in self.spans if s.trace_id == trace_id]

    def wait_for(self, predicate, timeout: float = 20.0, what: str = "spans") -> list[Span]:
        """Waits until `predicate(all spans)` is truthy; returns all spans."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                if predicate(self.spans):
                    return list(self.spans)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out waiting for {what}; have {len(self.spans)} spans: "
                                         f"{[(s.name, s.trace_id[:8]) for s in self.spans][:20]}")
                self.lock.wait(remaining)

    def wait_trace(self, trace_id: str, count: int, timeout: float = 20.0) -> list[Span]:
        self.wait_for(lambda spans: sum(1 for s in spans if s.trace_id == trace_id) >= count, timeout,
                      what=f"{count} spans of trace {trace_id}")
        return self.trace(trace_id)

    def wait_complete(self, trace_id: str, timeout: float = 20.0) -> list[Span]:
        """Waits for the trace's server span. Its children end before it, and spans are exported in the order they
        end, so once it is in, the whole trace is."""
        self.wait_for(lambda spans: any(s.trace_id == trace_id and s.kind == "server" for s in spans), timeout,
                      what=f"the server span of trace {trace_id}")
        return self.trace(trace_id)
