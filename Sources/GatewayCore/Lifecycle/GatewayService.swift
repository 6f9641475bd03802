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
    /// `serve --watch`: poll the config files this often and reload when one changes.
    let watchInterval: Duration?
    /// Set once the listeners are bound (tests and logs read the actual ports).
    public let boundAddresses = NIOLockedValueBox<(proxy: SocketAddress?, admin: SocketAddress?)>((nil, nil))
    /// Every bound proxy listener in configuration order (`listen` first).
    public let boundListeners = NIOLockedValueBox<[SocketAddress]>([])

    public init(
        configPath: String,
        environment: [String: String],
        configuration: GatewayConfiguration,
        prometheus: PrometheusCollectorRegistry,
        logger: Logger,
        watchInterval: Duration? = nil
    ) {
        self.watchInterval = watchInterval
        self.configPath = configPath
        self.environment = environment
        self.configuration = configuration
        self.prometheus = prometheus
        self.logger = logger
    }

    public func run() async throws {
        let config = configuration
        let logger = self.logger
        for warning in config.warnings { logger.warning("config: \(warning)") }
        // Everything that can refuse to start does so before anything connects anywhere (Redis included).
        let accessLog: AccessLogWriter?
        do {
            accessLog = try AccessLogWriter.make(target: config.server.accessLog, format: config.server.accessLogFormat)
        } catch {
            throw GatewayStartupError("access_log: \(error)")
        }
        try await Self.checkListenersAreFree(config.server)
        // Certificates (listeners and upstreams) load before anything connects: a bad file stops the start here.
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
        let tracing: GatewayTracing?
        do {
            tracing = try config.observability.tracing.map { try GatewayTracing(settings: $0, logger: logger) }
        } catch {
            throw GatewayStartupError("observability.tracing: \(error)")
        }
        let threads = config.server.workers > 0 ? config.server.workers : System.coreCount
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let registry = UpstreamRegistry(configuration: config, onStateChange: { change in
            if change.to == .healthy { logger.notice("\(change)") } else { logger.warning("\(change)") }
        })
        let healthChecker = HealthChecker(registry: registry, logger: logger)
        healthChecker.start(group: group)
        let snapshots = SnapshotHolder(GatewaySnapshot(configuration: config, version: 1, registry: registry))
        let observer = RequestObserver(accessLog: accessLog)
        let shared: SharedState
        do {
            shared = try SharedState.make(configuration: config, environment: environment, group: group, logger: logger)
        } catch {
            try? await group.shutdownGracefully()
            throw GatewayStartupError("\(error)")
        }
        (shared.pubsub as? PubSubHub)?.configure(config, snapshots: snapshots)  // history channels follow reloads
        let services = GatewayServices(
            snapshots: snapshots,
            policies: shared.policies,
            observer: observer,
            pubsub: shared.pubsub,
            cache: shared.cache,
            tracing: tracing)
        if let tracing {
            tracing.start(logger: logger)
            logger.info(
                "tracing on",
                metadata: [
                    "otlp": "\(tracing.settings.tracesURL)", "service": "\(tracing.settings.serviceName)",
                    "sample_ratio": "\(tracing.settings.sampleRatio)",
                ])
        }
        let pools = UpstreamPools(group: group)
        // Boxed so it can be released before the event loops stop: its deinit completes a promise on a loop.
        // One helper per listener: a `ServerQuiescingHelper` drains only the first server channel it was given, so
        // with one shared helper the connections of every other listener (HTTPS, HTTP/2) were never told to finish.
        let quiesce = NIOLockedValueBox<[ServerQuiescingHelper]>([])

        var serverChannels: [any Channel] = []
        for listener in listenerSet.listeners {
            let address = listener.settings.address
            let serverChannel: any Channel
            let helper = ServerQuiescingHelper(group: group)
            quiesce.withLockedValue { $0.append(helper) }
            do {
                serverChannel = try await ServerBootstrap(group: group)
                    .serverChannelOption(.backlog, value: 4096)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .serverChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(helper.makeServerChannelHandler(channel: channel))
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
            } catch {
                await shared.shutdown()
                try? await group.shutdownGracefully()
                throw GatewayStartupError(listening: address, key: Self.configKey(of: listener.settings, in: config.server), error: error)
            }
            serverChannels.append(serverChannel)
            let kind = listener.tls != nil ? "https" : listener.settings.redirectHTTPS != nil ? "redirect_https" : "http"
            logger.info(
                "gateway listening",
                metadata: ["address": "\(OperatorText.address(serverChannel.localAddress))", "kind": "\(kind)"])
        }
        let serverChannel = serverChannels[0]
        boundListeners.withLockedValue { $0 = serverChannels.compactMap(\.localAddress) }

        let reloader = Reloader(
            configPath: configPath, environment: environment, snapshots: snapshots, registry: registry,
            healthChecker: healthChecker, listeners: listenerSet, logger: logger,
            listening: (config.server.effectiveListeners.map(\.address), config.server.adminListen))
        var adminChannel: (any Channel)? = nil
        let dashboard = try DashboardWiring.make(
            configuration: config, environment: environment, group: group, registry: registry, snapshots: snapshots,
            prometheus: prometheus, readiness: { shared.readiness() }, logger: logger)
        if let admin = config.server.adminListen {
            var api = GatewayAdmin(
                reloader: reloader, registry: registry, prometheus: prometheus,
                readiness: { shared.readiness() }, extensions: shared.admin)
            api.feed = dashboard.feed
            do {
                adminChannel = try await AdminServer.bind(
                    host: admin.host, port: admin.port, group: group, api: api, authenticator: dashboard.authenticator)
            } catch {
                try? await serverChannel.close()
                await healthChecker.stop()
                await shared.shutdown()
                try? await group.shutdownGracefully()
                throw GatewayStartupError(listening: admin, key: "server.admin_listen", error: error)
            }
            logger.info("admin listening", metadata: ["address": "\(OperatorText.address(adminChannel?.localAddress))"])
        }
        logger.info(
            "gateway started",
            metadata: [
                "version": "\(GatewayVersion.current)", "config": "\(configPath)",
                "files": "\(config.sourceFiles.count)", "routes": "\(config.routes.count)",
                "upstreams": "\(config.upstreams.count)",
                "store": "\(config.store.redisURL.map { "redis \(ConfigSummary.redacted($0))" } ?? "memory (this instance only)")",
                "workers": "\(threads)", "access_log": "\(Self.describe(config.server.accessLog, config.server.accessLogFormat))",
                "pid": "\(getpid())",
            ])
        boundAddresses.withLockedValue { $0 = (serverChannel.localAddress, adminChannel?.localAddress) }

        let hangups = Task {
            for await _ in await UnixSignalsSequence(trapping: .sighup) {
                _ = reloader.reload(trigger: "SIGHUP")
            }
        }
        // logrotate convention (nginx does the same): SIGUSR1 reopens the access-log file after a rename.
        let reopens = Task {
            for await _ in await UnixSignalsSequence(trapping: .sigusr1) {
                do {
                    try accessLog?.reopen()
                    logger.notice("access log reopened (SIGUSR1)")
                } catch {
                    logger.error("access log reopen failed; still writing to the old file: \(error)")
                }
            }
        }
        let watcher = watchInterval.map { interval in
            ConfigWatcher(
                files: { snapshots.current.configuration.sourceFiles }, interval: interval.timeAmount, logger: logger) {
                _ = reloader.reload(trigger: "watch")
            }
        }
        watcher?.start()

        try? await gracefulShutdown()
        hangups.cancel()
        reopens.cancel()
        watcher?.stop()
        logger.info("shutting down: draining in-flight requests", metadata: ["grace": "\(snapshots.current.server.shutdownGrace)"])

        // Stop accepting, ask every connection to finish its current request, wait up to the grace period.
        let drained = group.next().makePromise(of: Void.self)
        let listenersDrained = quiesce.withLockedValue { helpers in
            helpers.map { helper in
                let promise = group.next().makePromise(of: Void.self)
                helper.initiateShutdown(promise: promise)
                return promise.futureResult
            }
        }
        EventLoopFuture.andAllComplete(listenersDrained, on: group.next()).cascade(to: drained)
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
        quiesce.withLockedValue { $0 = [] }
        try? await group.shutdownGracefully()
        await tracing?.shutdown()  // after the drain: the last requests' spans are flushed too
        accessLog?.flush()
        logger.info("gateway stopped")
    }

    /// Binds (and releases) each listener before Redis is contacted, so `address already in use` is the first
    /// and only thing an operator sees when a port is taken. The real bind follows; its error is translated too.
    static func checkListenersAreFree(_ server: ServerSettings) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var listeners: [(ListenAddress, String)] = server.effectiveListeners.map {
            ($0.address, configKey(of: $0, in: server))
        }
        if let admin = server.adminListen { listeners.append((admin, "server.admin_listen")) }
        for (address, key) in listeners where address.port != 0 {
            do {
                let channel = try await ServerBootstrap(group: group)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .bind(host: address.host, port: address.port).get()
                try? await channel.close()
            } catch {
                try? await group.shutdownGracefully()
                throw GatewayStartupError(listening: address, key: key, error: error)
            }
        }
        try? await group.shutdownGracefully()
    }

    /// The config key an operator wrote for this listener: `server.listen` or `server.listeners[N].address`.
    static func configKey(of listener: ListenerSettings, in server: ServerSettings) -> String {
        guard let index = server.listeners.firstIndex(where: { $0.address == listener.address }) else { return "server.listen" }
        return "server.listeners[\(index)].address"
    }

    static func describe(_ target: AccessLogTarget, _ format: AccessLogFormat) -> String {
        switch target {
        case .off: return "off"
        case .stdout: return "stdout (\(format.rawValue))"
        case .stderr: return "stderr (\(format.rawValue))"
        case .file(let path): return "\(path) (\(format.rawValue))"
        }
    }
}

/// Why the gateway did not start, in one line an operator can act on (the CLI prints it and exits 1).
public struct GatewayStartupError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }

    init(listening address: ListenAddress, key: String, error: any Error) {
        self.description = "cannot listen on \(address) ('\(key)'): \(OperatorText.describe(error))"
    }
}
