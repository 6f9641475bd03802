import Foundation
import Crypto
import GatewayConfig
import NIOHTTP1

/// Derives rate-limit key values and store keys (SPEC §2 "Rate-limit keys").
public enum RateLimitKeys {
    /// Key values longer than this are replaced by their SHA-256 so a client cannot make huge store keys.
    static let maxValueLength = 128

    /// The key value for one limit.
    ///
    /// `header:NAME` and `session_user` fall back to the client IP when the header is missing/empty or no
    /// session user is known; `route` is one shared budget (`*`). Fallback values are prefixed (`ip=`) so a
    /// header value can never collide with an IP's budget.
    public static func value(
        for key: RateLimitKey, clientIP: String, headers: HTTPHeaders, sessionUser: String?,
        clientCertSubject: String? = nil, jwtClaim: ((String) -> String?)? = nil
    ) -> String {
        switch key {
        case .clientIP:
            return "ip=" + clientIP
        case .header(let name):
            if let value = headers[name].first?.trimmingCharacters(in: .whitespaces), !value.isEmpty {
                return "h=" + bounded(value)
            }
            return "ip=" + clientIP
        case .sessionUser:
            if let user = sessionUser, !user.isEmpty { return "u=" + bounded(user) }
            return "ip=" + clientIP
        case .route:
            return "*"
        case .clientCert:
            if let subject = clientCertSubject, !subject.isEmpty { return "cert=" + bounded(subject) }
            return "ip=" + clientIP
        case .jwtClaim(let claim):
            if let value = jwtClaim?(claim), !value.isEmpty { return "jwt=" + bounded(value) }
            return "ip=" + clientIP
        }
    }

    /// `{prefix}rl:{route}:{limit}:{value}`.
    public static func storeKey(prefix: String, route: String, limit: String, value: String) -> String {
        "\(prefix)rl:\(route):\(limit):\(value)"
    }

    /// The requests for all limits of a route, in config order.
    public static func requests(
        prefix: String, route: RouteSettings, clientIP: String, headers: HTTPHeaders, sessionUser: String?,
        clientCertSubject: String? = nil, jwtClaim: ((String) -> String?)? = nil
    ) -> [RateLimitRequest] {
        route.rateLimits.map { limit in
            let value = value(
                for: limit.key, clientIP: clientIP, headers: headers, sessionUser: sessionUser,
                clientCertSubject: clientCertSubject, jwtClaim: jwtClaim)
            return RateLimitRequest(
                limit: limit, key: storeKey(prefix: prefix, route: route.name, limit: limit.name, value: value))
        }
    }

    static func bounded(_ value: String) -> String {
        guard value.utf8.count > maxValueLength else { return value }
        let digest = SHA256.hash(data: Array(value.utf8))
        return "sha256:" + digest.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
