import Foundation
import GatewayConfig

/// A route's `cors:` block as decisions (SPEC §10, Fetch standard §3.2). Pure: the request phase feeds it the
/// request's method and CORS headers and writes what it answers.
///
/// - A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is always answered here, 204, and
///   never reaches the upstream. When the origin, method or a requested header is not allowed the 204 carries
///   no CORS headers, so the browser blocks the real request (what browsers and nginx/Envoy users expect).
/// - Any other request with an allowed `Origin` gets `Access-Control-Allow-Origin` (+ credentials, expose) on
///   whatever it is answered with; a disallowed origin gets nothing. Every CORS answer carries `Vary: Origin`.
/// - `headers:` empty or `*` reflects what the preflight asks for (Kong's default); `origins: ["*"]` answers `*`.
public struct CORSPolicy: Sendable {
    public let settings: CORSSettings
    private let allowsAnyOrigin: Bool
    private let exactOrigins: Set<String>
    /// `("https://", ".example.com", "")` for `https://*.example.com`; the last part is `:port` when written.
    private let wildcardOrigins: [(scheme: String, suffix: String, port: String)]
    private let allowedMethods: Set<String>
    private let allowedHeaders: Set<String>
    private let reflectsHeaders: Bool
    private let methodsValue: String
    private let exposeValue: String?
    private let maxAgeValue: String?

    public init(_ settings: CORSSettings) {
        self.settings = settings
        allowsAnyOrigin = settings.origins.contains("*")
        var exact: Set<String> = []
        var wildcards: [(scheme: String, suffix: String, port: String)] = []
        for origin in settings.origins where origin != "*" {
            if let range = origin.range(of: "://*.") {
                let scheme = String(origin[..<range.upperBound].dropLast(2))  // "https://"
                var host = String(origin[origin.index(before: range.upperBound)...])  // ".example.com[:port]"
                var port = ""
                if let colon = host.lastIndex(of: ":") {
                    port = String(host[colon...])
                    host = String(host[..<colon])
                }
                wildcards.append((scheme, host, port))
            } else {
                exact.insert(origin)
            }
        }
        exactOrigins = exact
        wildcardOrigins = wildcards
        allowedMethods = Set(settings.methods.map { $0.uppercased() })
        allowedHeaders = Set(settings.headers.map { $0.lowercased() })
        reflectsHeaders = settings.headers.isEmpty || settings.headers.contains("*")
        methodsValue = settings.methods.joined(separator: ", ")
        exposeValue = settings.expose.isEmpty ? nil : settings.expose.joined(separator: ", ")
        maxAgeValue = settings.maxAge.map { String($0.components.seconds) }
    }

    /// Whether `origin` (the request's `Origin` value) is allowed.
    public func allows(origin: String) -> Bool {
        if allowsAnyOrigin { return true }
        let origin = origin.lowercased()
        if exactOrigins.contains(origin) { return true }
        for wildcard in wildcardOrigins {
            guard origin.hasPrefix(wildcard.scheme) else { continue }
            var host = Substring(origin.dropFirst(wildcard.scheme.count))
            if !wildcard.port.isEmpty {
                guard host.hasSuffix(wildcard.port) else { continue }
                host = host.dropLast(wildcard.port.count)
            } else if host.contains(":") {
                continue
            }
            guard host.hasSuffix(wildcard.suffix) else { continue }
            let label = host.dropLast(wildcard.suffix.count)
            if !label.isEmpty, !label.contains("."), !label.contains(":") { return true }
        }
        return false
    }

    /// Whether a request is a CORS preflight.
    public static func isPreflight(method: String, origin: String?, requestMethod: String?) -> Bool {
        method == "OPTIONS" && origin != nil && requestMethod != nil
    }

    /// The answer to a preflight: always 204, with these headers (empty apart from `Vary` when refused).
    public func preflight(origin: String, requestMethod: String, requestHeaders: String?) -> (allowed: Bool, headers: [(String, String)]) {
        let vary = ("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
        guard allows(origin: origin) else { return (false, [vary]) }
        let method = requestMethod.trimmingCharacters(in: .whitespaces).uppercased()
        guard allowedMethods.contains(method) || Self.safelistedMethods.contains(method) else { return (false, [vary]) }
        let requested = (requestHeaders ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            .filter { !$0.isEmpty }
        if !reflectsHeaders {
            for name in requested where !allowedHeaders.contains(name) && !Self.safelistedHeaders.contains(name) {
                return (false, [vary])
            }
        }
        var headers = originHeaders(origin)
        headers.append(("Access-Control-Allow-Methods", methodsValue))
        if reflectsHeaders {
            if !requested.isEmpty { headers.append(("Access-Control-Allow-Headers", requested.joined(separator: ", "))) }
        } else if !settings.headers.isEmpty {
            headers.append(("Access-Control-Allow-Headers", settings.headers.joined(separator: ", ")))
        }
        if let maxAgeValue { headers.append(("Access-Control-Max-Age", maxAgeValue)) }
        headers.append(vary)
        return (true, headers)
    }

    /// Headers for a non-preflight response to a request from `origin` (nil = not a CORS request).
    /// `Vary: Origin` is not included: the caller adds it without replacing the upstream's `Vary`.
    public func responseHeaders(origin: String?) -> [(String, String)] {
        guard let origin, allows(origin: origin) else { return [] }
        var headers = originHeaders(origin)
        if let exposeValue { headers.append(("Access-Control-Expose-Headers", exposeValue)) }
        return headers
    }

    private func originHeaders(_ origin: String) -> [(String, String)] {
        // `*` only without credentials; with credentials the origin must be echoed (Fetch §3.2.5).
        var headers: [(String, String)] = [
            ("Access-Control-Allow-Origin", allowsAnyOrigin && !settings.credentials ? "*" : origin)
        ]
        if settings.credentials { headers.append(("Access-Control-Allow-Credentials", "true")) }
        return headers
    }

    static let safelistedMethods: Set<String> = ["GET", "HEAD", "POST"]
    /// CORS-safelisted request headers (Fetch §2.2.2); browsers never list them in a preflight except
    /// `content-type` with a non-simple value, so that one stays subject to `headers:`.
    static let safelistedHeaders: Set<String> = ["accept", "accept-language", "content-language"]
}
