import GatewayConfig
import NIOCore

/// Everything mutable about one upstream group, kept under one lock so that a pick, a finished request or a
/// check result is one short critical section.
struct GroupState: Sendable {
    var settings: UpstreamSettings
    var members: [BalancerMember] = []
    var ring = HashRing()
    /// Round-robin cursor for `least_conn` ties.
    var cursor = 0
    var rng: SplitMix64
    /// The next `Replica.index`; indexes are never reused within a group, so a retry's `excluding` set stays
    /// meaningful across a reload.
    var nextIndex = 0

    init(settings: UpstreamSettings, rng: SplitMix64) {
        self.settings = settings
        self.rng = rng
    }

    var activeChecks: Bool { settings.health != nil }

    func position(of index: Int) -> Int? {
        members.firstIndex { $0.replica.index == index }
    }

    func state(at position: Int, now: NIODeadline) -> ReplicaState {
        let member = members[position]
        if member.draining || member.adminDrained { return .draining }
        return member.health.state(now: now, activeChecks: activeChecks)
    }

    /// Runs `body` on the member at `position` and reports its state change, if any.
    mutating func update(
        _ position: Int,
        now: NIODeadline,
        upstream: String,
        changes: inout [ReplicaStateChange],
        reason: (ReplicaState, BalancerMember) -> String? = { _, _ in nil },
        _ body: (inout BalancerMember) -> Void
    ) {
        let before = state(at: position, now: now)
        body(&members[position])
        let after = state(at: position, now: now)
        if before != after {
            changes.append(
                ReplicaStateChange(
                    upstream: upstream, url: members[position].replica.url, from: before, to: after,
                    reason: reason(after, members[position]))
            )
        }
    }

    /// Ends an expired ejection (without active checks) and reports it as `ejected → …`: the computed state
    /// already reads healthy once the period is over, so the change is logged when the group next looks.
    mutating func refreshEjection(
        _ position: Int, now: NIODeadline, upstream: String, changes: inout [ReplicaStateChange]
    ) {
        guard members[position].health.ejectedUntil != nil else { return }
        members[position].health.refresh(now: now, activeChecks: activeChecks)
        if members[position].health.ejectedUntil == nil {
            changes.append(
                ReplicaStateChange(
                    upstream: upstream, url: members[position].replica.url, from: .ejected,
                    to: state(at: position, now: now), reason: "ejection period over"))
        }
    }

    mutating func rebuildRing() {
        ring = HashRing(
            replicas: members.filter { !$0.draining }.map { ($0.replica.index, $0.replica.url, $0.weight) }
        )
    }
}
