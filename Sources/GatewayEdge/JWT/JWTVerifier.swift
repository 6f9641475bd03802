import Foundation
import GatewayConfig
import JWTKit
import NIOConcurrencyHelpers

/// Fetches a JWKS document by URL (the gateway passes an HTTP client built on its event loops).
public typealias JWKSFetch = @Sendable (_ url: String) async throws -> String

/// One `auth.jwt.NAME` provider: verifies bearer tokens with jwt-kit and checks `alg`, `exp`, `nbf`, `iss`,
/// `aud` itself so every refusal gets a precise RFC 6750 `error_description`.
///
/// Keys: a `jwks_file` or `jwks_url` is loaded on first use, reloaded every `jwks_refresh` in the background (the
/// old set keeps serving meanwhile and when the IdP is down), and at once when a token names an unknown `kid` (at
/// most once per `minimumRefetchInterval`, so junk kids cannot hammer the IdP).
/// Verified tokens are cached until they expire (``VerifiedTokenCache``), so the hot path is one dictionary
/// lookup; only a new token pays for the signature check.
public final class JWTVerifier: Sendable {
    public let settings: JWTProviderSettings
    private let fetch: JWKSFetch?
    private let environment: [String: String]
    private let now: @Sendable () -> Double
    private let cache = VerifiedTokenCache()
    private let state = NIOLockedValueBox(KeyState())
    /// Unknown-kid refetches are spaced at least this far apart.
    let minimumRefetchInterval: Double

    struct KeyState {
        var keys: JWTKeySet?
        /// When the current keys were loaded (epoch seconds).
        var loadedAt: Double = 0
        /// When a fetch was last started (success or not).
        var lastAttempt: Double = -Double.infinity
        /// When a token with an unknown `kid` last caused a fetch (the initial load does not count).
        var lastKidRefetch: Double = -Double.infinity
        var loading: Task<JWTKeySet?, Never>?
        var lastProblem: String?
    }

    public init(
        settings: JWTProviderSettings, environment: [String: String], fetch: JWKSFetch? = nil,
        minimumRefetchInterval: Double = 10, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.settings = settings
        self.environment = environment
        self.fetch = fetch
        self.now = now
        self.minimumRefetchInterval = minimumRefetchInterval
    }

    /// The claims of a token verified before and not expired since, without suspending (the hot path).
    public func cachedClaims(for token: String) -> JWTClaims? {
        cache.lookup(token, now: now())
    }

    /// Verifies `token` fully (signature, algorithm, time, issuer, audience).
    public func verify(_ token: String) async -> Result<JWTClaims, JWTFailure> {
        let current = now()
        if let claims = cache.lookup(token, now: current) { return .success(claims) }
        let alg: String
        let kid: String?
        switch BearerToken.header(of: token) {
        case .failure(let failure): return .failure(failure)
        case .success(let header): (alg, kid) = header
        }
        guard alg.lowercased() != "none" else { return .failure(JWTFailure("unsigned tokens (alg none) are not accepted")) }
        guard settings.algorithms.contains(alg) else {
            return .failure(JWTFailure("the algorithm \(alg) is not accepted (allowed: \(settings.algorithms.joined(separator: ", ")))"))
        }
        guard var keys = await currentKeys() else {
            return .failure(JWTFailure("the signing keys are not available"))
        }
        if let kid, keys.collection != nil, keys.keyAlgorithms[kid] == nil {
            // A rotated key: ask the IdP again (rate-limited), then give up.
            guard let refreshed = await refetchForUnknownKid(), refreshed.keyAlgorithms[kid] != nil else {
                return .failure(JWTFailure("the token's key id '\(kid)' is unknown"))
            }
            keys = refreshed
        }
        if let kid, let pinned = keys.keyAlgorithms[kid] ?? nil, pinned != alg {
            return .failure(JWTFailure("the token's algorithm \(alg) does not match its key (\(pinned))"))
        }
        let collection: JWTKeyCollection
        if let jwks = keys.collection {
            collection = jwks
        } else if let hmac = keys.hmac[alg] {
            collection = hmac
        } else {
            return .failure(JWTFailure("no key for the algorithm \(alg)"))
        }
        let claims: JWTClaims
        do {
            claims = try await collection.verify(token, as: JWTClaims.self)
        } catch let error as JWTError where error.errorType == .malformedToken {
            return .failure(JWTFailure("the token is malformed"))
        } catch {
            return .failure(JWTFailure("the token signature is invalid"))
        }
        let checked = check(claims, at: current)
        if case .success = checked {
            let leeway = Double(settings.leeway.components.seconds)
            let expiry = claims["exp"]?.seconds.map { $0 + leeway } ?? (current + 300)
            cache.insert(token, claims: claims, validUntil: min(expiry, current + 300))
        }
        return checked
    }

