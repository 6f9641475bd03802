import NIOCore

/// `server.timeouts.client_body` (nginx `client_body_timeout`): the longest gap allowed between two reads of a
/// request body. Only the client's silence counts: while the gateway itself holds reads back (backpressure from
/// the upstream, a policy check, a connect in progress) the clock restarts when reads resume.
public struct BodyStallClock: Sendable, Equatable {
    public let timeout: TimeAmount
    /// Last body bytes arrived, or reads were let through again.
    public private(set) var lastProgress: NIODeadline

    public init(timeout: TimeAmount, now: NIODeadline) {
        self.timeout = timeout
        self.lastProgress = now
    }

    /// Body bytes arrived, or the gateway resumed reading.
    public mutating func progressed(at now: NIODeadline) {
        lastProgress = now
    }

    public enum Verdict: Equatable, Sendable {
        /// The client stalled for longer than `timeout`: answer 408 and close.
        case expired
        /// Check again then.
        case checkAgain(at: NIODeadline)
    }

    /// - Parameter readsHeld: the gateway is not reading the client right now (not the client's fault).
    public mutating func check(now: NIODeadline, readsHeld: Bool) -> Verdict {
        if readsHeld {
            lastProgress = now
            return .checkAgain(at: now + timeout)
        }
        let deadline = lastProgress + timeout
        return deadline <= now ? .expired : .checkAgain(at: deadline)
    }
}
