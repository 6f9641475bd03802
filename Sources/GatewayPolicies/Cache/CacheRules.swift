/// RFC 9111 decisions for a shared cache, as pure functions of headers, settings and the clock.
public enum CacheRules {
    /// Status codes stored with the route's `ttl` when the response names no lifetime (RFC 9110 §15.1
    /// "heuristically cacheable").
    public static let cacheableStatuses: Set<Int> = [200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]

    /// Why a response is not stored (for tests and the access log), nil when it may be.
    public enum NotStorable: String, Sendable, Equatable {
        case method, status, noStore = "no-store", isPrivate = "private", authorization, setCookie = "set-cookie"
        case varyStar = "vary-star", requestNoStore = "request-no-store"
    }

    /// RFC 9111 §3 for one response to a `GET`. `requestHasAuthorization`: §3.5.
    public static func notStorable(
        method: String, status: Int, response: CacheControl, request: CacheControl, requestHasAuthorization: Bool,
        hasSetCookie: Bool, storeSetCookie: Bool, varyNames: [String]
    ) -> NotStorable? {
        if method != "GET" { return .method }
        if !cacheableStatuses.contains(status) { return .status }
        if request.noStore { return .requestNoStore }
        if response.noStore { return .noStore }
        if response.isPrivate { return .isPrivate }
        if requestHasAuthorization, !(response.isPublic || response.sMaxAge != nil || response.mustRevalidate) {
            return .authorization
        }
        if hasSetCookie, !storeSetCookie { return .setCookie }
        if varyNames.contains("*") { return .varyStar }
        return nil
    }

    /// Freshness lifetime in seconds (RFC 9111 §4.2.1): `s-maxage`, `max-age`, `Expires - Date`, else `ttl`.
    /// `no-cache` makes it 0 (stored, revalidated on every use).
    public static func freshnessLifetime(
        _ cc: CacheControl, expires: String?, date: String?, receivedAt: Double, ttl: Double
    ) -> Double {
        if cc.noCache { return 0 }
        if let sMaxAge = cc.sMaxAge { return Double(sMaxAge) }
        if let maxAge = cc.maxAge { return Double(maxAge) }
        if let expires {
            // An invalid Expires (e.g. "0") means already expired.
            guard let at = HTTPDateParser.parse(expires) else { return 0 }
            let base = date.flatMap(HTTPDateParser.parse) ?? receivedAt
            return max(0, at - base)
        }
        return ttl
    }

    /// `corrected_initial_age` (RFC 9111 §4.2.3) for a response received at `responseTime`.
    public static func initialAge(ageHeader: String?, date: String?, requestTime: Double, responseTime: Double) -> Double {
        let apparent = date.flatMap(HTTPDateParser.parse).map { max(0, responseTime - $0) } ?? 0
        let ageValue = ageHeader.map { Double(CacheControl.seconds($0.trimmingHTTPSpace())) } ?? 0
        let corrected = ageValue + max(0, responseTime - requestTime)
        return max(apparent, corrected)
    }

    /// What a lookup may do with an entry.
    public enum Freshness: Sendable, Equatable {
        /// Serve it (`HIT`).
        case fresh
        /// Serve it (`STALE`) and refresh it in the background.
        case staleWhileRevalidate
        /// Ask the upstream (conditionally when the entry has validators); `staleIfError`: the entry may still be
        /// served if the upstream fails.
        case revalidate(staleIfError: Bool)
    }

    /// Windows configured on the route, in seconds.
    public struct Windows: Sendable, Equatable {
        public var ttl: Double
        public var staleWhileRevalidate: Double
        public var staleIfError: Double
        public init(ttl: Double, staleWhileRevalidate: Double = 0, staleIfError: Double = 0) {
            self.ttl = ttl
            self.staleWhileRevalidate = staleWhileRevalidate
            self.staleIfError = staleIfError
        }
    }

    public static func freshness(of entry: CacheEntry, at now: Double, windows: Windows) -> Freshness {
        let cc = entry.cacheControl
        let lifetime = freshnessLifetime(
            cc, expires: entry.header("expires"), date: entry.header("date"), receivedAt: entry.storedAt, ttl: windows.ttl)
        let age = entry.age(at: now)
        if age < lifetime { return .fresh }
        // §4.2.4: must-revalidate, proxy-revalidate and s-maxage forbid serving stale (even on error); no-cache
        // responses are revalidated on every use.
        if cc.mustRevalidate || cc.proxyRevalidate || cc.sMaxAge != nil || cc.noCache {
            return .revalidate(staleIfError: false)
        }
        let staleness = age - lifetime
        let swr = max(Double(cc.staleWhileRevalidate ?? 0), windows.staleWhileRevalidate)
        if staleness < swr { return .staleWhileRevalidate }
        let sie = max(Double(cc.staleIfError ?? 0), windows.staleIfError)
        return .revalidate(staleIfError: staleness < sie)
    }

    /// How long Redis keeps an entry: its lifetime plus the longest stale window, and at least a minute so
    /// entries with validators can still be revalidated.
    public static func retention(of entry: CacheEntry, windows: Windows) -> Double {
        let cc = entry.cacheControl
        let lifetime = freshnessLifetime(
            cc, expires: entry.header("expires"), date: entry.header("date"), receivedAt: entry.storedAt, ttl: windows.ttl)
        let stale = max(
            Double(cc.staleWhileRevalidate ?? 0), windows.staleWhileRevalidate, Double(cc.staleIfError ?? 0),
            windows.staleIfError)
        let keep = max(0, lifetime - entry.initialAge) + stale
        return entry.hasValidators ? max(keep, 60) : max(keep, 1)
    }

    /// Whether a client's conditional `GET`/`HEAD` is answered 304 by this entry (RFC 9110 §13.2.2):
    /// `If-None-Match` (weak comparison) wins over `If-Modified-Since`.
    public static func notModified(ifNoneMatch: [String], ifModifiedSince: String?, entry: CacheEntry) -> Bool {
        guard entry.status == 200 else { return false }
        if !ifNoneMatch.isEmpty {
            guard let etag = entry.etag else { return false }
            let tags = ifNoneMatch.flatMap { $0.split(separator: ",") }.map { String($0).trimmingHTTPSpace() }
            return tags.contains { $0 == "*" || weakTag($0) == weakTag(etag) }
        }
        if let ifModifiedSince, let since = HTTPDateParser.parse(ifModifiedSince) {
            guard let modified = (entry.lastModified ?? entry.header("date")).flatMap(HTTPDateParser.parse) else {
                return false
            }
            return modified <= since
        }
        return false
    }

    static func weakTag(_ tag: String) -> String {
        tag.hasPrefix("W/") ? String(tag.dropFirst(2)) : tag
    }
}
