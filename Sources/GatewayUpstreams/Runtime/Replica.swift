import GatewayConfig
import NIOCore

/// One backend of an upstream group. The proxy calls `requestStarted()` when it sends an attempt and
/// `requestFinished(_:)` exactly once when that attempt ends; both are one short lock.
///
/// A replica object lives as long as its URL stays in the configuration: a reload keeps it (and its health)
/// when the URL is unchanged.
public final class Replica: Sendable, CustomStringConvertible {
    /// Stable within the group and never reused (also across reloads): what `pick(_:excluding:)` takes.
    public let index: Int
    public let url: String
    public let host: String
    public let port: Int
    /// An `https://` replica.
    public let tls: Bool
    /// The key of this replica's idle connections in a connection pool: `host:port`, `tls:`-prefixed for TLS.
    /// Built once here so that no request formats it.
    public let poolKey: String
    /// The affinity cookie value naming this replica (`balance: cookie`): a short stable hash of the URL.
    public let affinityValue: String
    let core: GroupCore

    init(index: Int, settings: ReplicaSettings, core: GroupCore) {
        self.index = index
        self.url = settings.url
        self.host = settings.host
        self.port = settings.port
        self.tls = settings.tls
        self.poolKey = (settings.tls ? "tls:" : "") + "\(settings.host):\(settings.port)"
        self.affinityValue = StableHash.affinityValue(for: settings.url)
        self.core = core
    }

    /// The upstream (group) name.
    public var upstream: String { core.name }

    public var description: String { "\(core.name)[\(index)] \(url)" }

    public var weight: Int {
        core.state.withLockedValue { state in state.position(of: index).map { state.members[$0].weight } ?? 0 }
    }

    public var inFlight: Int {
        core.state.withLockedValue { state in state.position(of: index).map { state.members[$0].inFlight } ?? 0 }
    }

    /// `draining` once a reload removed it.
    public var state: ReplicaState {
        let now = core.clock.now()
        return core.state.withLockedValue { state in
            state.position(of: index).map { state.state(at: $0, now: now) } ?? .draining
        }
    }

    /// In rotation (`state == .healthy`): what `gateway_upstream_healthy` exports as 1.
    public var isAvailable: Bool { state == .healthy }

    /// An attempt to this replica starts (counts toward `in_flight`, `least_conn` and `random_two`).
    public func requestStarted() {
        core.requestStarted(index)
    }

    /// The attempt ended; feeds passive health. Call exactly once per `requestStarted()`.
    public func requestFinished(_ outcome: RequestOutcome) {
        core.requestFinished(index, outcome: outcome)
    }

    /// An active check ended (called by `HealthChecker`; public for tests and custom checkers).
    /// Ignored when the upstream has no `health` block.
    public func recordHealthCheck(_ record: HealthCheckRecord) {
        core.recordHealthCheck(index, record)
    }
}
