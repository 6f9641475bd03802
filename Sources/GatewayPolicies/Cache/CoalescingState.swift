import NIOConcurrencyHelpers
import NIOCore

/// At most one fetch per key in this process: the first request for a key leads, later ones wait for it.
/// Pure state; ``CacheCoalescer`` puts it behind a lock.
public struct CoalescingState<Waiter> {
    public enum Arrival {
        case lead
        case wait
    }

    private var flights: [String: [Waiter]] = [:]

    public init() {}

    public mutating func arrive(_ key: String, waiter: Waiter) -> Arrival {
        if flights[key] != nil {
            flights[key]!.append(waiter)
            return .wait
        }
        flights[key] = []
        return .lead
    }

    /// The leader is done: returns who waited (they look again, and find the new entry or fetch themselves).
    public mutating func finish(_ key: String) -> [Waiter] {
        flights.removeValue(forKey: key) ?? []
    }

    public var inFlight: Int { flights.count }
}

extension CoalescingState: Sendable where Waiter: Sendable {}

/// ``CoalescingState`` shared by every event loop; waiters get a future completed when the leader finishes.
public final class CacheCoalescer: Sendable {
    private let state = NIOLockedValueBox(CoalescingState<EventLoopPromise<Void>>())

    public init() {}

    /// nil: you lead (call ``finish(_:)`` when done, whatever happens). Otherwise wait on the future.
    public func join(_ key: String, on eventLoop: any EventLoop) -> EventLoopFuture<Void>? {
        let promise = eventLoop.makePromise(of: Void.self)
        let arrival = state.withLockedValue { $0.arrive(key, waiter: promise) }
        switch arrival {
        case .lead:
            // The promise is never used: complete it so it is not leaked.
            promise.succeed(())
            return nil
        case .wait:
            return promise.futureResult
        }
    }

    public func finish(_ key: String) {
        let waiters = state.withLockedValue { $0.finish(key) }
        for waiter in waiters { waiter.succeed(()) }
    }

    public var inFlight: Int { state.withLockedValue { $0.inFlight } }
}
