import Foundation

/// A parsed `store.redis` value: `redis://[user:pass@]host[:port][/db]` or `unix:///path[?db=N]`.
///
/// The config keeps the URL as written (``StoreSettings/redisURL``); the store calls
/// ``RedisURL/parse(_:)`` to connect. Port defaults to 6379, database to 0. `rediss://` (TLS) is
/// rejected: the hiredis build we link has no TLS.
public struct RedisURL: Sendable, Equatable {
    public enum Address: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    public var address: Address
    public var username: String?
    public var password: String?
    public var database: Int

    public init(address: Address, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.address = address
        self.username = username
        self.password = password
        self.database = database
    }

    public static func parse(_ text: String) throws(ValueParseError) -> RedisURL {
        let trimmed = text.trimmingSpaces()
        let lower = trimmed.lowercased()
        if lower.hasPrefix("rediss://") {
            throw ValueParseError("'\(text)': TLS (rediss://) is not supported; use redis:// or unix://")
        }
        if lower.hasPrefix("unix://") {
            var rest = Substring(trimmed.dropFirst("unix://".count))
            var query: Substring = ""
            if let question = rest.firstIndex(of: "?") {
                query = rest[rest.index(after: question)...]
                rest = rest[..<question]
            }
            guard rest.hasPrefix("/"), rest.count > 1 else {
                throw ValueParseError("'\(text)' must look like unix:///path/to/redis.sock")
            }
            var url = RedisURL(address: .unix(path: String(rest).removingPercentEncoding ?? String(rest)))
            try url.apply(query: query, text: text)
            return url
        }
        guard lower.hasPrefix("redis://") else {
            throw ValueParseError("'\(text)' must look like redis://host:port/db or unix:///path")
        }
        var rest = Substring(trimmed.dropFirst("redis://".count))
        var query: Substring = ""
        if let question = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: question)...]
            rest = rest[..<question]
        }
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                username = String(userInfo[..<colon]).removingPercentEncoding
                password = String(userInfo[userInfo.index(after: colon)...]).removingPercentEncoding
            } else {
                username = String(userInfo).removingPercentEncoding
            }
            if username == "" { username = nil }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let dbText = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !dbText.isEmpty {
                guard dbText.allSatisfy(\.isNumber), let db = Int(dbText), db >= 0 else {
                    throw ValueParseError("'\(text)': database must be a number, e.g. redis://host:6379/0")
                }
                database = db
            }
        }
        guard !rest.isEmpty else { throw ValueParseError("'\(text)': missing host") }
        let hostPort = rest.contains(":") && !(rest.hasPrefix("[") && rest.hasSuffix("]")) ? String(rest) : "\(rest):6379"
        let address: ListenAddress
        do {
            address = try ListenAddress.parse(hostPort)
        } catch {
            throw ValueParseError("'\(text)': \(error.message)")
        }
        guard !hostPort.hasPrefix(":"), address.port > 0 else {
            throw ValueParseError("'\(text)' must look like redis://host:port/db")
        }
        var url = RedisURL(address: .tcp(host: address.host, port: address.port), username: username,
                           password: password, database: database)
        try url.apply(query: query, text: text)
        return url
    }

    /// Query items both URL forms accept: `db=N`, `password=…`, `user=…` (or `username=…`), percent-encoded.
    private mutating func apply(query: Substring, text: String) throws(ValueParseError) {
        for item in query.split(separator: "&") {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = parts.count > 1 ? String(parts[1]).removingPercentEncoding ?? String(parts[1]) : ""
            switch parts[0] {
            case "db":
                guard let db = Int(value), db >= 0 else {
                    throw ValueParseError("'\(text)': database must be a number, e.g. ?db=0")
                }
                database = db
            case "password": password = value
            case "user", "username": username = value
            default:
                throw ValueParseError("'\(text)': unknown query parameter '\(parts[0])' (db, password, user)")
            }
        }
    }
}
