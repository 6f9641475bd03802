import GatewayConfig
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import GatewayCore

/// The edge steps of the request phase (SPEC §10) driven on an EmbeddedEventLoop: order, answers, headers.
@Suite struct EdgePoliciesTests {
    static func config() throws -> GatewayConfiguration {
        try ConfigLoader.load(
            yaml: """
                server: { trusted_proxies: [127.0.0.1/32] }
                upstreams:
                  app: { replicas: [http://127.0.0.1:9] }
                auth:
                  jwt:
                    main: { secret_env: JWT_SECRET, claims_to_headers: { sub: X-User-Id } }
                routes:
                  - name: api
                    match: { path_prefix: /api/, methods: [GET], host: "*.example.com" }
                    upstream: app
                    ip: { allow: [10.0.0.0/8] }
                    cors: { origins: ["https://app.example.com"], credentials: true }
                    auth: { jwt: main }
                    request_headers: { set: { X-Env: prod }, remove: [X-Debug] }
                """, path: "/cfg/gateway.yaml", environment: [:])
    }

    static func phase(
        _ method: HTTPMethod, _ path: String, host: String = "api.example.com", clientIP: String = "10.0.0.1",
        headers: [(String, String)] = []
    ) throws -> EdgePolicies.Outcome? {
        let snapshot = GatewaySnapshot(configuration: try config(), version: 1)
        guard case .matched(let route) = snapshot.router.route(method: method.rawValue, path: path, host: host) else { return nil }
        let loop = EmbeddedEventLoop()
        let edge = EdgePolicies(
            environment: ["JWT_SECRET": String(repeating: "k", count: 40)], group: loop, redis: nil, keyPrefix: "t:",
            logger: Logger(label: "test"))
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        let request = PolicyRequest(route: route, head: head, clientIP: clientIP, requestID: "r1")
        var outcome: EdgePolicies.Outcome?
        edge.requestPhase(request, on: loop).assumeIsolated().whenSuccess { outcome = $0 }
        loop.run()
        return outcome
    }

    @Test func ipRulesComeFirst() throws {
        // Denied even though it is a preflight and carries no token.
        let outcome = try Self.phase(
            .OPTIONS, "/api/x", clientIP: "192.0.2.1",
            headers: [("Origin", "https://app.example.com"), ("Access-Control-Request-Method", "GET")])
        guard case .respond(let problem) = outcome else { Issue.record("not answered"); return }
        #expect(problem.status == .forbidden)
    }

    @Test func preflightIsAnsweredBeforeAuth() throws {
        let outcome = try Self.phase(
            .OPTIONS, "/api/x", headers: [("Origin", "https://app.example.com"), ("Access-Control-Request-Method", "GET")])
        guard case .respond(let response) = outcome else { Issue.record("not answered"); return }
        #expect(response.status == .noContent)
        #expect(response.customBody?.bytes.isEmpty == true)
        #expect(response.headers.contains { $0 == ("Access-Control-Allow-Origin", "https://app.example.com") })
    }

    @Test func missingTokenIs401WithChallenge() throws {
        let outcome = try Self.phase(.GET, "/api/x")
        guard case .respond(let problem) = outcome else { Issue.record("not answered"); return }
        #expect(problem.status == .unauthorized)
        #expect(problem.headers.contains { $0.0 == "WWW-Authenticate" && $0.1.hasPrefix("Bearer error=\"invalid_token\"") })
    }

    @Test func plainOptionsOutsideMethodsIs405() throws {
        let outcome = try Self.phase(.OPTIONS, "/api/x")
        guard case .respond(let problem) = outcome else { Issue.record("not answered"); return }
        #expect(problem.status == .methodNotAllowed)
    }

    @Test func hostWildcardRouting() throws {
        #expect(try Self.phase(.GET, "/api/x", host: "example.com") == nil)
        #expect(try Self.phase(.GET, "/api/x", host: "a.b.example.com") == nil)
    }

    @Test func preflightAnswerRendersWithoutBodyOrLength() {
        var response = ProblemResponse(.noContent, detail: "preflight", headers: [("Vary", "Origin")])
        response.customBody = .init(contentType: nil, bytes: [])
        let (head, body) = response.render(requestID: "r", allocator: ByteBufferAllocator())
        #expect(body.readableBytes == 0)
        #expect(!head.headers.contains(name: "content-length"))
        #expect(!head.headers.contains(name: "content-type"))
    }
}
