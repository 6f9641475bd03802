import Crypto
import Foundation
import GatewayConfig
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// `server.admin_auth`: decides whether an admin request carries valid credentials.
///
/// - Basic: `Authorization: Basic …` against bcrypt entries. bcrypt runs on NIO's blocking thread pool, at most
///   `maxConcurrentChecks` at a time (more answer 429: a flood of wrong passwords must not eat every core).
///   A (user, password) pair that verified once is remembered as a SHA-256 digest, so a dashboard polling every
///   second costs one hash, not one bcrypt, per request.
/// - Token: `Authorization: Bearer <token>` (or the `gateway_admin` cookie the login form sets, for the page),
///   compared in constant time.
final class AdminAuthenticator: Sendable {
    enum Mode: Sendable {
        case basic(HtpasswdFile)
        case token([UInt8])
    }

    enum Decision: Sendable, Equatable {
        case allowed(user: String?)
        case denied
        /// Too many bcrypt checks already running.
        case busy
    }

    struct LoadError: Error, CustomStringConvertible {
        var description: String
    }

    static let cookieName = "gateway_admin"
    static let maxConcurrentChecks = 4
    static let maxRemembered = 1024

    let mode: Mode
    private let remembered = NIOLockedValueBox<Set<[UInt8]>>([])
    private let running = NIOLockedValueBox(0)

    init(mode: Mode) {
        self.mode = mode
    }

    /// Bearer-token mode with this token.
    convenience init(token: String) {
        self.init(mode: .token(Array(SHA256.hash(data: Data(token.utf8)))))
    }

    /// Reads the users file or the token variable (at start; the files are small).
    static func load(_ settings: AdminAuthSettings, environment: [String: String]) throws -> AdminAuthenticator {
        switch settings {
        case .basicUsersFile(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw LoadError(description: "server.admin_auth.basic_users_file: cannot read \(path)")
            }
            do {
                return AdminAuthenticator(mode: .basic(try HtpasswdFile.parse(String(decoding: data, as: UTF8.self))))
            } catch {
                throw LoadError(description: "\(path):\(error.line): \(error.message)")
            }
        case .tokenEnv(let name):
            guard let token = environment[name], !token.isEmpty else {
                throw LoadError(
                    description: "server.admin_auth.token_env: the environment variable \(name) is not set or empty")
            }
            return AdminAuthenticator(token: token)
        }
    }

    /// The `WWW-Authenticate` challenge of a 401.
    var challenge: String {
        switch mode {
        case .basic: return "Basic realm=\"gateway admin\", charset=\"UTF-8\""
        case .token: return "Bearer realm=\"gateway admin\""
        }
    }

    var usesToken: Bool {
        if case .token = mode { return true }
        return false
    }

    func authenticate(_ headers: HTTPHeaders, on eventLoop: any EventLoop) -> EventLoopFuture<Decision> {
        switch mode {
        case .token(let expected):
            guard let token = Self.bearerToken(headers) ?? Self.cookie(Self.cookieName, in: headers) else {
                return eventLoop.makeSucceededFuture(.denied)
            }
            return eventLoop.makeSucceededFuture(checkToken(token, expected: expected) ? .allowed(user: nil) : .denied)
        case .basic(let file):
            guard let (user, password) = Self.basicCredentials(headers), let hash = file.users[user] else {
                return eventLoop.makeSucceededFuture(.denied)
            }
            let key = Array(SHA256.hash(data: Data((user + "\u{0}" + password + "\u{0}" + hash).utf8)))
            if remembered.withLockedValue({ $0.contains(key) }) {
                return eventLoop.makeSucceededFuture(.allowed(user: user))
            }
            let admitted = running.withLockedValue { running in
                guard running < Self.maxConcurrentChecks else { return false }
                running += 1
                return true
            }
            guard admitted else { return eventLoop.makeSucceededFuture(.busy) }
            return NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) { [self] in
                defer { running.withLockedValue { $0 -= 1 } }
                guard Bcrypt.verify(password: password, hash: hash) else { return Decision.denied }
                remembered.withLockedValue { set in
                    if set.count >= Self.maxRemembered { set.removeAll() }
                    set.insert(key)
                }
                return .allowed(user: user)
            }
        }
    }

    func checkToken(_ token: String, expected: [UInt8]) -> Bool {
        ConstantTime.equal(Array(SHA256.hash(data: Data(token.utf8))), expected)
    }

    /// Whether a login form's token is right (token mode only).
    func acceptsToken(_ token: String) -> Bool {
        guard case .token(let expected) = mode else { return false }
        return checkToken(token, expected: expected)
    }

    // MARK: Header parsing

    static func bearerToken(_ headers: HTTPHeaders) -> String? {
        guard let value = headers.first(name: "authorization") else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }

    static func basicCredentials(_ headers: HTTPHeaders) -> (String, String)? {
        guard let value = headers.first(name: "authorization") else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let data = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
            let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    static func cookie(_ name: String, in headers: HTTPHeaders) -> String? {
        for header in headers[canonicalForm: "cookie"] {
            for pair in header.split(separator: ";") {
                let trimmed = pair.trimmingCharacters(in: .whitespaces)
                guard let equals = trimmed.firstIndex(of: "="), trimmed[..<equals] == name else { continue }
                let value = String(trimmed[trimmed.index(after: equals)...])
                return value.removingPercentEncoding ?? value
            }
        }
        return nil
    }
}
