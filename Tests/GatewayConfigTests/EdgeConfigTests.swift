import Testing

@testable import GatewayConfig

/// SPEC §10 keys: top-level `auth`, per-route `auth`, `cors`, `ip`, `request_headers`, `response_headers`,
/// host wildcards and `jwt:CLAIM` rate-limit keys.
@Suite struct EdgeConfigTests {
    static let specExample = """
        upstreams:
          app: { replicas: [http://127.0.0.1:9001] }
        auth:
          jwt:
            main:
              jwks_url: https://idp.example/.well-known/jwks.json
              issuer: https://idp.example/
              audience: [my-api]
              algorithms: [RS256, ES256, EdDSA]
              leeway: 30s
              claims_to_headers: { sub: X-User-Id, email: X-User-Email }
              user_claim: sub
          forward:
            authsvc:
              url: http://127.0.0.1:9100/verify
              copy_headers: [X-User-Id, X-Roles]
              timeout: 500ms
              cache: 10s
        routes:
          - name: api
            match: { path_prefix: /api/v1/, host: "*.example.com" }
            upstream: app
            auth: { jwt: main }
            cors:
              origins: ["https://app.example.com", "https://*.example.com"]
              methods: [GET, POST, PUT, DELETE]
              headers: [Authorization, Content-Type]
              expose: [RateLimit, RateLimit-Policy, X-Request-Id]
              credentials: true
              max_age: 10m
            ip: { allow: [10.0.0.0/8, 127.0.0.1/32], deny: [] }
            request_headers:  { set: { X-Env: prod }, add: {}, remove: [X-Debug] }
            response_headers: { set: { X-Frame-Options: DENY }, remove: [Server, X-Powered-By] }
            rate_limits:
              - { name: per-user, key: "jwt:sub", limit: 100, window: 1m }
          - name: internal
            match: { path_prefix: /internal/ }
            upstream: app
            auth: { forward: authsvc, optional: true }
        """

    @Test func specExampleDecodes() throws {
        let config = try ConfigLoader.load(yaml: Self.specExample, path: "/cfg/gateway.yaml", environment: [:])
        let jwt = try #require(config.auth.jwtProvider(named: "main"))
        #expect(jwt.keys == .jwksURL("https://idp.example/.well-known/jwks.json"))
        #expect(jwt.issuer == "https://idp.example/")
        #expect(jwt.audience == ["my-api"])
        #expect(jwt.algorithms == ["RS256", "ES256", "EdDSA"])
        #expect(jwt.leeway == .seconds(30))
        #expect(jwt.claimsToHeaders == [ClaimHeader(claim: "sub", header: "X-User-Id"), ClaimHeader(claim: "email", header: "X-User-Email")])
        #expect(jwt.userClaim == "sub")
        let forward = try #require(config.auth.forwardProvider(named: "authsvc"))
        #expect(forward.copyHeaders == ["X-User-Id", "X-Roles"])
        #expect(forward.timeout == .milliseconds(500))
        #expect(forward.cache == .seconds(10))
        let api = config.routes[0]
        #expect(api.match.host == "*.example.com")
        #expect(api.auth == RouteAuth(provider: .jwt("main")).with(location: api.auth?.location))
        #expect(api.cors?.origins == ["https://app.example.com", "https://*.example.com"])
        #expect(api.cors?.credentials == true)
        #expect(api.cors?.maxAge == .seconds(600))
        #expect(api.ip?.allow.count == 2)
        #expect(api.requestHeaders?.set == [HeaderField(name: "X-Env", value: "prod")])
        #expect(api.responseHeaders?.remove == ["Server", "X-Powered-By"])
        #expect(api.rateLimits.first?.key == .jwtClaim("sub"))
        #expect(config.routes[1].auth?.optional == true)
        #expect(ConfigSummary.policyOrder(for: api) == "ip → cors → auth(jwt main) → rate_limits")
    }

