import NIOConcurrencyHelpers
import NIOCore

/// History channels of the in-memory store: the same contract as the Redis streams (bounded by `size`, dropped
/// `ttl` after the last publish, a new epoch when a channel's stream was dropped), in process.
///
/// `append` runs the caller's delivery under the same lock, so deliveries leave in offset order (two publishers on
/// two loops cannot overtake each other between numbering and fan-out) and no offset is delivered before it is
/// readable.
final class MemoryHistory: Sendable {
    private struct Log {
        var epoch: String
        var top: UInt64
        var entries: [HistoryEntry]
        /// Index of the oldest retained entry in `entries` (trimmed lazily to keep appends O(1) amortised).
        var head: Int
        var expires: NIODeadline
    }

    private let logs = NIOLockedValueBox([String: Log]())
    private let now: @Sendable () -> NIODeadline

    init(now: @escaping @Sendable () -> NIODeadline = { .now() }) {
        self.now = now
    }

    /// Appends `data` and, still under the lock, calls `deliver` with the new position.
    func append(
        _ channel: String, data: ByteBuffer, limits: HistoryLimits, deliver: (StreamPosition) -> Void
    ) -> StreamPosition {
        logs.withLockedValue { logs in
            let now = self.now()
            var log = Self.live(logs[channel], now: now) ?? Log(epoch: StreamPosition.newEpoch(), top: 0, entries: [], head: 0, expires: now)
            logs[channel] = nil  // keep `log.entries` uniquely referenced
            log.top += 1
            log.entries.append(HistoryEntry(offset: log.top, data: data))
            if log.entries.count - log.head > limits.size { log.head = log.entries.count - limits.size }
            if log.head > 1024, log.head * 2 > log.entries.count {
                log.entries.removeFirst(log.head)
                log.head = 0
            }
            log.expires = now + .milliseconds(limits.ttlMilliseconds)
            logs[channel] = log
            let position = StreamPosition(offset: log.top, epoch: log.epoch)
            deliver(position)
            return position
        }
    }

    /// Reads like the Redis script: `create` starts a missing channel's epoch (subscribe), otherwise epoch "".
    func read(_ channel: String, query: HistoryQuery, limits: HistoryLimits?, create: Bool) -> HistoryRead {
        logs.withLockedValue { logs in
            let now = self.now()
            guard let log = Self.live(logs[channel], now: now) else {
                logs[channel] = nil
                guard create else { return HistoryRead(position: StreamPosition(offset: 0, epoch: ""), entries: []) }
                let epoch = StreamPosition.newEpoch()
                let ttl = TimeAmount.milliseconds(limits?.ttlMilliseconds ?? 600_000)
                logs[channel] = Log(epoch: epoch, top: 0, entries: [], head: 0, expires: now + ttl)
                return HistoryRead(position: StreamPosition(offset: 0, epoch: epoch), entries: [])
            }
            let retained = log.entries[log.head...]
            let entries: ArraySlice<HistoryEntry>
            switch query {
            case .after(let offset): entries = retained.filter { $0.offset > offset }[...]
            case .last(let n): entries = retained.suffix(max(n, 0))
            case .position: entries = []
            }
            return HistoryRead(position: StreamPosition(offset: log.top, epoch: log.epoch), entries: Array(entries))
        }
    }

    private static func live(_ log: Log?, now: NIODeadline) -> Log? {
        guard let log, log.expires > now else { return nil }
        return log
    }
}
