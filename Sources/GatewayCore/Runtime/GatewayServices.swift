/// The process-wide collaborators a client connection needs. Built once at start; the configuration-dependent parts
/// live in `snapshots` and are swapped on reload.
final class GatewayServices: Sendable {
    let snapshots: SnapshotHolder
    let selector: any ReplicaSelector
    let policies: any RequestPolicies
    let observer: RequestObserver
    let pubsub: (any PubSubEndpoint)?
    /// `observability.tracing`; nil = tracing off.
    let tracing: GatewayTracing?

    init(
        snapshots: SnapshotHolder,
        selector: any ReplicaSelector,
        policies: any RequestPolicies,
        observer: RequestObserver,
        pubsub: (any PubSubEndpoint)? = nil,
        tracing: GatewayTracing? = nil
    ) {
        self.snapshots = snapshots
        self.selector = selector
        self.policies = policies
        self.observer = observer
        self.pubsub = pubsub
        self.tracing = tracing
    }
}
