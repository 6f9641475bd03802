import NIOConcurrencyHelpers

/// Tokens whose signature and claims were verified, until they expire (Envoy's `jwt_cache_config`): a client
/// sends the same token on every request, and a signature check (ECDSA, RSA) costs far more than the rest of the
/// request phase. Bounded; a full cache is emptied rather than tracked by age (tokens are short-lived).
final class VerifiedTokenCache: Sendable {
    struct Entry: Sendable {
        let claims: JWTClaims
        /// Seconds since the epoch after which the entry is not used.
        let validUntil: Double
    }

    private let entries = NIOLockedValueBox([String: Entry]())
    let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    func lookup(_ token: String, now: Double) -> JWTClaims? {
        entries.withLockedValue { entries in
            guard let entry = entries[token] else { return nil }
            guard now < entry.validUntil else {
                entries[token] = nil
                return nil
            }
            return entry.claims
        }
    }

    func insert(_ token: String, claims: JWTClaims, validUntil: Double) {
        entries.withLockedValue { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = Entry(claims: claims, validUntil: validUntil)
        }
    }

    func removeAll() {
        entries.withLockedValue { $0.removeAll() }
    }
}
