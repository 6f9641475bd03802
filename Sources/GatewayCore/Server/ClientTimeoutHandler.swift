import NIOCore

/// Client-side timers of one connection (SPEC §2 `timeouts`): the whole request head must arrive within
/// `client_header` of its first byte (or of the connection opening) → 408 and close; an idle keep-alive connection is
/// closed after `client_idle`. Shared by the byte-level `ClientTimeoutHandler` (which sees first bytes) and the
/// `ProxyHandler` (which sees heads and response ends). Loop-confined.
final class ConnectionActivity {
    let headerTimeout: TimeAmount
    let idleTimeout: TimeAmount
    private var headerTimer: Scheduled<Void>?
    private var idleTimer: Scheduled<Void>?
    private var requestInProgress = false
    /// Bytes of a not-yet-complete head have arrived.
    private var partialHead = false
    weak var front: ClientTimeoutHandler?

    init(headerTimeout: TimeAmount, idleTimeout: TimeAmount) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
    }

    func connectionOpened(on eventLoop: any EventLoop) {
        armHeaderTimer(on: eventLoop)
    }

    func bytesReceived(on eventLoop: any EventLoop) {
        guard !requestInProgress else { return }
        partialHead = true
        if headerTimer == nil {
            idleTimer?.cancel()
            idleTimer = nil
            armHeaderTimer(on: eventLoop)
        }
    }

    func requestHeadReceived() {
        requestInProgress = true
        partialHead = false
        headerTimer?.cancel()
        headerTimer = nil
        idleTimer?.cancel()
        idleTimer = nil
    }

    func responseCompleted() {
        requestInProgress = false
        guard let front, let eventLoop = front.eventLoop else { return }
        idleTimer?.cancel()
        idleTimer = eventLoop.assumeIsolated().scheduleTask(in: idleTimeout) { [weak self] in
            guard let self, !self.requestInProgress, !self.partialHead else { return }
            self.front?.closeIdle()
        }
    }

    func cancelAll() {
        headerTimer?.cancel()
        idleTimer?.cancel()
        headerTimer = nil
        idleTimer = nil
    }

    private func armHeaderTimer(on eventLoop: any EventLoop) {
        headerTimer?.cancel()
        headerTimer = eventLoop.assumeIsolated().scheduleTask(in: headerTimeout) { [weak self] in
            guard let self, !self.requestInProgress else { return }
            self.headerTimer = nil
            self.front?.headerTimedOut(sawBytes: self.partialHead)
        }
    }
}

/// First handler of a client pipeline (raw bytes): notices the first byte of each request head and, on timeout,
/// answers 408 itself below the HTTP codec and closes.
final class ClientTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let activity: ConnectionActivity
    private var context: ChannelHandlerContext?

    init(activity: ConnectionActivity) {
        self.activity = activity
    }

    var eventLoop: (any EventLoop)? { context?.eventLoop }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        activity.front = self
        if context.channel.isActive { activity.connectionOpened(on: context.eventLoop) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        activity.cancelAll()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        activity.connectionOpened(on: context.eventLoop)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        activity.cancelAll()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        activity.bytesReceived(on: context.eventLoop)
        context.fireChannelRead(data)
    }

    func headerTimedOut(sawBytes: Bool) {
        guard let context, context.channel.isActive else { return }
        guard sawBytes else {
            context.close(promise: nil)
            return
        }
        let problem = ProblemResponse(
            .requestTimeout, detail: "The request head did not arrive in time.", closeConnection: true)
        let bytes = context.channel.allocator.buffer(string: problem.encoded(requestID: RequestID.generate()))
        context.writeAndFlush(wrapOutboundOut(bytes)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func closeIdle() {
        context?.close(promise: nil)
    }
}
