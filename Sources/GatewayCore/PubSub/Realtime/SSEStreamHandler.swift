import GatewayConfig
import NIOCore

/// One Server-Sent Events stream (SPEC §9 `sse:` routes) after the gateway answered the `GET`: the same hub, channel
/// permissions, history recovery and presence as a WebSocket, written as `text/event-stream`:
///
/// ```
/// id: 5f1c…:42                      (history channels: the stream position, see `SSEEventID`)
/// event: message
/// data: {"channel":"user:alice","data":{"n":1}}
/// ```
///
/// `subscribed` events tell a resuming client whether it `recovered`; `join`/`leave` events carry presence. A comment
/// line every `keepalive` keeps proxies and the browser from timing out an idle stream. The response is never
/// compressed (the HTTP handlers are gone once the stream starts), so every event leaves as soon as it is written,
/// with or without `Accept-Encoding: gzip`. A client too slow to read is disconnected, like a 1013 WebSocket.
final class SSEStreamHandler: ChannelInboundHandler, RemovableChannelHandler, PubSubSubscriber {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let endpoint: any PubSubEndpoint
    let settings: PubSubSettings
    let user: String?
    let routeName: String
    private let requested: [String]
    private var resume: [String: StreamPosition]
    private var head: ByteBuffer?
    private let onClose: () -> Void
    private let onSlowConsumer: () -> Void
    private var context: ChannelHandlerContext?
    private var session: ChannelSession?
    private var eventID: SSEEventID
    private var keepalive: Scheduled<Void>?
    private var closed = false

    init(
        endpoint: any PubSubEndpoint, settings: PubSubSettings, user: String?, route: String, channels: [String],
        eventID: SSEEventID, resume: [String: StreamPosition], head: ByteBuffer, onClose: @escaping () -> Void,
        onSlowConsumer: @escaping () -> Void = {}
    ) {
        self.endpoint = endpoint
        self.settings = settings
        self.user = user
        self.routeName = route
        self.requested = channels
        self.eventID = eventID
        self.resume = resume
        self.head = head
        self.onClose = onClose
        self.onSlowConsumer = onSlowConsumer
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if var head {
            self.head = nil
            head.writeStaticString("retry: 1000\n\n")
            context.write(wrapOutboundOut(head), promise: nil)
        }
        let session = ChannelSession(
            endpoint: endpoint, subscriber: self, route: routeName, user: user, presence: settings.presence,
            eventLoop: context.eventLoop)
        self.session = session
        for channel in requested { session.subscribe(channel, since: resume[channel], on: context.eventLoop) }
        resume = [:]
        scheduleKeepalive()
        context.flush()
    }

    /// A comment line after every `keepalive` period (re-armed each time; cancelled on close).
    private func scheduleKeepalive() {
        guard !closed, let context else { return }
        let period = settings.sseKeepalive.components
        let nanoseconds = Int64(clamping: period.seconds) * 1_000_000_000 + period.attoseconds / 1_000_000_000
        keepalive = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(max(nanoseconds, 1_000_000))) {
            [self] in
            guard !closed, let context = self.context else { return }
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(staticString: ": keepalive\n\n")), promise: nil)
            scheduleKeepalive()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        teardown()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        teardown()
        context.fireChannelInactive()
    }

    /// The client sends nothing after its request; whatever arrives is ignored.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if !context.channel.isWritable, !closed { slowConsumer() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func teardown() {
        guard !closed else { return }
        closed = true
        keepalive?.cancel()
        keepalive = nil
        if let eventLoop = context?.eventLoop { session?.unsubscribeAll(on: eventLoop) }
        onClose()
    }

    private func slowConsumer() {
        onSlowConsumer()
        context?.close(promise: nil)
    }

    private func write(_ text: ByteBuffer) {
        guard !closed, let context else { return }
        context.write(wrapOutboundOut(text), promise: nil)
        if !closed, !context.channel.isWritable { slowConsumer() }
    }

    // MARK: PubSubSubscriber

    func deliver(_ delivery: PubSubDelivery) {
        guard !closed else { return }
        session?.receive(delivery)
    }

    /// Only the WebSocket frame of a delivery; never called (`deliver(_: PubSubDelivery)` is).
    func deliver(_ frame: ByteBuffer) {}

    func flushDeliveries() {
        guard !closed else { return }
        context?.flush()
    }
}

extension SSEStreamHandler: ChannelSessionOutput {
    func sessionSubscribed(_ channel: String, recovered: Bool?, position: StreamPosition?) {
        var json = "{\"channel\":\(JSONText.quote(channel))"
        if let recovered { json += ",\"recovered\":\(recovered)" }
        if let position {
            json += ",\"offset\":\(position.offset),\"epoch\":\(JSONText.quote(position.epoch))"
            eventID.update(channel, position)
        }
        json += "}"
        write(SSEEvents.event("subscribed", id: position == nil ? nil : eventID.value, data: ByteBuffer(string: json)))
    }

    func sessionDeliver(_ delivery: PubSubDelivery) {
        switch delivery.kind {
        case .message(let position):
            if let position { eventID.update(delivery.channel, position) }
            write(SSEEvents.message(channel: delivery.channel, data: delivery.data, id: position == nil ? nil : eventID.value))
        case .presence(let kind, let member):
            let json = PubSubFrames.presenceEventJSON(kind, channel: delivery.channel, member: member)
            write(SSEEvents.event(kind.rawValue, id: nil, data: ByteBuffer(string: json)))
        }
    }

    func sessionHistoryFailed(_ channel: String, error: any Error) {
        let json = "{\"channel\":\(JSONText.quote(channel)),\"code\":\"unavailable\",\"message\":\(JSONText.quote("The channel's history could not be read: \(error)."))}"
        write(SSEEvents.event("error", id: nil, data: ByteBuffer(string: json)))
    }

    func sessionFlush() {
        guard !closed else { return }
        context?.flush()
    }
}