    /// The registered-claim checks (RFC 7519 §4.1), with the configured leeway on both time claims.
    func check(_ claims: JWTClaims, at time: Double) -> Result<JWTClaims, JWTFailure> {
        let leeway = Double(settings.leeway.components.seconds)
        if let exp = claims["exp"] {
            guard let seconds = exp.seconds else { return .failure(JWTFailure("the exp claim is not a number")) }
            if time >= seconds + leeway { return .failure(JWTFailure("the token expired")) }
        }
        if let nbf = claims["nbf"] {
            guard let seconds = nbf.seconds else { return .failure(JWTFailure("the nbf claim is not a number")) }
            if time + leeway < seconds { return .failure(JWTFailure("the token is not valid yet (nbf)")) }
        }
        if let issuer = settings.issuer {
            guard case .string(let iss) = claims["iss"] else {
                return .failure(JWTFailure("the token has no issuer; expected \(issuer)"))
            }
            guard iss == issuer else { return .failure(JWTFailure("the issuer \(iss) is not accepted; expected \(issuer)")) }
        }
        if !settings.audience.isEmpty {
            let audiences = claims.audiences
            guard !audiences.isEmpty else {
                return .failure(JWTFailure("the token has no audience; expected \(settings.audience.joined(separator: " or "))"))
            }
            guard audiences.contains(where: settings.audience.contains) else {
                return .failure(
                    JWTFailure(
                        "the audience \(audiences.joined(separator: ", ")) is not accepted; expected \(settings.audience.joined(separator: " or "))"))
            }
        }
        return .success(claims)
    }

    // MARK: Keys

    /// The keys to verify with, loading them on first use and starting a background refresh when they are older
    /// than `jwks_refresh` (the current set is used meanwhile).
    func currentKeys() async -> JWTKeySet? {
        let current = now()
        let refresh = Double(settings.jwksRefresh.components.seconds)
        let (keys, task): (JWTKeySet?, Task<JWTKeySet?, Never>?) = state.withLockedValue { state in
            if let keys = state.keys {
                if !isSecret, current - state.loadedAt >= refresh,
                    current - state.lastAttempt >= minimumRefetchInterval, state.loading == nil
                {
                    state.loading = startLoad(&state, at: current)
                }
                return (keys, nil)
            }
            if let loading = state.loading { return (nil, loading) }
            if current - state.lastAttempt < minimumRefetchInterval { return (nil, nil) }
            let task = startLoad(&state, at: current)
            state.loading = task
            return (nil, task)
        }
        if let keys { return keys }
        return await task?.value
    }

    private func refetchForUnknownKid() async -> JWTKeySet? {
        guard !isSecret else { return nil }
        let current = now()
        let task: Task<JWTKeySet?, Never>? = state.withLockedValue { state in
            if let loading = state.loading { return loading }
            guard current - state.lastKidRefetch >= minimumRefetchInterval else { return nil }
            state.lastKidRefetch = current
            let task = startLoad(&state, at: current)
            state.loading = task
            return task
        }
        return await task?.value
    }

    private func startLoad(_ state: inout KeyState, at time: Double) -> Task<JWTKeySet?, Never> {
        state.lastAttempt = time
        return Task {
            let result = await self.loadKeys()
            return self.state.withLockedValue { state in
                state.loading = nil
                switch result {
                case .success(let keys):
                    state.keys = keys
                    state.loadedAt = self.now()
                    state.lastProblem = nil
                    return keys
                case .failure(let problem):
                    // Keep serving the last good set (the IdP may be down).
                    state.lastProblem = problem.message
                    return state.keys
                }
            }
        }
    }

    /// Reads or fetches the keys once.
    public func loadKeys() async -> Result<JWTKeySet, JWKSProblem> {
        do {
            switch settings.keys {
            case .jwksFile(let path):
                guard let data = FileManager.default.contents(atPath: path) else {
                    return .failure(JWKSProblem("cannot read the JWKS file \(path)"))
                }
                return .success(try await JWTKeySet.jwks(json: String(decoding: data, as: UTF8.self)))
            case .jwksURL(let url):
                guard let fetch else { return .failure(JWKSProblem("no HTTP client to fetch \(url)")) }
                let text: String
                do {
                    text = try await fetch(url)
                } catch {
                    return .failure(JWKSProblem("fetching \(url) failed: \(error)"))
                }
                return .success(try await JWTKeySet.jwks(json: text))
            case .secretEnv(let variable):
                guard let secret = environment[variable], !secret.isEmpty else {
                    return .failure(JWKSProblem("environment variable \(variable) (secret_env) is not set"))
                }
                return .success(await JWTKeySet.secret(secret, algorithms: settings.algorithms))
            }
        } catch let problem as JWKSProblem {
            return .failure(problem)
        } catch {
            return .failure(JWKSProblem("\(error)"))
        }
    }

    /// HMAC secrets are read once; JWKS files and URLs are reloaded (a rotated file is picked up without a restart).
    private var isSecret: Bool {
        if case .secretEnv = settings.keys { return true }
        return false
    }

    /// The last load problem, for logs and the admin API.
    public var lastProblem: String? { state.withLockedValue { $0.lastProblem } }

    /// Forgets verified tokens (tests; a reload builds a new verifier anyway).
    func forgetVerifiedTokens() { cache.removeAll() }
}
