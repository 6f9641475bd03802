import GatewayConfig
import Testing

@testable import GatewayEdge

@Suite struct IPRuleSetTests {
    static func rules(allow: [String] = [], deny: [String] = []) throws -> IPRuleSet {
        IPRuleSet(IPRules(allow: try allow.map { try CIDRBlock.parse($0) }, deny: try deny.map { try CIDRBlock.parse($0) }))
    }

    @Test func allowListRefusesEverythingElse() throws {
        let rules = try Self.rules(allow: ["10.0.0.0/8", "127.0.0.1/32"])
        #expect(rules.verdict(clientIP: "10.1.2.3") == .allowed)
        #expect(rules.verdict(clientIP: "127.0.0.1") == .allowed)
        #expect(rules.verdict(clientIP: "127.0.0.2") != .allowed)
        #expect(rules.verdict(clientIP: "192.168.1.1") != .allowed)
    }

    @Test func denyWins() throws {
        let rules = try Self.rules(allow: ["10.0.0.0/8"], deny: ["10.9.0.0/16"])
        #expect(rules.verdict(clientIP: "10.8.0.1") == .allowed)
        #expect(rules.verdict(clientIP: "10.9.0.1") == .denied("the client address is in the denied block 10.9.0.0/16"))
    }

    @Test func denyOnlyAllowsTheRest() throws {
        let rules = try Self.rules(deny: ["203.0.113.0/24"])
        #expect(rules.verdict(clientIP: "198.51.100.7") == .allowed)
        #expect(rules.verdict(clientIP: "203.0.113.9") != .allowed)
    }

    @Test func ipv6AndMappedIPv4() throws {
        let rules = try Self.rules(allow: ["2001:db8::/32", "10.0.0.0/8"])
        #expect(rules.verdict(clientIP: "2001:db8:1::5") == .allowed)
        #expect(rules.verdict(clientIP: "2001:db9::1") != .allowed)
        #expect(rules.verdict(clientIP: "::ffff:10.0.0.1") == .allowed)
        #expect(rules.verdict(clientIP: "::1") != .allowed)
    }

    @Test func unparsableAddressIsRefusedByAnAllowList() throws {
        #expect(try Self.rules(allow: ["10.0.0.0/8"]).verdict(clientIP: "garbage") != .allowed)
        #expect(try Self.rules(deny: ["10.0.0.0/8"]).verdict(clientIP: "garbage") == .allowed)
    }
}

@Suite struct HostPatternTests {
    @Test(arguments: [
        ("*.example.com", "api.example.com", true),
        ("*.example.com", "a.b.example.com", false),
        ("*.example.com", "example.com", false),
        ("*.example.com", ".example.com", false),
        ("*.example.com", "evilexample.com", false),
        ("api.example.com", "api.example.com", true),
        ("api.example.com", "x.api.example.com", false),
    ])
    func matching(pattern: String, host: String, matches: Bool) {
        #expect(HostPattern(pattern).matches(host) == matches)
    }

    @Test func noHostNeverMatchesAPattern() {
        #expect(!HostPattern("*.example.com").matches(nil))
    }
}
