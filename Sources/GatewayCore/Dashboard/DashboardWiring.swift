import GatewayConfig
import GatewayUpstreams
import Logging
import NIOCore
import Prometheus

/// Builds the dashboard's parts for a running gateway: the live-stats fold, the `/events` feed and the admin
/// authenticator. Kept out of `GatewayService` so that file only gains a few lines.
struct DashboardWiring: Sendable {
    let feed: EventsFeed
    let authenticator: AdminAuthenticator?
    let live: LiveStats

    static func make(
        configuration: GatewayConfiguration,
        environment: [String: String],
        group: any EventLoopGroup,
        registry: UpstreamRegistry,
        snapshots: SnapshotHolder,
        prometheus: PrometheusCollectorRegistry,
        readiness: @escaping @Sendable () -> (ready: Bool, store: String),
        logger: Logger
    ) throws -> DashboardWiring {
        let authenticator = try configuration.server.adminAuth.map {
            try AdminAuthenticator.load($0, environment: environment)
        }
        for warning in ConfigWarnings.warnings(for: configuration) { logger.warning("\(warning)") }
        let live = LiveStats.shared
        let loop = group.next()
        live.start(on: loop)
        let snapshot = DashboardSnapshot(
            sources: .init(
                registry: registry, snapshots: snapshots, prometheus: prometheus, readiness: readiness, live: live))
        return DashboardWiring(
            feed: EventsFeed(snapshot: snapshot, eventLoop: loop), authenticator: authenticator, live: live)
    }

    func stop() {
        feed.closeAll()
        live.stop()
    }
}
