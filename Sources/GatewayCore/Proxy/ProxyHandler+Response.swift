import GatewayConfig
import NIOCore
import NIOHTTP1

/// The response path: upstream parts → response policies → client, and the answers the gateway gives itself.
extension ProxyHandler: UpstreamResponseReceiver {
    var downstreamIsWritable: Bool { context?.channel.isWritable ?? false }

    func upstreamWritabilityChanged(isWritable: Bool) {
        if isWritable { resumeClientReads() }
    }

    func upstreamReadComplete() {
        context?.flush()
    }

    func upstreamReceived(_ part: HTTPClientResponsePart) {
        guard let exchange, exchange.phase == .proxying else { return }
        if exchange.heldResponseParts != nil {
            exchange.heldResponseParts?.append(part)
            return
        }
        switch part {
        case .head(let head):
            receivedResponseHead(head, exchange: exchange)
        case .body(let buffer):
            exchange.responseBytes += buffer.readableBytes
            context?.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        case .end(let trailers):
            exchange.upstreamResponseEnded = true
            let reusable = (exchange.upstreamResponseHead?.isKeepAlive ?? false) && exchange.requestEnded
            detachConnection(exchange, reusable: reusable)
            writeResponseEnd(exchange, trailers: trailers)
        }
    }

    func upstreamFailed(_ error: any Error) {
        guard let exchange, exchange.connection != nil, exchange.phase == .proxying else { return }
        if exchange.upstreamResponseHead == nil {
            exchange.outcomeNote = "connection lost before the response: \(ErrorText.describe(error))"
            attemptFailed(exchange, outcome: .resetBeforeResponse)
        } else {
            // The response was cut mid-body: the client must see a broken response, not a short one.
            exchange.outcomeNote = "upstream closed mid-response"
            detachConnection(exchange, reusable: false)
            exchange.closeAfterResponse = true
            context?.close(promise: nil)
        }
    }

    private func receivedResponseHead(_ head: HTTPResponseHead, exchange: ProxyExchange) {
        exchange.cancelResponseTimer()
        exchange.upstreamResponseHead = head
        if let replica = exchange.replica {
            let code = Int(head.status.code)
            let outcome: AttemptOutcome = (code == 502 || code == 503 || code == 504) ? .badStatus(code) : .success
            finishAttempt(exchange, replica, outcome: outcome)
        }
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
        var headers = ForwardedHeaders.downstreamHeaders(from: upstream.headers, keepUpgrade: false)
        headers.remove(name: "x-gateway-session")
        for name in phase.removeHeaders { headers.remove(name: name) }
        headers.replaceOrAdd(name: "X-Request-Id", value: exchange.requestID)
        headers.addDateIfMissing()
        for (name, value) in exchange.policy.responseHeaders { headers.replaceOrAdd(name: name, value: value) }
        for (name, value) in phase.addHeaders { headers.add(name: name, value: value) }
        if let cookie = exchange.replica?.setAffinityCookie,
            let upstreamName = exchange.route?.settings.upstream,
            let cookieName = services.selector.affinityCookieName(upstream: upstreamName)
        {
            headers.add(name: "Set-Cookie", value: "\(cookieName)=\(cookie); Path=/; HttpOnly; SameSite=Lax")
        }
        if let route = exchange.route, let settings = route.settings.compress {
            exchange.compress = ResponseCompression.prepare(
                &headers, status: upstream.status, request: exchange.head, settings: settings)
        }
        if exchange.closeAfterResponse || !exchange.head.isKeepAlive || closing {
            headers.replaceOrAdd(name: "Connection", value: "close")
            exchange.closeAfterResponse = true
        }
        exchange.responseStarted = true
        exchange.responseStatus = Int(upstream.status.code)
        let head = HTTPResponseHead(version: responseVersion(exchange), status: upstream.status, headers: headers)
        context?.write(wrapOutboundOut(.head(head)), promise: nil)
    }

    func responseVersion(_ exchange: ProxyExchange) -> HTTPVersion {
        exchange.head.version.major == 1 && exchange.head.version.minor == 0 ? .http1_0 : .http1_1
    }

    /// Answers the request with a problem document and stops its upstream side.
    func respondLocally(_ exchange: ProxyExchange, _ problem: ProblemResponse) {
        guard let context else { return }
        exchange.cancelResponseTimer()
        detachConnection(exchange, reusable: false)
        exchange.heldParts = []
        exchange.heldResponseParts = nil
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
        for (name, value) in exchange.policy.responseHeaders { head.headers.replaceOrAdd(name: name, value: value) }
        exchange.responseStarted = true
        exchange.responseStatus = Int(problem.status.code)
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
        let status: HTTPResponseStatus = error == .headerOverflow ? .requestHeaderFieldsTooLarge : .badRequest
        let detail =
            error == .headerOverflow
            ? "The request head is larger than the limit of \(services.snapshots.current.server.maxHeaderBytes) bytes."
            : "The request is malformed: \(error)."
        let requestID = exchange?.requestID ?? RequestID.generate()
        let problem = ProblemResponse(status, detail: detail, closeConnection: true)
        var (head, body) = problem.render(requestID: requestID, allocator: context.channel.allocator)
        head.headers.addDateIfMissing()
        if let exchange {
            exchange.cancelResponseTimer()
            detachConnection(exchange, reusable: false)
            exchange.responseStarted = true
            exchange.responseStatus = Int(status.code)
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
