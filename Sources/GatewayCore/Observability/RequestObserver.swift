import CoreMetrics
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// Turns finished exchanges into metrics (swift-metrics, exported by swift-prometheus) and access-log lines.
final class RequestObserver: Sendable {
    let accessLog: AccessLogWriter?
    // Atomics, not locks: two of these run on every request.
    private let inFlight = Atomic<Int>(0)
    private let openConnections = Atomic<Int>(0)
    private let inFlightGauge = Gauge(label: "gateway_http_in_flight")
    private let connectionsGauge = Gauge(label: "gateway_connections_open")
    private let retries = CoreMetrics.Counter(label: "gateway_upstream_retries_total")
    /// Requests that matched no route (404, 405) are counted under `route="-"`.
    private let unroutedMetrics = RouteMetrics(route: "-")

    init(accessLog: AccessLogWriter?) {
        self.accessLog = accessLog
    }

    func connectionOpened() {
        let value = openConnections.wrappingAdd(1, ordering: .relaxed).newValue
        connectionsGauge.record(value)
    }

    func connectionClosed() {
        let value = openConnections.wrappingSubtract(1, ordering: .relaxed).newValue
        connectionsGauge.record(value)
    }

    func requestStarted() {
        let value = inFlight.wrappingAdd(1, ordering: .relaxed).newValue
        inFlightGauge.record(value)
    }

    /// WebSocket connections by route (proxied tunnels and pub/sub sockets).
    private let websockets = NIOLockedValueBox<[String: Int]>([:])

    func tunnelOpened(route: String) {
        let value = websockets.withLockedValue { $0[route, default: 0] += 1; return $0[route]! }
        Gauge(label: "gateway_websocket_connections", dimensions: [("route", route)]).record(value)
    }

    func tunnelClosed(route: String) {
        let value = websockets.withLockedValue { $0[route, default: 1] -= 1; return $0[route]! }
        Gauge(label: "gateway_websocket_connections", dimensions: [("route", route)]).record(value)
    }

    func retried() {
        retries.increment()
    }

    /// A replica was picked in panic mode (`panic_threshold`): too few were healthy, all were candidates.
    func upstreamPanic(upstream: String) {
        CoreMetrics.Counter(label: "gateway_upstream_panic_total", dimensions: [("upstream", upstream)]).increment()
    }

    /// A request that failed to parse (no route, no exchange).
    func protocolError(status: Int) {
        unroutedMetrics.requests(method: "-", code: status).increment()
        unroutedMetrics.window.record(status: status, nanoseconds: 0)
    }

    func requestFinished(_ exchange: ProxyExchange) {
        if exchange.route != nil || exchange.responseStatus != 0 {
            let value = max(0, inFlight.wrappingSubtract(1, ordering: .relaxed).newValue)
            inFlightGauge.record(value)
        }
        let elapsed = NIODeadline.now() - exchange.startedAt
        let metrics = exchange.route?.metrics ?? unroutedMetrics
        let route = metrics.route
        let method = exchange.head.method.rawValue
        let code = exchange.responseStatus
        let handles = ThreadMetricsCache.current.requestHandles(metrics, method: method, code: code)
        handles.requests.increment()
        handles.duration.recordNanoseconds(elapsed.nanoseconds)
        handles.requestBytes.increment(by: exchange.requestBytes)
        handles.responseBytes.increment(by: exchange.responseBytes)
        metrics.window.record(status: code, nanoseconds: elapsed.nanoseconds)
        if code >= 400, exchange.upstreamResponseHead == nil || exchange.problemDetail != nil {
            LiveStats.shared.recordGatewayError(exchange, route: route, status: code)
        }
        if let trace = exchange.trace {
            trace.finish(status: code, responseBytes: exchange.responseBytes, note: exchange.outcomeNote)
        }
        guard let accessLog else { return }
        accessLog.write(Self.record(exchange, route: route, method: method, elapsed: elapsed))
    }

    static func record(_ exchange: ProxyExchange, route: String, method: String, elapsed: TimeAmount) -> AccessRecord {
        let version = exchange.head.version
        return AccessRecord(
            time: AccessRecord.now(),
            requestID: exchange.requestID,
            clientIP: exchange.clientIP,
            method: method,
            uri: exchange.clientURI ?? exchange.head.uri,
            // SPEC §7: `HTTP/1.1` | `HTTP/2` (HTTP/2 streams reach the proxy as version 2.0 heads).
            httpVersion: version.major >= 2 ? "HTTP/\(version.major)" : "HTTP/\(version.major).\(version.minor)",
            route: route,
            status: exchange.responseStatus,
            durationMs: Double(elapsed.nanoseconds / 1000) / 1000,
            bytesIn: exchange.requestBytes,
            bytesOut: exchange.responseBytes,
            attempts: exchange.attempts,
            replica: exchange.lastReplicaURL,
            user: exchange.policy.sessionUser,
            error: exchange.outcomeNote,
            referer: exchange.head.headers.first(name: "referer"),
            userAgent: exchange.head.headers.first(name: "user-agent"),
            tls: exchange.tlsVersion,
            traceID: exchange.trace?.traceID)
    }

    /// The line written when an upgraded connection (WebSocket tunnel, pub/sub socket) closes: the upgrade's own
    /// line says `101` at the handshake; this one has the connection's whole duration and bytes both ways.
    func upgradedConnectionClosed(_ record: AccessRecord) {
        accessLog?.write(record)
    }

    /// One attempt against a replica (a retried request counts once per replica tried).
    func upstreamAttempt(upstream: String, replica: String, outcome: AttemptOutcome, elapsed: TimeAmount) {
        let label = outcome.metricLabel
        let key = ThreadMetricsCache.AttemptKey(upstream: upstream, replica: replica, outcome: label)
        let handles = ThreadMetricsCache.current.attemptHandles(key) {
            attemptHandles.withLockedValue { cache in
                if let existing = cache[key] { return existing }
                let created = (
                    requests: CoreMetrics.Counter(
                        label: "gateway_upstream_requests_total",
                        dimensions: [("upstream", upstream), ("replica", replica), ("outcome", label)]),
                    duration: CoreMetrics.Timer(
                        label: "gateway_upstream_request_duration_seconds",
                        dimensions: [("upstream", upstream), ("replica", replica)]))
                cache[key] = created
                return created
            }
        }
        handles.requests.increment()
        if outcome != .aborted { handles.duration.recordNanoseconds(elapsed.nanoseconds) }
    }

    /// Shared by all threads, behind each thread's `ThreadMetricsCache`.
    private let attemptHandles = NIOLockedValueBox<[ThreadMetricsCache.AttemptKey: ThreadMetricsCache.AttemptHandles]>([:])

}
