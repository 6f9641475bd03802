import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import X509

/// What one HTTPS listener serves, as plain paths (already resolved against the configuration file's directory).
public struct ServerTLSSpec: Sendable, Equatable {
    public struct CertificatePair: Sendable, Equatable {
        public var certificate: String
        public var key: String

        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    public enum MinimumVersion: String, Sendable, Equatable, CaseIterable {
        case tls12 = "1.2"
        case tls13 = "1.3"
    }

    /// The first is the default (no SNI, or no SAN matches).
    public var certificates: [CertificatePair]
    public var minimumVersion: MinimumVersion
    /// PEM bundle of CAs whose client certificates are required (mTLS); nil = no client certificates asked.
    public var clientCA: String?
    /// ALPN protocols in preference order: `["h2", "http/1.1"]` on HTTP/2 listeners.
    public var applicationProtocols: [String]

    public init(
        certificates: [CertificatePair], minimumVersion: MinimumVersion = .tls12, clientCA: String? = nil,
        applicationProtocols: [String] = ["http/1.1"]
    ) {
        self.certificates = certificates
        self.minimumVersion = minimumVersion
        self.clientCA = clientCA
        self.applicationProtocols = applicationProtocols
    }
}

/// The TLS state of one HTTPS listener: the certificates loaded from disk and an `NIOSSLContext` built from them.
///
/// Reloading builds a complete new context first and swaps it in only when every file loaded, so a broken file leaves
/// the old certificates serving. Open connections keep the context they were created with; new handshakes use the
/// new one.
public final class ServerTLSContext: Sendable {
    private let current: NIOLockedValueBox<NIOSSLContext>
    private let currentSpec: NIOLockedValueBox<ServerTLSSpec>

    public init(spec: ServerTLSSpec) throws(TLSFileError) {
        let context = try Self.build(spec)
        self.current = NIOLockedValueBox(context)
        self.currentSpec = NIOLockedValueBox(spec)
    }

    /// Rebuilds from `spec` (the files are read again even when the paths did not change); on error the old
    /// context stays.
    public func reload(spec: ServerTLSSpec) throws(TLSFileError) {
        let context = try Self.build(spec)
        current.withLockedValue { $0 = context }
        currentSpec.withLockedValue { $0 = spec }
    }

    public var spec: ServerTLSSpec { currentSpec.withLockedValue { $0 } }

    /// A handler for a new connection, bound to the context current now.
    public func makeHandler() -> NIOSSLServerHandler {
        NIOSSLServerHandler(context: current.withLockedValue { $0 })
    }

    /// TLS 1.2 suites: forward-secret ECDHE with AEAD only (Mozilla's "intermediate" list); no CBC (LUCKY13), no RSA
    /// key transport. TLS 1.3 suites are fixed by BoringSSL (all AEAD).
    static let tls12CipherSuites = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    /// Loads every file and checks each key against its certificate, then builds the context.
    static func build(_ spec: ServerTLSSpec) throws(TLSFileError) -> NIOSSLContext {
        guard let first = spec.certificates.first else {
            throw TLSFileError(path: "tls.certificates", reason: "at least one certificate is needed")
        }
        var chains: [[NIOSSLCertificate]] = []
        var keys: [NIOSSLPrivateKey] = []
        var names: [[String]] = []
        for pair in spec.certificates {
            let chain = try PEMFiles.certificateChain(pair.certificate)
            let key = try PEMFiles.privateKey(pair.key)
            let leaf = try PEMFiles.parsed(chain[0], path: pair.certificate)
            var dnsNames: [String] = []
            for name in (try? leaf.extensions.subjectAlternativeNames) ?? nil ?? SubjectAlternativeNames() {
                if case .dnsName(let dns) = name { dnsNames.append(dns) }
            }
            // A key that does not belong to its certificate fails here, naming the key file.
            do {
                _ = try NIOSSLContext(configuration: .makeServerConfiguration(
                    certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)))
            } catch {
                throw TLSFileError(path: pair.key, reason: "does not match certificate \(pair.certificate) (\(error))")
            }
            chains.append(chain)
            keys.append(key)
            names.append(dnsNames)
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chains[0].map { .certificate($0) }, privateKey: .privateKey(keys[0]))
        configuration.minimumTLSVersion = spec.minimumVersion == .tls13 ? .tlsv13 : .tlsv12
        configuration.cipherSuites = Self.tls12CipherSuites
        configuration.applicationProtocols = spec.applicationProtocols
        if let clientCA = spec.clientCA {
            let roots = try PEMFiles.certificateChain(clientCA)
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .certificates(roots)
            configuration.sendCANameList = true
        }
        if chains.count > 1 {
            let matcher = SNIMatcher(names: names)
            let overrides: [NIOSSLContextConfigurationOverride] = zip(chains, keys).map { chain, key in
                var override = NIOSSLContextConfigurationOverride()
                override.certificateChain = chain.map { .certificate($0) }
                override.privateKey = .privateKey(key)
                return override
            }
            configuration.sslContextCallback = { values, promise in
                let index = matcher.index(for: values.serverHostname)
                promise.succeed(index == 0 ? .noChanges : overrides[index])
            }
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSFileError(path: first.certificate, reason: "TLS context cannot be built (\(error))")
        }
    }
}
