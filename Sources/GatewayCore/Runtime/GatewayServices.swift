/// The process-wide collaborators a client connection needs. Built once at start; the configuration-dependent parts
/// live in `snapshots` and are swapped on reload.
final class GatewayServices: Sendable {
    let snapshots: SnapshotHolder
    let policies: any RequestPolicies
    let observer: RequestObserver
    let pubsub: (any PubSubEndpoint)?
    /// The response cache (SPEC §11); nil without a top-level `cache:`.
    let cache: ResponseCache?
    /// `observability.tracing`; nil = tracing off.
    let tracing: GatewayTracing?

    init(
        snapshots: SnapshotHolder,
        policies: any RequestPolicies,
        observer: RequestObserver,
        pubsub: (any PubSubEndpoint)? = nil,
        cache: ResponseCache? = nil,
        tracing: GatewayTracing? = nil
    ) {
        self.cache = cache
        self.snapshots = snapshots
        self.policies = policies
        self.observer = observer
        self.pubsub = pubsub
        self.tracing = tracing
    }
}
