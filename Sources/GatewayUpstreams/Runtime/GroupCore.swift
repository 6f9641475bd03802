import GatewayConfig
import NIOConcurrencyHelpers
import NIOCore

/// The lock-protected heart of an `UpstreamGroup`, shared with its `Replica` objects so that
/// `requestStarted`/`requestFinished` reach the same state as `pick`.
///
/// Members hold their `Replica` and each replica holds this core: a reference cycle that lasts as long as the
/// replica is configured. `retire()` (the upstream left the config) clears the members and breaks it.
final class GroupCore: Sendable {
    let name: String
    let clock: UpstreamClock
    let onStateChange: (@Sendable (ReplicaStateChange) -> Void)?
    let state: NIOLockedValueBox<GroupState>

    init(
        settings: UpstreamSettings,
        clock: UpstreamClock,
        rng: SplitMix64,
        onStateChange: (@Sendable (ReplicaStateChange) -> Void)?
    ) {
        self.name = settings.name
        self.clock = clock
        self.onStateChange = onStateChange
        self.state = NIOLockedValueBox(GroupState(settings: settings, rng: rng))
        apply(settings)
    }

    private func report(_ changes: [ReplicaStateChange]) {
        guard let onStateChange else { return }
        for change in changes { onStateChange(change) }
    }

    // MARK: Per request

    /// - Parameter startRequest: also count the chosen replica's attempt as started (`requestStarted`), under the
    ///   same lock.
    func pick<Excluded: Collection<Int>>(
        _ context: BalancerContext, excluding: Excluded, startRequest: Bool = false
    ) -> Pick? {
        let now = clock.now()
        var changes: [ReplicaStateChange] = []
        let pick: Pick? = state.withLockedValue { state in
            let activeChecks = state.activeChecks
            var anyEligible = false
            var configured = 0
            var healthy = 0
            for position in state.members.indices {
                state.refreshEjection(position, now: now, upstream: name, changes: &changes)
                let member = state.members[position]
                let isHealthy = member.health.state(now: now, activeChecks: activeChecks) == .healthy
                // An operator drain takes the replica out like a reload's drain: not counted, never picked (not even
                // in panic mode).
                let outOfRotation = member.draining || member.adminDrained
                if !outOfRotation {
                    configured += 1
                    if isHealthy { healthy += 1 }
                }
                let eligible =
                    !outOfRotation && isHealthy && (excluding.isEmpty || !excluding.contains(member.replica.index))
                state.members[position].eligible = eligible
                anyEligible = anyEligible || eligible
            }
            let panic = PanicMode.isActive(
                healthy: healthy, configured: configured, threshold: state.settings.panicThreshold)
            if panic {
                // Envoy's healthy panic threshold: with too few healthy replicas, health is more likely wrong
                // (overload fails the checks) than the replicas down, so every configured replica is a candidate.
                anyEligible = false
                for position in state.members.indices {
                    let member = state.members[position]
                    let eligible =
                        !member.draining && !member.adminDrained
                        && (excluding.isEmpty || !excluding.contains(member.replica.index))
                    state.members[position].eligible = eligible
                    anyEligible = anyEligible || eligible
                }
            }
            guard anyEligible, let (position, setCookie) = choose(&state, context) else { return nil }
            if startRequest { state.members[position].inFlight += 1 }
            var pick = Pick(replica: state.members[position].replica, setAffinityCookie: setCookie)
            pick.panic = panic
            return pick
        }
        if !changes.isEmpty { report(changes) }
        return pick
    }

    /// The chosen member's position, and for `balance: cookie` the cookie value to set.
    private func choose(_ state: inout GroupState, _ context: BalancerContext) -> (Int, String?)? {
        switch state.settings.balance {
        case .roundRobin:
            return BalancerAlgorithms.smoothWeightedRoundRobin(&state.members).map { ($0, nil) }
        case .leastConn:
            return BalancerAlgorithms.leastConnections(&state.members, cursor: &state.cursor).map { ($0, nil) }
        case .randomTwo:
            return BalancerAlgorithms.randomTwo(&state.members, using: &state.rng).map { ($0, nil) }
        case .ipHash:
            return BalancerAlgorithms.consistentHash(&state.members, ring: state.ring, key: context.clientIP).map {
                ($0, nil)
            }
        case .cookie:
            return BalancerAlgorithms.cookieAffinity(&state.members, cookie: context.affinityCookie).map { ($0.0, $0.1) }
        }
    }

