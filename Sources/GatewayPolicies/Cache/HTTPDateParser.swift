import Foundation

/// Parses HTTP dates (RFC 9110 §5.6.7): IMF-fixdate, and the obsolete RFC 850 and asctime forms a recipient must
/// accept. nil for anything else (an invalid `Expires` means "already expired", decided by the caller).
public enum HTTPDateParser {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// Seconds since 1970.
    public static func parse(_ text: String) -> Double? {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT → [Sun, 06, Nov, 1994, 08:49:37, GMT]
        if parts.count == 6, parts[5] == "GMT" {
            return make(day: parts[1], month: parts[2], year: parts[3], time: parts[4])
        }
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
        if parts.count == 4, parts[3] == "GMT" {
            let date = parts[1].split(separator: "-").map(String.init)
            guard date.count == 3, let short = Int(date[2]) else { return nil }
            let year = short < 70 ? 2000 + short : 1900 + short
            return make(day: date[0], month: date[1], year: String(year), time: parts[2])
        }
        // asctime: Sun Nov  6 08:49:37 1994
        if parts.count == 5 {
            return make(day: parts[2], month: parts[1], year: parts[4], time: parts[3])
        }
        return nil
    }

    private static func make(day: String, month: String, year: String, time: String) -> Double? {
        guard let d = Int(day), (1...31).contains(d), let y = Int(year), y >= 1900,
            let m = months.firstIndex(of: month.lowercased())
        else { return nil }
        let hms = time.split(separator: ":").compactMap { Int($0) }
        guard hms.count == 3, (0...23).contains(hms[0]), (0...59).contains(hms[1]), (0...60).contains(hms[2]) else {
            return nil
        }
        var components = tm()
        components.tm_year = Int32(y - 1900)
        components.tm_mon = Int32(m)
        components.tm_mday = Int32(d)
        components.tm_hour = Int32(hms[0])
        components.tm_min = Int32(hms[1])
        components.tm_sec = Int32(hms[2])
        return Double(timegm(&components))
    }

    /// IMF-fixdate for `seconds` since 1970.
    public static func format(_ seconds: Double) -> String {
        var time = time_t(seconds)
        var components = tm()
        gmtime_r(&time, &components)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(components.tm_wday)]), \(two(components.tm_mday)) \(names[Int(components.tm_mon)]) "
            + "\(components.tm_year + 1900) \(two(components.tm_hour)):\(two(components.tm_min)):\(two(components.tm_sec)) GMT"
    }
}
