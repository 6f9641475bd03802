import Foundation
import NIOCore
import NIOHTTP1

/// The whole application of a `redirect_https: PORT` listener: every request gets `308 Permanent Redirect` to
/// `https://HOST:PORT/same/path?query` (308 keeps the method and body, unlike 301), then the connection carries on.
final class HTTPSRedirectHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let port: Int
    private var keepAlive = true

    init(port: Int) {
        self.port = port
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            keepAlive = head.isKeepAlive
            var headers = HTTPHeaders()
            if let location = Self.location(for: head, port: port) {
                headers.add(name: "Location", value: location)
                headers.add(name: "Content-Length", value: "0")
                if !keepAlive { headers.add(name: "Connection", value: "close") }
                let response = HTTPResponseHead(version: .http1_1, status: .permanentRedirect, headers: headers)
                context.write(wrapOutboundOut(.head(response)), promise: nil)
            } else {
                let problem = ProblemResponse(
                    .badRequest, detail: "A Host header is needed to redirect to HTTPS.", closeConnection: true)
                keepAlive = false
                let (head, body) = problem.render(
                    requestID: UUID().uuidString.lowercased(), allocator: context.channel.allocator)
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            }
        case .body:
            break
        case .end:
            let close = !keepAlive
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [channel = context.channel] _ in
                if close { channel.close(promise: nil) }
            }
        }
    }

    /// `https://HOST:PORT/path?query` with HOST from the Host header (its port dropped, IPv6 brackets kept); the
    /// port is left out when it is 443. Nil when there is no usable Host.
    static func location(for head: HTTPRequestHead, port: Int) -> String? {
        guard let rawHost = head.headers.first(name: "host")?.trimmingCharacters(in: .whitespaces), !rawHost.isEmpty
        else { return nil }
        var host = rawHost
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            host = String(host[...close])
        } else if let colon = host.lastIndex(of: ":") {
            host = String(host[..<colon])
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "/" && $0 != "@" && $0 != "\\" })
        else { return nil }
        var target = head.uri
        if !target.hasPrefix("/") {
            // Absolute-form (`http://host/path`): keep only the path and query.
            if let schemeEnd = target.range(of: "://"),
                let slash = target[schemeEnd.upperBound...].firstIndex(of: "/")
            {
                target = String(target[slash...])
            } else {
                target = "/"
            }
        }
        return "https://\(host)" + (port == 443 ? "" : ":\(port)") + target
    }
}
