import NIOCore

/// The subscribers of one event loop, by channel. Touched only on that loop, so delivering a message to thousands of
/// local connections takes no lock. Flushes are batched: deliveries only write, and one task queued behind them
/// flushes every connection that was written to (messages that arrive together leave in one syscall per socket).
final class LoopSubscribers {
    let eventLoop: any EventLoop
    private var channels: [String: [ObjectIdentifier: any PubSubSubscriber]] = [:]
    private var needFlush: [ObjectIdentifier: any PubSubSubscriber] = [:]
    private var flushQueued = false

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    enum Addition {
        case alreadySubscribed
        case added
        /// The channel's first subscriber on this loop.
        case firstOnLoop
    }

    func add(_ channel: String, _ subscriber: any PubSubSubscriber) -> Addition {
        let id = ObjectIdentifier(subscriber)
        if var members = channels[channel] {
            guard members[id] == nil else { return .alreadySubscribed }
            members[id] = subscriber
            channels[channel] = members
            return .added
        }
        channels[channel] = [id: subscriber]
        return .firstOnLoop
    }

    /// Removes `subscriber`; true when the channel has no subscriber left on this loop.
    func remove(_ channel: String, _ subscriber: any PubSubSubscriber) -> Bool {
        let id = ObjectIdentifier(subscriber)
        guard var members = channels[channel], members.removeValue(forKey: id) != nil else { return false }
        needFlush.removeValue(forKey: id)
        if members.isEmpty {
            channels.removeValue(forKey: channel)
            return true
        }
        channels[channel] = members
        return false
    }

    func count(of channel: String) -> Int {
        channels[channel]?.count ?? 0
    }

    /// Writes `frame` (shared, never copied) to every local subscriber of `channel`; returns how many.
    func deliver(_ channel: String, frame: ByteBuffer) -> Int {
        deliver(PubSubDelivery(channel: channel, frame: frame, data: ByteBuffer(), kind: .message(position: nil)))
    }

    /// Hands `delivery` (its frame shared, never copied) to every local subscriber of its channel; returns how many.
    func deliver(_ delivery: PubSubDelivery) -> Int {
        eventLoop.preconditionInEventLoop()
        guard let members = channels[delivery.channel] else { return 0 }
        for (id, subscriber) in members {
            subscriber.deliver(delivery)
            needFlush[id] = subscriber
        }
        if !flushQueued, !needFlush.isEmpty {
            flushQueued = true
            eventLoop.assumeIsolated().execute { self.flushAll() }
        }
        return members.count
    }

    private func flushAll() {
        flushQueued = false
        let pending = needFlush
        needFlush.removeAll(keepingCapacity: true)
        for subscriber in pending.values { subscriber.flushDeliveries() }
    }
}
