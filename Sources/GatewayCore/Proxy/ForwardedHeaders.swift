import GatewayHTTP
import NIOHTTP1

/// Builds the header block sent upstream (SPEC §3): hop-by-hop fields removed, identity headers never taken from the
/// client, `X-Forwarded-*`, `Via` and `X-Request-Id` set. `Host` is kept as the client sent it.
public enum ForwardedHeaders {
    /// Fields that describe one connection, never a message (RFC 9110 §7.6.1), plus the identity headers only the
    /// gateway may set.
    static let alwaysRemoved: Set<String> = [
        "connection", "keep-alive", "te", "trailer", "transfer-encoding", "proxy-connection",
        "proxy-authenticate", "proxy-authorization", "x-gateway-user", "x-gateway-session", "x-request-id",
    ]

    /// - Parameters:
    ///   - clientAddress: the peer's IP as text.
    ///   - peerIsTrusted: whether the peer is in `trusted_proxies` (its X-Forwarded-Proto/Host are kept then).
    ///   - keepUpgrade: true for WebSocket upgrades, where `Upgrade`/`Connection: upgrade` must pass.
    public static func upstreamHeaders(
        from client: HTTPHeaders,
        clientAddress: String,
        peerIsTrusted: Bool,
        requestID: String,
        keepUpgrade: Bool,
        headerRules: HeaderNameRules = HeaderNameRules()
    ) -> HTTPHeaders {
        var connectionListed: Set<String> = []
        for value in client[canonicalForm: "connection"] {
            let name = value.lowercased()
            // `Connection: Host` must not strip Host (SPEC §13, as nginx).
            if HeaderNameRules.connectionOptionMayRemove(name) { connectionListed.insert(name) }
        }
        var out = HTTPHeaders()
        out.reserveCapacity(client.count + 6)
        var forwardedFor: String? = nil
        var forwardedProto: String? = nil
        var forwardedHost: String? = nil
        var via: String? = nil
        var host: String? = nil
        for (name, value) in client {
            let lower = name.lowercased()
            if lower == "x-forwarded-for" {
                forwardedFor = forwardedFor.map { $0 + ", " + value } ?? value
                continue
            }
            if lower == "x-forwarded-proto" {
                if peerIsTrusted { forwardedProto = value }
                continue
            }
            if lower == "x-forwarded-host" {
                if peerIsTrusted { forwardedHost = value }
                continue
            }
            if lower == "via" {
                via = via.map { $0 + ", " + value } ?? value
                continue
            }
            if lower == "host" { host = value }
            if lower == "upgrade" {
                if keepUpgrade { out.add(name: name, value: value) }
                continue
            }
            if alwaysRemoved.contains(lower) || connectionListed.contains(lower) { continue }
            if lower.hasPrefix("proxy-") { continue }
            // Last gate for spoofed identity (`X_Gateway_User` …); `RequestScreening` already dropped them.
            if headerRules.verdict(forRequestHeader: name) != .keep { continue }
            out.add(name: name, value: value)
        }
        if keepUpgrade { out.add(name: "Connection", value: "upgrade") }
        out.add(name: "X-Forwarded-For", value: forwardedFor.map { $0 + ", " + clientAddress } ?? clientAddress)
        out.add(name: "X-Forwarded-Proto", value: forwardedProto ?? "http")
        if let forwardedHost = forwardedHost ?? host { out.add(name: "X-Forwarded-Host", value: forwardedHost) }
        out.add(name: "Via", value: via.map { $0 + ", 1.1 gateway" } ?? "1.1 gateway")
        out.add(name: "X-Request-Id", value: requestID)
        return out
    }

    /// Response headers from the upstream, minus hop-by-hop fields and gateway-owned identity headers
    /// (`X-Gateway-User`, `X-Gateway-Session` in any `_`/case spelling: the session header was read by the policy).
    /// `Trailer` is kept when `keepTrailer` (the response is chunked to an HTTP/1.1 client, so the trailers it
    /// announces are forwarded too): both or neither.
    public static func downstreamHeaders(
        from upstream: HTTPHeaders, keepUpgrade: Bool, keepTrailer: Bool = false,
        headerRules: HeaderNameRules = HeaderNameRules()
    ) -> HTTPHeaders {
        var connectionListed: Set<String> = []
        for value in upstream[canonicalForm: "connection"] { connectionListed.insert(value.lowercased()) }
        var out = HTTPHeaders()
        out.reserveCapacity(upstream.count + 3)
        for (name, value) in upstream {
            let lower = name.lowercased()
            if lower == "upgrade" || lower == "connection" {
                if keepUpgrade { out.add(name: name, value: value) }
                continue
            }
            if lower == "trailer" {
                if keepTrailer { out.add(name: name, value: value) }
                continue
            }
            if lower == "keep-alive" || lower == "te" || lower == "transfer-encoding"
                || lower == "proxy-connection" || lower.hasPrefix("proxy-")
            {
                continue
            }
            if connectionListed.contains(lower) && !keepUpgrade { continue }
            if headerRules.isGatewayOwned(name) { continue }
            out.add(name: name, value: value)
        }
        return out
    }
}
