import NIOCore

/// One message or presence event as handed to a loop's subscribers: the WebSocket frame is built once and shared;
/// the rest lets a subscriber filter (recovery merge, own presence events) or re-encode (SSE).
struct PubSubDelivery: Sendable {
    enum Kind: Sendable {
        case message(position: StreamPosition?)
        case presence(RealtimePayload.PresenceEvent, PresenceMember)
    }

    let channel: String
    /// The complete WebSocket frame (never mutate).
    let frame: ByteBuffer
    /// `message`: the data; `presence`: empty.
    let data: ByteBuffer
    let kind: Kind

    var position: StreamPosition? {
        if case .message(let position) = kind { return position }
        return nil
    }
}

/// History and presence operations of the hub (SPEC §9). Defaults make a fake endpoint a store without history or
/// presence.
protocol RealtimeEndpoint: PubSubEndpoint {
    /// The history limits of `channel`, nil when it keeps no history.
    func historyLimits(for channel: String) -> HistoryLimits?
    /// Publishes like `publish`, appending to the history first on history channels; the future has the position.
    func publishReturningPosition(_ channel: String, data: ByteBuffer, on eventLoop: any EventLoop)
        -> EventLoopFuture<StreamPosition?>
    /// Reads a history channel. `create`: start its epoch when it has none (a subscriber needs one to resume from).
    func readHistory(_ channel: String, query: HistoryQuery, create: Bool, on eventLoop: any EventLoop)
        -> EventLoopFuture<HistoryRead>
    func presenceJoin(_ channel: String, _ member: PresenceMember, route: String, on eventLoop: any EventLoop)
        -> EventLoopFuture<Void>
    func presenceLeave(_ channel: String, _ member: PresenceMember, on eventLoop: any EventLoop)
    /// Entries as JSON objects.
    func presenceMembers(_ channel: String, on eventLoop: any EventLoop) -> EventLoopFuture<[String]>
}

struct HistoryUnavailable: Error, CustomStringConvertible {
    var description: String { "history is not available" }
}
