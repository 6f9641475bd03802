/// Minimal JSON text helpers: this target avoids Foundation to stay small and fast.
enum JSONText {
    /// `text` as a quoted JSON string (control characters escaped, UTF-8 kept).
    static func quoted<S: StringProtocol>(_ text: S) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
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
        out += "\""
        return out
    }

    /// Extracts the string value of a top-level-ish `"key": "value"` pair from a JSON object text.
    /// Good enough for `{"user":"alice"}` login bodies; returns nil when absent or not a string.
    static func stringField(_ key: String, in json: String) -> String? {
        let scalars = Array(json.unicodeScalars)
        let needle = Array(("\"" + key + "\"").unicodeScalars)
        var index = 0
        while index + needle.count <= scalars.count {
            if Array(scalars[index..<(index + needle.count)]) == needle {
                var cursor = index + needle.count
                while cursor < scalars.count, scalars[cursor] == " " || scalars[cursor] == "\t" || scalars[cursor] == "\n" || scalars[cursor] == "\r" { cursor += 1 }
                guard cursor < scalars.count, scalars[cursor] == ":" else { index += 1; continue }
                cursor += 1
                while cursor < scalars.count, scalars[cursor] == " " || scalars[cursor] == "\t" || scalars[cursor] == "\n" || scalars[cursor] == "\r" { cursor += 1 }
                guard cursor < scalars.count, scalars[cursor] == "\"" else { return nil }
                cursor += 1
                var value = String.UnicodeScalarView()
                while cursor < scalars.count, scalars[cursor] != "\"" {
                    if scalars[cursor] == "\\", cursor + 1 < scalars.count {
                        cursor += 1
                        switch scalars[cursor] {
                        case "n": value.append("\n")
                        case "t": value.append("\t")
                        case "r": value.append("\r")
                        default: value.append(scalars[cursor])
                        }
                    } else {
                        value.append(scalars[cursor])
                    }
                    cursor += 1
                }
                return String(value)
            }
            index += 1
        }
        return nil
    }
}
