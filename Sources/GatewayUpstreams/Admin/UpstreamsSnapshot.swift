import Foundation

/// What `GET /upstreams` shows (SPEC §6).
public struct UpstreamsSnapshot: Sendable, Equatable {
    public struct Upstream: Sendable, Equatable {
        public var name: String
        public var balance: String
        public var replicas: [ReplicaSnapshot]
    }

    public struct ReplicaSnapshot: Sendable, Equatable {
        public var url: String
        public var weight: Int
        public var state: ReplicaState
        public var inFlight: Int
        public var consecutiveFailures: Int
        /// nil before the first active check.
        public var lastCheck: HealthCheckRecord?
        public var ejectedUntil: Date?
    }

    /// In configuration order.
    public var upstreams: [Upstream]

    /// `{"upstreams": {"app": {"balance": "round_robin", "replicas": [{"url": …, "weight": 1, "state": "healthy",
    /// "in_flight": 0, "consecutive_failures": 0, "last_check": {"at": "…Z", "ok": true, "status": 200},
    /// "ejected_until": null}]}}}` with keys in the order the SPEC shows them.
    public func json() -> String {
        var out = "{\"upstreams\": {"
        for (number, upstream) in upstreams.enumerated() {
            if number > 0 { out += ", " }
            out += JSONText.string(upstream.name) + ": {\"balance\": " + JSONText.string(upstream.balance)
            out += ", \"replicas\": ["
            for (position, replica) in upstream.replicas.enumerated() {
                if position > 0 { out += ", " }
                out += "{\"url\": " + JSONText.string(replica.url)
                out += ", \"weight\": \(replica.weight)"
                out += ", \"state\": " + JSONText.string(replica.state.rawValue)
                out += ", \"in_flight\": \(replica.inFlight)"
                out += ", \"consecutive_failures\": \(replica.consecutiveFailures)"
                out += ", \"last_check\": "
                if let check = replica.lastCheck {
                    out += "{\"at\": " + JSONText.string(JSONText.iso8601(check.at))
                    out += ", \"ok\": \(check.ok), \"status\": " + (check.status.map(String.init) ?? "null")
                    out += ", \"error\": " + (check.error.map(JSONText.string) ?? "null") + "}"
                } else {
                    out += "null"
                }
                out += ", \"ejected_until\": " + (replica.ejectedUntil.map { JSONText.string(JSONText.iso8601($0)) } ?? "null")
                out += "}"
            }
            out += "]}"
        }
        out += "}}"
        return out
    }
}

enum JSONText {
    static func string(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `2026-11-22T17:40:00Z` (UTC, whole seconds).
    static func iso8601(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!))
    }
}
