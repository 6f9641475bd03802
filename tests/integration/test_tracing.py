"""SPEC §12 tracing: OpenTelemetry spans exported over OTLP/HTTP (protobuf) to a real receiver (otlp_collector.py),
W3C traceparent/tracestate continued from clients and propagated to upstreams, trace_id in the access log."""

from __future__ import annotations

import json
import re

import pytest

from harness import echo_headers, make_config
from otlp_collector import Collector

CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"
TRACEPARENT_RE = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$")
# Short batch delay so spans arrive within a fraction of a second (a standard OpenTelemetry SDK variable, in ms).
FAST_EXPORT = {"OTEL_BSP_SCHEDULE_DELAY": "100"}


@pytest.fixture
def collector():
    c = Collector().start()
    yield c
    c.stop()


def _config(endpoint: str | None, ratio: float | str = 1.0, upstreams='app: { replicas: ["${b0}"] }',
            route_extra: str = "", top: str = "") -> str:
    tracing = (f"observability:\n  tracing:\n    otlp_endpoint: {endpoint}\n    service_name: edge-gw\n"
               f"    sample_ratio: {ratio}\n") if endpoint else ""
    return make_config(
        upstreams=upstreams,
        routes=f"""
        - name: api
          match: {{ path_prefix: /api/ }}
          upstream: app
        {route_extra}
        - name: status
          match: {{ path_prefix: /status/ }}
          upstream: app
        """,
        top=tracing + top,
    )


def _access_records(gw) -> list[dict]:
    out = []
    for line in gw.log().splitlines():
        line = line.strip()
        if line.startswith("{") and '"request_id"' in line:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def _record(gw, request_id: str) -> dict:
    from harness import wait_for

    found = {}

    def seen():
        for r in _access_records(gw):
            if r["request_id"] == request_id:
                found.update(r)
                return True
        return False

    wait_for(seen, 10, what=f"access record {request_id}")
    return found


def _upstream_traceparent(resp) -> tuple[str, str, str]:
    seen = echo_headers(resp)
    assert len(seen.get("traceparent", [])) == 1, seen
    m = TRACEPARENT_RE.match(seen["traceparent"][0])
    assert m, seen["traceparent"]
    return m.group(1), m.group(2), m.group(3)


def test_span_tree_attributes_propagation_and_access_log(gateway, backends, collector):
    backend = backends(1)[0]
    gw = gateway(_config(collector.endpoint), backends=[backend], env=FAST_EXPORT)
    resp = gw.get("/api/items?x=1", {"User-Agent": "trace-test/1", "X-Request-Id": "trace-req-1"})
    assert resp.status == 200
    trace_id, parent_id, flags = _upstream_traceparent(resp)
    assert flags == "01", "a sampled trace is propagated as sampled"

    spans = collector.wait_complete(trace_id)
    server = [s for s in spans if s.kind == "server"]
    client = [s for s in spans if s.kind == "client"]
    assert len(server) == 1 and len(client) == 1, spans
    server, client = server[0], client[0]

    # The tree: a new trace (no parent), the attempt is the server span's child, the upstream's parent is the attempt.
    assert server.parent_span_id == ""
    assert client.parent_span_id == server.span_id
    assert parent_id == client.span_id

    assert server.service == "edge-gw"
    assert server.name == "GET /api/*"
    a = server.attributes
    assert a["http.request.method"] == "GET"
    assert a["http.route"] == "/api/*"
    assert a["http.response.status_code"] == 200
    assert a["url.path"] == "/api/items"
    assert a["url.scheme"] == "http"
    assert a["client.address"] == "127.0.0.1"
    assert a["user_agent.original"] == "trace-test/1"
    assert a["network.protocol.version"] == "1.1"
    assert a["gateway.route"] == "api"
    assert a["gateway.request_id"] == "trace-req-1"
    assert server.status == "unset"

    c = client.attributes
    assert client.name == "GET"
    assert c["server.address"] == "127.0.0.1"
    assert c["server.port"] == backend.port
    assert c["url.full"].startswith(backend.url.rstrip("/") + "/api/items")
    assert c["gateway.upstream"] == "app"
    assert c["gateway.replica"] == backend.url
    assert c["gateway.attempt"] == 1
    assert c["gateway.attempt.outcome"] == "success"
    assert c["http.response.status_code"] == 200
    assert "http.request.resend_count" not in c
    assert server.start_ns <= client.start_ns <= client.end_ns <= server.end_ns

    record = _record(gw, "trace-req-1")
    assert record["trace_id"] == trace_id
    assert collector.content_types == {"application/x-protobuf"}


