import NIOCore
import NIOHTTP1
import NIOPosix

/// A request to the admin listener, body collected (admin bodies are small: at most `AdminServer.maxBody`).
public struct AdminRequest: Sendable {
    public var method: HTTPMethod
    public var path: String
    public var query: [String: String]
    public var body: ByteBuffer
    public var headers: HTTPHeaders = HTTPHeaders()
}

public struct AdminResponse: Sendable {
    public var status: HTTPResponseStatus
    public var contentType: String
    public var body: String
    /// Extra response headers (security headers of the dashboard page, `WWW-Authenticate`, `Set-Cookie`…).
    public var headers: [(String, String)] = []
    /// Set for `GET /events`: the head is written without a length and the channel is handed to the feed.
    var eventStream: EventsFeed? = nil

    public init(
        status: HTTPResponseStatus = .ok, contentType: String = "application/json", body: String,
        headers: [(String, String)] = []
    ) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    public static func json(_ body: String, status: HTTPResponseStatus = .ok) -> AdminResponse {
        AdminResponse(status: status, contentType: "application/json", body: body)
    }

    public static func problem(_ status: HTTPResponseStatus, _ detail: String) -> AdminResponse {
        let problem = ProblemResponse(status, detail: detail)
        return AdminResponse(
            status: status, contentType: "application/problem+json",
            body: problem.body(requestID: RequestID.generate()))
    }
}

/// Answers admin requests (implemented by the running app).
public protocol AdminAPI: Sendable {
    func handle(_ request: AdminRequest, on eventLoop: any EventLoop) -> EventLoopFuture<AdminResponse>
}

/// The admin listener (SPEC §6): a tiny HTTP/1.1 server, one request at a time per connection.
enum AdminServer {
    static let maxBody = 1024 * 1024

    static func bind(
        host: String, port: Int, group: any EventLoopGroup, api: any AdminAPI,
        authenticator: AdminAuthenticator? = nil
    ) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 128)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(AdminHandler(api: api, authenticator: authenticator))
                }
            }
            .bind(host: host, port: port).get()
    }
}

final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let api: any AdminAPI
    let authenticator: AdminAuthenticator?
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var tooLarge = false
    /// The connection became an event stream: further requests on it are ignored.
    private var streaming = false

    init(api: any AdminAPI, authenticator: AdminAuthenticator? = nil) {
        self.api = api
        self.authenticator = authenticator
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
            tooLarge = false
        case .body(var buffer):
            if body.readableBytes + buffer.readableBytes > AdminServer.maxBody {
                tooLarge = true
            } else {
                body.writeBuffer(&buffer)
            }
        case .end:
            guard let head, !streaming else { return }
            self.head = nil
            if tooLarge {
                write(.problem(.payloadTooLarge, "Admin request bodies are limited to 1 MiB."), head: head, context: context)
                return
            }
            let (path, queryString) = RequestValidation.splitURI(head.uri)
            let request = AdminRequest(
                method: head.method, path: path, query: Self.parseQuery(queryString), body: body, headers: head.headers)
            if let refusal = AdminGuard.crossOriginRefusal(head) {
                write(refusal, head: head, context: context)
                return
            }
            let api = self.api
            let eventLoop = context.eventLoop
            let answer: EventLoopFuture<AdminResponse>
            if let authenticator {
                answer = AdminGuard.admit(request, head: head, authenticator: authenticator, on: eventLoop) {
                    api.handle(request, on: eventLoop)
                }
            } else {
                answer = api.handle(request, on: eventLoop)
            }
            answer.assumeIsolated().whenComplete { [self] result in
                switch result {
                case .success(let response): self.write(response, head: head, context: context)
                case .failure(let error):
                    self.write(.problem(.internalServerError, "\(error)"), head: head, context: context)
                }
            }
        }
    }

    private func write(_ response: AdminResponse, head: HTTPRequestHead, context: ChannelHandlerContext) {
        let buffer = context.channel.allocator.buffer(string: response.body)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        if let feed = response.eventStream, response.status == .ok, head.method == .GET {
            streaming = true
            headers.add(name: "Cache-Control", value: "no-store")
            headers.add(name: "X-Accel-Buffering", value: "no")
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
            feed.attach(context.channel)
            return
        }
        headers.add(name: "Content-Length", value: String(buffer.readableBytes))
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))), promise: nil)
        if head.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil) }
        let keepAlive = head.isKeepAlive
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }

    static func parseQuery(_ query: String?) -> [String: String] {
        guard let query else { return [:] }
        var out: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            let key = percentDecode(String(parts[0]))
            out[key] = parts.count > 1 ? percentDecode(String(parts[1])) : ""
        }
        return out
    }

    static func percentDecode(_ text: String) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(bytes: [high, low], encoding: .ascii) ?? "", radix: 16)
            {
                bytes.append(value)
            } else if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
