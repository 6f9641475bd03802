import NIOConcurrencyHelpers

/// Allows from the auth service, per credential (``ForwardAuthExchange/cacheKey``), for `cache:`. Only allows
/// are remembered, never refusals, so a user who just logged in is not locked out by a cached 401.
public final class ForwardAuthCache: Sendable {
    struct Entry: Sendable {
        let headers: [HeaderPair]
        let until: Double
    }

    public struct HeaderPair: Sendable, Equatable {
        public let name: String
        public let value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    private let entries = NIOLockedValueBox([String: Entry]())
    let capacity: Int

    public init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    public func lookup(_ key: String, now: Double) -> [HeaderPair]? {
        entries.withLockedValue { entries in
            guard let entry = entries[key] else { return nil }
            guard now < entry.until else {
                entries[key] = nil
                return nil
            }
            return entry.headers
        }
    }

    public func insert(_ key: String, headers: [HeaderPair], until: Double) {
        entries.withLockedValue { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = Entry(headers: headers, until: until)
        }
    }
}
