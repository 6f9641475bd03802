import GatewayConfig
import GatewayHTTP
import NIOConcurrencyHelpers

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

    public init(configuration: GatewayConfiguration, version: Int) {
        self.configuration = configuration
        self.router = Router(routes: configuration.routes, auth: configuration.auth)
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
public final class SnapshotHolder: Sendable {
    private let box: NIOLockedValueBox<GatewaySnapshot>

    public init(_ snapshot: GatewaySnapshot) {
        self.box = NIOLockedValueBox(snapshot)
    }

    public var current: GatewaySnapshot { box.withLockedValue { $0 } }

    public func replace(with snapshot: GatewaySnapshot) {
        box.withLockedValue { $0 = snapshot }
    }
}
