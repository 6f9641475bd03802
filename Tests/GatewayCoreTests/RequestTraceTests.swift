import Foundation
import GatewayConfig
import InMemoryTracing
import NIOHTTP1
import Testing
import Tracing

@testable import GatewayCore

/// The span tree and attributes `RequestTrace` builds, against swift-distributed-tracing's in-memory tracer (the
/// OTLP export, sampling and W3C propagation are covered end to end by tests/integration/test_tracing.py).
@Suite struct RequestTraceTests {
    func head(_ method: HTTPMethod = .GET, _ uri: String = "/api/items", headers: [(String, String)] = []) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: HTTPHeaders([("Host", "shop.example:8080")] + headers))
    }

    func route(prefix: String? = "/api/", path: String? = nil) -> CompiledRoute {
        var settings = RouteSettings(name: "api")
        settings.match.pathPrefix = prefix
        settings.match.path = path
        settings.upstream = "app"
        return CompiledRoute(settings: settings, order: 0)
    }


    func start(_ tracer: InMemoryTracer, head: HTTPRequestHead? = nil) -> RequestTrace {
        RequestTrace(
            tracer: tracer, head: head ?? self.head(headers: [("User-Agent", "t/1")]), path: "/api/items",
            scheme: "https", clientIP: "192.0.2.1", requestID: "rid-1")
    }

    @Test func proxiedRequestIsAServerSpanWithOneClientChild() throws {
        let tracer = InMemoryTracer()
        let trace = start(tracer)
        trace.routed(route(), method: "GET")
        trace.attemptStarted(number: 1, upstream: "app", host: "10.0.0.7", port: 9000, url: "http://10.0.0.7:9000", method: "GET", uri: "/api/items?x=1")
        var upstream = HTTPHeaders([("traceparent", "00-client-value"), ("tracestate", "a=b")])
        trace.inject(into: &upstream)
        trace.attemptFinished(outcome: .success, status: 200)
        trace.finish(status: 200, responseBytes: 42, note: nil)

        let spans = tracer.finishedSpans
        #expect(spans.count == 2)
        let client = try #require(spans.first { $0.kind == .client })
        let server = try #require(spans.first { $0.kind == .server })
        #expect(client.parentSpanID == server.spanID)
        #expect(client.traceID == server.traceID)
        #expect(server.parentSpanID == nil)

        #expect(server.operationName == "GET /api/*")
        #expect(server.attributes["http.request.method"]?.toSpanAttribute() == "GET")
        #expect(server.attributes["http.route"]?.toSpanAttribute() == "/api/*")
        #expect(server.attributes["url.path"]?.toSpanAttribute() == "/api/items")
        #expect(server.attributes["url.scheme"]?.toSpanAttribute() == "https")
        #expect(server.attributes["server.address"]?.toSpanAttribute() == "shop.example")
        #expect(server.attributes["client.address"]?.toSpanAttribute() == "192.0.2.1")
        #expect(server.attributes["user_agent.original"]?.toSpanAttribute() == "t/1")
        #expect(server.attributes["http.response.status_code"]?.toSpanAttribute() == 200)
        #expect(server.attributes["gateway.request_id"]?.toSpanAttribute() == "rid-1")
        #expect(server.status == nil)

        #expect(client.operationName == "GET")
        #expect(client.attributes["server.address"]?.toSpanAttribute() == "10.0.0.7")
        #expect(client.attributes["server.port"]?.toSpanAttribute() == 9000)
        #expect(client.attributes["url.full"]?.toSpanAttribute() == "http://10.0.0.7:9000/api/items?x=1")
        #expect(client.attributes["gateway.attempt"]?.toSpanAttribute() == 1)
        #expect(client.attributes["http.request.resend_count"] == nil)
        #expect(client.status == nil)

        // The client's trace headers are replaced by the attempt's context (here the in-memory tracer's keys).
        #expect(upstream.first(name: "traceparent") == nil && upstream.first(name: "tracestate") == nil)
        #expect(upstream.first(name: InMemoryTracer.spanIDKey) == client.spanID)
        #expect(upstream.first(name: InMemoryTracer.traceIDKey) == server.traceID)
    }

    @Test func aRetryIsASecondAttemptAndFailuresAreErrors() throws {
        let tracer = InMemoryTracer()
        let trace = start(tracer)
        trace.routed(route(), method: "GET")
        trace.attemptStarted(number: 1, upstream: "app", host: "10.0.0.7", port: 9000, url: "http://10.0.0.7:9000", method: "GET", uri: "/api/items")
        trace.attemptFinished(outcome: .connectFailure, status: nil)
        trace.attemptStarted(number: 2, upstream: "app", host: "10.0.0.7", port: 9000, url: "http://10.0.0.7:9000", method: "GET", uri: "/api/items")
        trace.attemptFinished(outcome: .badStatus(503), status: 503)
        trace.finish(status: 503, responseBytes: 0, note: "upstream answered 503")

        let attempts = tracer.finishedSpans.filter { $0.kind == .client }
        #expect(attempts.count == 2)
        let first = attempts[0], second = attempts[1]
        #expect(first.status?.code == .error)
        #expect(first.attributes["error.type"]?.toSpanAttribute() == "connect_failure")
        #expect(first.attributes["http.response.status_code"] == nil)
        #expect(second.attributes["http.request.resend_count"]?.toSpanAttribute() == 1)
        #expect(second.attributes["gateway.attempt.outcome"]?.toSpanAttribute() == "status_503")
        #expect(second.attributes["error.type"]?.toSpanAttribute() == "503")
        #expect(second.status?.code == .error)
        let server = try #require(tracer.finishedSpans.first { $0.kind == .server })
        #expect(server.status?.code == .error)
        #expect(server.events.map(\.name) == ["gateway.note"])
    }

    @Test func fourHundredsAreNotServerErrorsButAreClientErrors() throws {
        let tracer = InMemoryTracer()
        let trace = start(tracer)
        trace.routed(route(prefix: nil, path: "/api/items"), method: "GET")
        trace.attemptStarted(number: 1, upstream: "app", host: "10.0.0.7", port: 9000, url: "http://10.0.0.7:9000", method: "GET", uri: "/api/items")
        trace.attemptFinished(outcome: .success, status: 404)
        trace.finish(status: 404, responseBytes: 10, note: nil)
        let server = try #require(tracer.finishedSpans.first { $0.kind == .server })
        let client = try #require(tracer.finishedSpans.first { $0.kind == .client })
        #expect(server.status == nil)
        #expect(server.operationName == "GET /api/items")
        #expect(client.status?.code == .error)
    }

    @Test func policySpanRecordsARateLimitDenial() throws {
        let tracer = InMemoryTracer()
        let trace = start(tracer)
        trace.routed(route(), method: "GET")
        trace.policyStarted()
        trace.policyFinished(.success(.respond(ProblemResponse(.tooManyRequests, detail: "slow down"))))
        trace.finish(status: 429, responseBytes: 100, note: nil)
        let policy = try #require(tracer.finishedSpans.first { $0.operationName == "gateway.policies" })
        let server = try #require(tracer.finishedSpans.first { $0.kind == .server })
        #expect(policy.kind == .internal)
        #expect(policy.parentSpanID == server.spanID)
        #expect(policy.events.map(\.name) == ["rate_limited"])
        #expect(policy.attributes["gateway.policy.response_status"]?.toSpanAttribute() == 429)
        #expect(server.status == nil)
        #expect(!tracer.finishedSpans.contains { $0.kind == .client })
    }

    @Test func finishEndsSpansLeftOpen() {
        let tracer = InMemoryTracer()
        let trace = start(tracer)
        trace.policyStarted()
        trace.attemptStarted(number: 1, upstream: "app", host: "10.0.0.7", port: 9000, url: "http://10.0.0.7:9000", method: "GET", uri: "/")
        trace.finish(status: 499, responseBytes: 0, note: "client closed")
        #expect(tracer.finishedSpans.count == 3)
        #expect(tracer.activeSpans.isEmpty)
        let client = tracer.finishedSpans.first { $0.kind == .client }
        #expect(client?.attributes["gateway.attempt.outcome"]?.toSpanAttribute() == "cancelled")
    }

    @Test func anUnsampledRequestStartsNoChildSpans() {
        let trace = RequestTrace(
            tracer: NoOpTracer(), head: head(), path: "/api/items", scheme: "http", clientIP: "192.0.2.1", requestID: "r")
        #expect(!trace.server.isRecording)
        trace.policyStarted()
        trace.attemptStarted(number: 1, upstream: "app", host: "10.0.0.7", port: 9000, url: "http://10.0.0.7:9000", method: "GET", uri: "/")
        #expect(trace.attempt == nil)
        trace.attemptFinished(outcome: .success, status: 200)
        trace.finish(status: 200, responseBytes: 1, note: nil)
    }

    @Test func accessRecordCarriesTheTraceID() {
        let record = AccessRecord(
            time: timespec(tv_sec: 1_796_205_795, tv_nsec: 0), requestID: "r1", clientIP: "10.0.0.1",
            method: "GET", uri: "/", route: "api", status: 200, durationMs: 1, bytesIn: 0, bytesOut: 2,
            attempts: 1, traceID: "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(record.jsonLine().contains(#""time":"2026-12-02T10:03:15.000Z","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","uri":"/""#))
        var off = record
        off.traceID = nil
        #expect(!off.jsonLine().contains("trace_id"))
    }

    @Test func headerCarriers() {
        var headers = HTTPHeaders([("TraceParent", "old"), ("x", "1")])
        HTTPHeadersInjector().inject("new", forKey: "traceparent", into: &headers)
        #expect(headers[canonicalForm: "traceparent"] == ["new"])
        #expect(HTTPHeadersExtractor().extract(key: "traceparent", from: headers) == "new")
        #expect(HTTPHeadersExtractor().extract(key: "tracestate", from: headers) == nil)
    }
}
