import NIOCore

/// What a connection (WebSocket or SSE) shows its client; `ChannelSession` calls it on the connection's loop.
protocol ChannelSessionOutput: AnyObject {
    /// The subscription is active. `recovered` is set when the client asked to resume (or a gap could not be filled:
    /// then it is false and the client must reload). `position` is set on history channels.
    func sessionSubscribed(_ channel: String, recovered: Bool?, position: StreamPosition?)
    /// A message (live or from the history, in order) or a presence event to show.
    func sessionDeliver(_ delivery: PubSubDelivery)
    /// The history of `channel` could not be read; live messages keep coming.
    func sessionHistoryFailed(_ channel: String, error: any Error)
    func sessionFlush()
}

/// The channels of one connection and the SPEC §9 machinery around them, shared by the WebSocket and SSE
/// transports: subscribe-then-read-history recovery through `RecoveryMerge` (no gap, no duplicate), gap repair,
/// presence join/leave, and filtering of presence events. Loop-confined (the connection's loop); permission checks
/// are the caller's.
final class ChannelSession {
    let endpoint: any PubSubEndpoint
    private let realtime: (any RealtimeEndpoint)?
    let member: PresenceMember
    let route: String
    let presencePatterns: [String]
    let user: String?
    private(set) var channels: [String] = []
    private var merges: [String: RecoveryMerge<PubSubDelivery>] = [:]
    private var joined: Set<String> = []
    private unowned let subscriber: any PubSubSubscriber
    private weak var output: (any ChannelSessionOutput)?
    let eventLoop: any EventLoop

    init(
        endpoint: any PubSubEndpoint, subscriber: any PubSubSubscriber & ChannelSessionOutput, route: String,
        user: String?, presence: [String], eventLoop: any EventLoop
    ) {
        self.eventLoop = eventLoop
        self.endpoint = endpoint
        self.realtime = endpoint as? any RealtimeEndpoint
        self.subscriber = subscriber
        self.output = subscriber
        self.route = route
        self.user = user
        self.presencePatterns = presence
        self.member = PresenceMember(user: user, client: Self.newClientID())
    }

    static func newClientID() -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = String(generator.next() as UInt64, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    func contains(_ channel: String) -> Bool { channels.contains(channel) }

    func isHistoryChannel(_ channel: String) -> Bool { realtime?.historyLimits(for: channel) != nil }

    func hasPresence(_ channel: String) -> Bool {
        !presencePatterns.isEmpty && ChannelPattern.anyMatches(presencePatterns, channel: channel, user: user)
    }

    /// Subscribes; `since` asks to resume after that position. The output hears `sessionSubscribed` once the
    /// subscription is active (and, on history channels, the history was read), then the messages in order.
    func subscribe(_ channel: String, since: StreamPosition?, on eventLoop: any EventLoop) {
        guard !channels.contains(channel) else { return }
        channels.append(channel)
        let history = realtime != nil && isHistoryChannel(channel)
        if history { merges[channel] = RecoveryMerge(since: since) }
        endpoint.subscribe(channel, subscriber, on: eventLoop).assumeIsolated().whenComplete { [self] _ in
            guard channels.contains(channel) else { return }  // unsubscribed meanwhile
            if hasPresence(channel), let realtime, joined.insert(channel).inserted {
                _ = realtime.presenceJoin(channel, member, route: route, on: eventLoop)
            }
            guard history else {
                output?.sessionSubscribed(channel, recovered: nil, position: nil)
                output?.sessionFlush()
                return
            }
            readHistory(channel, announce: true, on: eventLoop)
        }
    }

    /// Reads the history after the merge's `since` (or only the position) and hands out the merged result.
    /// A failed read is retried this many times (after 100 ms, 200 ms, …) before the session gives up on it: a
    /// reconnect storm can make single store calls time out, and live messages wait in the merge meanwhile.
    static let readAttempts = 4

    private func readHistory(_ channel: String, announce: Bool, on eventLoop: any EventLoop, attempt: Int = 1) {
        guard let realtime, let since = merges[channel].map({ $0.since }) else { return }
        let query: HistoryQuery = since.map { .after($0.offset) } ?? .position
        realtime.readHistory(channel, query: query, create: true, on: eventLoop).assumeIsolated().whenComplete {
            [self] result in
            guard channels.contains(channel), var merge = merges[channel], merge.isWaiting else { return }
            switch result {
            case .success(let read):
                let entries = read.entries.map { entry in
                    let position = StreamPosition(offset: entry.offset, epoch: read.position.epoch)
                    return PubSubDelivery(
                        channel: channel,
                        frame: PubSubFrames.message(
                            channel: channel, data: entry.data, position: position, allocator: ByteBufferAllocator()),
                        data: entry.data, kind: .message(position: position))
                }
                let outcome = merge.historyRead(read, entries: entries)
                merges[channel] = merge
                if let recovered = outcome.recovered { PubSubMetrics.recovery(recovered).increment() }
                if announce || outcome.recovered == false {
                    output?.sessionSubscribed(channel, recovered: outcome.recovered, position: outcome.position)
                }
                for item in outcome.items { output?.sessionDeliver(item) }
            case .failure(let error):
                if attempt < Self.readAttempts {
                    eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(100 * Int64(attempt))) { [self] in
                        readHistory(channel, announce: announce, on: eventLoop, attempt: attempt + 1)
                    }
                    return
                }
                let buffered = merge.abandon()
                merges[channel] = merge
                if merge.since != nil { PubSubMetrics.recovery(false).increment() }
                output?.sessionHistoryFailed(channel, error: error)
                if announce {
                    output?.sessionSubscribed(channel, recovered: merge.since == nil ? nil : false, position: nil)
                }
                for item in buffered { output?.sessionDeliver(item) }
            }
            output?.sessionFlush()
        }
    }

    func unsubscribe(_ channel: String, on eventLoop: any EventLoop) {
        guard let index = channels.firstIndex(of: channel) else { return }
        channels.remove(at: index)
        merges[channel] = nil
        if joined.remove(channel) != nil { realtime?.presenceLeave(channel, member, on: eventLoop) }
        endpoint.unsubscribe(channel, subscriber, on: eventLoop)
    }

    func unsubscribeAll(on eventLoop: any EventLoop) {
        for channel in channels { unsubscribe(channel, on: eventLoop) }
    }

    /// A delivery from the hub: through the channel's merge on history channels; presence events of this very
    /// connection, or of a channel without presence on this route, are not shown.
    func receive(_ delivery: PubSubDelivery) {
        switch delivery.kind {
        case .presence(_, let member):
            guard member != self.member, hasPresence(delivery.channel) else { return }
            output?.sessionDeliver(delivery)
        case .message(let position):
            guard var merge = merges[delivery.channel] else {
                output?.sessionDeliver(delivery)
                return
            }
            let action = merge.receive(delivery, offset: position?.offset, epoch: position?.epoch)
            merges[delivery.channel] = merge
            switch action {
            case .deliver(let item): output?.sessionDeliver(item)
            case .buffered, .duplicate: break
            case .gap:
                readHistory(delivery.channel, announce: false, on: eventLoop)
            }
        }
    }
}

