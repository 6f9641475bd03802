/// Edge policies (SPEC §10): the top-level `auth:` providers and the per-route `auth`, `cors`, `ip`,
/// `request_headers` and `response_headers` blocks.

/// `auth:` — named JWT verifiers and forward-auth services that routes refer to.
public struct AuthSettings: Sendable, Equatable {
    public var jwt: [JWTProviderSettings] = []
    public var forward: [ForwardAuthSettings] = []

    public init() {}

    public func jwtProvider(named name: String) -> JWTProviderSettings? { jwt.first { $0.name == name } }
    public func forwardProvider(named name: String) -> ForwardAuthSettings? { forward.first { $0.name == name } }
}

/// Where a JWT verifier gets its keys.
public enum JWTKeySource: Sendable, Equatable {
    /// A JWKS document on disk (path as written, resolved against the config file's directory).
    case jwksFile(String)
    /// A JWKS document fetched over HTTP(S), cached, refreshed every `jwks_refresh` and on an unknown `kid`.
    case jwksURL(String)
    /// An HMAC secret (HS256/384/512) read from the named environment variable.
    case secretEnv(String)
}

/// One `auth.jwt.NAME` block.
public struct JWTProviderSettings: Sendable, Equatable {
    public var name: String
    public var keys: JWTKeySource
    public var jwksRefresh: Duration = .seconds(600)
    public var issuer: String? = nil
    /// Accepted audiences; empty = `aud` is not checked.
    public var audience: [String] = []
    /// Allowed `alg` values as written (RS256, ES256, EdDSA, HS256 …). `none` is never accepted.
    public var algorithms: [String] = []
    public var leeway: Duration = .seconds(0)
    public var claimsToHeaders: [ClaimHeader] = []
    public var userClaim: String? = nil
    public var location: SourceLocation? = nil
    /// Where the key source was written (for `check` messages about the JWKS).
    public var keysLocation: SourceLocation? = nil

    public init(name: String, keys: JWTKeySource) {
        self.name = name
        self.keys = keys
    }

    public static let supportedAlgorithms = [
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512",
    ]
}

/// `claims_to_headers: { sub: X-User-Id }` — one claim copied to one upstream header.
public struct ClaimHeader: Sendable, Equatable {
    public var claim: String
    public var header: String

    public init(claim: String, header: String) {
        self.claim = claim
        self.header = header
    }
}

/// One `auth.forward.NAME` block (nginx `auth_request`, Traefik ForwardAuth).
public struct ForwardAuthSettings: Sendable, Equatable {
    public var name: String
    /// `http://host:port/path`.
    public var url: String
    /// Auth-response headers copied onto the upstream request.
    public var copyHeaders: [String] = []
    public var timeout: Duration = .milliseconds(500)
    /// How long an allow is remembered per Authorization/Cookie value; nil = ask every time.
    public var cache: Duration? = nil
    public var location: SourceLocation? = nil

    public init(name: String, url: String) {
        self.name = name
        self.url = url
    }
}

/// A route's `auth: { jwt: NAME }` or `{ forward: NAME }`.
public struct RouteAuth: Sendable, Equatable {
    public enum Provider: Sendable, Equatable {
        case jwt(String)
        case forward(String)
    }

    public var provider: Provider
    /// `optional: true`: a request without credentials passes unauthenticated; present ones must be valid.
    public var optional: Bool = false
    public var location: SourceLocation? = nil

    public init(provider: Provider, optional: Bool = false) {
        self.provider = provider
        self.optional = optional
    }
}

/// A route's `cors:` block.
public struct CORSSettings: Sendable, Equatable {
    /// Exact origins (`https://app.example.com`), one-label wildcards (`https://*.example.com`) or `*`.
    public var origins: [String] = []
    public var methods: [String] = ["GET", "HEAD", "POST"]
    /// Allowed request headers; empty = reflect what the preflight asks for.
    public var headers: [String] = []
    public var expose: [String] = []
    public var credentials: Bool = false
    public var maxAge: Duration? = nil

    public init() {}
}

/// A route's `ip:` block: evaluated on the client address after `trusted_proxies`; deny wins.
public struct IPRules: Sendable, Equatable {
    /// Empty = every address not denied is allowed.
    public var allow: [CIDRBlock] = []
    public var deny: [CIDRBlock] = []

    public init(allow: [CIDRBlock] = [], deny: [CIDRBlock] = []) {
        self.allow = allow
        self.deny = deny
    }
}

/// `request_headers:` / `response_headers:` — `set` replaces, `add` appends, `remove` drops (names case-insensitive).
public struct HeaderRuleSettings: Sendable, Equatable {
    public var set: [HeaderField] = []
    public var add: [HeaderField] = []
    public var remove: [String] = []

    public init() {}

    public var isEmpty: Bool { self.set.isEmpty && add.isEmpty && remove.isEmpty }
}

public struct HeaderField: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
