import RawStructuredFieldValues
import GatewayConfig
import NIOHTTP1
import Testing

@testable import GatewayPolicies

@Suite struct RateLimitHeadersTests {
    let perIP = RateLimitSettings(name: "per-ip", key: .clientIP, limit: 100, window: .seconds(60))
    let perUser = RateLimitSettings(name: "per-user", key: .sessionUser, limit: 1000, window: .seconds(3600))

    @Test func policyFieldListsEveryLimitInOrder() {
        #expect(RateLimitHeaders.policyField([perIP]) == #""per-ip";q=100;w=60"#)
        #expect(RateLimitHeaders.policyField([perIP, perUser]) == #""per-ip";q=100;w=60, "per-user";q=1000;w=3600"#)
        #expect(RateLimitHeaders.policyField([]) == "")
    }

    @Test func rateLimitField() {
        let result = RateLimitResult(limit: perIP, allowed: true, remaining: 42, resetSeconds: 17, retryAfterSeconds: nil)
        #expect(RateLimitHeaders.rateLimitField(result) == #""per-ip";r=42;t=17"#)
    }

    @Test func namesAreQuotedAndEscaped() {
        let odd = RateLimitSettings(name: #"a"b\c"#, key: .route, limit: 1, window: .milliseconds(500))
        #expect(RateLimitHeaders.policyField([odd]) == #""a\"b\\c";q=1;w=1"#)
        let result = RateLimitResult(limit: odd, allowed: true, remaining: 0, resetSeconds: 1, retryAfterSeconds: nil)
        #expect(RateLimitHeaders.rateLimitField(result) == #""a\"b\\c";r=0;t=1"#)
    }

    /// The hand-written `RateLimit` field is byte for byte what the structured-field serializer writes.
    @Test func rateLimitFieldMatchesTheSerializer() throws {
        for name in ["per-ip", #"a"b\c"#, "tab\there", "ünïcode", ""] {
            for (remaining, reset) in [(0, 0), (42, 17), (-3, -1), (1_000_000_000, 86_400)] {
                let limit = RateLimitSettings(name: name, key: .route, limit: 1, window: .seconds(1))
                let result = RateLimitResult(limit: limit, allowed: true, remaining: remaining, resetSeconds: reset, retryAfterSeconds: nil)
                var parameters = OrderedMap<String, RFC9651BareItem>()
                parameters["r"] = .integer(Int64(max(remaining, 0)))
                parameters["t"] = .integer(Int64(max(reset, 0)))
                let printable = String(String.UnicodeScalarView(name.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7f }))
                var serializer = StructuredFieldValueSerializer()
                let bytes = try serializer.writeListFieldValue([.item(Item(bareItem: .string(printable), parameters: parameters))])
                #expect(RateLimitHeaders.rateLimitField(result) == String(decoding: bytes, as: UTF8.self), "\(name)")
            }
        }
    }

    @Test func fieldsForDeniedDecision() {
        let denied = RateLimitResult(limit: perIP, allowed: false, remaining: 0, resetSeconds: 60, retryAfterSeconds: 3)
        let decision = RateLimitDecision(results: [denied])
        let fields = RateLimitHeaders.fields(policy: RateLimitHeaders.policyField([perIP]), decision: decision)
        #expect(fields.map(\.0) == ["RateLimit-Policy", "RateLimit", "Retry-After"])
        #expect(fields.map(\.1) == [#""per-ip";q=100;w=60"#, #""per-ip";r=0;t=60"#, "3"])
    }

    @Test func keyValues() {
        var headers = HTTPHeaders()
        headers.add(name: "X-Api-Key", value: " abc ")
        #expect(RateLimitKeys.value(for: .clientIP, clientIP: "1.2.3.4", headers: headers, sessionUser: nil) == "ip=1.2.3.4")
        #expect(RateLimitKeys.value(for: .header("x-api-key"), clientIP: "1.2.3.4", headers: headers, sessionUser: nil) == "h=abc")
        #expect(RateLimitKeys.value(for: .header("X-Missing"), clientIP: "1.2.3.4", headers: headers, sessionUser: nil) == "ip=1.2.3.4")
        #expect(RateLimitKeys.value(for: .sessionUser, clientIP: "1.2.3.4", headers: headers, sessionUser: "ann") == "u=ann")
        #expect(RateLimitKeys.value(for: .sessionUser, clientIP: "1.2.3.4", headers: headers, sessionUser: nil) == "ip=1.2.3.4")
        #expect(RateLimitKeys.value(for: .route, clientIP: "1.2.3.4", headers: headers, sessionUser: "ann") == "*")
        let long = String(repeating: "x", count: 500)
        #expect(RateLimitKeys.value(for: .sessionUser, clientIP: "", headers: headers, sessionUser: long).hasPrefix("u=sha256:"))
        #expect(RateLimitKeys.storeKey(prefix: "gw:", route: "api", limit: "per-ip", value: "ip=1.2.3.4") == "gw:rl:api:per-ip:ip=1.2.3.4")
    }
}
