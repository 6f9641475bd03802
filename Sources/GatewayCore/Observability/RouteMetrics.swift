import CoreMetrics
import NIOConcurrencyHelpers

/// One route's metric handles, kept with the compiled route instead of being looked up on every request.
///
/// Creating a swift-metrics handle goes through the factory's registry (a global lock and a label lookup);
/// a request would otherwise do that five to eight times. Handles are still created on first use, so
/// `/metrics` shows a series only once something happened on it, as before.
final class RouteMetrics: Sendable {
    let route: String
    /// The dashboard's per-second counts for this route (shared across reloads by name).
    let window: RouteWindow
    private let handles = NIOLockedValueBox(Handles())

    /// The handles one finished request updates.
    struct RequestHandles {
        let requests: CoreMetrics.Counter
        let duration: CoreMetrics.Timer
        let requestBytes: CoreMetrics.Counter
        let responseBytes: CoreMetrics.Counter
    }

    private struct Handles {
        var duration: CoreMetrics.Timer?
        var requestBytes: CoreMetrics.Counter?
        var responseBytes: CoreMetrics.Counter?
        var requests: [MethodAndCode: CoreMetrics.Counter] = [:]
        var rateLimitDecisions: [LimitAndResult: CoreMetrics.Counter] = [:]
    }

    private struct MethodAndCode: Hashable {
        var method: String
        var code: Int
    }

    private struct LimitAndResult: Hashable {
        var limit: String
        var result: String
    }

    init(route: String, live: LiveStats = .shared) {
        self.route = route
        self.window = live.window(for: route)
    }

    /// `gateway_http_requests_total{route, method, code}`, `gateway_http_request_duration_seconds{route}` and
    /// the two byte counters, in one lock acquisition.
    func requestHandles(method: String, code: Int) -> RequestHandles {
        let route = self.route
        return handles.withLockedValue { handles in
            let requests = Self.requests(in: &handles, route: route, method: method, code: code)
            let duration = handles.duration ?? CoreMetrics.Timer(
                label: "gateway_http_request_duration_seconds", dimensions: [("route", route)])
            handles.duration = duration
            let requestBytes = handles.requestBytes ?? CoreMetrics.Counter(
                label: "gateway_http_request_bytes_total", dimensions: [("route", route)])
            handles.requestBytes = requestBytes
            let responseBytes = handles.responseBytes ?? CoreMetrics.Counter(
                label: "gateway_http_response_bytes_total", dimensions: [("route", route)])
            handles.responseBytes = responseBytes
            return RequestHandles(
                requests: requests, duration: duration, requestBytes: requestBytes, responseBytes: responseBytes)
        }
    }

    /// `gateway_http_requests_total{route, method, code}` alone (requests that never became an exchange).
    func requests(method: String, code: Int) -> CoreMetrics.Counter {
        let route = self.route
        return handles.withLockedValue { Self.requests(in: &$0, route: route, method: method, code: code) }
    }

    private static func requests(in handles: inout Handles, route: String, method: String, code: Int) -> CoreMetrics.Counter {
        let key = MethodAndCode(method: method, code: code)
        if let counter = handles.requests[key] { return counter }
        let counter = CoreMetrics.Counter(
            label: "gateway_http_requests_total", dimensions: [("route", route), ("method", method), ("code", String(code))])
        handles.requests[key] = counter
        return counter
    }

    /// `gateway_ratelimit_decisions_total{route, limit, result}`.
    func rateLimitDecisions(limit: String, result: String) -> CoreMetrics.Counter {
        let route = self.route
        return handles.withLockedValue { handles in
            let key = LimitAndResult(limit: limit, result: result)
            if let counter = handles.rateLimitDecisions[key] { return counter }
            let counter = CoreMetrics.Counter(
                label: "gateway_ratelimit_decisions_total",
                dimensions: [("route", route), ("limit", limit), ("result", result)])
            handles.rateLimitDecisions[key] = counter
            return counter
        }
    }
}
