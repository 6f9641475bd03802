import GatewayConfig
import Testing

@testable import GatewayEdge

/// The CORS decision table (Fetch §3.2): origins exact / one-label wildcard / `*`, methods, headers, credentials.
@Suite struct CORSPolicyTests {
    static func policy(
        origins: [String] = ["https://app.example.com", "https://*.example.com"], headers: [String] = ["Authorization", "Content-Type"],
        credentials: Bool = true
    ) -> CORSPolicy {
        var settings = CORSSettings()
        settings.origins = origins
        settings.methods = ["GET", "POST", "PUT", "DELETE"]
        settings.headers = headers
        settings.expose = ["RateLimit", "X-Request-Id"]
        settings.credentials = credentials
        settings.maxAge = .seconds(600)
        return CORSPolicy(settings)
    }

    @Test(arguments: [
        ("https://app.example.com", true),
        ("https://APP.example.com", true),
        ("https://shop.example.com", true),
        ("https://a.b.example.com", false),  // one label only
        ("https://example.com", false),
        ("http://shop.example.com", false),  // scheme differs
        ("https://shop.example.com:8443", false),  // port differs
        ("https://evil-example.com", false),
        ("https://example.com.evil.net", false),
        ("null", false),
    ])
    func originMatching(origin: String, allowed: Bool) {
        #expect(Self.policy().allows(origin: origin) == allowed)
    }

    @Test func wildcardWithPort() {
        let policy = Self.policy(origins: ["http://*.localhost:3000"])
        #expect(policy.allows(origin: "http://app.localhost:3000"))
        #expect(!policy.allows(origin: "http://app.localhost:3001"))
        #expect(!policy.allows(origin: "http://app.localhost"))
    }

    @Test func allowedPreflightGetsTheFullAnswer() {
        let answer = Self.policy().preflight(
            origin: "https://shop.example.com", requestMethod: "PUT", requestHeaders: "authorization, content-type")
        #expect(answer.allowed)
        let fields = Dictionary(answer.headers, uniquingKeysWith: { a, _ in a })
        #expect(fields["Access-Control-Allow-Origin"] == "https://shop.example.com")
        #expect(fields["Access-Control-Allow-Credentials"] == "true")
        #expect(fields["Access-Control-Allow-Methods"] == "GET, POST, PUT, DELETE")
        #expect(fields["Access-Control-Allow-Headers"] == "Authorization, Content-Type")
        #expect(fields["Access-Control-Max-Age"] == "600")
        #expect(fields["Vary"]?.contains("Origin") == true)
    }

    @Test(arguments: [
        ("https://evil.example.org", "GET", nil as String?),  // origin
        ("https://app.example.com", "PATCH", nil),  // method
        ("https://app.example.com", "POST", "x-secret"),  // header
    ])
    func refusedPreflightsGetNoCORSFields(origin: String, method: String, headers: String?) {
        let answer = Self.policy().preflight(origin: origin, requestMethod: method, requestHeaders: headers)
        #expect(!answer.allowed)
        #expect(!answer.headers.contains { $0.0.hasPrefix("Access-Control-") })
    }

    @Test func safelistedMethodsAndHeadersNeedNoListing() {
        let answer = Self.policy(headers: ["Authorization"]).preflight(
            origin: "https://app.example.com", requestMethod: "GET", requestHeaders: "accept-language")
        #expect(answer.allowed)
    }

    @Test func emptyHeaderListReflectsTheRequest() {
        let answer = Self.policy(headers: []).preflight(
            origin: "https://app.example.com", requestMethod: "POST", requestHeaders: "X-Custom, Content-Type")
        #expect(answer.allowed)
        #expect(answer.headers.contains { $0 == ("Access-Control-Allow-Headers", "x-custom, content-type") })
    }

    @Test func anyOriginWithoutCredentialsAnswersStar() {
        let policy = Self.policy(origins: ["*"], credentials: false)
        #expect(policy.responseHeaders(origin: "https://whatever.test").first! == ("Access-Control-Allow-Origin", "*"))
        #expect(!policy.responseHeaders(origin: "https://whatever.test").contains { $0.0 == "Access-Control-Allow-Credentials" })
    }

    @Test func simpleResponses() {
        let policy = Self.policy()
        let fields = policy.responseHeaders(origin: "https://app.example.com")
        #expect(fields.contains { $0 == ("Access-Control-Allow-Origin", "https://app.example.com") })
        #expect(fields.contains { $0 == ("Access-Control-Expose-Headers", "RateLimit, X-Request-Id") })
        #expect(policy.responseHeaders(origin: "https://evil.test").isEmpty)
        #expect(policy.responseHeaders(origin: nil).isEmpty)
    }

    @Test func preflightDetection() {
        #expect(CORSPolicy.isPreflight(method: "OPTIONS", origin: "https://a", requestMethod: "GET"))
        #expect(!CORSPolicy.isPreflight(method: "OPTIONS", origin: "https://a", requestMethod: nil))
        #expect(!CORSPolicy.isPreflight(method: "OPTIONS", origin: nil, requestMethod: "GET"))
        #expect(!CORSPolicy.isPreflight(method: "GET", origin: "https://a", requestMethod: "GET"))
    }
}
