import CoreMetrics
import GatewayConfig
import NIOCore
import NIOHTTP1

extension ProxyHandler {
    /// An `sse:` route (SPEC §9): `GET /events?channel=a,b` with `Accept: text/event-stream`. Checks the request and
    /// every channel's permission up front (a problem response, as for any HTTP request), then answers 200 with an
    /// open-ended `text/event-stream` body written by `SSEStreamHandler` straight to the socket (no chunking, no
    /// compression, `Connection: close`: the stream ends when either side closes).
    func beginSSE(
        _ exchange: ProxyExchange, route: CompiledRoute, settings: PubSubSettings, endpoint: any PubSubEndpoint,
        context: ChannelHandlerContext
    ) {
        let head = exchange.head
        guard head.method == .GET else {
            respondLocally(
                exchange,
                ProblemResponse(.methodNotAllowed, detail: "This route is an event stream: use GET.", headers: [("Allow", "GET")]))
            return
        }
        let accept = head.headers[canonicalForm: "accept"].map { $0.lowercased() }
        guard accept.contains(where: { $0.hasPrefix("text/event-stream") || $0 == "*/*" || $0.hasPrefix("*/*;") })
            || accept.isEmpty
        else {
            respondLocally(
                exchange,
                ProblemResponse(.notAcceptable, detail: "This route is an event stream: send Accept: text/event-stream."))
            return
        }
        let (_, query) = RequestValidation.splitURI(head.uri)
        let channels = SSEQuery.channels(query)
        guard !channels.isEmpty else {
            respondLocally(
                exchange,
                ProblemResponse(.badRequest, detail: "Name the channels to stream: ?channel=public:news,user:alice"))
            return
        }
        guard channels.count <= PubSubSocketHandler.maxSubscriptions else {
            respondLocally(
                exchange,
                ProblemResponse(
                    .badRequest, detail: "At most \(PubSubSocketHandler.maxSubscriptions) channels per stream."))
            return
        }
        let user = exchange.policy.sessionUser
        for channel in channels {
            guard PubSubChannelName.isValid(channel) else {
                respondLocally(exchange, ProblemResponse(.badRequest, detail: "'\(channel)': \(PubSubChannelName.rule)"))
                return
            }
            guard ChannelPattern.anyMatches(settings.subscribe, channel: channel, user: user) else {
                respondLocally(
                    exchange, ProblemResponse(.forbidden, detail: "You may not subscribe to the channel '\(channel)'."))
                return
            }
        }
        let realtime = endpoint as? any RealtimeEndpoint
        let historyChannels = channels.filter { realtime?.historyLimits(for: $0) != nil }
        var resume: [String: StreamPosition] = [:]
        if let lastEventID = head.headers.first(name: "last-event-id"), !historyChannels.isEmpty {
            if let positions = SSEEventID.resume(lastEventID, historyChannels: historyChannels) {
                resume = positions
            } else {
                // Asked to resume but the id does not fit: every history channel answers recovered:false.
                for channel in historyChannels { resume[channel] = StreamPosition(offset: 0, epoch: "-") }
            }
        }

        var response = ByteBuffer()
        response.writeString(
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache\r\n"
                + "Connection: close\r\nX-Accel-Buffering: no\r\n")
        response.writeString("X-Request-Id: \(exchange.requestID)\r\n")
        for (name, value) in exchange.policy.responseHeaders { response.writeString("\(name): \(value)\r\n") }
        response.writeStaticString("\r\n")

        exchange.responseStarted = true
        exchange.responseStatus = 200
        exchange.phase = .tunnel
        services.observer.requestFinished(exchange)
        services.observer.tunnelOpened(route: exchange.routeName)
        let routeName = exchange.routeName
        let observer = services.observer
        let stream = SSEStreamHandler(
            endpoint: endpoint, settings: settings, user: user, route: routeName, channels: channels,
            eventID: SSEEventID(historyChannels: historyChannels), resume: resume, head: response,
            onClose: { observer.tunnelClosed(route: routeName) },
            onSlowConsumer: { CoreMetrics.Counter(label: "gateway_pubsub_slow_consumers_total").increment() })
        do {
            let pipeline = context.pipeline.syncOperations
            try context.channel.syncOptions?.setOption(
                .writeBufferWaterMark,
                value: ChannelOptions.Types.WriteBufferWaterMark(
                    low: max(1, settings.maxQueuedBytes / 2), high: max(2, settings.maxQueuedBytes)))
            let front = try pipeline.handler(type: ClientTimeoutHandler.self)
            try removeHTTPHandlers(from: pipeline)
            try pipeline.addHandler(stream, position: .after(front))
        } catch {
            context.close(promise: nil)
            return
        }
        leavePipelineAfterUpgrade(context: context)
    }
}

/// `?channel=a,b` (also repeated `channel=` parameters) of an SSE request.
enum SSEQuery {
    static func channels(_ query: String?) -> [String] {
        guard let query else { return [] }
        var out: [String] = []
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, AdminHandler.percentDecode(String(parts[0])) == "channel" else { continue }
            for name in parts[1].split(separator: ",") {
                let channel = AdminHandler.percentDecode(String(name))
                if !channel.isEmpty, !out.contains(channel) { out.append(channel) }
            }
        }
        return out
    }
}
