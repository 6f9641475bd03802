import Crypto
import Foundation
import GatewayConfig

/// The pure half of forward auth (nginx `auth_request`, Traefik ForwardAuth): what the auth service is sent and
/// what its answer means. The gateway's HTTP client does the I/O.
public enum ForwardAuthExchange {
    /// Hop-by-hop and body-framing fields are not sent (the auth request has no body).
    static let skipped: Set<String> = [
        "connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "proxy-authorization",
        "proxy-connection", "content-length", "expect", "host",
    ]

    /// Headers of the auth request: the client's headers, plus where the request was going
    /// (`X-Forwarded-Method`, `-Uri`, `-Host`, `-Proto`, `-For`, as Traefik sends, and nginx's `X-Original-URI`,
    /// `X-Original-Method`).
    public static func requestHeaders(
        clientHeaders: [(String, String)], method: String, uri: String, host: String?, scheme: String, clientIP: String
    ) -> [(String, String)] {
        var headers: [(String, String)] = []
        headers.reserveCapacity(clientHeaders.count + 7)
        for (name, value) in clientHeaders where !skipped.contains(name.lowercased()) {
            if name.lowercased().hasPrefix("x-forwarded-") || name.lowercased().hasPrefix("x-original-") { continue }
            headers.append((name, value))
        }
        headers.append(("X-Forwarded-Method", method))
        headers.append(("X-Forwarded-Uri", uri))
        if let host { headers.append(("X-Forwarded-Host", host)) }
        headers.append(("X-Forwarded-Proto", scheme))
        headers.append(("X-Forwarded-For", clientIP))
        headers.append(("X-Original-Method", method))
        headers.append(("X-Original-URI", uri))
        return headers
    }

    /// What the auth service's answer means for the request.
    public enum Decision: Sendable, Equatable {
        /// 2xx: go on, with these `copy_headers` for the upstream (each name once, replacing any client value).
        case allow(upstreamHeaders: [HeaderField])
        /// 401, 403 (and other 3xx/4xx, e.g. a redirect to a login page): answer the client with this.
        case deny(status: Int, headers: [HeaderField], body: [UInt8])
        /// 5xx: the auth service failed; answer 503 (never let the request through).
        case unavailable(String)
    }

    /// Fields relayed from a refusal: what a client needs to authenticate or follow a login redirect.
    static let relayedOnDeny: Set<String> = ["content-type", "www-authenticate", "location", "set-cookie", "cache-control"]

    public static func decide(
        status: Int, headers: [(String, String)], body: [UInt8], copyHeaders: [String]
    ) -> Decision {
        switch status {
        case 200..<300:
            var fields: [HeaderField] = []
            for name in copyHeaders {
                let values = headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
                if !values.isEmpty { fields.append(HeaderField(name: name, value: values.joined(separator: ", "))) }
            }
            return .allow(upstreamHeaders: fields)
        case 300..<500:
            let relayed = headers.filter { relayedOnDeny.contains($0.0.lowercased()) }.map { HeaderField(name: $0.0, value: $0.1) }
            return .deny(status: status, headers: relayed, body: body)
        default:
            return .unavailable("the auth service answered \(status)")
        }
    }

    /// The cache key for a credential: SHA-256 of the provider, `Authorization` and `Cookie` values (nil = no
    /// credential to key on, so not cached).
    public static func cacheKey(provider: String, authorization: String?, cookie: String?) -> String? {
        guard authorization != nil || cookie != nil else { return nil }
        var hasher = SHA256()
        hasher.update(data: Array(provider.utf8))
        hasher.update(data: [0])
        hasher.update(data: Array((authorization ?? "").utf8))
        hasher.update(data: [0])
        hasher.update(data: Array((cookie ?? "").utf8))
        return hex(hasher.finalize())
    }

    /// Lower-case hex without `String(format:)` (this runs on every forward-auth request).
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
