import GatewayConfig
import GatewayHTTP
import NIOCore
import NIOHTTP1

/// The response path: upstream parts → response policies → client, and the answers the gateway gives itself.
extension ProxyHandler: UpstreamResponseReceiver {
    var downstreamIsWritable: Bool { context?.channel.isWritable ?? false }

    func upstreamWritabilityChanged(isWritable: Bool) {
        if isWritable { resumeClientReads() }
    }

    func upstreamReadComplete() {
        if let exchange { writePendingResponseHead(exchange) }
        context?.flush()
    }

    func upstreamReceived(_ part: HTTPClientResponsePart) {
        guard let exchange, exchange.phase == .proxying else { return }
        if exchange.heldResponseParts != nil {
            exchange.heldResponseParts?.append(part)
            return
        }
        if exchange.cache != nil {
            if cacheSwallows(part, exchange: exchange) { return }
            cacheCaptures(part, exchange: exchange)
        }
        switch part {
        case .head(let head):
            receivedResponseHead(head, exchange: exchange)
        case .body(let buffer):
            writePendingResponseHead(exchange)
            exchange.responseBytes += buffer.readableBytes
            context?.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        case .end(let trailers):
            writePendingResponseHead(exchange)
            exchange.upstreamResponseEnded = true
            let reusable = (exchange.upstreamResponseHead?.isKeepAlive ?? false) && exchange.requestEnded
            detachConnection(exchange, reusable: reusable)
            // Trailers go on only together with the `Trailer` field announcing them (see `writeResponseHead`).
            writeResponseEnd(exchange, trailers: exchange.forwardTrailers ? trailers : nil)
        }
    }

    /// Writes the response head held back by `writeResponseHead`. Holding it until the first body byte (or the end
    /// of the read) lets a response whose body breaks at once (a malformed first chunk) still become a clean 502.
    func writePendingResponseHead(_ exchange: ProxyExchange) {
        guard let head = exchange.pendingResponseHead else { return }
        exchange.pendingResponseHead = nil
        exchange.responseStarted = true
        context?.write(wrapOutboundOut(.head(head)), promise: nil)
    }

    func upstreamFailed(_ error: any Error) {
        guard let exchange, exchange.connection != nil, exchange.phase == .proxying else { return }
        if exchange.upstreamResponseHead == nil {
            exchange.outcomeNote = "connection lost before the response: \(ErrorText.describe(error))"
            attemptFailed(exchange, outcome: .resetBeforeResponse)
        } else if !exchange.responseStarted {
            // The head arrived but the body broke before anything reached the client: still a clean 502.
            exchange.outcomeNote = "upstream response broken before any byte was sent: \(ErrorText.describe(error))"
            exchange.pendingResponseHead = nil
            detachConnection(exchange, reusable: false)
            respondLocally(
                exchange,
                ProblemResponse(
                    .badGateway, detail: "The upstream sent a malformed response.",
                    closeConnection: exchange.hasBody && !exchange.requestEnded))
        } else {
            // The response was cut mid-body: the client must see a broken response, not a short one.
            exchange.outcomeNote = "upstream closed mid-response"
            detachConnection(exchange, reusable: false)
            exchange.closeAfterResponse = true
            context?.close(promise: nil)
        }
    }

