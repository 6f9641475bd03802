import GatewayHTTP
import NIOCore

/// Client-side timers of one connection (SPEC §2 `timeouts`): the whole request head must arrive within
/// `client_header` of its first byte (or of the connection opening) → 408 and close; an idle keep-alive connection is
/// closed after `client_idle`. Shared by the byte-level `ClientTimeoutHandler` (which sees first bytes) and the
/// `ProxyHandler` (which sees heads and response ends). Loop-confined.
///
/// One deadline and one lazily re-armed timer, not a timer per phase: a keep-alive request moves the
/// connection through three phases (head expected → request in progress → idle), and scheduling and
/// cancelling a timer at each step cost two heap operations per step on the event loop. Here a phase change
/// only writes `deadline`. The timer never fires later than the earliest deadline that can be set: it is
/// armed at most `step` (the shorter of the two timeouts) ahead, and on firing either acts on an expired
/// deadline, re-arms for the current one, or stops when there is none (a request in progress).
final class ConnectionActivity {
    let headerTimeout: TimeAmount
    let idleTimeout: TimeAmount
    private let step: TimeAmount

    private enum Phase {
        /// Waiting for (the rest of) a request head; `client_header` runs.
        case awaitingHead
        /// A request is being served; no client timer runs.
        case busy
        /// Between requests with nothing received; `client_idle` runs.
        case idle
    }

    private var phase = Phase.awaitingHead
    private var deadline: NIODeadline?
    /// Bytes of a not-yet-complete head have arrived.
    private var partialHead = false
    private var timer: Scheduled<Void>?
    private var eventLoop: (any EventLoop)?
    weak var front: ClientTimeoutHandler?
    /// The request line of the head being received, measured so an overlong URI is 414 rather than 431.
    var requestLine = RequestLineMeter()

    init(headerTimeout: TimeAmount, idleTimeout: TimeAmount) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.step = max(min(headerTimeout, idleTimeout), .milliseconds(1))
    }

    func connectionOpened(on eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        enter(.awaitingHead, timeout: headerTimeout)
    }

    func bytesReceived(on eventLoop: any EventLoop) {
        guard phase != .busy else { return }
        self.eventLoop = eventLoop
        partialHead = true
        if phase == .idle { enter(.awaitingHead, timeout: headerTimeout) }
    }

    /// Measures the request line while a head is expected (cheap: stops at the line's end).
    func measure(_ buffer: ByteBuffer) {
        if phase != .busy { requestLine.feed(buffer) }
    }

    func requestHeadReceived() {
        requestLine.stop()
        partialHead = false
        phase = .busy
        deadline = nil
    }

    func responseCompleted() {
        guard front?.eventLoop != nil else { return }
        enter(.idle, timeout: idleTimeout)
    }

    func cancelAll() {
        timer?.cancel()
        timer = nil
        deadline = nil
    }

    private func enter(_ phase: Phase, timeout: TimeAmount) {
        if self.phase == .busy || phase == .awaitingHead { requestLine.reset() }
        self.phase = phase
        let deadline = NIODeadline.now() + timeout
        self.deadline = deadline
        if timer == nil { arm(at: deadline) }
    }

    private func arm(at deadline: NIODeadline) {
        guard let eventLoop = eventLoop ?? front?.eventLoop else { return }
        timer = eventLoop.assumeIsolated().scheduleTask(deadline: min(deadline, .now() + step)) { [weak self] in
            self?.timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        guard let deadline else { return }
        guard deadline <= .now() else {
            arm(at: deadline)
            return
        }
        self.deadline = nil
        switch phase {
        case .awaitingHead: front?.headerTimedOut(sawBytes: partialHead)
        case .idle: front?.closeIdle()
        case .busy: break
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
        activity.measure(unwrapInboundIn(data))
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
