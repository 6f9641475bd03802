import GatewayConfig
import GatewayUpstreams
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOExtras
import NIOPosix
import Prometheus
import ServiceLifecycle
import UnixSignals

/// The running gateway as a swift-service-lifecycle `Service`: binds the listeners, runs health checks, reloads on
/// SIGHUP, and on graceful shutdown stops accepting, lets in-flight requests finish for up to
/// `server.shutdown_grace`, then closes everything.
public final class GatewayService: Service, Sendable {
    let configPath: String
    let environment: [String: String]
    let configuration: GatewayConfiguration
    let prometheus: PrometheusCollectorRegistry
    let logger: Logger
    /// Set once the listeners are bound (tests and logs read the actual ports).
    public let boundAddresses = NIOLockedValueBox<(proxy: SocketAddress?, admin: SocketAddress?)>((nil, nil))
    /// Every bound proxy listener in configuration order (`listen` first).
    public let boundListeners = NIOLockedValueBox<[SocketAddress]>([])

    public init(
        configPath: String,
        environment: [String: String],
        configuration: GatewayConfiguration,
        prometheus: PrometheusCollectorRegistry,
        logger: Logger
    ) {
        self.configPath = configPath
        self.environment = environment
        self.configuration = configuration
        self.prometheus = prometheus
        self.logger = logger
    }

    public func run() async throws {
        let config = configuration
        let threads = config.server.workers > 0 ? config.server.workers : System.coreCount
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let logger = self.logger
        let registry = UpstreamRegistry(configuration: config, onStateChange: { change in
            logger.warning("\(change)")
        })
        let healthChecker = HealthChecker(registry: registry, logger: logger)
        healthChecker.start(group: group)
        let snapshots = SnapshotHolder(GatewaySnapshot(configuration: config, version: 1))
        let accessLog = AccessLogWriter(target: config.server.accessLog)
        let observer = RequestObserver(accessLog: accessLog)
        let shared = try SharedState.make(configuration: config, environment: environment, group: group, logger: logger)
        (shared.pubsub as? PubSubHub)?.configure(config, snapshots: snapshots)  // history channels follow reloads
        let services = GatewayServices(
            snapshots: snapshots,
            selector: RegistrySelector(registry: registry),
            policies: shared.policies,
            observer: observer,
            pubsub: shared.pubsub)
        let pools = UpstreamPools(group: group)
        // Boxed so it can be released before the event loops stop: its deinit completes a promise on a loop.
        let quiesce = NIOLockedValueBox<ServerQuiescingHelper?>(ServerQuiescingHelper(group: group))

        let upstreamTLSErrors = UpstreamTLS.install(config, logger: logger)
        if !upstreamTLSErrors.isEmpty {
            for message in upstreamTLSErrors { logger.critical("\(message)") }
            throw ListenerTLSErrors(messages: upstreamTLSErrors)
        }
        let listenerSet: ListenerSet
        do {
            listenerSet = try ListenerSet(server: config.server)
        } catch {
            for message in error.messages { logger.critical("\(message)") }
            throw error
        }
        var serverChannels: [any Channel] = []
        for listener in listenerSet.listeners {
            let address = listener.settings.address
            let serverChannel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 4096)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            quiesce.withLockedValue { $0!.makeServerChannelHandler(channel: channel) })
                    }
                }
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.maxMessagesPerRead, value: 16)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try ServerPipeline.configure(channel: channel, services: services, pools: pools, listener: listener)
                    }
                }
                .bind(host: address.host, port: address.port).get()
            serverChannels.append(serverChannel)
            let kind = listener.tls != nil ? "https" : listener.settings.redirectHTTPS != nil ? "redirect_https" : "http"
            logger.info(
                "gateway listening",
                metadata: ["address": "\(serverChannel.localAddress.map { "\($0)" } ?? "?")", "kind": "\(kind)"])
        }
        let serverChannel = serverChannels[0]
        boundListeners.withLockedValue { $0 = serverChannels.compactMap(\.localAddress) }

        let reloader = Reloader(
            configPath: configPath, environment: environment, snapshots: snapshots, registry: registry,
            healthChecker: healthChecker, listeners: listenerSet, logger: logger)
        var adminChannel: (any Channel)? = nil
        let dashboard = try DashboardWiring.make(
            configuration: config, environment: environment, group: group, registry: registry, snapshots: snapshots,
            prometheus: prometheus, readiness: { shared.readiness() }, logger: logger)
        if let admin = config.server.adminListen {
            var api = GatewayAdmin(
                reloader: reloader, registry: registry, prometheus: prometheus,
                readiness: { shared.readiness() }, extensions: shared.admin)
            api.feed = dashboard.feed
            adminChannel = try await AdminServer.bind(
                host: admin.host, port: admin.port, group: group, api: api, authenticator: dashboard.authenticator)
            logger.info("admin listening", metadata: ["address": "\(adminChannel?.localAddress.map { "\($0)" } ?? "?")"])
        }
        boundAddresses.withLockedValue { $0 = (serverChannel.localAddress, adminChannel?.localAddress) }

        let hangups = Task {
            for await _ in await UnixSignalsSequence(trapping: .sighup) {
                _ = reloader.reload(trigger: "SIGHUP")
            }
        }

        try? await gracefulShutdown()
        hangups.cancel()
        logger.info("shutting down: draining in-flight requests", metadata: ["grace": "\(snapshots.current.server.shutdownGrace)"])

        // Stop accepting, ask every connection to finish its current request, wait up to the grace period.
        let drained = group.next().makePromise(of: Void.self)
        quiesce.withLockedValue { $0?.initiateShutdown(promise: drained) }
        let finished = group.next().makePromise(of: Void.self)
        let completed = NIOLockedValueBox(false)
        let complete: @Sendable () -> Void = {
            if completed.withLockedValue({ done in defer { done = true }; return !done }) { finished.succeed() }
        }
        drained.futureResult.whenComplete { _ in complete() }
        let graceTimer = group.next().scheduleTask(in: snapshots.current.server.shutdownGrace.timeAmount) { complete() }
        try? await finished.futureResult.get()
        graceTimer.cancel()

        dashboard.stop()
        try? await adminChannel?.close()
        await healthChecker.stop()
        await shared.shutdown()
        await pools.closeAll()
        quiesce.withLockedValue { $0 = nil }
        try? await group.shutdownGracefully()
        accessLog?.flush()
        logger.info("gateway stopped")
    }
}