    private func receivedResponseHead(_ head: HTTPResponseHead, exchange: ProxyExchange) {
        let code = Int(head.status.code)
        guard ResponseRules.isValidStatus(code) else {
            exchange.outcomeNote = "invalid status \(code) from upstream"
            attemptFailed(exchange, outcome: .resetBeforeResponse)
            return
        }
        if code < 200 && code != 101 {
            // Informational (103 Early Hints …): passed on to HTTP/1.1 clients, the final response still to come.
            if ResponseRules.forwardsInformational(code, clientIsHTTP11: responseVersion(exchange) == .http1_1),
                !exchange.responseStarted, exchange.pendingResponseHead == nil, let context
            {
                var headers = ForwardedHeaders.downstreamHeaders(
                    from: head.headers, keepUpgrade: false, headerRules: exchange.snapshot.headerRules)
                headers.remove(name: "content-length")
                let status = HTTPResponseStatus(statusCode: code, reasonPhrase: ResponseRules.informationalReason(code))
                context.writeAndFlush(
                    wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
                    promise: nil)
            }
            return
        }
        exchange.cancelResponseTimer()
        exchange.upstreamResponseHead = head
        if let replica = exchange.replica {
            let code = Int(head.status.code)
            let outcome: AttemptOutcome = (code == 502 || code == 503 || code == 504) ? .badStatus(code) : .success
            finishAttempt(exchange, replica, outcome: outcome)
        }
        if exchange.cache != nil, cacheInterceptsResponseHead(head, exchange: exchange) { return }
        if head.status == .switchingProtocols {
            if exchange.isWebSocketUpgrade, exchange.route?.settings.websocket == true {
                startTunnel(exchange, responseHead: head)
            } else {
                exchange.outcomeNote = "unexpected 101 from upstream"
                detachConnection(exchange, reusable: false)
                respondLocally(exchange, ProblemResponse(.badGateway, detail: "The upstream switched protocols unasked."))
            }
            return
        }
        guard let route = exchange.route, services.policies.needsResponsePhase(route), let context else {
            writeResponseHead(head, exchange: exchange, phase: ResponsePhaseResult())
            return
        }
        // Hold the body (and upstream reads) while the response phase runs, e.g. while a session is created.
        exchange.heldResponseParts = []
        let request = PolicyRequest(
            route: route, head: exchange.head, clientIP: exchange.clientIP, requestID: exchange.requestID)
        services.policies.responsePhase(request, context: exchange.policy, responseHead: head, on: context.eventLoop)
            .assumeIsolated().whenComplete { [self] result in
                guard self.exchange === exchange, exchange.phase == .proxying else { return }
                let held = exchange.heldResponseParts ?? []
                exchange.heldResponseParts = nil
                switch result {
                case .success(let phase):
                    self.writeResponseHead(head, exchange: exchange, phase: phase)
                    for part in held { self.upstreamReceived(part) }
                    if self.exchange === exchange { self.writePendingResponseHead(exchange) }
                    self.context?.flush()
                case .failure(let error):
                    exchange.outcomeNote = "response phase: \(ErrorText.describe(error))"
                    self.detachConnection(exchange, reusable: false)
                    self.respondLocally(
                        exchange,
                        ProblemResponse(
                            .serviceUnavailable, detail: "The session store is unavailable.",
                            headers: [("Retry-After", "1")], closeConnection: !exchange.requestEnded))
                }
            }
    }

    private func writeResponseHead(_ upstream: HTTPResponseHead, exchange: ProxyExchange, phase: ResponsePhaseResult) {
        let isHTTP10 = responseVersion(exchange) == .http1_0
        let bodyless =
            exchange.head.method == .HEAD || upstream.status == .noContent || upstream.status == .notModified
        var headers = ForwardedHeaders.downstreamHeaders(
            from: upstream.headers, keepUpgrade: false, keepTrailer: true, headerRules: exchange.snapshot.headerRules)
        headers.remove(name: "x-gateway-session")
        for name in phase.removeHeaders { headers.remove(name: name) }
        headers.replaceOrAdd(name: "X-Request-Id", value: exchange.requestID)
        headers.addDateIfMissing()
        if exchange.cache != nil { addCacheResponseHeaders(&headers, exchange: exchange) }
        for (name, value) in exchange.policy.responseHeaders { headers.replaceOrAdd(name: name, value: value) }
        for (name, value) in phase.addHeaders { headers.add(name: name, value: value) }
        if let cookie = exchange.replica?.setAffinityCookie, let cookieName = exchange.route?.upstream?.affinityCookie {
            headers.add(name: "Set-Cookie", value: "\(cookieName)=\(cookie); Path=/; HttpOnly; SameSite=Lax")
        }
        if let route = exchange.route, let settings = route.settings.compress {
            exchange.compress = ResponseCompression.prepare(
                &headers, status: upstream.status, request: exchange.head, settings: settings)
            if exchange.compress { ensureCompressor() }
        }
        let lengthDelimited = bodyless || headers.contains(name: "content-length")
        // Trailers reach the client only in a chunked HTTP/1.1 body; `Trailer` is kept exactly then (both or neither).
        exchange.forwardTrailers = !isHTTP10 && !lengthDelimited
        if !exchange.forwardTrailers { headers.remove(name: "trailer") }
        switch ResponseRules.persistence(
            isHTTP10: isHTTP10, clientKeepAlive: exchange.head.isKeepAlive,
            gatewayCloses: exchange.closeAfterResponse || closing, lengthDelimited: lengthDelimited)
        {
        case .close:
            headers.replaceOrAdd(name: "Connection", value: "close")
            exchange.closeAfterResponse = true
        case .keepAlive(let announce):
            if announce { headers.replaceOrAdd(name: "Connection", value: "keep-alive") }
        }
        exchange.responseStatus = Int(upstream.status.code)
        exchange.pendingResponseHead = HTTPResponseHead(
            version: responseVersion(exchange), status: upstream.status, headers: headers)
    }

