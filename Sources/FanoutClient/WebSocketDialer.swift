import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

enum DialError: Error, CustomStringConvertible {
    case timedOut(port: Int, path: String)
    case closed(port: Int, path: String)

    var description: String {
        switch self {
        case .timedOut(let port, let path): return "no WebSocket upgrade from :\(port)\(path) in time"
        case .closed(let port, let path): return "connection to :\(port)\(path) closed before it was ready"
        }
    }
}

/// Opens WebSocket client connections: TCP connect, `GET path` with the upgrade headers (NIOWebSocketClientUpgrader),
/// then `install` puts the connection's own handler behind NIOWebSocket's frame decoder/encoder.
enum WebSocketDialer {
    static let upgradeTimeout: TimeAmount = .seconds(15)

    /// Succeeds with the channel once `ready` is fulfilled by the installed handler (e.g. on the `subscribed` frame);
    /// fails when the connection closes first or `upgradeTimeout` passes.
    ///
    /// - Parameters:
    ///   - eventLoop: the loop the connection lives on (so the caller can create loop-bound state for it up front).
    ///   - install: runs on `eventLoop` right after the upgrade; adds the connection's handler, which completes `ready`.
    static func connect(
        host: String,
        port: Int,
        path: String,
        on eventLoop: any EventLoop,
        install: @escaping @Sendable (Channel, EventLoopPromise<Void>) throws -> Void
    ) -> EventLoopFuture<Channel> {
        let ready = eventLoop.makePromise(of: Void.self)
        let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: 1 << 20, automaticErrorHandling: false) { channel, _ in
            channel.eventLoop.makeCompletedFuture { try install(channel, ready) }
        }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                // `.forwardBytes`: frames that arrive in the same read as the 101 (the `subscribed` confirmation
                // usually does) must reach the frame decoder, not be dropped with the HTTP decoder.
                channel.pipeline.addHTTPClientHandlers(
                    leftOverBytesStrategy: .forwardBytes,
                    withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                )
            }
        return bootstrap.connect(host: host, port: port).flatMap { channel in
            let timeout = eventLoop.scheduleTask(in: upgradeTimeout) {
                ready.fail(DialError.timedOut(port: port, path: path))
            }
            channel.closeFuture.whenComplete { _ in ready.fail(DialError.closed(port: port, path: path)) }
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: "\(host):\(port)")
            headers.add(name: "Content-Length", value: "0")
            let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            return ready.futureResult.always { _ in timeout.cancel() }.map { channel }.flatMapErrorThrowing { error in
                channel.close(promise: nil)
                throw error
            }
        }
    }

    /// Opens `count` connections with at most `concurrency` handshakes in flight (a burst of thousands of SYNs
    /// would overflow the listener's backlog). `open(i)` starts connection `i`.
    static func openAll(
        count: Int,
        concurrency: Int,
        _ open: @escaping @Sendable (Int) -> EventLoopFuture<Channel>
    ) async throws -> [Channel] {
        let workers = min(concurrency, count)
        return try await withThrowingTaskGroup(of: [(Int, Channel)].self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var opened: [(Int, Channel)] = []
                    for index in stride(from: worker, to: count, by: workers) {
                        opened.append((index, try await open(index).get()))
                    }
                    return opened
                }
            }
            var all: [(Int, Channel)] = []
            all.reserveCapacity(count)
            for try await opened in group { all += opened }
            return all.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}
