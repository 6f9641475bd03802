/// The order in which a route's policies run in the request phase (SPEC §10); `gateway check` prints each
/// route's steps in this order (``GatewayConfig/ConfigSummary/policyOrder(for:)``).
public enum EdgePolicyStep: String, Sendable, CaseIterable {
    case ipRules = "ip"
    case corsPreflight = "cors"
    case auth = "auth"
    case session = "session"
    case rateLimits = "rate_limits"
}