def test_client_traceparent_is_continued_even_at_ratio_zero(gateway, backends, collector):
    gw = gateway(_config(collector.endpoint, ratio=0), backends=backends(1), env=FAST_EXPORT)
    resp = gw.get("/api/continued", {
        "traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01",
        "tracestate": "vendor=opaque,other=1",
    })
    assert resp.status == 200
    trace_id, parent_id, flags = _upstream_traceparent(resp)
    assert trace_id == CLIENT_TRACE and flags == "01"
    assert parent_id != CLIENT_SPAN, "the upstream's parent is the gateway's attempt span"
    state = echo_headers(resp).get("tracestate")
    assert state and [m.strip() for m in state[0].split(",")] == ["vendor=opaque", "other=1"], state

    spans = collector.wait_complete(CLIENT_TRACE)
    server = next(s for s in spans if s.kind == "server")
    client = next(s for s in spans if s.kind == "client")
    assert server.parent_span_id == CLIENT_SPAN
    assert client.parent_span_id == server.span_id
    assert parent_id == client.span_id


def test_unsampled_requests_export_nothing_but_still_propagate(gateway, backends, collector):
    gw = gateway(_config(collector.endpoint, ratio=0), backends=backends(1), env=FAST_EXPORT)
    unsampled = []
    for i in range(5):
        resp = gw.get(f"/api/quiet/{i}", {"X-Request-Id": f"quiet-{i}"})
        assert resp.status == 200
        trace_id, _, flags = _upstream_traceparent(resp)
        assert flags == "00", "the not-sampled decision travels with the trace"
        assert _record(gw, f"quiet-{i}")["trace_id"] == trace_id
        unsampled.append(trace_id)
    # A client's unsampled parent is not sampled either (parent-based).
    resp = gw.get("/api/quiet-parent", {"traceparent": f"00-{'1' * 32}-{CLIENT_SPAN}-00"})
    assert _upstream_traceparent(resp)[0] == "1" * 32 and _upstream_traceparent(resp)[2] == "00"
    # A sampled request afterwards: once its spans are in, anything exported earlier would be too.
    resp = gw.get("/api/marker", {"traceparent": f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"})
    collector.wait_complete(CLIENT_TRACE)
    exported = {s.trace_id for s in collector.spans}
    assert exported == {CLIENT_TRACE}, exported


def test_ratio_samples_roughly_that_share(gateway, backends, collector):
    gw = gateway(_config(collector.endpoint, ratio="50%"), backends=backends(1), env=FAST_EXPORT)
    sampled = 0
    traces = []
    for i in range(200):
        resp = gw.get(f"/api/r/{i}")
        trace_id, _, flags = _upstream_traceparent(resp)
        traces.append((trace_id, flags))
        sampled += flags == "01"
    assert 60 <= sampled <= 140, sampled  # binomial(200, 0.5): far outside 6 sigma otherwise
    last_sampled = [t for t, f in traces if f == "01"][-1]
    collector.wait_complete(last_sampled)
    collector.wait_for(lambda spans: len({s.trace_id for s in spans}) >= sampled, what="every sampled trace")
    exported = {s.trace_id for s in collector.spans}
    assert exported == {t for t, f in traces if f == "01"}


def test_retry_is_a_second_attempt_span(gateway, backends, collector):
    backend = backends(1)[0]
    gw = gateway(
        _config(collector.endpoint, upstreams='app: { replicas: ["${closed_url}", "${b0}"], retries: 1, passive: false }'),
        backends=[backend], env=FAST_EXPORT)
    retried = None
    for i in range(6):
        resp = gw.get(f"/api/retry/{i}")
        assert resp.status == 200
        trace_id, parent_id, _ = _upstream_traceparent(resp)
        spans = collector.wait_complete(trace_id)
        attempts = [s for s in spans if s.kind == "client"]
        if len(attempts) == 2:
            retried = (trace_id, parent_id, spans)
            break
    assert retried, "no request went to the closed replica first in 6 tries"
    trace_id, parent_id, spans = retried
    server = next(s for s in spans if s.kind == "server")
    first, second = sorted((s for s in spans if s.kind == "client"), key=lambda s: s.attributes["gateway.attempt"])
    assert first.parent_span_id == second.parent_span_id == server.span_id
    assert first.status == "error"
    assert first.attributes["gateway.attempt.outcome"] == "connect_failure"
    assert first.attributes["error.type"] == "connect_failure"
    assert "http.response.status_code" not in first.attributes
    assert second.attributes["gateway.attempt"] == 2
    assert second.attributes["http.request.resend_count"] == 1
    assert second.attributes["http.response.status_code"] == 200
    assert second.status == "unset"
    assert parent_id == second.span_id, "the upstream that answered is the retry's child"
    assert server.status == "unset" and server.attributes["http.response.status_code"] == 200


def test_upstream_5xx_marks_both_spans(gateway, backends, collector):
    gw = gateway(_config(collector.endpoint), backends=backends(1), env=FAST_EXPORT)
    resp = gw.get("/status/500", {"X-Request-Id": "five-1"})
    assert resp.status == 500
    trace_id = _record(gw, "five-1")["trace_id"]
    spans = collector.wait_complete(trace_id)
    server = next(s for s in spans if s.kind == "server")
    client = next(s for s in spans if s.kind == "client")
    assert server.status == "error" and server.attributes["error.type"] == "500"
    assert client.status == "error" and client.attributes["http.response.status_code"] == 500


def test_gateway_made_404_is_traced_without_error(gateway, backends, collector):
    gw = gateway(_config(collector.endpoint), backends=backends(1), env=FAST_EXPORT)
    resp = gw.get("/nowhere", {"X-Request-Id": "nf-1"})
    assert resp.status == 404
    trace_id = _record(gw, "nf-1")["trace_id"]
    spans = collector.wait_complete(trace_id)
    assert len(spans) == 1
    server = spans[0]
    assert server.kind == "server" and server.name == "GET"
    assert server.attributes["http.response.status_code"] == 404
    assert "http.route" not in server.attributes
    assert server.status == "unset", "a 4xx is not a server error"


def test_rate_limited_request_has_a_policy_span(gateway, backends, collector):
    config = _config(
        collector.endpoint,
        route_extra="""  rate_limits:
            - { name: per-ip, key: client_ip, limit: 1, window: 1m }""",
        top='store: { redis: "${redis_url}", key_prefix: "t${uniq}:" }\n')
    gw = gateway(config, backends=backends(1), env=FAST_EXPORT)
    assert gw.get("/api/limited", {"X-Request-Id": "rl-1"}).status == 200
    resp = gw.get("/api/limited", {"X-Request-Id": "rl-2"})
    assert resp.status == 429
    allowed = collector.wait_complete(_record(gw, "rl-1")["trace_id"])
    denied = collector.wait_complete(_record(gw, "rl-2")["trace_id"])

    server = next(s for s in allowed if s.kind == "server")
    policy = next(s for s in allowed if s.name == "gateway.policies")
    assert policy.kind == "internal" and policy.parent_span_id == server.span_id
    assert "rate_limited" not in policy.events
    assert any(s.kind == "client" for s in allowed)

    server = next(s for s in denied if s.kind == "server")
    policy = next(s for s in denied if s.name == "gateway.policies")
    assert policy.parent_span_id == server.span_id
    assert policy.events == ["rate_limited"]
    assert policy.attributes["gateway.policy.response_status"] == 429
    assert not any(s.kind == "client" for s in denied), "a denied request never reaches the upstream"
    assert server.attributes["http.response.status_code"] == 429
    assert server.status == "unset"


def test_tracing_off_passes_client_headers_through_and_logs_no_trace_id(gateway, backends):
    gw = gateway(_config(None), backends=backends(1))
    tp = f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"
    resp = gw.get("/api/off", {"traceparent": tp, "X-Request-Id": "off-1"})
    assert echo_headers(resp)["traceparent"] == [tp]
    assert "trace_id" not in _record(gw, "off-1")


def test_spans_still_queued_at_shutdown_are_flushed(gateway, backends, collector):
    # The default batch delay (5 s) is longer than the test: only the shutdown flush can deliver the spans.
    gw = gateway(_config(collector.endpoint), backends=backends(1))
    resp = gw.get("/api/last")
    trace_id, _, _ = _upstream_traceparent(resp)
    assert gw.stop() == 0
    spans = collector.wait_complete(trace_id, timeout=5)
    assert {s.kind for s in spans} == {"server", "client"}


def test_collector_down_does_not_hurt_requests(gateway, backends, closed_port):
    gw = gateway(_config(f"http://127.0.0.1:{closed_port}"), backends=backends(1), env=FAST_EXPORT)
    for i in range(20):
        assert gw.get(f"/api/{i}").status == 200
    assert gw.stop() == 0
