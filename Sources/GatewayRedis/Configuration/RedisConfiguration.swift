import GatewayTLS
import NIOCore

/// Where and how to reach Redis. Built from the `store.redis` URL of the gateway configuration.
public struct RedisConfiguration: Sendable, Equatable {
    public enum Address: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    public var address: Address
    public var username: String?
    public var password: String?
    public var database: Int
    public var commandTimeout: TimeAmount
    /// Upper bound for establishing the TCP/unix connection (AUTH/SELECT then use `commandTimeout`).
    public var connectTimeout: TimeAmount = .seconds(2)
    /// When commands have timed out and nothing at all has been read for this long, the connection is considered
    /// dead (e.g. a silent network partition) and is closed and re-established. Never shorter than `commandTimeout`.
    public var unresponsiveTimeout: TimeAmount = .seconds(1)
    /// First reconnect delay; doubles per failed attempt up to `maximumReconnectDelay` (with jitter).
    public var initialReconnectDelay: TimeAmount = .milliseconds(50)
    public var maximumReconnectDelay: TimeAmount = .seconds(2)
    /// `rediss://` URLs set `useTLS`; the context (trust, client certificate) comes from `store.tls` and must be set
    /// before connecting. Commands and pub/sub both go over it.
    public var useTLS: Bool = false
    public var tls: ClientTLSContext? = nil
    /// Sends `READONLY` in the handshake: a Cluster replica connection that serves reads of its primary's slots.
    public var readOnly: Bool = false

    public init(
        address: Address,
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        commandTimeout: TimeAmount = .milliseconds(100)
    ) {
        self.address = address
        self.username = username
        self.password = password
        self.database = database
        self.commandTimeout = commandTimeout
    }

    /// Parses `redis://[user:pass@]host:port/db` (port default 6379, db default 0) and `unix:///path[?db=N]`.
    ///
    /// User and password may be percent-encoded. An IPv6 host is written in brackets (`redis://[::1]:6379`).
    /// `unix:` URLs also accept `password=` and `user=` query items. `rediss://` is the same over TLS (`useTLS`).
    public init(url: String, commandTimeout: TimeAmount = .milliseconds(100)) throws {
        self = try RedisURLParser.parse(url)
        self.commandTimeout = commandTimeout
    }
}

/// Pure parser for Redis URLs; kept separate so it can be unit-tested without sockets.
enum RedisURLParser {
    static func parse(_ url: String) throws(RedisError) -> RedisConfiguration {
        func fail(_ why: String) -> RedisError { .invalidURL("\(url): \(why)") }
        if url.hasPrefix("redis://") {
            return try parseTCP(String(url.dropFirst("redis://".count)), fail: fail)
        }
        if url.hasPrefix("unix://") {
            return try parseUnix(String(url.dropFirst("unix://".count)), fail: fail)
        }
        if url.hasPrefix("rediss://") {
            var config = try parseTCP(String(url.dropFirst("rediss://".count)), fail: fail)
            config.useTLS = true
            return config
        }
        throw fail("expected redis://[user:pass@]host:port/db or unix:///path[?db=N]")
    }

    private static func parseTCP(_ rest: String, fail: (String) -> RedisError) throws(RedisError) -> RedisConfiguration {
        var rest = Substring(rest)
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        var authority = rest
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        }
        var username: String?
        var password: String?
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                let user = userinfo[..<colon]
                username = user.isEmpty ? nil : try percentDecode(user, fail: fail)
                password = try percentDecode(userinfo[userinfo.index(after: colon)...], fail: fail)
            } else if !userinfo.isEmpty {
                username = try percentDecode(userinfo, fail: fail)
            }
        }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw fail("unterminated IPv6 address") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("unexpected text after IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw fail("missing host") }
        var port = 6379
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else { throw fail("invalid port '\(portText)'") }
            port = p
        }
        var database = 0
        if !path.isEmpty {
            guard let db = Int(path), db >= 0 else { throw fail("invalid database '\(path)'") }
            database = db
        }
        var config = RedisConfiguration(address: .tcp(host: String(host), port: port), username: username,
                                        password: password, database: database)
        try applyQuery(query, to: &config, fail: fail)
        return config
    }

    private static func parseUnix(_ rest: String, fail: (String) -> RedisError) throws(RedisError) -> RedisConfiguration {
        var path = Substring(rest)
        var query: Substring = ""
        if let q = path.firstIndex(of: "?") {
            query = path[path.index(after: q)...]
            path = path[..<q]
        }
        guard path.hasPrefix("/"), path.count > 1 else { throw fail("expected an absolute socket path (unix:///path)") }
        var config = RedisConfiguration(address: .unix(path: try percentDecode(path, fail: fail)))
        try applyQuery(query, to: &config, fail: fail)
        return config
    }

    private static func applyQuery(_ query: Substring, to config: inout RedisConfiguration,
                                   fail: (String) -> RedisError) throws(RedisError) {
        for item in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = parts[0]
            let value = parts.count > 1 ? try percentDecode(parts[1], fail: fail) : ""
            switch key {
            case "db":
                guard let db = Int(value), db >= 0 else { throw fail("invalid database '\(value)'") }
                config.database = db
            case "password": config.password = value
            case "user", "username": config.username = value
            default: throw fail("unknown query parameter '\(key)'")
            }
        }
    }

    private static func percentDecode(_ text: Substring, fail: (String) -> RedisError) throws(RedisError) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var utf8 = text.utf8[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard utf8.count >= 2,
                      let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
                else { throw fail("bad percent-encoding") }
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
