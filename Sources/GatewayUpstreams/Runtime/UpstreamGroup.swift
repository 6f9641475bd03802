import GatewayConfig
import NIOCore

/// One configured upstream at run time: its replicas, balancer and retry budget.
///
/// ```swift
/// guard let pick = group.pick(BalancerContext(clientIP: ip, affinityCookie: cookie), excluding: tried) else {
///     return answer503()
/// }
/// pick.replica.requestStarted()
/// // … proxy …
/// pick.replica.requestFinished(.success)
/// ```
///
/// The same object survives reloads that keep the upstream's name (see `UpstreamRegistry.apply(_:)`), so a
/// router snapshot may hold on to it.
public final class UpstreamGroup: Sendable {
    let core: GroupCore
    /// Shared by all routes using this upstream; the proxy calls `recordRequest()` once per client request
    /// and asks `allowRetry()` before each extra attempt.
    public let retryBudget: RetryBudget

    public init(
        settings: UpstreamSettings,
        clock: UpstreamClock = .system,
        random: SplitMix64 = SplitMix64(),
        onStateChange: (@Sendable (ReplicaStateChange) -> Void)? = nil
    ) {
        self.core = GroupCore(settings: settings, clock: clock, rng: random, onStateChange: onStateChange)
        self.retryBudget = RetryBudget(now: clock.now)
    }

    public var name: String { core.name }

    public var settings: UpstreamSettings { core.state.withLockedValue { $0.settings } }

    public var balance: BalanceStrategy { core.state.withLockedValue { $0.settings.balance } }

    /// The cookie `balance: cookie` reads and sets.
    public var affinityCookieName: String { core.state.withLockedValue { $0.settings.affinityCookie } }

    /// nil = no active checks.
    public var healthCheck: HealthCheckSettings? { core.state.withLockedValue { $0.settings.health } }

    /// Configured replicas in file order, then draining ones still finishing requests.
    public var replicas: [Replica] { core.state.withLockedValue { $0.members.map(\.replica) } }

    /// Replicas with their current state, read under one lock (for metrics).
    public var replicaStates: [(replica: Replica, state: ReplicaState)] {
        let now = core.clock.now()
        return core.state.withLockedValue { state in
            state.members.indices.map { (state.members[$0].replica, state.state(at: $0, now: now)) }
        }
    }

    /// Chooses an available replica (healthy, not ejected, not draining) whose `index` is not in `excluding`;
    /// nil when there is none (answer 503 at once).
    public func pick<Excluded: Collection<Int>>(_ context: BalancerContext, excluding: Excluded) -> Pick? {
        core.pick(context, excluding: excluding)
    }

    public func pick(_ context: BalancerContext) -> Pick? {
        core.pick(context, excluding: EmptyCollection<Int>())
    }

    /// `pick` and `requestStarted()` of the chosen replica in one critical section: the proxy's per-attempt path
    /// (one lock acquisition instead of two). Call `requestFinished(_:)` on the replica exactly once afterwards.
    public func pickAndStart<Excluded: Collection<Int>>(_ context: BalancerContext, excluding: Excluded) -> Pick? {
        core.pick(context, excluding: excluding, startRequest: true)
    }

    /// Takes new settings for this upstream (same name), keeping the state of unchanged replicas.
    public func apply(_ settings: UpstreamSettings) {
        core.apply(settings)
    }

    func retire() {
        core.retire()
    }
}
