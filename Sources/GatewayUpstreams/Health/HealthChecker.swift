import GatewayConfig
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Runs the active health checks of every upstream with a `health` block, on the event loops.
///
/// ```swift
/// let checker = HealthChecker(registry: registry, logger: logger)
/// checker.start(group: eventLoopGroup)
/// // on reload:
/// registry.apply(newConfig); checker.reconcile()
/// // on shutdown:
/// await checker.stop()
/// ```
///
/// Replicas start healthy (Envoy's default) and become unhealthy only after `unhealthy_after` failed checks.
public final class HealthChecker: Sendable {
    struct State: Sendable {
        var eventLoopGroup: (any EventLoopGroup)?
        var jobs: [ObjectIdentifier: HealthCheckJob] = [:]
        var stopped = false
    }

    private let registry: UpstreamRegistry
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    public init(registry: UpstreamRegistry, logger: Logger = Logger(label: "gateway.health")) {
        self.registry = registry
        self.logger = logger
    }

    /// Starts a check loop per replica of every upstream with active checks.
    public func start(group: any EventLoopGroup) {
        state.withLockedValue { $0.eventLoopGroup = group }
        reconcile()
    }

    /// Brings the loops in line with the registry after `registry.apply(_:)`: unchanged replicas keep their
    /// loop (and state), changed intervals take effect at once, new replicas get loops, removed or no longer
    /// checked ones stop.
    public func reconcile() {
        var wanted: [ObjectIdentifier: (Replica, UpstreamGroup, TimeAmount)] = [:]
        for group in registry.groups {
            guard let health = group.healthCheck else { continue }
            for (replica, state) in group.replicaStates where state != .draining {
                wanted[ObjectIdentifier(replica)] = (replica, group, TimeAmount(health.interval))
            }
        }
        var toStart: [HealthCheckJob] = []
        var toStop: [HealthCheckJob] = []
        var toUpdate: [(HealthCheckJob, TimeAmount)] = []
        state.withLockedValue { state in
            guard let eventLoopGroup = state.eventLoopGroup, !state.stopped else { return }
            for (id, job) in state.jobs where wanted[id] == nil {
                toStop.append(job)
                state.jobs[id] = nil
            }
            for (id, (replica, group, interval)) in wanted {
                if let job = state.jobs[id] {
                    toUpdate.append((job, interval))
                } else {
                    let job = HealthCheckJob(
                        replica: replica, group: group, interval: interval, eventLoop: eventLoopGroup.next())
                    state.jobs[id] = job
                    toStart.append(job)
                }
            }
        }
        for job in toStop { _ = job.stop() }
        for (job, interval) in toUpdate { job.update(interval: interval) }
        for job in toStart { job.start() }
        if !toStart.isEmpty || !toStop.isEmpty {
            logger.debug(
                "health checks reconciled",
                metadata: ["started": "\(toStart.count)", "stopped": "\(toStop.count)", "kept": "\(toUpdate.count)"])
        }
    }

    /// Stops every loop and waits for the checks in flight (each bounded by its `timeout`).
    public func stop() async {
        let jobs = state.withLockedValue { state -> [HealthCheckJob] in
            state.stopped = true
            defer { state.jobs.removeAll() }
            return Array(state.jobs.values)
        }
        for job in jobs {
            if let running = job.stop() { _ = try? await running.get() }
        }
    }

    /// Number of replicas being checked (for tests and logs).
    public var activeJobCount: Int { state.withLockedValue { $0.jobs.count } }
}
