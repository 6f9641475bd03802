import NIOCore

/// Checks and charges all limits of one request in one atomic step.
///
/// A request denied by one limit consumes none of the others. Called from an event loop; the returned
/// future completes on `eventLoop`. Implementations never block the calling thread.
///
/// ```swift
/// limiter.check(requests, on: context.eventLoop).whenComplete { result in ... }
/// ```
public protocol RateLimiter: Sendable {
    func check(_ requests: [RateLimitRequest], on eventLoop: any EventLoop) -> EventLoopFuture<RateLimitDecision>
}
