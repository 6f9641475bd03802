import GatewayConfig
import GatewayUpstreams
import Logging
import NIOConcurrencyHelpers

/// Applies a new configuration file atomically (SIGHUP, `POST /reload`): everything is validated first; a bad file
/// is refused with its errors logged and the running configuration keeps serving.
final class Reloader: Sendable {
    let configPath: String
    let environment: [String: String]
    let snapshots: SnapshotHolder
    let registry: UpstreamRegistry
    let healthChecker: HealthChecker
    /// HTTPS listeners re-read their certificate files on every reload.
    let listeners: ListenerSet?
    let logger: Logger
    /// What was bound at startup: a reload compares with this, not with the previous file, so putting `listen`
    /// back to what is actually listening does not warn.
    let listening: (proxy: [ListenAddress], admin: ListenAddress?)
    /// Serialises reloads (SIGHUP and the admin endpoint may race).
    private let lock = NIOLock()

    init(
        configPath: String,
        environment: [String: String],
        snapshots: SnapshotHolder,
        registry: UpstreamRegistry,
        healthChecker: HealthChecker,
        listeners: ListenerSet? = nil,
        logger: Logger,
        listening: (proxy: [ListenAddress], admin: ListenAddress?)
    ) {
        self.listeners = listeners
        self.listening = listening
        self.configPath = configPath
        self.environment = environment
        self.snapshots = snapshots
        self.registry = registry
        self.healthChecker = healthChecker
        self.logger = logger
    }

    enum Outcome: Sendable {
        case applied(version: Int, routes: Int)
        case rejected(errors: [String])
    }

    func reload(trigger: String) -> Outcome {
        lock.withLock {
            let configuration: GatewayConfiguration
            do {
                configuration = try ConfigLoader.load(path: configPath, environment: environment)
            } catch let errors as ConfigErrors {
                let lines = errors.errors.map(\.description)
                for line in lines { logger.error("reload rejected: \(line)", metadata: ["trigger": "\(trigger)"]) }
                return .rejected(errors: lines)
            } catch {
                logger.error("reload rejected: \(error)", metadata: ["trigger": "\(trigger)"])
                return .rejected(errors: ["\(error)"])
            }
            // Certificates first: a broken file refuses the whole reload and the old certificates keep serving.
            let upstreamTLS = UpstreamTLS.contexts(for: configuration)
            if !upstreamTLS.errors.isEmpty {
                for line in upstreamTLS.errors { logger.error("reload rejected: \(line)", metadata: ["trigger": "\(trigger)"]) }
                return .rejected(errors: upstreamTLS.errors)
            }
            if let listeners {
                let errors = listeners.reload(server: configuration.server)
                if !errors.isEmpty {
                    for line in errors { logger.error("reload rejected: \(line)", metadata: ["trigger": "\(trigger)"]) }
                    return .rejected(errors: errors)
                }
            }
            let current = snapshots.current
            for warning in configuration.warnings { logger.warning("config: \(warning)") }
            let configuredListeners = configuration.server.effectiveListeners.map(\.address)
            if configuredListeners != listening.proxy || configuration.server.adminListen != listening.admin {
                logger.warning(
                    "reload: listen addresses changed; they take effect on restart only",
                    metadata: [
                        "listening": "\(listening.proxy.map { "\($0)" }.joined(separator: ", "))", "admin_listening": "\(listening.admin.map { "\($0)" } ?? "off")",
                        "configured": "\(configuredListeners.map { "\($0)" }.joined(separator: ", "))",
                        "admin_configured": "\(configuration.server.adminListen.map { "\($0)" } ?? "off")",
                    ])
            }
            if configuration.observability != current.configuration.observability {
                logger.warning("reload: 'observability' changed; tracing settings take effect on restart only")
            }
            _ = UpstreamTLS.install(configuration, logger: logger)
            registry.apply(configuration)
            healthChecker.reconcile()
            let next = GatewaySnapshot(configuration: configuration, version: current.version + 1, registry: registry)
            snapshots.replace(with: next)
            logger.info(
                "configuration reloaded",
                metadata: [
                    "trigger": "\(trigger)", "version": "\(next.version)", "routes": "\(configuration.routes.count)",
                ])
            return .applied(version: next.version, routes: configuration.routes.count)
        }
    }
}
