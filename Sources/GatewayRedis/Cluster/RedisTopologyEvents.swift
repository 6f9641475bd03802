/// What the topology-aware clients report, so the owner can count it (`gateway_store_redirects_total{kind}`,
/// `gateway_store_failovers_total`) without GatewayRedis depending on a metrics library.
public struct RedisTopologyEvents: Sendable {
    /// A `MOVED` or `ASK` redirect was followed.
    public var redirect: @Sendable (ClusterRedirect.Kind) -> Void
    /// A replica became the primary (Cluster: seen in the slot map; Sentinel: `+switch-master` or a changed answer).
    public var failover: @Sendable () -> Void
    /// A read was sent to a Cluster replica (`store.cluster.read_from_replicas`).
    public var replicaRead: @Sendable () -> Void

    public init(redirect: @escaping @Sendable (ClusterRedirect.Kind) -> Void = { _ in },
                failover: @escaping @Sendable () -> Void = {},
                replicaRead: @escaping @Sendable () -> Void = {}) {
        self.redirect = redirect
        self.failover = failover
        self.replicaRead = replicaRead
    }
}
