/// One entry of `server.listeners` (SPEC §7).
public struct ListenerSettings: Sendable, Equatable {
    public var address: ListenAddress
    /// nil = plain HTTP.
    public var tls: ListenerTLSSettings? = nil
    /// `http2:` as written; `servesHTTP2` applies the default (on for TLS listeners).
    public var http2: Bool? = nil
    /// `redirect_https: PORT`: every request gets a 308 to `https://HOST:PORT/same/path?query`.
    public var redirectHTTPS: Int? = nil
    public var location: SourceLocation? = nil

    public init(address: ListenAddress) {
        self.address = address
    }
}

public struct CertificateFileSettings: Sendable, Equatable {
    /// Resolved against the directory of the file that names it.
    public var certificate: String
    public var key: String
    public var location: SourceLocation? = nil

    public init(certificate: String, key: String, location: SourceLocation? = nil) {
        self.certificate = certificate
        self.key = key
        self.location = location
    }
}

public enum TLSMinimumVersion: String, Sendable, Equatable, CaseIterable {
    case tls12 = "1.2"
    case tls13 = "1.3"
}

public struct ListenerTLSSettings: Sendable, Equatable {
    /// The first is the default; the others are chosen by SNI against their SANs.
    public var certificates: [CertificateFileSettings] = []
    public var minVersion: TLSMinimumVersion = .tls12
    /// PEM bundle of client CAs: when set, client certificates are required and verified (mTLS).
    public var clientCA: String? = nil
    public var location: SourceLocation? = nil

    public init() {}
}

/// `server.hsts: { max_age: 8760h, include_subdomains: false }`.
public struct HSTSSettings: Sendable, Equatable {
    public var maxAge: Duration = .seconds(365 * 86400)
    public var includeSubdomains: Bool = false

    public init() {}

    /// The header value, e.g. `max-age=31536000; includeSubDomains`.
    public var headerValue: String {
        "max-age=\(maxAge.components.seconds)" + (includeSubdomains ? "; includeSubDomains" : "")
    }
}

extension ServerSettings {
    /// Every listener to bind, in order: `listen` first (when written, or when there are no `listeners`), then
    /// `listeners`.
    public var effectiveListeners: [ListenerSettings] {
        var all: [ListenerSettings] = []
        if listenWritten || listeners.isEmpty { all.append(ListenerSettings(address: listen)) }
        all.append(contentsOf: listeners)
        return all
    }
}

/// `tls:` of a client connection the gateway makes (`store.tls`, an upstream's `tls`): paths resolved against the
/// configuration file's directory.
public struct ClientTLSFiles: Sendable, Equatable {
    /// CA bundle to trust instead of the system store.
    public var caFile: String? = nil
    public var clientCert: String? = nil
    public var clientKey: String? = nil
    /// SNI and expected certificate name instead of the URL's host.
    public var serverName: String? = nil
    public var location: SourceLocation? = nil

    public init() {}
}
