import NIOCore

/// Counters of the connections of ONE event loop. Only that loop touches it, so the per-message path takes no lock
/// and no atomic; `FanoutStats` gathers the loops' snapshots with one task per loop.
final class LoopStats {
    var delivered = 0
    /// Uptime (ns) at the end of the last read that carried a delivery.
    var lastDeliveryNanoseconds: UInt64 = 0
    /// Publish→receive latencies in ns (a sample of the deliveries, see `FanoutOptions.sampleEvery`).
    var latencySamples: [UInt64] = []
    /// Per-subscriber message counts, registered when a subscriber is ready.
    var subscribers: [SubscriberHandler] = []
    /// Connections that closed while the run wanted them open, and how many of those the gateway closed with 1013
    /// (slow consumer).
    var closedEarly = 0
    var slowConsumerCloses = 0
    var errorFrames = 0
    /// Set when the run is over: closes are then expected.
    var stopping = false

    init() {
        latencySamples.reserveCapacity(1 << 16)
    }

    struct Snapshot: Sendable {
        var delivered = 0
        var lastDeliveryNanoseconds: UInt64 = 0
        var latencySamples: [UInt64] = []
        var minPerSubscriber = Int.max
        var maxPerSubscriber = 0
        var closedEarly = 0
        var slowConsumerCloses = 0
        var errorFrames = 0

        mutating func merge(_ other: Snapshot) {
            delivered += other.delivered
            lastDeliveryNanoseconds = max(lastDeliveryNanoseconds, other.lastDeliveryNanoseconds)
            latencySamples += other.latencySamples
            minPerSubscriber = min(minPerSubscriber, other.minPerSubscriber)
            maxPerSubscriber = max(maxPerSubscriber, other.maxPerSubscriber)
            closedEarly += other.closedEarly
            slowConsumerCloses += other.slowConsumerCloses
            errorFrames += other.errorFrames
        }
    }

    func snapshot(withSamples: Bool) -> Snapshot {
        var snapshot = Snapshot(
            delivered: delivered, lastDeliveryNanoseconds: lastDeliveryNanoseconds,
            latencySamples: withSamples ? latencySamples : [], closedEarly: closedEarly,
            slowConsumerCloses: slowConsumerCloses, errorFrames: errorFrames)
        for subscriber in subscribers {
            snapshot.minPerSubscriber = min(snapshot.minPerSubscriber, subscriber.received)
            snapshot.maxPerSubscriber = max(snapshot.maxPerSubscriber, subscriber.received)
        }
        return snapshot
    }
}

/// One `LoopStats` per event loop of the client's group.
struct FanoutStats: Sendable {
    private let loops: [NIOLoopBound<LoopStats>]

    /// `NIOLoopBound` must be created on its loop, hence one task per loop.
    static func make(for group: any EventLoopGroup) async throws -> FanoutStats {
        var loops: [NIOLoopBound<LoopStats>] = []
        for loop in group.makeIterator() {
            loops.append(try await loop.submit { NIOLoopBound(LoopStats(), eventLoop: loop) }.get())
        }
        return FanoutStats(loops: loops)
    }

    /// The stats of `eventLoop` (call on that loop).
    func local(_ eventLoop: any EventLoop) -> LoopStats {
        for bound in loops where bound.eventLoop === eventLoop { return bound.value }
        preconditionFailure("event loop outside the client's group")
    }

    func snapshot(withSamples: Bool = false) async throws -> LoopStats.Snapshot {
        var total = LoopStats.Snapshot()
        for bound in loops {
            total.merge(try await bound.eventLoop.submit { bound.value.snapshot(withSamples: withSamples) }.get())
        }
        return total
    }

    func markStopping() async throws {
        for bound in loops {
            try await bound.eventLoop.submit { bound.value.stopping = true }.get()
        }
    }
}