    func requestStarted(_ index: Int) {
        state.withLockedValue { state in
            if let position = state.position(of: index) { state.members[position].inFlight += 1 }
        }
    }

    func requestFinished(_ index: Int, outcome: RequestOutcome) {
        let now = clock.now()
        var changes: [ReplicaStateChange] = []
        state.withLockedValue { state in
            guard let position = state.position(of: index) else { return }
            let passive = state.settings.passive
            state.refreshEjection(position, now: now, upstream: name, changes: &changes)
            let failures = passive?.failures ?? 0
            let describe: (ReplicaState, BalancerMember) -> String? = { after, member in
                guard after == .ejected, let until = member.health.ejectedUntil else { return nil }
                let seconds = max(0, (until - now).nanoseconds) / 1_000_000_000
                return "\(failures) failed request\(failures == 1 ? "" : "s") in a row (last: \(outcome.text)); out for \(seconds)s"
            }
            state.update(position, now: now, upstream: name, changes: &changes, reason: describe) { member in
                member.inFlight = max(0, member.inFlight - 1)
                member.health.record(outcome, now: now, passive: passive)
            }
            if state.members[position].draining && state.members[position].inFlight == 0 {
                state.members.remove(at: position)
            }
        }
        if !changes.isEmpty { report(changes) }
    }

    func recordHealthCheck(_ index: Int, _ record: HealthCheckRecord) {
        let now = clock.now()
        var changes: [ReplicaStateChange] = []
        state.withLockedValue { state in
            guard let position = state.position(of: index), let settings = state.settings.health else { return }
            let what = "GET \(settings.path)"
            let reason: (ReplicaState, BalancerMember) -> String? = { _, _ in
                if record.ok { return "check \(what) passed (status \(record.status.map(String.init) ?? "?"))" }
                let detail = record.error ?? record.status.map { "status \($0)" } ?? "failed"
                return "\(settings.unhealthyAfter) failed check\(settings.unhealthyAfter == 1 ? "" : "s") of \(what), last: \(detail)"
            }
            state.update(position, now: now, upstream: name, changes: &changes, reason: reason) {
                $0.health.recordCheck(record, now: now, settings: settings)
            }
        }
        if !changes.isEmpty { report(changes) }
    }

    // MARK: Reload

    /// Takes the new settings of this upstream: replicas whose URL is unchanged keep their health, ejection and
    /// in-flight count; new URLs join healthy; removed ones drain (out of rotation, kept until their in-flight
    /// requests finish).
    func apply(_ settings: UpstreamSettings) {
        let now = clock.now()
        var changes: [ReplicaStateChange] = []
        state.withLockedValue { state in
            let hadActiveChecks = state.activeChecks
            var previous = state.members
            var members: [BalancerMember] = []
            members.reserveCapacity(settings.replicas.count)
            for replicaSettings in settings.replicas {
                if let position = previous.firstIndex(where: { $0.replica.url == replicaSettings.url }) {
                    var member = previous.remove(at: position)
                    member.weight = max(1, replicaSettings.weight)
                    member.draining = false
                    if hadActiveChecks && settings.health == nil { member.health.activeChecksRemoved() }
                    members.append(member)
                } else {
                    let replica = Replica(index: state.nextIndex, settings: replicaSettings, core: self)
                    state.nextIndex += 1
                    members.append(BalancerMember(replica: replica, weight: replicaSettings.weight))
                }
            }
            for var member in previous {
                if !member.draining {
                    let before = member.health.state(now: now, activeChecks: hadActiveChecks)
                    changes.append(
                        ReplicaStateChange(
                            upstream: name, url: member.replica.url, from: before, to: .draining,
                            reason: "removed by a reload")
                    )
                }
                member.draining = true
                if member.inFlight > 0 { members.append(member) }
            }
            state.members = members
            state.settings = settings
            state.rebuildRing()
        }
        if !changes.isEmpty { report(changes) }
    }

    /// The upstream left the configuration: every replica drains and the reference cycle is broken.
    func retire() {
        state.withLockedValue { state in
            state.members.removeAll()
            state.ring = HashRing()
        }
    }
}
