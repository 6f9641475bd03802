import GatewayConfig
import GatewayRedis
import NIOCore

/// Applies `store.on_error` around a shared-store limiter (normally ``RedisRateLimiter``).
///
/// While the store is reachable its verdict is final. When it is not (the client reports no connection,
/// or the call fails: `.unavailable`, `.timeout`, connection closed, or any other error):
/// - `allow`: admitted; the decision has no results (`degraded = true`), so the proxy sends
///   `RateLimit-Policy` but no `RateLimit` field: we do not know the numbers.
/// - `deny`: ``RateLimitDecision/Outcome/storeUnavailable``: the proxy answers 503 with `Retry-After: 1`.
/// - `local`: the in-process ``LocalRateLimiter`` decides with the same limits (per instance budgets).
///
/// Nothing ever waits for Redis to come back: the client fails fast while down, and this type does not
/// even send while `isStoreAvailable()` is false.
public final class StoreBackedRateLimiter: RateLimiter {
    private let primary: any RateLimiter
    private let isStoreAvailable: @Sendable () -> Bool
    private let policy: StoreFailurePolicy
    private let fallback: LocalRateLimiter
    private let onStoreError: @Sendable ((any Error)?) -> Void

    /// - Parameters:
    ///   - onStoreError: called for every check answered without the store (error nil = skipped because the
    ///     store was known down), e.g. to count `gateway_store_errors_total{op="ratelimit"}`.
    public init(
        primary: any RateLimiter, isStoreAvailable: @escaping @Sendable () -> Bool, policy: StoreFailurePolicy,
        fallback: LocalRateLimiter = LocalRateLimiter(), onStoreError: @escaping @Sendable ((any Error)?) -> Void = { _ in }
    ) {
        self.primary = primary
        self.isStoreAvailable = isStoreAvailable
        self.policy = policy
        self.fallback = fallback
        self.onStoreError = onStoreError
    }

    /// The usual setup: ``RedisRateLimiter`` on `client`, availability from `client.isConnected`.
    public convenience init(
        client: RedisClient, policy: StoreFailurePolicy, onStoreError: @escaping @Sendable ((any Error)?) -> Void = { _ in }
    ) {
        self.init(
            primary: RedisRateLimiter(client: client), isStoreAvailable: { client.isConnected }, policy: policy,
            onStoreError: onStoreError)
    }

    public func check(_ requests: [RateLimitRequest], on eventLoop: any EventLoop) -> EventLoopFuture<RateLimitDecision> {
        guard !requests.isEmpty else { return eventLoop.makeSucceededFuture(RateLimitDecision(results: [])) }
        guard isStoreAvailable() else {
            onStoreError(nil)
            return eventLoop.makeSucceededFuture(degradedDecision(requests))
        }
        return primary.check(requests, on: eventLoop).flatMapErrorThrowing { error in
            self.onStoreError(error)
            return self.degradedDecision(requests)
        }
    }

    private func degradedDecision(_ requests: [RateLimitRequest]) -> RateLimitDecision {
        switch policy {
        case .allow:
            return .admittedWithoutStore
        case .deny:
            return .storeDown
        case .local:
            var decision = fallback.checkNow(requests)
            decision.degraded = true
            return decision
        }
    }
}
