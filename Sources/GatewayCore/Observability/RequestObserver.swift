import CoreMetrics
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Turns finished exchanges into metrics (swift-metrics, exported by swift-prometheus) and access-log lines.
final class RequestObserver: Sendable {
    private let accessLogger: Logger?
    private let inFlight = NIOLockedValueBox<Int>(0)
    private let openConnections = NIOLockedValueBox<Int>(0)
    private let inFlightGauge = Gauge(label: "gateway_http_in_flight")
    private let connectionsGauge = Gauge(label: "gateway_connections_open")
    private let retries = CoreMetrics.Counter(label: "gateway_upstream_retries_total")
    /// Requests that matched no route (404, 405) are counted under `route="-"`.
    private let unroutedMetrics = RouteMetrics(route: "-")

    init(accessLog: AccessLogWriter?) {
        if let accessLog {
            var logger = Logger(label: "gateway.access") { _ in AccessLogHandler(writer: accessLog) }
            logger.logLevel = .info
            self.accessLogger = logger
        } else {
            self.accessLogger = nil
        }
    }

    func connectionOpened() {
        let value = openConnections.withLockedValue { $0 += 1; return $0 }
        connectionsGauge.record(value)
    }

    func connectionClosed() {
        let value = openConnections.withLockedValue { $0 -= 1; return $0 }
        connectionsGauge.record(value)
    }

    func requestStarted() {
        let value = inFlight.withLockedValue { $0 += 1; return $0 }
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
            let value = inFlight.withLockedValue { $0 = max(0, $0 - 1); return $0 }
            inFlightGauge.record(value)
        }
        let elapsed = NIODeadline.now() - exchange.startedAt
        let metrics = exchange.route?.metrics ?? unroutedMetrics
        let route = metrics.route
        let method = exchange.head.method.rawValue
        let code = exchange.responseStatus
        let handles = metrics.requestHandles(method: method, code: code)
        handles.requests.increment()
        handles.duration.recordNanoseconds(elapsed.nanoseconds)
        handles.requestBytes.increment(by: exchange.requestBytes)
        handles.responseBytes.increment(by: exchange.responseBytes)
        metrics.window.record(status: code, nanoseconds: elapsed.nanoseconds)
        if code >= 400, exchange.upstreamResponseHead == nil || exchange.problemDetail != nil {
            LiveStats.shared.recordGatewayError(exchange, route: route, status: code)
        }
        guard let accessLogger else { return }
        var metadata: Logger.Metadata = [
            "time": .string(Self.timestamp()),
            "request_id": .string(exchange.requestID),
            "client_ip": .string(exchange.clientIP),
            "method": .string(method),
            "uri": .string(exchange.clientURI ?? exchange.head.uri),
            "route": .string(route),
            "status": .stringConvertible(code),
            "duration_ms": .stringConvertible(Double(elapsed.nanoseconds / 1000) / 1000),
            "bytes_in": .stringConvertible(exchange.requestBytes),
            "bytes_out": .stringConvertible(exchange.responseBytes),
            "attempts": .stringConvertible(exchange.attempts),
        ]
        metadata["protocol"] = .string("HTTP/\(exchange.head.version.major).\(exchange.head.version.minor)")
        if let tls = exchange.tlsVersion { metadata["tls"] = .string(tls) }
        if let url = exchange.triedURLs.last { metadata["replica"] = .string(url) }
        if let note = exchange.outcomeNote { metadata["error"] = .string(note) }
        if let user = exchange.policy.sessionUser { metadata["user"] = .string(user) }
        accessLogger.info("access", metadata: metadata)
    }

    /// One attempt against a replica (a retried request counts once per replica tried).
    func upstreamAttempt(upstream: String, replica: String, outcome: AttemptOutcome, elapsed: TimeAmount) {
        let label = outcome.metricLabel
        let key = AttemptKey(upstream: upstream, replica: replica, outcome: label)
        let handles = attemptHandles.withLockedValue { cache in
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
        handles.requests.increment()
        if outcome != .aborted { handles.duration.recordNanoseconds(elapsed.nanoseconds) }
    }

    private struct AttemptKey: Hashable {
        var upstream: String
        var replica: String
        var outcome: String
    }

    private let attemptHandles = NIOLockedValueBox<
        [AttemptKey: (requests: CoreMetrics.Counter, duration: CoreMetrics.Timer)]
    >([:])

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var time = now.tv_sec
        var parts = tm()
        gmtime_r(&time, &parts)
        let millis = now.tv_nsec / 1_000_000
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }
}
