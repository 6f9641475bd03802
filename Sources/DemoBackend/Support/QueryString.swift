/// A request target split into path and query, with `application/x-www-form-urlencoded` decoding.
struct RequestTarget: Sendable {
    /// Path only, e.g. `/x`.
    var path: Substring
    /// Raw query without `?`, or "".
    var query: Substring

    init(_ uri: String) {
        if let mark = uri.firstIndex(of: "?") {
            path = uri[..<mark]
            query = uri[uri.index(after: mark)...]
        } else {
            path = uri[...]
            query = ""
        }
    }

    /// Decoded `name=value` pairs in order (a name without `=` has value "").
    var queryItems: [(name: String, value: String)] {
        guard !query.isEmpty else { return [] }
        return query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            if let equals = pair.firstIndex(of: "=") {
                return (formDecode(pair[..<equals]), formDecode(pair[pair.index(after: equals)...]))
            }
            return (formDecode(pair), "")
        }
    }

    /// The first value for `name`, decoded.
    func queryValue(_ name: String) -> String? {
        queryItems.first { $0.name == name }?.value
    }

    func intValue(_ name: String) -> Int? {
        queryValue(name).flatMap { Int($0) }
    }

    func boolValue(_ name: String) -> Bool {
        guard let value = queryValue(name) else { return false }
        return ["1", "true", "yes", "on", ""].contains(value.lowercased())
    }
}

/// Percent-decodes `%XX` and turns `+` into a space; invalid escapes are kept literally.
func formDecode<S: StringProtocol>(_ text: S) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count)
    var iterator = Array(text.utf8)[...]
    while let byte = iterator.popFirst() {
        switch byte {
        case UInt8(ascii: "+"):
            bytes.append(UInt8(ascii: " "))
        case UInt8(ascii: "%"):
            if iterator.count >= 2, let high = hexValue(iterator[iterator.startIndex]),
                let low = hexValue(iterator[iterator.startIndex + 1])
            {
                bytes.append(high << 4 | low)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        default:
            bytes.append(byte)
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
}
