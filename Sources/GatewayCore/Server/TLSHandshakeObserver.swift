import CoreMetrics
import GatewayTLS
import NIOCore
import NIOSSL
import NIOTLS

/// Sits right above the `NIOSSLServerHandler`: records the negotiated version and the verified client subject, and
/// counts failed handshakes in `gateway_tls_handshake_failures_total{reason}`.
final class TLSHandshakeObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let security: ConnectionSecurity
    private var completed = false
    private var counted = false

    init(security: ConnectionSecurity) {
        self.security = security
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            completed = true
            if let tls = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self) {
                security.tlsVersion = tls.tlsVersion.map(Self.label)
                security.clientSubject = ClientCertificateSubject.subject(of: tls.peerCertificate)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !completed && !counted {
            counted = true
            Self.countFailure(reason: HandshakeFailureReason.classify(error))
        }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A peer that connects and leaves without finishing the handshake (port scanners, health probes).
        if !completed && !counted {
            counted = true
            Self.countFailure(reason: "eof")
        }
        context.fireChannelInactive()
    }

    static func countFailure(reason: String) {
        CoreMetrics.Counter(label: "gateway_tls_handshake_failures_total", dimensions: [("reason", reason)]).increment()
    }

    static func label(_ version: TLSVersion) -> String {
        switch version {
        case .tlsv1: return "TLSv1"
        case .tlsv11: return "TLSv1.1"
        case .tlsv12: return "TLSv1.2"
        case .tlsv13: return "TLSv1.3"
        }
    }
}
