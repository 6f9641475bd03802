import GatewayTLS
import NIOCore
import NIOPosix

/// One active check over a fresh connection: a minimal HTTP/1.1 `GET` with `Host` and `Connection: close`,
/// reading only the status line. 2xx/3xx pass; any other status, a connect error, a broken status line or
/// no status line within `timeout` fail.
enum HealthProbe {
    struct Result: Sendable, Equatable {
        var ok: Bool
        var status: Int?
        /// Why the check failed, for operators; nil when it passed.
        var error: String? = nil
    }

    static func run(
        host: String,
        port: Int,
        path: String,
        timeout: TimeAmount,
        tls: ClientTLSContext? = nil,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<Result> {
        let promise = eventLoop.makePromise(of: Result.self)
        let hostHeader = port == (tls == nil ? 80 : 443) ? host : (host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
        let request =
            "GET \(path.isEmpty ? "/" : path) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: gateway-health-check\r\n"
            + "Accept: */*\r\nConnection: close\r\n\r\n"
        // A second completion of the promise is ignored by NIO, so the timer and the handler may both try.
        let timer = eventLoop.scheduleTask(in: timeout) {
            promise.succeed(Result(ok: false, status: nil, error: "no answer within \(OperatorText.duration(timeout))"))
        }
        let connect = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Over TLS the request is written at once and held by NIOSSL until the handshake is done; a failed
                    // handshake closes the channel, which fails the check.
                    if let tls { try channel.pipeline.syncOperations.addHandler(try tls.makeHandler(host: host)) }
                    try channel.pipeline.syncOperations.addHandler(
                        StatusLineHandler(request: request, promise: promise))
                }
            }
            .connect(host: host, port: port)
        connect.whenFailure { error in promise.succeed(Result(ok: false, status: nil, error: OperatorText.describe(error))) }
        promise.futureResult.whenComplete { _ in
            timer.cancel()
            connect.whenSuccess { channel in channel.close(promise: nil) }
        }
        return promise.futureResult
    }
}

/// Writes the request on connect and completes the promise with the status of the first response line.
final class StatusLineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private static let maxLineBytes = 8 * 1024
    private let request: String
    private let promise: EventLoopPromise<HealthProbe.Result>
    private var buffer = ByteBuffer()

    init(request: String, promise: EventLoopPromise<HealthProbe.Result>) {
        self.request = request
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: request)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        buffer.writeBuffer(&chunk)
        let view = buffer.readableBytesView
        if let newline = view.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: view[view.startIndex..<newline], as: UTF8.self)
            promise.succeed(Self.parse(statusLine: line))
            context.close(promise: nil)
        } else if buffer.readableBytes > Self.maxLineBytes {
            promise.succeed(HealthProbe.Result(ok: false, status: nil, error: "status line longer than 8 KiB"))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.succeed(HealthProbe.Result(ok: false, status: nil, error: "connection closed before a status line"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.succeed(HealthProbe.Result(ok: false, status: nil, error: OperatorText.describe(error)))
        context.close(promise: nil)
    }

    /// `HTTP/1.1 200 OK` → 200, pass. Anything that is not an HTTP status line fails without a status.
    static func parse(statusLine: String) -> HealthProbe.Result {
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), parts[1].count == 3, let status = Int(parts[1]) else {
            return HealthProbe.Result(ok: false, status: nil, error: "not an HTTP status line")
        }
        let ok = (200...399).contains(status)
        return HealthProbe.Result(ok: ok, status: status, error: ok ? nil : "status \(status)")
    }
}
