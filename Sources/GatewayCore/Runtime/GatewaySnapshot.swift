import GatewayConfig
import GatewayHTTP
import GatewayUpstreams
import NIOConcurrencyHelpers
import Synchronization

/// Everything derived from one configuration version. Immutable: a reload builds a new snapshot and swaps it in;
/// requests that already started keep the snapshot they began with.
public final class GatewaySnapshot: Sendable {
    public let configuration: GatewayConfiguration
    public let router: Router
    public let version: Int
    /// Which client header names are forwarded (`underscores_in_headers`, gateway-owned names).
    public let headerRules: HeaderNameRules
    /// How paths are normalised before routing (`merge_slashes`).
    public let pathNormalizer: PathNormalizer

    /// - Parameter registry: the upstream groups, already updated to `configuration` (`UpstreamRegistry.apply`);
    ///   routes hold their group from here on. Without it (tests) proxied routes answer 503.
    public init(configuration: GatewayConfiguration, version: Int, registry: UpstreamRegistry? = nil) {
        self.configuration = configuration
        self.router = Router(
            routes: configuration.routes,
            auth: configuration.auth,
            upstreams: registry.map { RouteUpstream.resolveAll(configuration, registry: $0) } ?? [:])
        self.version = version
        self.headerRules = HeaderNameRules(underscoresAllowed: configuration.server.underscoresInHeaders)
        self.pathNormalizer = PathNormalizer(mergeSlashes: configuration.server.mergeSlashes)
    }

    public var server: ServerSettings { configuration.server }

    /// Whether `peer` (4 or 16 address bytes) is a trusted proxy whose X-Forwarded-For is believed.
    public func isTrustedProxy(_ peer: [UInt8]) -> Bool {
        configuration.server.trustedProxies.contains { $0.contains(peer) }
    }
}

/// The current snapshot, swapped atomically on reload.
///
/// Connections read it through `current(cachedIn:)`: an atomic generation number tells whether their cached snapshot
/// is still current, so a request takes the lock only on its connection's first request after a reload.
public final class SnapshotHolder: Sendable {
    private let box: NIOLockedValueBox<GatewaySnapshot>
    /// Bumped after every swap (release), read before the cache is trusted (acquire).
    private let generation = Atomic<Int>(0)

    public init(_ snapshot: GatewaySnapshot) {
        self.box = NIOLockedValueBox(snapshot)
    }

    public var current: GatewaySnapshot { box.withLockedValue { $0 } }

    public func replace(with snapshot: GatewaySnapshot) {
        box.withLockedValue { $0 = snapshot }
        generation.add(1, ordering: .releasing)
    }

    /// The current snapshot, from `cache` while no reload happened since it was filled.
    func current(cachedIn cache: inout SnapshotCache) -> GatewaySnapshot {
        let now = generation.load(ordering: .acquiring)
        if now == cache.generation, let snapshot = cache.snapshot { return snapshot }
        // Read after the generation: a swap in between only makes the next call read again.
        let snapshot = current
        cache = SnapshotCache(snapshot: snapshot, generation: now)
        return snapshot
    }
}

/// One connection's (one thread's) copy of the current snapshot and the generation it was read at.
struct SnapshotCache {
    var snapshot: GatewaySnapshot?
    var generation = -1
}
