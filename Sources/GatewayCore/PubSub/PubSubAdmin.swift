import NIOCore

/// `POST /publish/CHANNEL` on the admin listener (SPEC §6): the body is the JSON `data`, published like a client's
/// message. 200 `{"status":"published","channel":"…"}`; 400 problem for a body that is not one JSON value or a bad
/// channel name; 503 when the store is unreachable.
struct PubSubAdmin: AdminExtensions {
    let hub: any PubSubEndpoint

    static let pathPrefix = "/publish/"

    func handle(_ request: AdminRequest, on eventLoop: any EventLoop) -> EventLoopFuture<AdminResponse>? {
        if request.path.hasPrefix(ChannelAdmin.pathPrefix) {
            return ChannelAdmin(hub: hub).handle(request, on: eventLoop)
        }
        guard request.path.hasPrefix(Self.pathPrefix) else { return nil }
        guard request.method == .POST else {
            return eventLoop.makeSucceededFuture(.problem(.methodNotAllowed, "Use POST /publish/CHANNEL."))
        }
        let channel = AdminHandler.percentDecode(String(request.path.dropFirst(Self.pathPrefix.count)))
        guard PubSubChannelName.isValid(channel) else {
            return eventLoop.makeSucceededFuture(.problem(.badRequest, PubSubChannelName.rule))
        }
        guard let data = PubSubData.singleValue(request.body) else {
            return eventLoop.makeSucceededFuture(
                .problem(.badRequest, "The body must be one JSON value (the message's data), in UTF-8."))
        }
        if let realtime = hub as? any RealtimeEndpoint, realtime.historyLimits(for: channel) != nil {
            // History channel (SPEC §9): the answer carries the message's stream position.
            return realtime.publishReturningPosition(channel, data: data, on: eventLoop).map { position in
                guard let position else {
                    return AdminResponse.json("{\"status\":\"published\",\"channel\":\(JSONText.quote(channel))}")
                }
                return AdminResponse.json(
                    "{\"status\":\"published\",\"channel\":\(JSONText.quote(channel)),\"offset\":\(position.offset),\"epoch\":\(JSONText.quote(position.epoch))}"
                )
            }.flatMapErrorThrowing { error in
                .problem(.serviceUnavailable, "The message could not be published (store unreachable: \(error)).")
            }
        }
        return hub.publish(channel, data: data, on: eventLoop).map {
            AdminResponse.json("{\"status\":\"published\",\"channel\":\(JSONText.quote(channel))}")
        }.flatMapErrorThrowing { error in
            .problem(.serviceUnavailable, "The message could not be published (store unreachable: \(error)).")
        }
    }
}
