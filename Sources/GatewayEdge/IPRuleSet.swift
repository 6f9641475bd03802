import GatewayConfig

/// A route's `ip: { allow, deny }` (SPEC §10), on the client address after `trusted_proxies`. Deny wins; a
/// non-empty allow list refuses everything it does not cover (nginx `allow …; deny all;`).
public struct IPRuleSet: Sendable {
    public let rules: IPRules

    public init(_ rules: IPRules) {
        self.rules = rules
    }

    public enum Verdict: Sendable, Equatable {
        case allowed
        case denied(String)
    }

    /// `clientIP`: the textual client address the gateway resolved (no port).
    public func verdict(clientIP: String) -> Verdict {
        guard let bytes = IPAddressParser.parse(clientIP) else {
            return rules.allow.isEmpty ? .allowed : .denied("the client address is not an IP address")
        }
        return verdict(address: bytes)
    }

    public func verdict(address: [UInt8]) -> Verdict {
        if let block = rules.deny.first(where: { $0.contains(address) }) {
            return .denied("the client address is in the denied block \(block)")
        }
        if !rules.allow.isEmpty, !rules.allow.contains(where: { $0.contains(address) }) {
            return .denied("the client address is not in an allowed block")
        }
        return .allowed
    }
}
