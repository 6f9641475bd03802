import Crypto
import Foundation
import GatewayConfig

/// Why the session cookie machinery refuses to start.
public enum SessionSecretError: Error, Equatable, CustomStringConvertible {
    case missing(variable: String)
    case tooShort(variable: String, bytes: Int)

    public var description: String {
        switch self {
        case .missing(let variable):
            return "sessions: environment variable \(variable) (sessions.secret_env) is not set; set it to a random secret of at least 32 bytes"
        case .tooShort(let variable, let bytes):
            return "sessions: the secret in \(variable) is \(bytes) bytes; it must be at least 32 bytes"
        }
    }
}

/// Session ids and their signed cookie values.
///
/// An id is 256 random bits, base64url (43 characters). The cookie value is `ID.MAC` where MAC is the
/// base64url HMAC-SHA256 of the id under the secret from `secret_env`. A tampered value fails the
/// constant-time MAC check and reads as "no session"; the store lookup then rejects unknown ids.
///
/// ```swift
/// let codec = try SessionCookieCodec(settings: config.sessions!)
/// let id = codec.sessionID(fromCookieHeaders: head.headers["cookie"])   // nil = no valid cookie
/// response.headers.add(name: "Set-Cookie", value: codec.setCookieHeader(codec.encode(id: newID)))
/// ```
public struct SessionCookieCodec: Sendable {
    public static let minimumSecretBytes = 32
    static let idBytes = 32

    public let cookieName: String
    public let secure: Bool
    /// Raw key bytes; `SymmetricKey` is not `Sendable` in this swift-crypto, so it is built per use.
    private let secret: [UInt8]

    /// Reads the secret from the environment variable named in `settings.secretEnv`.
    public init(settings: SessionSettings, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard let secret = environment[settings.secretEnv], !secret.isEmpty else {
            throw SessionSecretError.missing(variable: settings.secretEnv)
        }
        let bytes = Array(secret.utf8)
        guard bytes.count >= Self.minimumSecretBytes else {
            throw SessionSecretError.tooShort(variable: settings.secretEnv, bytes: bytes.count)
        }
        self.init(cookieName: settings.cookie, secret: bytes, secure: settings.secure)
    }

    public init(cookieName: String, secret: [UInt8], secure: Bool) {
        self.cookieName = cookieName
        self.secure = secure
        self.secret = secret
    }

    /// A fresh id: 256 bits from the system CSPRNG, base64url.
    public static func newSessionID() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: idBytes)
        for index in bytes.indices { bytes[index] = generator.next() }
        return Base64URL.encode(bytes)
    }

    /// Whether `id` has the shape of an id we issue (so junk never reaches the store).
    public static func isWellFormedID(_ id: Substring) -> Bool {
        id.utf8.count == 43 && Base64URL.decode(id)?.count == idBytes
    }

    /// `ID.MAC`.
    public func encode(id: String) -> String {
        id + "." + Base64URL.encode(mac(id))
    }

    /// The id inside a cookie value, or nil when malformed or tampered.
    public func decode(_ value: Substring) -> String? {
        guard let dot = value.firstIndex(of: ".") else { return nil }
        let id = value[..<dot]
        let macText = value[value.index(after: dot)...]
        guard Self.isWellFormedID(id), let presented = Base64URL.decode(macText) else { return nil }
        guard HMAC<SHA256>.isValidAuthenticationCode(presented, authenticating: Array(id.utf8), using: SymmetricKey(data: secret)) else {
            return nil
        }
        return String(id)
    }

    public func decode(_ value: String) -> String? { decode(value[...]) }

    /// The first validly signed session id among all `Cookie` header lines.
    public func sessionID(fromCookieHeaders values: [String]) -> String? {
        for line in values {
            for pair in line.split(separator: ";") {
                guard let equals = pair.firstIndex(of: "=") else { continue }
                let name = pair[..<equals].trimmingASCIISpaces()
                guard name == cookieName else { continue }
                var value = Substring(pair[pair.index(after: equals)...].trimmingASCIISpaces())
                if value.count >= 2, value.first == "\"", value.last == "\"" { value = value.dropFirst().dropLast() }
                if let id = decode(value) { return id }
            }
        }
        return nil
    }

    /// Whether a cookie with our name was sent at all (to tell "no session" from "bad session" in logs).
    public func hasCookie(inCookieHeaders values: [String]) -> Bool {
        values.contains { line in
            line.split(separator: ";").contains { pair in
                pair.split(separator: "=", maxSplits: 1).first?.trimmingASCIISpaces() == cookieName
            }
        }
    }

    /// `Set-Cookie` value issuing `cookieValue` (a browser-session cookie; the store enforces the timeouts).
    public func setCookieHeader(_ cookieValue: String) -> String {
        "\(cookieName)=\(cookieValue); Path=/; HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "")
    }

    /// `Set-Cookie` value that removes the cookie.
    public func expireCookieHeader() -> String {
        "\(cookieName)=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax"
            + (secure ? "; Secure" : "")
    }

    private func mac(_ id: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(id.utf8), using: SymmetricKey(data: secret)))
    }
}
