import GatewayConfig
import GatewayHTTP
import GatewayTLS
import GatewayUpstreams
import NIOCore
import NIOHTTP1

/// The client side of the proxy, one per client connection. Runs each request through the phases
/// (route → request policies → pick replica → connect → stream both ways → response policies → log) and splices the
/// upstream connection's response back, with backpressure in both directions.
///
/// Pipelining is handled here rather than by NIO's `HTTPServerPipelineHandler` (which withdraws and re-registers read
/// interest around every response, two `epoll_ctl` calls per request): parts of requests that arrive while one is
/// being answered are queued, bounded, and processed in order once its response has ended.
final class ProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let services: GatewayServices
    let pool: UpstreamConnectionPool
    let activity: ConnectionActivity
    var context: ChannelHandlerContext?
    var exchange: ProxyExchange?
    /// A `read()` held back because the request body has nowhere to go yet.
    var readPending = false
    var peerAddress: SocketAddress?
    var peerBytes: [UInt8] = []
    /// The peer's address as text, formatted once per connection (not per request).
    var peerText = "unknown"
    /// The client connection is closing; nothing more is started.
    var closing = false
    /// Request ids for this connection's requests.
    var random = FastRandom()
    /// Parts of pipelined requests waiting for the current exchange to finish.
    var queuedParts = CircularBuffer<HTTPServerRequestPart>()
    var queuedBytes = 0
    var drainingQueue = false
    /// The connection's one `timeouts.response` timer (see `armResponseTimer`) and when it fires.
    private var responseTimer: Scheduled<Void>?
    private var responseTimerDeadline = NIODeadline.distantFuture
    /// The snapshot the connection's last request used, re-read only after a reload (`SnapshotHolder`).
    var snapshotCache = SnapshotCache()
    /// Set on TLS listeners (`ServerPipeline.addTLS`): scheme, client certificate subject, TLS version for the log.
    var security: ConnectionSecurity?
    /// False on HTTP/2 streams: the connection, not each stream, is counted in `gateway_connections_*`.
    var countsConnection = true
    /// `connectionOpened` was reported (in `channelActive`, or in `handlerAdded` when added to an active channel,
    /// as after ALPN), so `connectionClosed` is reported exactly once against it.
    private var connectionCounted = false
    /// Above this many queued bytes the client's reads are held.
    static let maxQueuedBytes = 64 * 1024

    init(services: GatewayServices, pool: UpstreamConnectionPool, activity: ConnectionActivity) {
        self.services = services
        self.pool = pool
        self.activity = activity
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        peerAddress = context.channel.remoteAddress
        peerBytes = ClientAddress.bytes(of: peerAddress)
        peerText = ClientAddress.text(of: peerAddress)
        if context.channel.isActive { countConnectionOpened() }
    }

    private func countConnectionOpened() {
        guard countsConnection, !connectionCounted else { return }
        connectionCounted = true
        services.observer.connectionOpened()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        if context.channel.isActive, connectionCounted {
            // Removed for an upgrade (tunnel or pub/sub socket): the connection lives on without us.
            let observer = services.observer
            context.channel.closeFuture.whenComplete { _ in observer.connectionClosed() }
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        countConnectionOpened()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if connectionCounted {
            connectionCounted = false
            services.observer.connectionClosed()
        }
        responseTimer?.cancel()
        responseTimer = nil
        closing = true
        exchange?.cancelBodyTimer()
        if let exchange, exchange.phase != .done {
            abandon(exchange, note: "client closed")
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if !queuedParts.isEmpty || exchange.map({ $0.requestEnded }) == true {
            // A pipelined request while the previous one is still being answered.
            queue(part)
            return
        }
        handle(part, context: context)
    }

    private func queue(_ part: HTTPServerRequestPart) {
        switch part {
        case .body(let buffer): queuedBytes += buffer.readableBytes
        case .head(let head): queuedBytes += head.uri.utf8.count + head.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count }
        case .end: break
        }
        queuedParts.append(part)
    }

    /// Runs queued pipelined requests, in order, while nothing else is in progress.
    func processQueuedRequests() {
        guard !drainingQueue, let context else { return }
        drainingQueue = true
        defer { drainingQueue = false }
        while exchange == nil || exchange?.requestEnded == false, let part = queuedParts.popFirst() {
            if case .body(let buffer) = part { queuedBytes -= buffer.readableBytes }
            if queuedParts.isEmpty { queuedBytes = 0 }
            handle(part, context: context)
            if closing { return }
        }
        if readPending, queuedBytes < Self.maxQueuedBytes, exchange.map({ clientReadsAllowed($0) }) ?? true {
            readPending = false
            exchange?.bodyClock?.progressed(at: .now())
            context.read()
        }
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            activity.requestHeadReceived()
            begin(head: head, context: context)
        case .body(let buffer):
            guard let exchange else { return }
            exchange.bodyClock?.progressed(at: .now())
            exchange.requestBytes += buffer.readableBytes
            if exchange.requestBytes > exchange.maxBodyBytes {
                payloadTooLarge(exchange)
                return
            }
            exchange.keepForReplay(buffer)
            forwardRequestPart(.body(buffer), exchange: exchange)
        case .end:
            guard let exchange else { return }
            exchange.requestEnded = true
            exchange.cancelBodyTimer()
            forwardRequestPart(part, exchange: exchange)
            if exchange.phase == .done { finishIfComplete(exchange) }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let connection = exchange?.connection, exchange?.phase == .proxying {
            connection.channel.flush()
        }
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let connection = exchange?.connection {
            connection.handler.resumeReading()
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let parserError = error as? HTTPParserError {
            protocolError(parserError, context: context)
            return
        }
        // I/O errors (reset by peer …): the connection is gone.
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if queuedBytes >= Self.maxQueuedBytes {
            readPending = true
            return
        }
        if let exchange, !exchange.requestEnded, !clientReadsAllowed(exchange) {
            readPending = true
            return
        }
        context.read()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            // Graceful shutdown: finish the current request, then close (keep-alive ends).
            if exchange == nil {
                context.close(promise: nil)
            } else {
                exchange?.closeAfterResponse = true
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Request phases

    private func begin(head rawHead: HTTPRequestHead, context: ChannelHandlerContext) {
        let snapshot = services.snapshots.current(cachedIn: &snapshotCache)
        let requestID = RequestID.accept(rawHead.headers.first(name: "x-request-id")) ?? RequestID.generate(using: &random)
        let peerTrusted = snapshot.isTrustedProxy(peerBytes)
        let clientIP = ClientAddress.resolve(
            peer: peerText,
            peerTrusted: peerTrusted,
            forwardedFor: rawHead.headers[canonicalForm: "x-forwarded-for"].map(String.init),
            isTrusted: { text in ClientAddress.parse(text).map { snapshot.isTrustedProxy($0) } ?? false }
        )

        let screened: RequestScreening.Accepted
        switch RequestScreening.screen(
            rawHead, snapshot: snapshot,
            listenerAuthority: { RequestValidation.listenerAuthority(context.channel.localAddress) })
        {
        case .accepted(let accepted):
            screened = accepted
        case .rejected(let problem):
            let exchange = ProxyExchange(
                head: rawHead, requestID: requestID, snapshot: snapshot, route: nil, clientIP: clientIP)
            self.exchange = exchange
            exchange.tlsVersion = security?.tlsVersion
            if services.tracing != nil { startTrace(exchange, path: rawHead.uri) }
            services.observer.requestStarted()
            respondLocally(exchange, problem)
            return
        }
        let head = screened.head
        let path = screened.path
        let host = RequestValidation.hostWithoutPort(head.headers.first(name: "host"))
        let outcome = snapshot.router.route(method: head.method.rawValue, path: path, host: host)
        var route: CompiledRoute? = nil
        if case .matched(let matched) = outcome { route = matched }
        let exchange = ProxyExchange(
            head: head, requestID: requestID, snapshot: snapshot, route: route, clientIP: clientIP)
        exchange.path = path
        exchange.query = screened.query
        exchange.clientURI = rawHead.uri
        self.exchange = exchange
        exchange.tlsVersion = security?.tlsVersion
        if services.tracing != nil { startTrace(exchange, path: path) }
        services.observer.requestStarted()

        switch outcome {
        case .notFound:
            respondLocally(exchange, ProblemResponse(.notFound, detail: "No route matches \(path)."))
            return
        case .methodNotAllowed(let allowed):
            respondLocally(
                exchange,
                ProblemResponse(
                    .methodNotAllowed,
                    detail: "\(head.method.rawValue) is not allowed on \(path).",
                    headers: allowed.isEmpty ? [] : [("Allow", allowed.joined(separator: ", "))]))
            return
        case .matched:
            break
        }
        guard let route else { return }

        if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > exchange.maxBodyBytes {
            respondLocally(
                exchange,
                ProblemResponse(
                    .payloadTooLarge,
                    detail: "The request body of \(length) bytes exceeds the limit of \(exchange.maxBodyBytes) bytes.",
                    closeConnection: true))
            return
        }

        if exchange.hasBody { startBodyTimer(exchange) }

        if head.headers.contains(name: "upgrade") {
            // The request decoder stops parsing after an upgrade request: this connection serves nothing after it.
            exchange.closeAfterResponse = true
        }
        if exchange.isWebSocketUpgrade, route.settings.websocket || route.settings.pubsub != nil,
            let problem = WebSocketHandshake.requestProblem(head)
        {
            respondLocally(exchange, ProblemResponse(.badRequest, detail: problem))
            return
        }

        var policyRequest = PolicyRequest(route: route, head: head, clientIP: clientIP, requestID: requestID)
        policyRequest.clientCertSubject = security?.clientSubject
        policyRequest.scheme = security == nil ? "http" : "https"
        guard services.policies.needsRequestPhase(route) else {
            proceed(exchange, route: route)
            return
        }
        exchange.trace?.policyStarted()
        services.policies.requestPhase(policyRequest, on: context.eventLoop).assumeIsolated().whenComplete {
            [self] result in
            exchange.trace?.policyFinished(result)
            guard self.exchange === exchange, exchange.phase == .filtering else { return }
            switch result {
            case .success(.proceed(let policy)):
                exchange.policy = policy
                self.proceed(exchange, route: route)
            case .success(.respond(let problem)):
                var problem = problem
                if exchange.hasBody && !exchange.requestEnded { problem.closeConnection = true }
                self.respondLocally(exchange, problem)
            case .failure(let error):
                // The error text (store addresses, driver messages) goes to the access log, not to the client.
                exchange.outcomeNote = "policy check failed: \(error)"
                self.respondLocally(
                    exchange,
                    ProblemResponse(
                        .serviceUnavailable, detail: "A policy check failed; try again shortly.",
                        headers: [("Retry-After", "1")]))
            }
        }
    }

    /// After the request phase: the gateway's own pub/sub socket, static files, or the upstream.
    private func proceed(_ exchange: ProxyExchange, route: CompiledRoute) {
        if route.settings.pubsub != nil, let context {
            beginPubSub(exchange, route: route, context: context)
        } else if let settings = route.settings.staticFiles, let context {
            serveStatic(exchange, route: route, settings: settings, context: context)
        } else if startCacheLookup(exchange, route: route) {
            return
        } else {
            startUpstream(exchange)
        }
    }

    /// Picks a replica and connects; called again for each retry.
    func startUpstream(_ exchange: ProxyExchange) {
        guard let route = exchange.route, let upstreamName = route.settings.upstream, let context else { return }
        exchange.phase = .connecting
        let upstream = route.upstream
        if exchange.attempts == 0 { upstream?.group.retryBudget.recordRequest() }
        let affinity = upstream?.affinityCookie.flatMap { RequestValidation.cookie(named: $0, in: exchange.head.headers) }
        // The pick also counts the attempt as started (one lock on the group).
        let pick = upstream?.pickAndStart(
            clientIP: exchange.clientIP, affinityCookie: affinity, excluding: exchange.failedReplicas)
        guard let upstream, let choice = pick else {
            let detail =
                exchange.attempts == 0
                ? "No healthy replica of upstream '\(upstreamName)' is available."
                : "Every replica of upstream '\(upstreamName)' that could be tried failed."
            if exchange.attempts == 0 {
                respondLocally(
                    exchange, ProblemResponse(.serviceUnavailable, detail: detail, headers: [("Retry-After", "1")]))
            } else {
                respondLocally(exchange, ProblemResponse(.badGateway, detail: detail))
            }
            return
        }
        exchange.attempts += 1
        if choice.panic { services.observer.upstreamPanic(upstream: upstreamName) }
        exchange.replica = choice
        exchange.lastReplicaURL = choice.replica.url
        exchange.requestSent = false
        exchange.attemptStartedAt = .now()
        exchange.trace?.attemptStarted(
            number: exchange.attempts, upstream: upstreamName, host: choice.replica.host, port: choice.replica.port,
            url: choice.replica.url, method: exchange.head.method.rawValue, uri: exchange.head.uri)
        let attempt = exchange.attemptLedger.start()
        let timeouts = route.settings.timeouts
        pool.acquire(
            choice.replica, connectTimeout: timeouts.connect.timeAmount, fresh: exchange.isWebSocketUpgrade,
            tls: upstream.tlsContext(for: choice.replica))
            .assumeIsolated().whenComplete { [self] result in
                guard self.exchange === exchange, exchange.phase == .connecting, !self.closing else {
                    if case .success(let connection) = result { connection.channel.close(promise: nil) }
                    self.finishAttempt(exchange, choice, outcome: .aborted, attempt: attempt)
                    return
                }
                switch result {
                case .success(let connection):
                    self.sendUpstream(exchange, connection: connection, context: context)
                case .failure(let error):
                    exchange.outcomeNote = "connect: \(ErrorText.describe(error))"
                    self.attemptFailed(exchange, outcome: .connectFailure)
                }
            }
    }

    private func sendUpstream(_ exchange: ProxyExchange, connection: UpstreamConnection, context: ChannelHandlerContext) {
        guard let route = exchange.route else { return }
        exchange.connection = connection
        exchange.phase = .proxying
        connection.handler.receiver = self
        let head = upstreamHead(for: exchange, route: route)
        exchange.requestSent = true
        connection.channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if exchange.attempts > 1, let replay = exchange.replayBody {
            // A retry: replay everything received so far (the copy includes parts held during this reconnect).
            exchange.heldParts = []
            for buffer in replay { connection.channel.write(HTTPClientRequestPart.body(.byteBuffer(buffer)), promise: nil) }
            if exchange.requestEnded { writeRequestEnd(exchange, connection: connection) }
        } else {
            let held = exchange.heldParts
            exchange.heldParts = []
            for part in held { forwardRequestPart(part, exchange: exchange) }
        }
        connection.channel.flush()
        exchange.bodyClock?.progressed(at: .now())
        if exchange.expectsContinue && !exchange.requestEnded {
            // We stripped `Expect` upstream and vouch for the upstream ourselves, like nginx does.
            writeInformational(.continue, context: context)
            exchange.expectsContinue = false
        }
        resumeClientReads()
    }

    func upstreamHead(for exchange: ProxyExchange, route: CompiledRoute) -> HTTPRequestHead {
        // The normalised path (SPEC §13): the upstream sees exactly what was routed.
        let rewritten = route.rewrite(path: exchange.path)
        let uri = exchange.query.map { rewritten + "?" + $0 } ?? rewritten
        var headers = ForwardedHeaders.upstreamHeaders(
            from: exchange.head.headers,
            clientAddress: peerText,
            peerIsTrusted: exchange.snapshot.isTrustedProxy(peerBytes),
            requestID: exchange.requestID,
            keepUpgrade: exchange.isWebSocketUpgrade && route.settings.websocket,
            headerRules: exchange.snapshot.headerRules,
            scheme: security == nil ? "http" : "https")
        headers.remove(name: "expect")
        if let subject = security?.clientSubject { headers.replaceOrAdd(name: "X-Client-Cert-Subject", value: subject) }
        for name in exchange.policy.upstreamRemovals { headers.remove(name: name) }
        for (name, value) in exchange.policy.upstreamHeaders { headers.add(name: name, value: value) }
        if exchange.cache != nil { applyCacheRequestHeaders(&headers, exchange: exchange) }
        exchange.trace?.inject(into: &headers)
        if !exchange.isWebSocketUpgrade || !route.settings.websocket {
            // Keep framing explicit: a body goes chunked unless the client gave a length.
            if exchange.hasBody, !headers.contains(name: "content-length") {
                headers.add(name: "Transfer-Encoding", value: "chunked")
            }
        }
        var head = HTTPRequestHead(version: .http1_1, method: exchange.head.method, uri: uri, headers: headers)
        head.version = .http1_1
        return head
    }

    /// Sends a client body part upstream, or holds it until the connection is ready.
    private func forwardRequestPart(_ part: HTTPServerRequestPart, exchange: ProxyExchange) {
        switch exchange.phase {
        case .filtering, .connecting:
            exchange.heldParts.append(part)
        case .proxying:
            guard let connection = exchange.connection else { return }
            switch part {
            case .body(let buffer):
                connection.channel.write(HTTPClientRequestPart.body(.byteBuffer(buffer)), promise: nil)
            case .end:
                writeRequestEnd(exchange, connection: connection)
            case .head:
                break
            }
        case .tunnel, .answeredLocally, .done:
            break
        }
    }

    private func writeRequestEnd(_ exchange: ProxyExchange, connection: UpstreamConnection) {
        connection.channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        armResponseTimer(exchange)
    }

    /// Starts the attempt's `timeouts.response` clock. One timer per connection, not per request: the
    /// deadline lives on the exchange and the timer, when it fires early (a previous request's deadline),
    /// re-arms for the current one, so back-to-back keep-alive requests schedule nothing.
    private func armResponseTimer(_ exchange: ProxyExchange) {
        guard exchange.upstreamResponseHead == nil, exchange.responseDeadline == nil, let route = exchange.route,
            let context
        else { return }
        let deadline = NIODeadline.now() + route.settings.timeouts.response.timeAmount
        exchange.responseDeadline = deadline
        if responseTimer == nil || responseTimerDeadline > deadline {
            scheduleResponseTimer(at: deadline, on: context.eventLoop)
        }
    }

    private func scheduleResponseTimer(at deadline: NIODeadline, on eventLoop: any EventLoop) {
        responseTimer?.cancel()
        responseTimerDeadline = deadline
        responseTimer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            self?.responseTimerFired()
        }
    }

    private func responseTimerFired() {
        responseTimer = nil
        guard let exchange, let deadline = exchange.responseDeadline, exchange.upstreamResponseHead == nil,
            let route = exchange.route, let context
        else { return }
        guard deadline <= .now() else {
            scheduleResponseTimer(at: deadline, on: context.eventLoop)
            return
        }
        exchange.responseDeadline = nil
        exchange.outcomeNote = "response timeout"
        detachConnection(exchange, reusable: false)
        if let replica = exchange.replica { finishAttempt(exchange, replica, outcome: .timeout) }
        respondLocally(
            exchange,
            ProblemResponse(
                .gatewayTimeout,
                detail: "The upstream did not answer within \(route.settings.timeouts.response).",
                closeConnection: !exchange.requestEnded))
    }

    /// A failed attempt before any response byte: retry on another replica when that is safe, else 502.
    func attemptFailed(_ exchange: ProxyExchange, outcome: AttemptOutcome) {
        exchange.cancelResponseTimer()
        detachConnection(exchange, reusable: false)
        if let replica = exchange.replica {
            finishAttempt(exchange, replica, outcome: outcome)
            exchange.failedReplicas.append(replica.replica.index)
        }
        exchange.replica = nil
        let upstream = exchange.route?.upstream
        let retries = upstream?.retries ?? 0
        let safe = outcome == .connectFailure ? exchange.canReplay || !exchange.requestSent : exchange.canReplay
        if !exchange.responseStarted, safe, exchange.attempts <= retries, !exchange.isWebSocketUpgrade,
            upstream?.group.retryBudget.allowRetry() == true
        {
            services.observer.retried()
            startUpstream(exchange)
            return
        }
        respondLocally(
            exchange,
            ProblemResponse(
                .badGateway,
                // What failed (the replica's address, the socket error) is in `outcomeNote` for the access log
                // and in the metrics; the client gets a generic sentence.
                detail: outcome == .connectFailure
                    ? "The upstream could not be reached." : "The upstream failed before sending a response.",
                closeConnection: exchange.hasBody && !exchange.requestEnded))
    }

    private func payloadTooLarge(_ exchange: ProxyExchange) {
        guard !exchange.responseStarted, exchange.phase != .answeredLocally, exchange.phase != .done else { return }
        exchange.cancelResponseTimer()
        detachConnection(exchange, reusable: false)
        if let replica = exchange.replica { finishAttempt(exchange, replica, outcome: .aborted) }
        respondLocally(
            exchange,
            ProblemResponse(
                .payloadTooLarge,
                detail: "The request body exceeds the limit of \(exchange.maxBodyBytes) bytes.",
                closeConnection: true))
    }

    /// One attempt against a replica ended: passive health (`Replica.requestFinished`) and per-attempt metrics.
    /// Only the first end of an attempt counts (`attempt`: that number; nil: whichever is open), so the replica's
    /// in-flight count drops exactly once whatever path ends it.
    func finishAttempt(_ exchange: ProxyExchange, _ choice: Pick, outcome: AttemptOutcome, attempt: Int? = nil) {
        let ended = attempt.map { exchange.attemptLedger.end($0) } ?? (exchange.attemptLedger.endOpen() != nil)
        guard ended else { return }
        exchange.trace?.attemptFinished(outcome: outcome, status: exchange.upstreamResponseHead.map { Int($0.status.code) })
        choice.replica.requestFinished(outcome.requestOutcome)
        if let upstream = exchange.route?.settings.upstream {
            services.observer.upstreamAttempt(
                upstream: upstream, replica: choice.replica.url, outcome: outcome,
                elapsed: NIODeadline.now() - exchange.attemptStartedAt)
        }
    }

    // MARK: Backpressure

    func clientReadsAllowed(_ exchange: ProxyExchange) -> Bool {
        switch exchange.phase {
        case .filtering, .connecting:
            return false
        case .proxying, .tunnel:
            return exchange.connection?.channel.isWritable ?? true
        case .answeredLocally, .done:
            return true
        }
    }

    func resumeClientReads() {
        guard readPending, let context, let exchange, clientReadsAllowed(exchange) else { return }
        readPending = false
        exchange.bodyClock?.progressed(at: .now())
        context.read()
    }

    // MARK: Finishing

    /// Gives the upstream connection back to the pool (or closes it).
    func detachConnection(_ exchange: ProxyExchange, reusable: Bool) {
        guard let connection = exchange.connection else { return }
        exchange.connection = nil
        connection.handler.receiver = nil
        if reusable, let upstream = exchange.route?.upstream {
            pool.release(connection, keepalive: upstream.keepalive)
        } else {
            connection.channel.close(promise: nil)
        }
    }

    /// Ends the response. All bookkeeping happens *before* `.end` is written: writing it makes
    /// `HTTPServerPipelineHandler` hand us the next pipelined request synchronously, inside the write call.
    func writeResponseEnd(_ exchange: ProxyExchange, trailers: HTTPHeaders? = nil) {
        guard let context else { return }
        exchange.phase = .done
        let compressor = compressorCountingBytes(exchange)
        if compressor == nil { services.observer.requestFinished(exchange) }
        let close = exchange.closeAfterResponse || !exchange.head.isKeepAlive || closing
        let bodyStillComing = !exchange.requestEnded && exchange.hasBody
        if exchange.requestEnded {
            self.exchange = nil
            activity.responseCompleted()
        }
        if close || bodyStillComing {
            // A body still coming would have to be read just to drop it: close instead (as nginx does for 413).
            context.writeAndFlush(wrapOutboundOut(.end(trailers))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
            if let compressor { finishObservation(exchange, compressor: compressor) }
            return
        }
        context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
        if let compressor { finishObservation(exchange, compressor: compressor) }
        if self.exchange == nil { processQueuedRequests() }
    }

    /// The request's `.end` arrived after its response was already complete.
    func finishIfComplete(_ exchange: ProxyExchange) {
        guard exchange.phase == .done, self.exchange === exchange, let context else { return }
        self.exchange = nil
        activity.responseCompleted()
        if exchange.closeAfterResponse || !exchange.head.isKeepAlive || closing {
            context.close(promise: nil)
            return
        }
        processQueuedRequests()
    }

    /// The client went away mid-exchange.
    private func abandon(_ exchange: ProxyExchange, note: String) {
        exchange.outcomeNote = note
        exchange.cancelResponseTimer()
        exchange.cancelBodyTimer()
        let reusable = exchange.upstreamResponseEnded && exchange.requestEnded
        detachConnection(exchange, reusable: reusable)
        endOpenAttempt(exchange, outcome: .aborted)
        if exchange.phase != .done {
            exchange.phase = .done
            if exchange.cache != nil { finishCacheFlight(exchange) }
            if exchange.responseStatus == 0 { exchange.responseStatus = 499 }
            services.observer.requestFinished(exchange)
        }
        self.exchange = nil
    }
}
