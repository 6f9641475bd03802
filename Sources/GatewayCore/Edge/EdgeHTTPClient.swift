import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A one-request HTTP/1.1 client for the edge policies: forward-auth checks and JWKS fetches. One connection per
/// request (`Connection: close`), a deadline for the whole exchange, a bounded response body. Runs on the given
/// event loop and never blocks it.
struct EdgeHTTPClient: Sendable {
    struct Response: Sendable {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]
    }

    enum Failure: Error, CustomStringConvertible {
        case badURL(String)
        case timedOut
        case connect(String)
        case tooLarge
        case closedEarly

        var description: String {
            switch self {
            case .badURL(let url): return "not an http(s)://host[:port]/path URL: \(url)"
            case .timedOut: return "timed out"
            case .connect(let text): return "connect failed: \(text)"
            case .tooLarge: return "response too large"
            case .closedEarly: return "connection closed before the response ended"
            }
        }
    }

    /// `scheme://host:port/path?query` split up.
    struct Target: Sendable, Equatable {
        var tls: Bool
        var host: String
        var port: Int
        var pathAndQuery: String

        init(_ url: String) throws(Failure) {
            let tls: Bool
            let rest: Substring
            if url.hasPrefix("http://") {
                tls = false
                rest = url.dropFirst(7)
            } else if url.hasPrefix("https://") {
                tls = true
                rest = url.dropFirst(8)
            } else {
                throw .badURL(url)
            }
            let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            let authority = rest[..<slash]
            var path = String(rest[slash...])
            if path.isEmpty { path = "/" } else if path.hasPrefix("?") { path = "/" + path }
            var host = String(authority)
            var port = tls ? 443 : 80
            if authority.hasPrefix("[") {
                guard let close = authority.firstIndex(of: "]") else { throw .badURL(url) }
                host = String(authority[authority.index(after: authority.startIndex)..<close])
                let after = authority[authority.index(after: close)...]
                if after.hasPrefix(":") {
                    guard let value = Int(after.dropFirst()) else { throw .badURL(url) }
                    port = value
                }
            } else if let colon = authority.lastIndex(of: ":") {
                host = String(authority[..<colon])
                guard let value = Int(authority[authority.index(after: colon)...]) else { throw .badURL(url) }
                port = value
            }
            guard !host.isEmpty, (1...65535).contains(port) else { throw .badURL(url) }
            self.tls = tls
            self.host = host
            self.port = port
            self.pathAndQuery = path
        }

        var hostHeader: String {
            let name = host.contains(":") ? "[\(host)]" : host
            return (port == (tls ? 443 : 80)) ? name : "\(name):\(port)"
        }
    }

    let group: any EventLoopGroup
    let maxBodyBytes: Int

    init(group: any EventLoopGroup, maxBodyBytes: Int = 1 << 20) {
        self.group = group
        self.maxBodyBytes = maxBodyBytes
    }

    func get(
        _ target: Target, headers: [(String, String)], timeout: TimeAmount, on eventLoop: any EventLoop
    ) -> EventLoopFuture<Response> {
        let promise = eventLoop.makePromise(of: Response.self)
        let maxBody = maxBodyBytes
        let deadline = eventLoop.scheduleTask(in: timeout) { promise.fail(Failure.timedOut) }
        promise.futureResult.whenComplete { _ in deadline.cancel() }
        var requestHeaders = HTTPHeaders()
        requestHeaders.add(name: "Host", value: target.hostHeader)
        for (name, value) in headers { requestHeaders.add(name: name, value: value) }
        requestHeaders.replaceOrAdd(name: "Connection", value: "close")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target.pathAndQuery, headers: requestHeaders)
        let tlsContext: NIOSSLContext?
        if target.tls {
            do {
                tlsContext = try NIOSSLContext(configuration: .makeClientConfiguration())
            } catch {
                promise.fail(Failure.connect("TLS: \(error)"))
                return promise.futureResult
            }
        } else {
            tlsContext = nil
        }
        let serverName = target.host
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tlsContext {
                        try sync.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: serverName))
                    }
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(ResponseCollector(promise: promise, maxBodyBytes: maxBody))
                }
            }
        bootstrap.connect(host: target.host, port: target.port).whenComplete { result in
            switch result {
            case .success(let channel):
                promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                channel.writeAndFlush(HTTPClientRequestPart.head(head), promise: nil)
                channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            case .failure(let error):
                promise.fail(Failure.connect("\(error)"))
            }
        }
        return promise.futureResult
    }
}

/// Collects one response into memory (bounded) and completes the promise.
private final class ResponseCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<EdgeHTTPClient.Response>
    private let maxBodyBytes: Int
    private var response: EdgeHTTPClient.Response?

    init(promise: EventLoopPromise<EdgeHTTPClient.Response>, maxBodyBytes: Int) {
        self.promise = promise
        self.maxBodyBytes = maxBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            response = .init(status: Int(head.status.code), headers: head.headers.map { ($0.name, $0.value) }, body: [])
        case .body(let buffer):
            guard response != nil else { return }
            if (response?.body.count ?? 0) + buffer.readableBytes > maxBodyBytes {
                promise.fail(EdgeHTTPClient.Failure.tooLarge)
                context.close(promise: nil)
                return
            }
            response?.body.append(contentsOf: buffer.readableBytesView)
        case .end:
            if let response { promise.succeed(response) }
            response = nil
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(EdgeHTTPClient.Failure.closedEarly)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(EdgeHTTPClient.Failure.connect("\(error)"))
        context.close(promise: nil)
    }
}
