/// Makes "every upstream attempt ends exactly once" checkable: an attempt is opened with a number and can be
/// closed only once, by whichever path ends it first (response head, failure, timeout, client abort, protocol
/// error …); later closes of the same attempt, or of an older one, are no-ops. Each accepted close is where the
/// replica's in-flight count drops, so it can neither leak nor drop twice.
public struct AttemptTracker: Sendable, Equatable {
    /// The attempt currently open, if any.
    public private(set) var open: Int?
    private var next = 1

    public init() {}

    /// Opens a new attempt (closing none: the caller must have closed the previous one) and returns its number.
    public mutating func start() -> Int {
        let number = next
        next += 1
        open = number
        return number
    }

    /// Closes attempt `number` if it is the open one; true exactly once per started attempt.
    public mutating func end(_ number: Int) -> Bool {
        guard open == number else { return false }
        open = nil
        return true
    }

    /// Closes whichever attempt is open; its number, or nil when none was.
    public mutating func endOpen() -> Int? {
        defer { open = nil }
        return open
    }
}
