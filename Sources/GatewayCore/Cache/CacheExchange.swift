import GatewayConfig
import GatewayPolicies
import NIOCore
import NIOHTTP1

/// What one request carries through the cache path: its key, what the lookup found, whether this request leads
/// the fetch (and holds the fleet lock), and the copy of the upstream body being stored.
final class CacheExchange {
    let settings: RouteCacheSettings
    let key: CacheKey
    /// The request's fields, lower-cased and normalized (variant selection, both tiers).
    let fields: [(String, String)]
    let windows: CacheRules.Windows
    /// Unix seconds when the request started (`request_time`).
    let requestTime: Double

    /// The `X-Cache` value of the response.
    var result: CacheMetrics.Result = .miss
    /// A stale entry being revalidated; served if the upstream fails within `stale-if-error`.
    var stale: CacheEntry?
    var staleIfError = false
    /// This request leads the in-process flight for `key` (must call `finish`).
    var leads = false
    /// The fleet lock token, when this request holds it.
    var lockToken: String?
    /// The upstream answered 304/5xx to a revalidation: the rest of that response is dropped, the entry served.
    var swallowing: CacheEntry?
    /// The upstream body being copied for storage; nil when the response is not stored (or outgrew the limit).
    var capture: [ByteBuffer]?
    var capturedBytes = 0
    var captureLimit = 0
    /// The entry to store, built from the upstream head (body added at the end).
    var pendingEntry: CacheEntry?
    /// A waiter that timed out or was woken: only the first counts.
    var waitSettled = false

    init(settings: RouteCacheSettings, key: CacheKey, fields: [(String, String)], requestTime: Double) {
        self.settings = settings
        self.key = key
        self.fields = fields
        self.requestTime = requestTime
        self.windows = CacheRules.Windows(
            ttl: settings.ttl.fractionalSeconds, staleWhileRevalidate: settings.staleWhileRevalidate.fractionalSeconds,
            staleIfError: settings.staleIfError.fractionalSeconds)
    }

    func header(_ name: String) -> String? { fields.first { $0.0 == name }?.1 }

    func keepCopy(of buffer: ByteBuffer) {
        guard capture != nil else { return }
        capturedBytes += buffer.readableBytes
        if capturedBytes > captureLimit {
            capture = nil  // max_object_bytes: passed through, not stored
        } else {
            capture?.append(buffer)
        }
    }
}

extension Duration {
    var fractionalSeconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}

extension CacheRules {
    /// Whether a request with `Authorization` may be answered from `entry` (RFC 9111 §3.5).
    static func allowsAuthorized(_ entry: CacheEntry) -> Bool {
        let cc = entry.cacheControl
        return cc.isPublic || cc.sMaxAge != nil || cc.mustRevalidate
    }
}