    func responseVersion(_ exchange: ProxyExchange) -> HTTPVersion {
        exchange.head.version.major == 1 && exchange.head.version.minor == 0 ? .http1_0 : .http1_1
    }

    /// Answers the request with a problem document and stops its upstream side.
    func respondLocally(_ exchange: ProxyExchange, _ problem: ProblemResponse) {
        guard let context else { return }
        exchange.cancelResponseTimer()
        detachConnection(exchange, reusable: false)
        endOpenAttempt(exchange, outcome: .aborted)
        exchange.cancelBodyTimer()
        exchange.heldParts = []
        exchange.heldResponseParts = nil
        exchange.pendingResponseHead = nil
        if exchange.cache != nil, cacheServesStaleOnError(exchange, status: problem.status) { return }
        guard !exchange.responseStarted else {
            context.close(promise: nil)
            return
        }
        exchange.phase = .answeredLocally
        if problem.closeConnection || closing { exchange.closeAfterResponse = true }
        var problem = problem
        problem.closeConnection = exchange.closeAfterResponse
        var (head, body) = problem.render(requestID: exchange.requestID, allocator: context.channel.allocator)
        head.version = responseVersion(exchange)
        head.headers.addDateIfMissing()
        if head.version == .http1_0, exchange.head.isKeepAlive, !exchange.closeAfterResponse {
            // An HTTP/1.0 client asked to keep the connection: say that it is kept (RFC 9112 §9.3).
            head.headers.replaceOrAdd(name: "Connection", value: "keep-alive")
        }
        for (name, value) in exchange.policy.responseHeaders { head.headers.replaceOrAdd(name: name, value: value) }
        exchange.responseStarted = true
        exchange.responseStatus = Int(problem.status.code)
        exchange.problemDetail = problem.detail
        exchange.responseBytes = body.readableBytes
        if exchange.head.method == .HEAD { body.clear() }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        writeResponseEnd(exchange)
    }

    /// `HTTPParserError`s: 431 for oversized heads, 400 for everything else malformed; then close.
    func protocolError(_ error: HTTPParserError, context: ChannelHandlerContext) {
        if let exchange, exchange.responseStarted {
            context.close(promise: nil)
            return
        }
        let server = services.snapshots.current.server
        let status: HTTPResponseStatus
        let detail: String
        if error == .headerOverflow, activity.requestLine.exceeds(uriLimit: server.maxURIBytes) {
            // The decoder counts the URI against the head limit: an overlong request line is 414, not 431.
            status = .uriTooLong
            detail = "The request target is longer than the limit of \(server.maxURIBytes) bytes."
        } else if error == .headerOverflow {
            status = .requestHeaderFieldsTooLarge
            detail = "The request head is larger than the limit of \(server.maxHeaderBytes) bytes."
        } else {
            status = .badRequest
            detail = "The request is malformed: \(error)."
        }
        let requestID = exchange?.requestID ?? RequestID.generate()
        let problem = ProblemResponse(status, detail: detail, closeConnection: true)
        var (head, body) = problem.render(requestID: requestID, allocator: context.channel.allocator)
        head.headers.addDateIfMissing()
        if let exchange {
            exchange.cancelResponseTimer()
            exchange.cancelBodyTimer()
            detachConnection(exchange, reusable: false)
            endOpenAttempt(exchange, outcome: .aborted)
            exchange.pendingResponseHead = nil
            exchange.responseStarted = true
            exchange.responseStatus = Int(status.code)
            exchange.problemDetail = detail
            exchange.phase = .done
            services.observer.requestFinished(exchange)
            self.exchange = nil
        } else {
            services.observer.protocolError(status: Int(status.code))
        }
        closing = true
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    /// Writes an informational (1xx) head.
    func writeInformational(_ status: HTTPResponseStatus, context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status))), promise: nil)
    }
}
