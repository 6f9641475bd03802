import NIOCore
import NIOSSL

/// How the gateway talks TLS as a client (to `rediss://` Redis and `https://` replicas), as plain paths.
public struct ClientTLSSpec: Sendable, Equatable {
    /// PEM bundle of CAs to trust instead of the system store; nil = system trust store.
    public var caFile: String?
    public var clientCertificate: String?
    public var clientKey: String?
    /// SNI and the name the certificate must carry; nil = the host being connected to.
    public var serverName: String?
    /// Development only: accept any certificate (still encrypted, not authenticated).
    public var insecureSkipVerify: Bool

    public init(
        caFile: String? = nil, clientCertificate: String? = nil, clientKey: String? = nil, serverName: String? = nil,
        insecureSkipVerify: Bool = false
    ) {
        self.caFile = caFile
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.serverName = serverName
        self.insecureSkipVerify = insecureSkipVerify
    }
}

/// A client `NIOSSLContext` built once (files are read here, never on an event loop) and shared by every connection.
/// `===` equality, so settings that hold one stay `Equatable`.
public final class ClientTLSContext: Sendable, Equatable {
    public let spec: ClientTLSSpec
    public let context: NIOSSLContext

    public init(spec: ClientTLSSpec, alpn: [String] = []) throws(TLSFileError) {
        self.spec = spec
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if !alpn.isEmpty { configuration.applicationProtocols = alpn }
        if let caFile = spec.caFile {
            configuration.trustRoots = .certificates(try PEMFiles.certificateChain(caFile))
        }
        switch (spec.clientCertificate, spec.clientKey) {
        case (let cert?, let key?):
            configuration.certificateChain = try PEMFiles.certificateChain(cert).map { .certificate($0) }
            configuration.privateKey = .privateKey(try PEMFiles.privateKey(key))
        case (let cert?, nil):
            throw TLSFileError(path: cert, reason: "a client certificate needs its key (client_key)")
        case (nil, let key?):
            throw TLSFileError(path: key, reason: "a client key needs its certificate (client_cert)")
        case (nil, nil):
            break
        }
        if spec.insecureSkipVerify { configuration.certificateVerification = .none }
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSFileError(path: spec.clientCertificate ?? spec.caFile ?? "tls", reason: "TLS context cannot be built (\(error))")
        }
    }

    /// The handler for one connection to `host`. SNI is not sent for IP literals (RFC 6066 §3); the certificate is
    /// still checked against `serverName` or the IP.
    public func makeHandler(host: String) throws -> NIOSSLClientHandler {
        let name = spec.serverName ?? host
        let isIP = IPLiteral.bytes(name) != nil
        return try NIOSSLClientHandler(context: context, serverHostname: isIP ? nil : name)
    }

    public static func == (lhs: ClientTLSContext, rhs: ClientTLSContext) -> Bool { lhs === rhs }
}
