import NIOCore

/// `GET /channels/CHANNEL/history?limit=N` and `GET /channels/CHANNEL/presence` on the admin listener (SPEC §9).
/// CHANNEL is percent-encoded (`chat%3A1` or `chat:1`).
///
/// - history: 200 `{"channel":"…","messages":[{"offset":N,"data":…},…],"offset":N,"epoch":"E"}` (oldest first;
///   `limit` defaults to every retained message); 404 problem for a channel without history.
/// - presence: 200 `{"channel":"…","clients":[{"user":…,"client":"…"},…]}`, across instances.
struct ChannelAdmin {
    let hub: any PubSubEndpoint

    static let pathPrefix = "/channels/"

    func handle(_ request: AdminRequest, on eventLoop: any EventLoop) -> EventLoopFuture<AdminResponse> {
        let rest = request.path.dropFirst(Self.pathPrefix.count)
        guard let slash = rest.lastIndex(of: "/") else {
            return eventLoop.makeSucceededFuture(
                .problem(.notFound, "Use GET /channels/CHANNEL/history or GET /channels/CHANNEL/presence."))
        }
        let channel = AdminHandler.percentDecode(String(rest[..<slash]))
        let what = rest[rest.index(after: slash)...]
        guard what == "history" || what == "presence" else {
            return eventLoop.makeSucceededFuture(
                .problem(.notFound, "Use GET /channels/CHANNEL/history or GET /channels/CHANNEL/presence."))
        }
        guard request.method == .GET else {
            return eventLoop.makeSucceededFuture(.problem(.methodNotAllowed, "Use GET /channels/CHANNEL/\(what)."))
        }
        guard PubSubChannelName.isValid(channel) else {
            return eventLoop.makeSucceededFuture(.problem(.badRequest, PubSubChannelName.rule))
        }
        guard let realtime = hub as? any RealtimeEndpoint else {
            return eventLoop.makeSucceededFuture(.problem(.notFound, "This store has no history or presence."))
        }
        let quoted = JSONText.quote(channel)
        if what == "presence" {
            return realtime.presenceMembers(channel, on: eventLoop).map { clients in
                AdminResponse.json("{\"channel\":\(quoted),\"clients\":[\(clients.joined(separator: ","))]}")
            }.flatMapErrorThrowing { error in
                .problem(.serviceUnavailable, "Presence could not be read (store unreachable: \(error)).")
            }
        }
        guard let limits = realtime.historyLimits(for: channel) else {
            return eventLoop.makeSucceededFuture(
                .problem(.notFound, "The channel '\(channel)' keeps no history (no route's history.channels matches it)."))
        }
        var count = limits.size
        if let text = request.query["limit"] {
            guard let limit = Int(text), limit >= 0 else {
                return eventLoop.makeSucceededFuture(.problem(.badRequest, "'limit' must be a non-negative integer."))
            }
            count = min(limit, limits.size)
        }
        return realtime.readHistory(channel, query: .last(count), create: false, on: eventLoop).map { read in
            let body = HistoryJSON.object(prefix: "{\"channel\":\(quoted),", read: read)
            return AdminResponse.json(String(buffer: body))
        }.flatMapErrorThrowing { error in
            .problem(.serviceUnavailable, "The history could not be read (store unreachable: \(error)).")
        }
    }
}
