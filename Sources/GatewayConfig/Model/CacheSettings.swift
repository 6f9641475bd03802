/// `cache:` at the top level (SPEC §11): the process-wide response cache. nil = no caching anywhere.
public struct CacheSettings: Sendable, Equatable {
    /// Larger responses are passed through, not stored.
    public var maxObjectBytes: Int = 1024 * 1024
    /// The in-process LRU tier in front of the shared store; 0 = off.
    public var memoryBytes: Int = 64 * 1024 * 1024
    public var location: SourceLocation? = nil

    public init() {}
}

/// One component of a route's cache key (`key: [method, host, path, query, "header:Accept-Language"]`).
public enum CacheKeyComponent: Sendable, Equatable, CustomStringConvertible {
    case method
    case host
    case path
    case query
    /// A request header, name lower-cased.
    case header(String)

    public static let defaults: [CacheKeyComponent] = [.method, .host, .path, .query]

    public var description: String {
        switch self {
        case .method: return "method"
        case .host: return "host"
        case .path: return "path"
        case .query: return "query"
        case .header(let name): return "header:\(name)"
        }
    }
}

/// A route's `cache:` block.
public struct RouteCacheSettings: Sendable, Equatable {
    /// Freshness lifetime when the response has no `s-maxage`/`max-age`/`Expires`.
    public var ttl: Duration = .seconds(60)
    /// How long past freshness a stale entry is served while one request refreshes it (0 = never).
    public var staleWhileRevalidate: Duration = .zero
    /// How long past freshness a stale entry is served when the upstream fails (0 = never).
    public var staleIfError: Duration = .zero
    public var key: [CacheKeyComponent] = CacheKeyComponent.defaults
    /// Upper-cased; `HEAD` is answered from the `GET` entry.
    public var methods: [String] = ["GET", "HEAD"]
    /// Store responses that carry `Set-Cookie` (the cookie is stored and replayed). Default false, as nginx.
    public var storeSetCookie: Bool = false
    public var location: SourceLocation? = nil

    public init() {}
}
