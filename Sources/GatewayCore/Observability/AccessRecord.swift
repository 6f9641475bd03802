import Foundation

/// One access-log record: a finished request, or (`event == "close"`) the end of an upgraded connection
/// (WebSocket tunnel, pub/sub socket), rendered as a JSON object or as nginx's `combined` line.
struct AccessRecord {
    var time: timespec
    var requestID: String
    var clientIP: String
    var method: String
    var uri: String
    var httpVersion: String = "HTTP/1.1"
    var route: String
    var status: Int
    var durationMs: Double
    var bytesIn: Int
    var bytesOut: Int
    var attempts: Int
    var replica: String? = nil
    var user: String? = nil
    var error: String? = nil
    var referer: String? = nil
    var userAgent: String? = nil
    /// The negotiated TLS version (`TLSv1.3`) on TLS listeners; nil on plain ones.
    var tls: String? = nil
    /// The W3C trace id (32 hex digits) when tracing is on (`observability.tracing`), sampled or not.
    var traceID: String? = nil
    /// nil for requests; `"close"` for the line written when an upgraded connection ends.
    var event: String? = nil

    static func now() -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return now
    }

    /// Keys in alphabetical order, numbers as JSON numbers.
    func jsonLine() -> String {
        var fields: [String] = []
        fields.reserveCapacity(16)
        func add(_ key: String, _ value: String) { fields.append("\"\(key)\":" + value) }
        add("attempts", String(attempts))
        add("bytes_in", String(bytesIn))
        add("bytes_out", String(bytesOut))
        add("client_ip", JSONText.quote(clientIP))
        add("duration_ms", String(durationMs))
        if let error { add("error", JSONText.quote(error)) }
        if let event { add("event", JSONText.quote(event)) }
        add("method", JSONText.quote(method))
        add("protocol", JSONText.quote(httpVersion))
        if let replica { add("replica", JSONText.quote(replica)) }
        add("request_id", JSONText.quote(requestID))
        add("route", JSONText.quote(route))
        add("status", String(status))
        add("time", JSONText.quote(Self.iso8601(time)))
        if let tls { add("tls", JSONText.quote(tls)) }
        if let traceID { add("trace_id", JSONText.quote(traceID)) }
        add("uri", JSONText.quote(uri))
        if let user { add("user", JSONText.quote(user)) }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// nginx's `combined`: `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
    /// "$http_referer" "$http_user_agent"`, with `"`, `\` and control bytes escaped as `\xHH` like nginx.
    /// `$remote_user` is the session user (nginx's is the basic-auth user).
    func combinedLine() -> String {
        let request = "\(method) \(uri) \(httpVersion)"
        return "\(clientIP) - \(Self.escaped(user ?? "-")) [\(Self.commonLogTime(time))] \"\(Self.escaped(request))\" "
            + "\(status) \(bytesOut) \"\(Self.escaped(referer ?? "-"))\" \"\(Self.escaped(userAgent ?? "-"))\""
    }

    static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 || byte >= 0x7f {
                out += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            } else {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return out
    }

    private static func parts(_ time: timespec) -> tm {
        var seconds = time.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return parts
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    /// `2026-12-02T10:23:15.123Z`
    static func iso8601(_ time: timespec) -> String {
        let t = parts(time)
        return "\(t.tm_year + 1900)-\(pad(Int(t.tm_mon) + 1, 2))-\(pad(Int(t.tm_mday), 2))T"
            + "\(pad(Int(t.tm_hour), 2)):\(pad(Int(t.tm_min), 2)):\(pad(Int(t.tm_sec), 2)).\(pad(time.tv_nsec / 1_000_000, 3))Z"
    }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `02/Dec/2026:10:23:15 +0000` (always UTC).
    static func commonLogTime(_ time: timespec) -> String {
        let t = parts(time)
        return "\(pad(Int(t.tm_mday), 2))/\(months[Int(t.tm_mon)])/\(t.tm_year + 1900):"
            + "\(pad(Int(t.tm_hour), 2)):\(pad(Int(t.tm_min), 2)):\(pad(Int(t.tm_sec), 2)) +0000"
    }
}
