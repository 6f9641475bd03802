import CoreMetrics
import NIOCore
import NIOSSL
import NIOTLS
import GatewayTLS

/// What a client connection's TLS layer established, read by the proxy for `X-Forwarded-Proto`,
/// `X-Client-Cert-Subject`, the `client_cert` rate-limit key and the access log. Only touched on the connection's
/// event loop (set by `TLSHandshakeObserver` before any request is decoded).
final class ConnectionSecurity {
    /// `TLSv1.2` / `TLSv1.3`, once the handshake completed.
    var tlsVersion: String?
    /// RFC 4514 subject of the verified client certificate (mTLS listeners only).
    var clientSubject: String?

    init() {}
}

extension ServerPipeline {
    /// The TLS handlers at the bottom of an HTTPS listener's pipeline; nil (and nothing added) on plain listeners.
    static func addTLS(
        listener: ListenerRuntime?, to sync: ChannelPipeline.SynchronousOperations
    ) throws -> ConnectionSecurity? {
        guard let tls = listener?.tls else { return nil }
        let security = ConnectionSecurity()
        try sync.addHandler(tls.makeHandler())
        try sync.addHandler(TLSHandshakeObserver(security: security))
        return security
    }
}