    @Test func secretEnvDefaultsToHS256AndRefusesPublicKeyAlgorithms() {
        let lines = errorLines("""
            auth:
              jwt:
                hs:
                  secret_env: JWT_SECRET
                  algorithms: [HS256, RS256, none]
            """)
        #expect(lines.contains { $0.hasPrefix("/cfg/gateway.yaml:5:27:") && $0.contains("RS256") && $0.contains("secret_env") })
        #expect(lines.contains { $0.hasPrefix("/cfg/gateway.yaml:5:34:") && $0.contains("never accepted") })
    }

    @Test func jwksProvidersRefuseHMACAlgorithms() {
        let lines = errorLines("""
            auth:
              jwt:
                main:
                  jwks_file: keys.json
                  algorithms: [HS256]
            """)
        #expect(lines.contains { $0.contains(":5:") && $0.contains("key confusion") })
    }

    @Test func providerNeedsExactlyOneKeySource() {
        #expect(errorLines("auth:\n  jwt:\n    main: { issuer: x }\n").contains { $0.contains("needs one of 'jwks_file', 'jwks_url' or 'secret_env'") })
        #expect(
            errorLines("auth:\n  jwt:\n    main: { jwks_file: a.json, secret_env: S }\n")
                .contains { $0.contains("exactly one of") })
    }

    @Test func unknownProviderIsNamedAtTheRoute() {
        let lines = errorLines(baseUpstream + """
            auth:
              jwt:
                main: { secret_env: S }
            routes:
              - name: api
                match: { path_prefix: /api/ }
                upstream: app
                auth: { jwt: mian }
            """)
        #expect(lines.contains { $0.contains("unknown JWT provider 'mian'") && $0.contains("did you mean 'main'") })
    }

    @Test func jwtRateLimitKeyNeedsAJWTRoute() {
        let lines = errorLines(baseUpstream + """
            routes:
              - name: api
                match: { path_prefix: /api/ }
                upstream: app
                rate_limits: [{ key: "jwt:sub", limit: 1, window: 1s }]
            """)
        #expect(lines.contains { $0.contains("'jwt:CLAIM' needs 'auth: { jwt: NAME }'") })
    }

    @Test func badEdgeValuesNamePositionAndKey() {
        let lines = errorLines(baseUpstream + """
            routes:
              - name: api
                match: { path_prefix: /api/, host: "a.*.example.com" }
                upstream: app
                cors: { origins: ["https://app.example.com/path", "*"], credentials: true }
                ip: { allow: [10.0.0.0/33] }
                request_headers: { set: { "Bad Name": x }, remove: [X-Debug] }
                response_headers: { sett: {} }
            """)
        #expect(lines.contains { $0.contains("wildcard stands for one leading label") })
        #expect(lines.contains { $0.contains("must not have a path") })
        #expect(lines.contains { $0.contains("cannot be combined with origins") })
        #expect(lines.contains { $0.contains("'allow'") })
        #expect(lines.contains { $0.contains("'Bad Name' is not a header name") })
        #expect(lines.contains { $0.contains("unknown key 'sett'") && $0.contains("did you mean 'set'") })
    }

    @Test func unusualClaimIsAWarningWithPosition() throws {
        let config = try ConfigLoader.load(
            yaml: "auth:\n  jwt:\n    main:\n      secret_env: S\n      claims_to_headers: { emial: X-Email }\n",
            path: "/cfg/gateway.yaml", environment: [:])
        #expect(config.warnings.contains { $0.line == 5 && $0.message.contains("did you mean 'email'") })
    }

    @Test func schemaKnowsTheEdgeKeys() {
        let schema = ConfigSchema.json()
        for key in ["claims_to_headers", "copy_headers", "response_headers", "jwt:"] {
            #expect(schema.contains(key))
        }
    }
}

extension RouteAuth {
    fileprivate func with(location: GatewayConfig.SourceLocation?) -> RouteAuth {
        var copy = self
        copy.location = location
        return copy
    }
}
