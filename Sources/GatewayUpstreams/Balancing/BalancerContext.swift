/// What a balancer may look at in a request.
public struct BalancerContext: Sendable, Equatable {
    /// The client address (after `trusted_proxies`), as text; `ip_hash` hashes it.
    public var clientIP: String
    /// The value of the upstream's affinity cookie (`UpstreamGroup.affinityCookieName`) if the request has one.
    public var affinityCookie: String?

    public init(clientIP: String, affinityCookie: String? = nil) {
        self.clientIP = clientIP
        self.affinityCookie = affinityCookie
    }
}

/// The balancer's answer.
public struct Pick: Sendable {
    public var replica: Replica
    /// For `balance: cookie`: the value to set in the affinity cookie on the response (nil = leave it).
    public var setAffinityCookie: String?
    /// Chosen in panic mode (`panic_threshold`): too few replicas were healthy, so all were candidates.
    public var panic = false

    public init(replica: Replica, setAffinityCookie: String? = nil) {
        self.replica = replica
        self.setAffinityCookie = setAffinityCookie
    }
}
