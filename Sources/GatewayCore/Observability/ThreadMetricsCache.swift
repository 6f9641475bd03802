import CoreMetrics
import NIOPosix

/// Metric handles looked up without a lock: one cache per thread (in practice per event loop).
///
/// The process-wide handle caches (`RouteMetrics`, `RequestObserver`'s attempt handles) take a lock per lookup, two
/// per proxied request. This cache sits in front of them: a hit is a dictionary lookup on the calling thread, a miss
/// asks the shared cache once and keeps the answer. It is `@unchecked Sendable` only so that a
/// `ThreadSpecificVariable` may hold it; each instance is reached from its own thread alone (`current`).
final class ThreadMetricsCache: @unchecked Sendable {
    private struct RequestKey: Hashable {
        let route: ObjectIdentifier
        let method: String
        let code: Int
    }

    struct AttemptKey: Hashable {
        var upstream: String
        var replica: String
        var outcome: String
    }

    typealias AttemptHandles = (requests: CoreMetrics.Counter, duration: CoreMetrics.Timer)

    /// The entry keeps its `RouteMetrics` alive, so an `ObjectIdentifier` in a key never names a different, newer
    /// object (a reload builds new routes with new metrics objects).
    private var requests: [RequestKey: (owner: RouteMetrics, handles: RouteMetrics.RequestHandles)] = [:]
    private var attempts: [AttemptKey: AttemptHandles] = [:]
    /// Past this many entries a map is emptied (reloads leave old routes' entries behind; status codes vary).
    static let limit = 1024

    private static let perThread = ThreadSpecificVariable<ThreadMetricsCache>()

    /// The calling thread's cache.
    static var current: ThreadMetricsCache {
        if let cache = perThread.currentValue { return cache }
        let cache = ThreadMetricsCache()
        perThread.currentValue = cache
        return cache
    }

    func requestHandles(_ metrics: RouteMetrics, method: String, code: Int) -> RouteMetrics.RequestHandles {
        let key = RequestKey(route: ObjectIdentifier(metrics), method: method, code: code)
        if let entry = requests[key], entry.owner === metrics { return entry.handles }
        if requests.count >= Self.limit { requests.removeAll(keepingCapacity: true) }
        let handles = metrics.requestHandles(method: method, code: code)
        requests[key] = (metrics, handles)
        return handles
    }

    func attemptHandles(_ key: AttemptKey, shared: () -> AttemptHandles) -> AttemptHandles {
        if let handles = attempts[key] { return handles }
        if attempts.count >= Self.limit { attempts.removeAll(keepingCapacity: true) }
        let handles = shared()
        attempts[key] = handles
        return handles
    }
}
