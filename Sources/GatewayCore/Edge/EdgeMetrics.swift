import CoreMetrics
import NIOConcurrencyHelpers

/// `gateway_auth_decisions_total{route,result}`, `gateway_cors_preflights_total{route}` and
/// `gateway_ip_denied_total{route}`; handles are created once per label set.
final class EdgeMetrics: Sendable {
    static let shared = EdgeMetrics()

    private struct Key: Hashable {
        var label: String
        var route: String
        var result: String
    }

    private let counters = NIOLockedValueBox([Key: CoreMetrics.Counter]())

    /// `result`: allowed, anonymous, missing, invalid, denied, unavailable.
    func authDecision(route: String, result: String) {
        counter("gateway_auth_decisions_total", route: route, result: result).increment()
    }

    func corsPreflight(route: String) {
        counter("gateway_cors_preflights_total", route: route, result: "").increment()
    }

    func ipDenied(route: String) {
        counter("gateway_ip_denied_total", route: route, result: "").increment()
    }

    private func counter(_ label: String, route: String, result: String) -> CoreMetrics.Counter {
        let key = Key(label: label, route: route, result: result)
        return counters.withLockedValue { counters in
            if let counter = counters[key] { return counter }
            let dimensions = result.isEmpty ? [("route", route)] : [("route", route), ("result", result)]
            let counter = CoreMetrics.Counter(label: label, dimensions: dimensions)
            counters[key] = counter
            return counter
        }
    }
}
