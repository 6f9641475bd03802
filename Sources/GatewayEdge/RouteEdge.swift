import GatewayConfig

/// One route's edge policies resolved against the top-level `auth:` providers, precomputed once per config
/// version so the request phase does no parsing (SPEC §10).
public struct RouteEdge: Sendable {
    public let ip: IPRuleSet?
    public let cors: CORSPolicy?
    public let jwt: JWTProviderSettings?
    public let forward: ForwardAuthSettings?
    /// `auth.optional`: no credential = pass unauthenticated; a present one must be valid.
    public let authOptional: Bool
    /// Client header names never forwarded upstream: `request_headers.remove` and `.set` names, and the headers
    /// the gateway fills from a verified identity (`claims_to_headers`, forward-auth `copy_headers`).
    public let upstreamRemovals: [String]
    /// `request_headers.set` and `.add`, in that order.
    public let upstreamAdditions: [(String, String)]
    /// `response_headers.remove` and `.set` names.
    public let responseRemovals: [String]
    /// `response_headers.set` and `.add`.
    public let responseAdditions: [(String, String)]

    public init(route: RouteSettings, auth: AuthSettings) {
        ip = route.ip.map(IPRuleSet.init)
        cors = route.cors.map(CORSPolicy.init)
        var jwt: JWTProviderSettings? = nil
        var forward: ForwardAuthSettings? = nil
        switch route.auth?.provider {
        case .jwt(let name)?: jwt = auth.jwtProvider(named: name)
        case .forward(let name)?: forward = auth.forwardProvider(named: name)
        case nil: break
        }
        self.jwt = jwt
        self.forward = forward
        authOptional = route.auth?.optional ?? false
        var removals: [String] = []
        var additions: [(String, String)] = []
        if let rules = route.requestHeaders {
            removals += rules.remove + rules.set.map(\.name)
            additions += rules.set.map { ($0.name, $0.value) } + rules.add.map { ($0.name, $0.value) }
        }
        removals += jwt?.claimsToHeaders.map(\.header) ?? []
        removals += forward?.copyHeaders ?? []
        upstreamRemovals = Self.unique(removals)
        upstreamAdditions = additions
        if let rules = route.responseHeaders {
            responseRemovals = Self.unique(rules.remove + rules.set.map(\.name))
            responseAdditions = rules.set.map { ($0.name, $0.value) } + rules.add.map { ($0.name, $0.value) }
        } else {
            responseRemovals = []
            responseAdditions = []
        }
    }

    /// Whether the request phase has anything to do for this route.
    public var hasRequestWork: Bool {
        ip != nil || cors != nil || jwt != nil || forward != nil || !upstreamRemovals.isEmpty || !upstreamAdditions.isEmpty
    }

    /// Whether upstream responses need editing (header rules, `Vary: Origin`).
    public var hasResponseWork: Bool {
        cors != nil || !responseRemovals.isEmpty || !responseAdditions.isEmpty
    }

    /// Claim values for `claims_to_headers` (values with control characters are dropped, never forwarded).
    public func claimHeaders(_ claims: JWTClaims) -> [(String, String)] {
        guard let jwt else { return [] }
        return jwt.claimsToHeaders.compactMap { mapping in
            guard let text = claims[mapping.claim]?.text, !text.contains(where: { $0.isNewline || $0 == "\0" }) else {
                return nil
            }
            return (mapping.header, text)
        }
    }

    /// The user a verified token names (`user_claim`).
    public func user(_ claims: JWTClaims) -> String? {
        guard let claim = jwt?.userClaim, let text = claims[claim]?.text, !text.isEmpty else { return nil }
        return text
    }

    private static func unique(_ names: [String]) -> [String] {
        var seen: Set<String> = []
        return names.filter { seen.insert($0.lowercased()).inserted }
    }
}

/// RFC 6750 §3 challenges.
public enum BearerChallenge {
    /// `Bearer error="invalid_token", error_description="…"` (quotes and backslashes removed from the text).
    public static func invalidToken(_ description: String) -> String {
        let safe = description.filter { $0 != "\"" && $0 != "\\" && !$0.isNewline }
        return "Bearer error=\"invalid_token\", error_description=\"\(safe)\""
    }
}
