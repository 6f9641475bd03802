import NIOCore

/// The life of one client connection's requests as a pure state machine: events in, one action out.
///
/// It knows nothing about sockets, HTTP/1 bytes or NIO pipelines: a handler parses heads, calls the event methods and
/// executes the returned `Action`. Time is passed in (`now`), never read, so tests drive it with a manual clock; the
/// handler keeps one timer armed for `nextDeadline` and calls `timerFired(now:)`. The same core is meant to serve an
/// HTTP/2 stream later (one machine per stream, without the connection-level idle and header phases).
///
/// One request at a time: a pipelined head is only handed in after the previous exchange finished, so responses
/// keep the order of requests (RFC 9112 §9.3.2).
public struct ExchangeStateMachine: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// A request head must be complete this long after its first byte (or the connection opening): 408.
        public var clientHeaderTimeout: TimeAmount
        /// A keep-alive connection with no request is closed after this long.
        public var clientIdleTimeout: TimeAmount
        /// A request body that stalls this long between reads: 408 (nil: no limit).
        public var clientBodyTimeout: TimeAmount?
        /// The upstream must start its response this long after the request was sent in full: 504.
        public var responseTimeout: TimeAmount
        /// Attempts per request (1 + retries), on other replicas.
        public var maxAttempts: Int
        /// A request body up to this size is kept and can be replayed on a retry; a longer one cannot be retried.
        public var replayLimit: Int

        public init(
            clientHeaderTimeout: TimeAmount = .seconds(10), clientIdleTimeout: TimeAmount = .seconds(60),
            clientBodyTimeout: TimeAmount? = nil, responseTimeout: TimeAmount = .seconds(30), maxAttempts: Int = 2,
            replayLimit: Int = 64 * 1024
        ) {
            self.clientHeaderTimeout = clientHeaderTimeout
            self.clientIdleTimeout = clientIdleTimeout
            self.clientBodyTimeout = clientBodyTimeout
            self.responseTimeout = responseTimeout
            self.maxAttempts = maxAttempts
            self.replayLimit = replayLimit
        }
    }

    /// What the machine needs to know about a request head (whatever the wire format).
    public struct Request: Sendable, Equatable {
        /// GET, HEAD, PUT, DELETE, OPTIONS, TRACE: safe to send again after the upstream failed mid-way.
        public var isIdempotent: Bool
        public var hasBody: Bool
        public var expectContinue: Bool
        /// The client allows another request on the connection after this one.
        public var keepAlive: Bool
        /// A protocol upgrade (WebSocket) that the route allows.
        public var wantsUpgrade: Bool
        /// The route's body limit: more → 413.
        public var maxBodyBytes: Int

        public init(
            isIdempotent: Bool, hasBody: Bool = false, expectContinue: Bool = false, keepAlive: Bool = true,
            wantsUpgrade: Bool = false, maxBodyBytes: Int = .max
        ) {
            self.isIdempotent = isIdempotent
            self.hasBody = hasBody
            self.expectContinue = expectContinue
            self.keepAlive = keepAlive
            self.wantsUpgrade = wantsUpgrade
            self.maxBodyBytes = maxBodyBytes
        }
    }

    /// How an upstream attempt failed before its response started.
    public enum AttemptFailure: Sendable, Equatable {
        /// No connection (refused, timed out, no replica): nothing was sent, so any request may go elsewhere.
        case connectFailed
        /// The connection broke after the request (or part of it) was sent: only an idempotent request is retried.
        case resetBeforeResponse
    }

    /// What the handler does next. At most one per event; `.none` when nothing is due.
    public enum Action: Sendable, Equatable {
        case none
        /// Run the request phases (routing, limits, sessions), then call `requestFiltered`.
        case startRequest
        /// Pick a replica (one not tried yet) and get a connection; then `upstreamConnected` or `attemptFailed`.
        case connect(attempt: Int)
        /// Write the request head upstream; `replay`: also the kept body (a retry); `sendContinue`: answer the
        /// client's `Expect: 100-continue` now (the upstream is there to take the body).
        case sendRequestHead(replay: Bool, sendContinue: Bool)
        /// Pass a client body part upstream.
        case forwardRequestBody
        /// Hold the part until the upstream is connected (it is also kept for replay while under the limit).
        case holdRequestBody
        /// Drop the part (the request is already answered).
        case discardRequestBody
        /// The request body is complete: send its end upstream.
        case endRequest
        /// The gateway answers itself (404, 413, 429, 502, 504, 408 …). Any upstream attempt in progress is
        /// abandoned and its connection closed, never pooled.
        case respond(status: Int, closeConnection: Bool)
        case forwardResponseHead(closeConnection: Bool)
        case forwardResponseBody
        /// The response is complete: end it; pool the upstream connection if `reuseUpstream`; close the client
        /// connection if `closeConnection`, else look for the next (pipelined) request head.
        case finishResponse(reuseUpstream: Bool, closeConnection: Bool)
        /// The response was already under way and cannot be completed: close the client connection (the client sees
        /// a truncated message) and the upstream one.
        case abortBoth
        /// Close the upstream connection (the client went away).
        case abortUpstream
        /// Close the client connection quietly (idle timeout, header timeout before any byte, quiesce).
        case close
        /// 101 from the upstream: both connections become a byte splice.
        case startTunnel
    }

    enum Phase: Sendable, Equatable {
        case filtering
        case connecting
        case proxying
        case responding
        case answeredLocally
    }

    struct Exchange: Sendable, Equatable {
        var request: Request
        var phase = Phase.filtering
        var attempt = 0
        var requestEnded = false
        var bodyBytes = 0
        var continueSent = false
        var responseDeadline: NIODeadline? = nil
        var bodyDeadline: NIODeadline? = nil
        var closeAfter: Bool
    }

    enum State: Sendable, Equatable {
        /// Waiting for a request head; `sawBytes` once part of one arrived (then a timeout answers 408).
        case awaitingHead(deadline: NIODeadline, sawBytes: Bool)
        /// Between requests on a keep-alive connection.
        case idle(deadline: NIODeadline)
        case active(Exchange)
        case tunnel
        case closed
    }

    public let configuration: Configuration
    private(set) var state: State
    /// Graceful shutdown asked: finish the current request, then close.
    public private(set) var quiescing = false

    public init(configuration: Configuration, now: NIODeadline) {
        self.configuration = configuration
        self.state = .awaitingHead(deadline: now + configuration.clientHeaderTimeout, sawBytes: false)
    }

    /// The earliest moment `timerFired` has something to do, if any.
    public var nextDeadline: NIODeadline? {
        switch state {
        case .awaitingHead(let deadline, _), .idle(let deadline):
            return deadline
        case .active(let exchange):
            switch (exchange.responseDeadline, exchange.bodyDeadline) {
            case (let a?, let b?): return min(a, b)
            case (let a?, nil): return a
            case (nil, let b?): return b
            case (nil, nil): return nil
            }
        case .tunnel, .closed:
            return nil
        }
    }

    public var isClosed: Bool { state == .closed }

    // MARK: client side

    /// Bytes arrived while no request is active: a head has begun (`client_header` runs from now).
    public mutating func bytesReceived(now: NIODeadline) {
        switch state {
        case .idle:
            state = .awaitingHead(deadline: now + configuration.clientHeaderTimeout, sawBytes: true)
        case .awaitingHead(let deadline, false):
            state = .awaitingHead(deadline: deadline, sawBytes: true)
        default:
            break
        }
    }

    /// A complete request head. Only valid while waiting for one (the handler holds pipelined heads back).
    public mutating func requestHeadReceived(_ request: Request, now: NIODeadline) -> Action {
        switch state {
        case .awaitingHead, .idle:
            var exchange = Exchange(request: request, closeAfter: !request.keepAlive || quiescing)
            if request.hasBody, let timeout = configuration.clientBodyTimeout { exchange.bodyDeadline = now + timeout }
            exchange.requestEnded = !request.hasBody
            state = .active(exchange)
            return .startRequest
        case .active, .tunnel, .closed:
            preconditionFailure("a request head while \(state)")
        }
    }

    /// The request phases are done: either proxy, or answer with `status`.
    public mutating func requestFiltered(answer status: Int?) -> Action {
        guard case .active(var exchange) = state, exchange.phase == .filtering else { return .none }
        if let status {
            return answerLocally(&exchange, status: status)
        }
        exchange.phase = .connecting
        exchange.attempt = 1
        state = .active(exchange)
        return .connect(attempt: 1)
    }

    public mutating func requestBodyReceived(bytes: Int, now: NIODeadline) -> Action {
        guard case .active(var exchange) = state, !exchange.requestEnded else { return .none }
        exchange.bodyBytes += bytes
        if let timeout = configuration.clientBodyTimeout { exchange.bodyDeadline = now + timeout }
        if exchange.phase == .answeredLocally {
            state = .active(exchange)
            return .discardRequestBody
        }
        if exchange.bodyBytes > exchange.request.maxBodyBytes {
            if exchange.phase == .responding {
                // The upstream already answers; the client keeps sending more than allowed: give up on both.
                state = .closed
                return .abortBoth
            }
            return answerLocally(&exchange, status: 413, forceClose: true)
        }
        state = .active(exchange)
        switch exchange.phase {
        case .filtering, .connecting: return .holdRequestBody
        case .proxying, .responding: return .forwardRequestBody
        case .answeredLocally: return .discardRequestBody
        }
    }

    public mutating func requestEnded(now: NIODeadline) -> Action {
        guard case .active(var exchange) = state, !exchange.requestEnded else { return .none }
        exchange.requestEnded = true
        exchange.bodyDeadline = nil
        defer { state = .active(exchange) }
        switch exchange.phase {
        case .proxying:
            exchange.responseDeadline = now + configuration.responseTimeout
            return .endRequest
        case .responding:
            return .endRequest
        case .filtering, .connecting, .answeredLocally:
            return .none
        }
    }

    /// The client connection closed (or failed).
    public mutating func clientClosed() -> Action {
        let wasActive: Bool
        if case .active(let exchange) = state {
            wasActive = exchange.phase == .proxying || exchange.phase == .responding || exchange.phase == .connecting
        } else {
            wasActive = state == .tunnel
        }
        state = .closed
        return wasActive ? .abortUpstream : .none
    }

    // MARK: upstream side

    public mutating func upstreamConnected(now: NIODeadline) -> Action {
        guard case .active(var exchange) = state, exchange.phase == .connecting else { return .abortUpstream }
        exchange.phase = .proxying
        if exchange.requestEnded { exchange.responseDeadline = now + configuration.responseTimeout }
        let sendContinue = exchange.request.expectContinue && !exchange.requestEnded && !exchange.continueSent
        if sendContinue { exchange.continueSent = true }
        let replay = exchange.attempt > 1 && exchange.bodyBytes > 0
        state = .active(exchange)
        return .sendRequestHead(replay: replay, sendContinue: sendContinue)
    }

    /// The attempt failed before any response byte reached the client. `retryAllowed`: the retry budget and the
    /// route allow another attempt and a replica not tried yet exists.
    public mutating func attemptFailed(_ failure: AttemptFailure, retryAllowed: Bool) -> Action {
        guard case .active(var exchange) = state else { return .none }
        guard exchange.phase == .connecting || exchange.phase == .proxying else {
            if exchange.phase == .responding {
                state = .closed
                return .abortBoth
            }
            return .none
        }
        let replayable = exchange.bodyBytes <= configuration.replayLimit
        let safe = failure == .connectFailed || exchange.request.isIdempotent
        if retryAllowed && safe && replayable && exchange.attempt < configuration.maxAttempts {
            exchange.attempt += 1
            exchange.phase = .connecting
            exchange.responseDeadline = nil
            state = .active(exchange)
            return .connect(attempt: exchange.attempt)
        }
        return answerLocally(&exchange, status: 502)
    }

    /// The upstream's response head. 1xx other than 101 is not forwarded and changes nothing.
    public mutating func responseHeadReceived(status: Int, now: NIODeadline) -> Action {
        guard case .active(var exchange) = state, exchange.phase == .proxying else { return .none }
        if status == 101 {
            guard exchange.request.wantsUpgrade else { return answerLocally(&exchange, status: 502) }
            state = .tunnel
            return .startTunnel
        }
        if status >= 100 && status < 200 { return .none }
        exchange.phase = .responding
        exchange.responseDeadline = nil
        // An upstream answering before the client finished its body: the rest of the body is forwarded, but the
        // client connection cannot be reused unless it finishes (decided at the end).
        exchange.closeAfter = exchange.closeAfter || quiescing
        state = .active(exchange)
        return .forwardResponseHead(closeConnection: exchange.closeAfter)
    }

    public mutating func responseBodyReceived() -> Action {
        guard case .active(let exchange) = state, exchange.phase == .responding else { return .none }
        return .forwardResponseBody
    }

    /// The upstream response is complete; `upstreamKeepAlive`: its framing and `Connection` allow reuse.
    public mutating func responseEnded(upstreamKeepAlive: Bool, now: NIODeadline) -> Action {
        guard case .active(let exchange) = state, exchange.phase == .responding else { return .none }
        // A client that has not sent its whole body leaves the connection at an unknown position: close it. The
        // upstream connection likewise, if it was not given the whole request.
        let reuse = upstreamKeepAlive && exchange.requestEnded
        let close = exchange.closeAfter || quiescing || !exchange.requestEnded
        return finish(close: close, reuseUpstream: reuse, now: now)
    }

    /// The gateway's own answer (from `.respond`) has been written in full.
    public mutating func localResponseSent(now: NIODeadline) -> Action {
        guard case .active(let exchange) = state, exchange.phase == .answeredLocally else { return .none }
        return finish(close: exchange.closeAfter || quiescing || !exchange.requestEnded, reuseUpstream: false, now: now)
    }

    /// The upstream connection closed or failed while its response was being forwarded.
    public mutating func upstreamClosedMidResponse() -> Action {
        guard case .active(let exchange) = state else { return .none }
        switch exchange.phase {
        case .responding:
            state = .closed
            return .abortBoth
        case .connecting, .proxying:
            return attemptFailed(.resetBeforeResponse, retryAllowed: false)
        default:
            return .none
        }
    }

    // MARK: connection

    /// Graceful shutdown: an idle connection closes now; an active one after its response.
    public mutating func quiesce() -> Action {
        quiescing = true
        switch state {
        case .idle, .awaitingHead(_, false):
            state = .closed
            return .close
        case .active(var exchange):
            exchange.closeAfter = true
            state = .active(exchange)
            return .none
        default:
            return .none
        }
    }

    public mutating func timerFired(now: NIODeadline) -> Action {
        switch state {
        case .awaitingHead(let deadline, let sawBytes) where deadline <= now:
            state = .closed
            return sawBytes ? .respond(status: 408, closeConnection: true) : .close
        case .idle(let deadline) where deadline <= now:
            state = .closed
            return .close
        case .active(var exchange):
            if let deadline = exchange.responseDeadline, deadline <= now {
                exchange.responseDeadline = nil
                return answerLocally(&exchange, status: 504)
            }
            if let deadline = exchange.bodyDeadline, deadline <= now, !exchange.requestEnded {
                exchange.bodyDeadline = nil
                if exchange.phase == .responding {
                    state = .closed
                    return .abortBoth
                }
                return answerLocally(&exchange, status: 408, forceClose: true)
            }
            return .none
        default:
            return .none
        }
    }

    // MARK: helpers

    private mutating func answerLocally(_ exchange: inout Exchange, status: Int, forceClose: Bool = false) -> Action {
        exchange.phase = .answeredLocally
        exchange.responseDeadline = nil
        // A body still on its way (or a 100-continue never answered) leaves the connection at an unknown position.
        let close = forceClose || exchange.closeAfter || quiescing || !exchange.requestEnded
        exchange.closeAfter = close
        state = .active(exchange)
        return .respond(status: status, closeConnection: close)
    }

    private mutating func finish(close: Bool, reuseUpstream: Bool, now: NIODeadline) -> Action {
        state = close ? .closed : .idle(deadline: now + configuration.clientIdleTimeout)
        return .finishResponse(reuseUpstream: reuseUpstream, closeConnection: close)
    }
}
