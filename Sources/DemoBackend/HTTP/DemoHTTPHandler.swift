import Crypto
import NIOCore
import NIOHTTP1

/// Serves one HTTP/1.1 connection. Requests arrive one at a time (``HTTPServerPipelineHandler`` holds pipelined
/// requests back until the previous response's `.end` is written), so the state below is per request.
///
/// Bodies are never buffered: they are hashed as they stream in. `/bytes` responses are written chunk by chunk
/// only while the channel is writable, and resume on `channelWritabilityChanged`.
final class DemoHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Largest body kept as text for endpoints that parse it (`/login`).
    static let maxKeptBody = 64 * 1024

    /// A `/bytes` response in progress.
    private struct PatternStream {
        var sent = 0
        var remaining: Int
        var chunk: Int
    }

    private let replica: String
    private var head: HTTPRequestHead?
    private var hasher: SHA256?
    private var bodyLength = 0
    private var keptBody: ByteBuffer?
    private var keepAlive = true
    private var pattern: PatternStream?
    private var pumping = false
    private var scheduled: Scheduled<Void>?
    private var connectionRequests = 0
    /// HEAD: send the head a GET would get (Content-Length included), but no body.
    private var isHead = false

    init(replica: String) {
        self.replica = replica
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.keepAlive = head.isKeepAlive
            self.isHead = head.method == .HEAD
            self.hasher = nil
            self.bodyLength = 0
            self.keptBody = DemoRequest.needsBodyText(head) ? context.channel.allocator.buffer(capacity: 256) : nil
        case .body(var buffer):
            bodyLength += buffer.readableBytes
            if hasher == nil { hasher = SHA256() }
            buffer.withUnsafeReadableBytes { hasher!.update(bufferPointer: $0) }
            if keptBody != nil, keptBody!.readableBytes + buffer.readableBytes <= Self.maxKeptBody {
                keptBody!.writeBuffer(&buffer)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            let digest = hasher.map { $0.finalize().hexString } ?? DemoRequest.emptySHA256
            var request = DemoRequest(
                head: head,
                bodyLength: bodyLength,
                bodySHA256: digest,
                bodyText: keptBody.map { String(buffer: $0) }
            )
            keptBody = nil
            hasher = nil
            connectionRequests += 1
            request.connectionRequests = connectionRequests
            if let address = context.channel.remoteAddress, let ip = address.ipAddress, let port = address.port {
                request.remote = "\(ip):\(port)"
            }
            perform(DemoEndpoints.reply(to: request, replica: replica), version: head.version, context: context)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, pattern != nil {
            pump(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        scheduled?.cancel()
        scheduled = nil
        pattern = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    // MARK: - Writing replies

    private func perform(_ reply: DemoReply, version: HTTPVersion, context: ChannelHandlerContext) {
        switch reply {
        case .full(let status, var headers, let body):
            if let body {
                headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
            }
            writeHead(status, headers, version: version, context: context)
            if let body, !isHead {
                context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            }
            finish(context: context)

        case .delayed(let delay, let next):
            scheduled = context.eventLoop.assumeIsolated().scheduleTask(in: delay) {
                self.scheduled = nil
                self.perform(next, version: version, context: context)
            }

        case .patternBytes(let total, let chunk, let chunked, let contentType):
            var headers: HTTPHeaders = ["content-type": contentType]
            if chunked {
                headers.add(name: "transfer-encoding", value: "chunked")
            } else {
                headers.add(name: "content-length", value: String(total))
            }
            writeHead(.ok, headers, version: version, context: context)
            if isHead {
                finish(context: context)
                return
            }
            pattern = PatternStream(remaining: total, chunk: chunk)
            pump(context: context)

        case .lines(let count, let interval, let contentType):
            let headers: HTTPHeaders = [
                "content-type": contentType, "transfer-encoding": "chunked", "cache-control": "no-cache",
            ]
            writeHead(.ok, headers, version: version, context: context)
            if isHead {
                finish(context: context)
                return
            }
            context.flush()
            sendLine(0, of: count, every: interval, eventStream: contentType.hasPrefix("text/event-stream"), context: context)

        case .reset:
            context.close(promise: nil)
        }
    }

    private func writeHead(_ status: HTTPResponseStatus, _ headers: HTTPHeaders, version: HTTPVersion, context: ChannelHandlerContext) {
        var headers = headers
        if !keepAlive {
            headers.replaceOrAdd(name: "connection", value: "close")
        } else if version.major == 1, version.minor == 0 {
            headers.replaceOrAdd(name: "connection", value: "keep-alive")
        }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
    }

    /// Writes `.end`, flushes, and closes afterwards when the request asked for it.
    private func finish(context: ChannelHandlerContext) {
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// Writes pattern chunks while the channel is writable. Re-entrant calls (a flush can fire
    /// `channelWritabilityChanged` synchronously) are absorbed by `pumping`.
    private func pump(context: ChannelHandlerContext) {
        guard !pumping else { return }
        pumping = true
        defer { pumping = false }
        while var stream = pattern {
            while stream.remaining > 0, context.channel.isWritable {
                let length = min(stream.chunk, stream.remaining)
                let slice = BytePattern.slice(offset: stream.sent, length: length)
                context.write(wrapOutboundOut(.body(.byteBuffer(slice))), promise: nil)
                stream.sent += length
                stream.remaining -= length
            }
            if stream.remaining == 0 {
                pattern = nil
                finish(context: context)
                return
            }
            pattern = stream
            context.flush()
            if !context.channel.isWritable || !context.channel.isActive { return }
        }
    }

    private func sendLine(_ index: Int, of count: Int, every interval: TimeAmount, eventStream: Bool, context: ChannelHandlerContext) {
        guard index < count else {
            finish(context: context)
            return
        }
        let line = eventStream ? "data: {\"chunk\":\(index)}\n\n" : "chunk \(index) of \(count)\n"
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: line)))), promise: nil)
        if index + 1 == count {
            finish(context: context)
            return
        }
        scheduled = context.eventLoop.assumeIsolated().scheduleTask(in: interval) {
            self.scheduled = nil
            self.sendLine(index + 1, of: count, every: interval, eventStream: eventStream, context: context)
        }
    }
}
