import NIOCore
import NIOHTTP1

/// On TLS listeners, between the HTTP codec and the proxy: adds `Strict-Transport-Security` (when `server.hsts` is
/// set) to every response and marks the gateway's session cookie `Secure` (a cookie set over HTTPS must never travel
/// over plain HTTP), so neither the proxy nor the session policy has to know about TLS.
final class TLSResponseHeaders: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let hsts: String?
    /// `NAME=` of the session cookie; nil without sessions.
    let sessionCookiePrefix: String?

    init(hsts: String?, sessionCookie: String?) {
        self.hsts = hsts
        self.sessionCookiePrefix = sessionCookie.map { $0 + "=" }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .head(var head) = unwrapOutboundIn(data), head.status.code >= 200 else {
            context.write(data, promise: promise)
            return
        }
        Self.apply(to: &head.headers, hsts: hsts, sessionCookiePrefix: sessionCookiePrefix)
        context.write(wrapOutboundOut(.head(head)), promise: promise)
    }

    static func apply(to headers: inout HTTPHeaders, hsts: String?, sessionCookiePrefix: String?) {
        if let hsts { headers.replaceOrAdd(name: "Strict-Transport-Security", value: hsts) }
        guard let prefix = sessionCookiePrefix, headers.contains(name: "set-cookie") else { return }
        let cookies = headers["set-cookie"]
        guard cookies.contains(where: { $0.hasPrefix(prefix) && !isSecure($0) }) else { return }
        headers.remove(name: "set-cookie")
        for cookie in cookies {
            headers.add(name: "Set-Cookie", value: cookie.hasPrefix(prefix) && !isSecure(cookie) ? cookie + "; Secure" : cookie)
        }
    }

    static func isSecure(_ cookie: String) -> Bool {
        cookie.split(separator: ";").dropFirst().contains {
            $0.trimmingCharacters(in: .whitespaces).lowercased() == "secure"
        }
    }
}
