import Foundation
import NIOHTTP1
import NIOPosix

/// The `Date` header value (RFC 9110 §6.6.1: a proxy adds one when the upstream did not), formatted at most once
/// per second per thread — every event loop is one thread, so no lock and no formatting on the request path.
enum HTTPDate {
    /// `@unchecked Sendable` holds because each instance lives in one thread's slot of a `ThreadSpecificVariable`
    /// and is only ever read or written by that thread.
    private final class Cache: @unchecked Sendable {
        var second: time_t = -1
        var value = ""
    }

    private static let cache = ThreadSpecificVariable<Cache>()

    /// `Wed, 02 Dec 2026 10:23:15 GMT` for the current second.
    static func now() -> String {
        let second = time(nil)
        let cache: Cache
        if let existing = Self.cache.currentValue {
            cache = existing
        } else {
            cache = Cache()
            Self.cache.currentValue = cache
        }
        if cache.second != second {
            cache.second = second
            cache.value = format(second)
        }
        return cache.value
    }

    static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]

    /// IMF-fixdate.
    static func format(_ seconds: time_t) -> String {
        var seconds = seconds
        var t = tm()
        gmtime_r(&seconds, &t)
        func pad(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(t.tm_wday)]), \(pad(t.tm_mday)) \(AccessRecord.months[Int(t.tm_mon)]) \(t.tm_year + 1900) "
            + "\(pad(t.tm_hour)):\(pad(t.tm_min)):\(pad(t.tm_sec)) GMT"
    }

    /// Parses an IMF-fixdate (`If-Modified-Since`); nil for anything else (then the condition is ignored, as RFC
    /// 9110 §13.1.3 says for invalid dates).
    static func parse(_ text: String) -> time_t? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int32(parts[1]),
            let month = AccessRecord.months.firstIndex(of: String(parts[2])), let year = Int32(parts[3])
        else { return nil }
        let clock = parts[4].split(separator: ":")
        guard clock.count == 3, let hour = Int32(clock[0]), let minute = Int32(clock[1]), let second = Int32(clock[2])
        else { return nil }
        var t = tm()
        t.tm_year = year - 1900
        t.tm_mon = Int32(month)
        t.tm_mday = day
        t.tm_hour = hour
        t.tm_min = minute
        t.tm_sec = second
        return timegm(&t)
    }
}

extension HTTPHeaders {
    /// Adds `Date` unless the upstream sent one.
    mutating func addDateIfMissing() {
        if !contains(name: "date") { add(name: "Date", value: HTTPDate.now()) }
    }
}
