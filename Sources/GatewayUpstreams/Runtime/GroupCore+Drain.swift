/// What an operator's drain or undrain request did.
public enum DrainResult: Sendable, Equatable {
    /// The replica's state after the change (`draining`, or its health state after an undrain).
    case changed(ReplicaState)
    case noSuchUpstream
    /// `position` is outside the replica list `/upstreams` shows.
    case noSuchReplica
    /// The replica was removed by a reload and is only finishing requests: it cannot come back.
    case removedByReload
}

extension GroupCore {
    /// Takes the replica at `position` (its place in `/upstreams`) out of rotation, or puts it back. A drained
    /// replica keeps serving the requests it already has; `pick` no longer offers it.
    func setDrained(position: Int, _ drained: Bool) -> DrainResult {
        let now = clock.now()
        var changes: [ReplicaStateChange] = []
        let result: DrainResult = state.withLockedValue { state in
            guard state.members.indices.contains(position) else { return .noSuchReplica }
            if state.members[position].draining { return drained ? .changed(.draining) : .removedByReload }
            state.update(position, now: now, upstream: name, changes: &changes) { $0.adminDrained = drained }
            return .changed(state.state(at: position, now: now))
        }
        if !changes.isEmpty, let onStateChange { for change in changes { onStateChange(change) } }
        return result
    }
}

extension UpstreamGroup {
    /// Operator drain (`true`) or undrain (`false`) of the replica at `position` in `/upstreams` order.
    public func setDrained(position: Int, _ drained: Bool) -> DrainResult {
        core.setDrained(position: position, drained)
    }
}

extension UpstreamRegistry {
    /// `POST /upstreams/NAME/replicas/N/drain` and `…/undrain`: N is the replica's 0-based place in the
    /// `replicas` list of `GET /upstreams`.
    public func setDrained(upstream: String, position: Int, _ drained: Bool) -> DrainResult {
        guard let group = group(named: upstream) else { return .noSuchUpstream }
        return group.setDrained(position: position, drained)
    }
}
