import Foundation
import GatewayConfig
import Testing

@testable import GatewayEdge

@Suite struct RouteEdgeTests {
    static func route() -> (RouteSettings, AuthSettings) {
        var route = RouteSettings(name: "api")
        route.auth = RouteAuth(provider: .jwt("main"))
        var requestRules = HeaderRuleSettings()
        requestRules.set = [HeaderField(name: "X-Env", value: "prod")]
        requestRules.add = [HeaderField(name: "X-Extra", value: "1")]
        requestRules.remove = ["X-Debug"]
        route.requestHeaders = requestRules
        var responseRules = HeaderRuleSettings()
        responseRules.set = [HeaderField(name: "X-Frame-Options", value: "DENY")]
        responseRules.remove = ["Server"]
        route.responseHeaders = responseRules
        var auth = AuthSettings()
        var jwt = JWTProviderSettings(name: "main", keys: .secretEnv("S"))
        jwt.claimsToHeaders = [ClaimHeader(claim: "sub", header: "X-User-Id"), ClaimHeader(claim: "roles", header: "X-Roles")]
        jwt.userClaim = "sub"
        auth.jwt = [jwt]
        return (route, auth)
    }

    @Test func identityHeadersAreAlwaysStrippedFromClients() {
        let (route, auth) = Self.route()
        let edge = RouteEdge(route: route, auth: auth)
        #expect(edge.upstreamRemovals == ["X-Debug", "X-Env", "X-User-Id", "X-Roles"])
        #expect(edge.upstreamAdditions.map { "\($0.0)=\($0.1)" } == ["X-Env=prod", "X-Extra=1"])
        #expect(edge.responseRemovals == ["Server", "X-Frame-Options"])
        #expect(edge.hasRequestWork && edge.hasResponseWork)
    }

    @Test func claimsBecomeHeadersAndUser() {
        let (route, auth) = Self.route()
        let edge = RouteEdge(route: route, auth: auth)
        let claims = JWTClaims(["sub": .string("alice"), "roles": .array([.string("a"), .string("b")])])
        #expect(edge.claimHeaders(claims).map { "\($0.0)=\($0.1)" } == ["X-User-Id=alice", "X-Roles=a,b"])
        #expect(edge.user(claims) == "alice")
        let injected = JWTClaims(["sub": .string("alice\r\nX-Admin: 1")])
        #expect(edge.claimHeaders(injected).isEmpty)
    }

    @Test func routeWithoutEdgeKeysHasNoWork() {
        let edge = RouteEdge(route: RouteSettings(name: "plain"), auth: AuthSettings())
        #expect(!edge.hasRequestWork && !edge.hasResponseWork)
    }
}

@Suite struct ForwardAuthExchangeTests {
    @Test func requestCarriesWhereTheClientWasGoing() {
        let headers = ForwardAuthExchange.requestHeaders(
            clientHeaders: [("Authorization", "Bearer t"), ("Cookie", "a=1"), ("Content-Length", "5"), ("X-Forwarded-Uri", "/forged"), ("Host", "h")],
            method: "POST", uri: "/api/x?y=1", host: "api.example.com", scheme: "https", clientIP: "10.0.0.1")
        let names = headers.map { $0.0 }
        #expect(!names.contains("Content-Length") && !names.contains("Host"))
        #expect(headers.filter { $0.0 == "X-Forwarded-Uri" }.map(\.1) == ["/api/x?y=1"])
        #expect(headers.contains { $0 == ("X-Forwarded-Method", "POST") })
        #expect(headers.contains { $0 == ("Authorization", "Bearer t") })
        #expect(headers.contains { $0 == ("X-Original-URI", "/api/x?y=1") })
    }

    @Test func decisions() {
        #expect(
            ForwardAuthExchange.decide(
                status: 204, headers: [("X-User-Id", "7"), ("X-Roles", "a"), ("X-Roles", "b"), ("X-Other", "z")], body: [],
                copyHeaders: ["X-User-Id", "X-Roles"])
                == .allow(upstreamHeaders: [HeaderField(name: "X-User-Id", value: "7"), HeaderField(name: "X-Roles", value: "a, b")]))
        #expect(
            ForwardAuthExchange.decide(
                status: 401, headers: [("WWW-Authenticate", "Basic"), ("X-Internal", "1"), ("Content-Type", "text/plain")],
                body: Array("no".utf8), copyHeaders: [])
                == .deny(
                    status: 401, headers: [HeaderField(name: "WWW-Authenticate", value: "Basic"), HeaderField(name: "Content-Type", value: "text/plain")],
                    body: Array("no".utf8)))
        #expect(ForwardAuthExchange.decide(status: 500, headers: [], body: [], copyHeaders: []) == .unavailable("the auth service answered 500"))
    }

    @Test func cacheKeyDependsOnCredentials() {
        let a = ForwardAuthExchange.cacheKey(provider: "p", authorization: "Bearer 1", cookie: nil)
        let b = ForwardAuthExchange.cacheKey(provider: "p", authorization: "Bearer 2", cookie: nil)
        let c = ForwardAuthExchange.cacheKey(provider: "q", authorization: "Bearer 1", cookie: nil)
        #expect(a != nil && a != b && a != c)
        #expect(ForwardAuthExchange.cacheKey(provider: "p", authorization: nil, cookie: nil) == nil)
        #expect(a?.count == 64)
    }

    @Test func cacheExpires() {
        let cache = ForwardAuthCache()
        cache.insert("k", headers: [.init(name: "X-User-Id", value: "7")], until: 100)
        #expect(cache.lookup("k", now: 99)?.first?.value == "7")
        #expect(cache.lookup("k", now: 100) == nil)
    }
}

@Suite struct JWKSInspectionTests {
    @Test func keyTypeMismatchesAreReported() throws {
        let data = Data(TokenFactory.jwks(TestKeys.rsaPublic, TestKeys.ecPublic).utf8)
        let summary = try JWKSInspection.inspect(data).get()
        let problems = summary.mismatches(algorithms: ["ES256"])
        #expect(problems.count == 1)
        #expect(problems.first?.contains("rsa-1") == true)
        #expect(summary.mismatches(algorithms: ["RS256", "ES256"]).isEmpty)
    }

    @Test func missingKidAndGarbageAreProblems() {
        let noKid = #"{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}"#
        if case .failure(let problem) = JWKSInspection.inspect(Data(noKid.utf8)) {
            #expect(problem.message.contains("no \"kid\""))
        } else {
            Issue.record("a key without kid was accepted")
        }
        if case .success = JWKSInspection.inspect(Data("{}".utf8)) { Issue.record("garbage accepted") }
        if case .success = JWKSInspection.inspect(Data(#"{"keys":[]}"#.utf8)) { Issue.record("empty set accepted") }
    }
}
