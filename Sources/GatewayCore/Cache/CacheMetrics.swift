import CoreMetrics
import NIOConcurrencyHelpers

/// `gateway_cache_requests_total{route,result}`, `gateway_cache_bytes` (memory tier), `gateway_cache_coalesced_total`,
/// plus the totals `GET /cache/stats` reports. Counters are made once per (route, result) and reused.
final class CacheMetrics: Sendable {
    enum Result: String, CaseIterable, Sendable {
        case hit = "HIT", miss = "MISS", stale = "STALE", revalidated = "REVALIDATED", bypass = "BYPASS"
    }

    private struct State {
        var counters: [String: CoreMetrics.Counter] = [:]
        var totals: [Result: Int] = [:]
        var coalesced = 0
        var stored = 0
        var storeErrors = 0
    }

    private let state = NIOLockedValueBox(State())
    private let coalescedCounter = CoreMetrics.Counter(label: "gateway_cache_coalesced_total")
    private let bytesGauge = Gauge(label: "gateway_cache_bytes")
    private let storeErrorCounter = CoreMetrics.Counter(label: "gateway_store_errors_total", dimensions: [("op", "cache")])

    func record(route: String, result: Result) {
        let counter = state.withLockedValue { state -> CoreMetrics.Counter in
            state.totals[result, default: 0] += 1
            let key = route + "\u{0}" + result.rawValue
            if let counter = state.counters[key] { return counter }
            let counter = CoreMetrics.Counter(
                label: "gateway_cache_requests_total", dimensions: [("route", route), ("result", result.rawValue)])
            state.counters[key] = counter
            return counter
        }
        counter.increment()
    }

    func coalesced() {
        state.withLockedValue { $0.coalesced += 1 }
        coalescedCounter.increment()
    }

    func stored(memoryBytes: Int) {
        state.withLockedValue { $0.stored += 1 }
        bytesGauge.record(memoryBytes)
    }

    func storeError() {
        state.withLockedValue { $0.storeErrors += 1 }
        storeErrorCounter.increment()
    }

    func memoryBytes(_ bytes: Int) { bytesGauge.record(bytes) }

    var totals: (results: [Result: Int], coalesced: Int, stored: Int, storeErrors: Int) {
        state.withLockedValue { ($0.totals, $0.coalesced, $0.stored, $0.storeErrors) }
    }
}
