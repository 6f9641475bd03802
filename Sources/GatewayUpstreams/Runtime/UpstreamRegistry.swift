import GatewayConfig
import NIOConcurrencyHelpers
import NIOCore

/// All upstream groups of the running configuration.
///
/// ```swift
/// let registry = UpstreamRegistry(configuration: config, onStateChange: { logger.info("\($0)") })
/// let group = registry.group(named: "app")      // resolve once per router snapshot
/// registry.apply(newConfig)                       // on reload; then healthChecker.reconcile()
/// ```
public final class UpstreamRegistry: Sendable {
    struct Groups: Sendable {
        var ordered: [UpstreamGroup] = []
        var byName: [String: UpstreamGroup] = [:]
    }

    let clock: UpstreamClock
    let onStateChange: (@Sendable (ReplicaStateChange) -> Void)?
    private let makeRandom: @Sendable () -> SplitMix64
    private let groupsBox: NIOLockedValueBox<Groups>

    public init(
        configuration: GatewayConfiguration = GatewayConfiguration(),
        clock: UpstreamClock = .system,
        random: @escaping @Sendable () -> SplitMix64 = { SplitMix64() },
        onStateChange: (@Sendable (ReplicaStateChange) -> Void)? = nil
    ) {
        self.clock = clock
        self.onStateChange = onStateChange
        self.makeRandom = random
        self.groupsBox = NIOLockedValueBox(Groups())
        apply(configuration)
    }

    /// The group of that upstream name. Groups keep their identity across reloads while the name stays.
    public func group(named name: String) -> UpstreamGroup? {
        groupsBox.withLockedValue { $0.byName[name] }
    }

    /// In configuration order.
    public var groups: [UpstreamGroup] { groupsBox.withLockedValue { $0.ordered } }

    /// Takes a reloaded configuration: groups with the same name are updated in place (replicas with an
    /// unchanged URL keep health, ejection and in-flight counts; new ones join; removed ones drain), new
    /// upstreams get new groups, vanished upstreams are retired (their replicas report `draining`).
    /// Call `HealthChecker.reconcile()` afterwards.
    public func apply(_ configuration: GatewayConfiguration) {
        var retired: [UpstreamGroup] = []
        var toUpdate: [(UpstreamGroup, UpstreamSettings)] = []
        groupsBox.withLockedValue { groups in
            var next = Groups()
            for settings in configuration.upstreams {
                let group: UpstreamGroup
                if let existing = groups.byName[settings.name] {
                    group = existing
                    toUpdate.append((existing, settings))
                } else {
                    group = UpstreamGroup(
                        settings: settings, clock: clock, random: makeRandom(), onStateChange: onStateChange)
                }
                next.ordered.append(group)
                next.byName[settings.name] = group
            }
            retired = groups.ordered.filter { next.byName[$0.name] !== $0 }
            groups = next
        }
        // Group locks are taken outside the registry lock (a group never takes the registry lock, but keep
        // the nesting away anyway).
        for (group, settings) in toUpdate { group.apply(settings) }
        for group in retired { group.retire() }
    }

    /// Every replica with its state (for `gateway_upstream_healthy{upstream,replica}`: 1 when `.healthy`).
    public func forEachReplica(_ body: (_ upstream: String, _ replica: Replica, _ state: ReplicaState) -> Void) {
        for group in groups {
            for (replica, state) in group.replicaStates { body(group.name, replica, state) }
        }
    }

    public func snapshot() -> UpstreamsSnapshot {
        let now = clock.now()
        let wallNow = clock.wallNow()
        return UpstreamsSnapshot(
            upstreams: groups.map { group in
                group.core.state.withLockedValue { state in
                    UpstreamsSnapshot.Upstream(
                        name: group.name,
                        balance: state.settings.balance.rawValue,
                        replicas: state.members.indices.map { position in
                            let member = state.members[position]
                            return UpstreamsSnapshot.ReplicaSnapshot(
                                url: member.replica.url,
                                weight: member.weight,
                                state: state.state(at: position, now: now),
                                inFlight: member.inFlight,
                                consecutiveFailures: member.health.consecutiveFailures,
                                lastCheck: member.health.lastCheck,
                                ejectedUntil: member.health.ejectedUntil.map {
                                    wallNow.addingTimeInterval(($0 - now).seconds)
                                }
                            )
                        }
                    )
                }
            }
        )
    }

    /// The `GET /upstreams` body (SPEC §6).
    public func snapshotJSON() -> String {
        snapshot().json()
    }
}
