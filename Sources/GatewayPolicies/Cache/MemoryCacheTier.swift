import NIOConcurrencyHelpers

/// The in-process tier (`cache.memory`): an LRU of entries by `digest + "\n" + variant`, and the `Vary` names
/// last seen for each primary key so a lookup can compute its variant without the shared store. Thread-safe.
public final class MemoryCacheTier: Sendable {
    private struct State {
        var entries: LRUCache<CacheEntry>
        var vary: [String: [String]] = [:]
    }

    private let state: NIOLockedValueBox<State>
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
        self.state = NIOLockedValueBox(State(entries: LRUCache(capacity: capacity)))
    }

    /// The entry for `digest` matching the request's variant.
    public func get(digest: String, requestHeader: (String) -> String?) -> CacheEntry? {
        state.withLockedValue { state in
            let names = state.vary[digest] ?? []
            let variant = CacheKey.variant(names: names, requestHeader: requestHeader)
            return state.entries.get(digest + "\n" + variant)
        }
    }

    public func put(digest: String, entry: CacheEntry) {
        guard capacity > 0 else { return }
        state.withLockedValue { state in
            if state.vary[digest] != entry.varyNames {
                // The Vary names changed: variants stored under the old names are unreachable now.
                let prefix = digest + "\n"
                state.entries.removeAll { key, _ in key.hasPrefix(prefix) }
                state.vary[digest] = entry.varyNames
            }
            let evicted = state.entries.set(digest + "\n" + entry.variant, entry, weight: entry.weight)
            for key in evicted {
                let evictedDigest = String(key.prefix { $0 != "\n" })
                if !state.entries.containsAny(prefix: evictedDigest + "\n") { state.vary[evictedDigest] = nil }
            }
        }
    }

    /// Drops every variant of `digest`.
    @discardableResult
    public func remove(digest: String) -> Int {
        state.withLockedValue { state in
            state.vary[digest] = nil
            let prefix = digest + "\n"
            return state.entries.removeAll { key, _ in key.hasPrefix(prefix) }
        }
    }

    /// Drops the route's entries whose path starts with `prefix`.
    @discardableResult
    public func remove(route: String, pathPrefix: String) -> Int {
        state.withLockedValue { state in
            state.entries.removeAll { _, entry in entry.route == route && entry.path.hasPrefix(pathPrefix) }
        }
    }

    public var stats: (entries: Int, bytes: Int) {
        state.withLockedValue { ($0.entries.count, $0.entries.weight) }
    }
}
