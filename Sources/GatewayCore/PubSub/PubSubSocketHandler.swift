import GatewayConfig
import NIOCore
import NIOWebSocket

/// One pub/sub WebSocket connection (RFC 6455 over NIOWebSocket's `WebSocketFrameDecoder`): parses the JSON protocol
/// of SPEC §5, checks the route's channel patterns, and writes the hub's shared message frames.
///
/// Frames out are complete RFC 6455 frames built by `PubSubFrames` (no `WebSocketFrameEncoder`), so a message frame is
/// the same `ByteBuffer` for every subscriber. A subscriber that cannot keep up (its channel stops being writable
/// because more than `max_queued_bytes` are queued) gets a 1013 close frame and no more messages, so its memory stays
/// bounded while the others are not slowed down.
///
/// Per idle connection this keeps a few references and flags; the fragment buffer exists only while a fragmented
/// message is arriving.
final class PubSubSocketHandler: ChannelDuplexHandler, RemovableChannelHandler, PubSubSubscriber {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case open
        /// We sent a close frame (or are closing); no more messages are written.
        case closing
        case closed
    }

    let endpoint: any PubSubEndpoint
    let settings: PubSubSettings
    let user: String?
    private let initialChannels: [String]
    private let onClose: () -> Void
    private let onSlowConsumer: () -> Void
    private var context: ChannelHandlerContext?
    private var state = State.open
    /// This connection's channels, recovery merges and presence (created once the handler is in a pipeline).
    private var session: ChannelSession?
    private var channels: [String] { session?.channels ?? [] }
    let routeName: String
    let clientIP: String?
    /// `publish_rate` with `key: connection` (the other keys use `SharedPublishBudgets`).
    private var publishBudget: PublishBudget?
    /// The message being reassembled from fragments, if any.
    private var fragments: ByteBuffer?
    /// A keepalive ping went out after `client_idle` of silence and nothing has come back since.
    private var awaitingPong = false
    private var closeTimer: Scheduled<Void>?
    /// Publishes sent to the store and not answered yet; past `maxPendingPublishes` the client is not read from
    /// (backpressure: a fast publisher cannot queue unbounded work, and store commands don't time out in our queue).
    private var pendingPublishes = 0
    private var readHeld = false
    private var waitingPublishes: [(String, ByteBuffer)] = []

    static let maxPendingPublishes = 32

    /// Most channels one connection may hold.
    static let maxSubscriptions = 256
    /// How long a close frame may take to drain before the connection is closed anyway.
    static let closeGrace: TimeAmount = .seconds(10)

    /// - Parameters:
    ///   - initialChannels: channels from `?subscribe=a,b`, each answered like a `subscribe` message.
    ///   - onClose: called once when the connection is gone (metrics).
    init(
        endpoint: any PubSubEndpoint,
        settings: PubSubSettings,
        user: String?,
        initialChannels: [String],
        onClose: @escaping () -> Void,
        onSlowConsumer: @escaping () -> Void = {},
        route: String = "",
        clientIP: String? = nil
    ) {
        self.routeName = route
        self.clientIP = clientIP
        if let rate = settings.publishRate, rate.key == .connection { publishBudget = PublishBudget(rate) }
        self.endpoint = endpoint
        self.settings = settings
        self.user = user
        self.initialChannels = initialChannels
        self.onClose = onClose
        self.onSlowConsumer = onSlowConsumer
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        session = ChannelSession(
            endpoint: endpoint, subscriber: self, route: routeName, user: user, presence: settings.presence,
            eventLoop: context.eventLoop)
        for channel in initialChannels { subscribe(channel) }
        context.flush()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        teardown()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        teardown()
        context.fireChannelInactive()
    }

    private func teardown() {
        guard state != .closed else { return }
        state = .closed
        closeTimer?.cancel()
        closeTimer = nil
        fragments = nil
        if let eventLoop = context?.eventLoop { session?.unsubscribeAll(on: eventLoop) }
        onClose()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            close(code: 1001, reason: "server shutting down")
            return
        }
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read, state == .open {
            // Nothing from the client for `client_idle`: ping once; still nothing after another period → gone.
            if awaitingPong {
                close(code: 1001, reason: "no answer to ping")
            } else {
                awaitingPong = true
                context.writeAndFlush(wrapOutboundOut(PubSubFrames.ping(allocator: context.channel.allocator)), promise: nil)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? NIOWebSocketError {
            guard state == .open else {
                context.close(promise: nil)
                return
            }
            switch error {
            case .invalidFrameLength: close(code: 1009, reason: "message too big")
            default: close(code: 1002, reason: "protocol error")
            }
            return
        }
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if !context.channel.isWritable, state == .open { slowConsumer() }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Frames in

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard state != .closed else { return }
        awaitingPong = false
        guard frame.maskKey != nil, frame.reservedBits.isEmpty else {
            close(code: 1002, reason: "protocol error")
            return
        }
        switch frame.opcode {
        case .text, .binary:
            guard fragments == nil else {
                close(code: 1002, reason: "expected a continuation frame")
                return
            }
            guard frame.opcode == .text else {
                close(code: 1003, reason: "binary frames are not accepted")
                return
            }
            if frame.fin {
                textMessage(frame.unmaskedData)
            } else {
                fragments = frame.unmaskedData
            }
        case .continuation:
            guard var buffer = fragments else {
                close(code: 1002, reason: "unexpected continuation frame")
                return
            }
            var part = frame.unmaskedData
            guard buffer.readableBytes + part.readableBytes <= settings.maxMessageBytes else {
                fragments = nil
                close(code: 1009, reason: "message too big")
                return
            }
            fragments = nil  // keep `buffer` uniquely referenced while appending
            buffer.writeBuffer(&part)
            if frame.fin {
                textMessage(buffer)
            } else {
                fragments = buffer
            }
        case .ping:
            if state == .open { context.writeAndFlush(wrapOutboundOut(PubSubFrames.pong(frame.unmaskedData, allocator: context.channel.allocator)), promise: nil) }
        case .pong:
            break
        case .connectionClose:
            receivedClose(frame.unmaskedData)
        default:
            close(code: 1002, reason: "unknown opcode")
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    private func receivedClose(_ payload: ByteBuffer) {
        guard let context else { return }
        guard state == .open else {
            // Our close was answered: the handshake is complete.
            context.close(promise: nil)
            return
        }
        var reply = payload
        if payload.readableBytes == 1 {
            close(code: 1002, reason: "invalid close frame")
            return
        }
        if payload.readableBytes >= 2 {
            let code = payload.getInteger(at: payload.readerIndex, as: UInt16.self)!
            let reason = payload.getSlice(at: payload.readerIndex + 2, length: payload.readableBytes - 2)!
            guard Self.isValidCloseCode(code) else {
                close(code: 1002, reason: "invalid close code")
                return
            }
            guard String(validating: reason.readableBytesView, as: UTF8.self) != nil else {
                close(code: 1007, reason: "invalid UTF-8")
                return
            }
            // Echo the code only (the reason is the peer's).
            reply = payload.getSlice(at: payload.readerIndex, length: 2)!
        }
        state = .closing
        unsubscribeAll()
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(PubSubFrames.close(echoing: reply, allocator: channel.allocator)))
            .whenComplete { _ in channel.close(promise: nil) }
    }

    static func isValidCloseCode(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014: return true
        case 3000...4999: return true
        default: return false
        }
    }

    // MARK: Messages

    private func textMessage(_ message: ByteBuffer) {
        guard state == .open else { return }
        guard String(validating: message.readableBytesView, as: UTF8.self) != nil else {
            close(code: 1007, reason: "invalid UTF-8")
            return
        }
        switch PubSubRequest.parse(message) {
        case .failure(let problem):
            sendError(code: "bad_request", message: problem.message, channel: nil)
        case .success(.subscribe(let channel)):
            subscribe(channel)
        case .success(.recover(let channel, let since)):
            subscribe(channel, since: since)
        case .success(.history(let channel, let limit)):
            history(channel, limit: limit)
        case .success(.presence(let channel)):
            presence(channel)
        case .success(.unsubscribe(let channel)):
            if let eventLoop = context?.eventLoop { session?.unsubscribe(channel, on: eventLoop) }
            send(PubSubFrames.confirmation("unsubscribed", channel: channel, allocator: allocator))
        case .success(.publish(let channel, let data)):
            publish(channel, data: data)
        }
    }

    private func subscribe(_ channel: String, since: StreamPosition? = nil) {
        guard state == .open, let context, let session else { return }
        guard PubSubChannelName.isValid(channel) else {
            sendError(code: "bad_request", message: PubSubChannelName.rule, channel: channel)
            return
        }
        guard ChannelPattern.anyMatches(settings.subscribe, channel: channel, user: user) else {
            sendError(code: "forbidden", message: "You may not subscribe to this channel.", channel: channel)
            return
        }
        if !channels.contains(channel) {
            guard channels.count < Self.maxSubscriptions else {
                sendError(
                    code: "too_many_subscriptions",
                    message: "A connection may hold at most \(Self.maxSubscriptions) subscriptions.", channel: channel)
                return
            }
            // `subscribed` promises that what is published from now on arrives, so it waits for the store to
            // confirm (and, on history channels, for the history read that recovery needs). It still precedes every
            // message of the channel: the session holds them back until then (see `ChannelSession`).
            session.subscribe(channel, since: since, on: context.eventLoop)
        } else {
            send(PubSubFrames.confirmation("subscribed", channel: channel, allocator: allocator))
        }
    }

    private func publish(_ channel: String, data: ByteBuffer) {
        guard let context else { return }
        guard ChannelPattern.anyMatches(settings.publish, channel: channel, user: user) else {
            sendError(code: "forbidden", message: "You may not publish to this channel.", channel: channel)
            return
        }
        guard admitPublish() else {
            sendError(
                code: "rate_limited", message: "Too many publishes; slow down (publish_rate of this route).",
                channel: channel)
            return
        }
        guard pendingPublishes < Self.maxPendingPublishes else {
            // Reads are held now; what the last read already carried waits here (bounded by one read's bytes).
            waitingPublishes.append((channel, data))
            return
        }
        sendPublish(channel, data: data, on: context.eventLoop)
    }

    private func sendPublish(_ channel: String, data: ByteBuffer, on eventLoop: any EventLoop) {
        pendingPublishes += 1
        endpoint.publish(channel, data: data, on: eventLoop).assumeIsolated().whenComplete { [self] result in
            self.pendingPublishes -= 1
            if case .failure(let error) = result {
                self.sendError(
                    code: "unavailable", message: "The message could not be published: \(error).", channel: channel)
                self.context?.flush()
            }
            if !self.waitingPublishes.isEmpty {
                let (next, nextData) = self.waitingPublishes.removeFirst()
                self.sendPublish(next, data: nextData, on: eventLoop)
            } else if self.readHeld, self.pendingPublishes < Self.maxPendingPublishes {
                self.readHeld = false
                self.context?.read()
            }
        }
    }

    func read(context: ChannelHandlerContext) {
        if pendingPublishes >= Self.maxPendingPublishes || !waitingPublishes.isEmpty {
            readHeld = true
            return
        }
        context.read()
    }

    private var allocator: ByteBufferAllocator { context?.channel.allocator ?? ByteBufferAllocator() }

    private func sendError(code: String, message: String, channel: String?) {
        send(PubSubFrames.error(code: code, message: message, channel: channel, allocator: allocator))
    }

    /// Writes a frame of our own (flushed at the end of the read, or by the caller).
    private func send(_ frame: ByteBuffer) {
        guard state == .open, let context else { return }
        context.write(wrapOutboundOut(frame), promise: nil)
    }

    /// `publish_rate` (SPEC §9): per connection, or shared by the connections of a user / client address here.
    private func admitPublish() -> Bool {
        guard let rate = settings.publishRate else { return true }
        let now = NIODeadline.now().microseconds
        switch rate.key {
        case .sessionUser where user != nil:
            return SharedPublishBudgets.shared.admit("\(routeName)\u{0}u\u{0}\(user!)", rate: rate, now: now)
        case .clientIP where clientIP != nil:
            return SharedPublishBudgets.shared.admit("\(routeName)\u{0}ip\u{0}\(clientIP!)", rate: rate, now: now)
        default:
            if publishBudget == nil { publishBudget = PublishBudget(rate) }
            return publishBudget!.admit(now: now)
        }
    }

    /// `{"type":"history",…}` → the newest `limit` retained messages with the stream position.
    private func history(_ channel: String, limit: Int?) {
        guard let context, let realtime = endpoint as? any RealtimeEndpoint else { return }
        guard ChannelPattern.anyMatches(settings.subscribe, channel: channel, user: user) else {
            sendError(code: "forbidden", message: "You may not read this channel.", channel: channel)
            return
        }
        guard let limits = realtime.historyLimits(for: channel) else {
            sendError(code: "no_history", message: "This channel keeps no history.", channel: channel)
            return
        }
        let count = min(limit ?? limits.size, limits.size)
        realtime.readHistory(channel, query: .last(count), create: false, on: context.eventLoop).assumeIsolated()
            .whenComplete { [self] result in
                switch result {
                case .success(let read):
                    send(PubSubFrames.history(channel: channel, read: read, allocator: allocator))
                case .failure(let error):
                    sendError(code: "unavailable", message: "The history could not be read: \(error).", channel: channel)
                }
                self.context?.flush()
            }
    }

    /// `{"type":"presence",…}` → who is subscribed, across instances.
    private func presence(_ channel: String) {
        guard let context, let realtime = endpoint as? any RealtimeEndpoint else { return }
        guard ChannelPattern.anyMatches(settings.subscribe, channel: channel, user: user) else {
            sendError(code: "forbidden", message: "You may not read this channel.", channel: channel)
            return
        }
        guard session?.hasPresence(channel) == true else {
            sendError(code: "no_presence", message: "This channel has no presence on this route.", channel: channel)
            return
        }
        realtime.presenceMembers(channel, on: context.eventLoop).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let clients):
                send(PubSubFrames.presence(channel: channel, clients: clients, allocator: allocator))
            case .failure(let error):
                sendError(code: "unavailable", message: "Presence could not be read: \(error).", channel: channel)
            }
            self.context?.flush()
        }
    }

    // MARK: Deliveries (PubSubSubscriber)

    func deliver(_ delivery: PubSubDelivery) {
        guard state == .open else { return }
        if let session { session.receive(delivery) } else { deliver(delivery.frame) }
    }

    func deliver(_ frame: ByteBuffer) {
        guard state == .open, let context else { return }
        context.write(wrapOutboundOut(frame), promise: nil)
        // (The write may already have closed us through `channelWritabilityChanged`.)
        if state == .open, !context.channel.isWritable { slowConsumer() }
    }

    func flushDeliveries() {
        guard state == .open else { return }
        context?.flush()
    }

    // MARK: Closing

    private func slowConsumer() {
        onSlowConsumer()
        close(code: 1013, reason: "subscriber too slow")
    }

    private func unsubscribeAll() {
        guard let eventLoop = context?.eventLoop else { return }
        session?.unsubscribeAll(on: eventLoop)
    }

    /// Starts the closing handshake with `code`: the close frame goes out after what is queued, then the connection
    /// closes when the peer answers, when the frame is written, or after `closeGrace` at the latest.
    private func close(code: UInt16, reason: String) {
        guard state == .open, let context else { return }  // already closing: the close frame is on its way
        state = .closing
        fragments = nil
        unsubscribeAll()
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(PubSubFrames.close(code: code, reason: reason, allocator: channel.allocator)))
            .whenComplete { _ in
                // Give the peer a moment to answer the close, as RFC 6455 §7.1.1 prefers the client to close TCP.
                channel.eventLoop.scheduleTask(in: .milliseconds(500)) { channel.close(promise: nil) }
            }
        closeTimer = context.eventLoop.scheduleTask(in: Self.closeGrace) { channel.close(promise: nil) }
    }
}

extension PubSubSocketHandler: ChannelSessionOutput {
    func sessionSubscribed(_ channel: String, recovered: Bool?, position: StreamPosition?) {
        if recovered == nil, position == nil {
            send(PubSubFrames.confirmation("subscribed", channel: channel, allocator: allocator))
        } else {
            send(PubSubFrames.subscribed(channel: channel, recovered: recovered, position: position, allocator: allocator))
        }
    }

    func sessionDeliver(_ delivery: PubSubDelivery) {
        deliver(delivery.frame)
    }

    func sessionHistoryFailed(_ channel: String, error: any Error) {
        sendError(code: "unavailable", message: "The channel's history could not be read: \(error).", channel: channel)
    }

    func sessionFlush() {
        context?.flush()
    }
}
