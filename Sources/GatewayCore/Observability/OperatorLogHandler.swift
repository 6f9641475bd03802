import Foundation
import Logging

/// The process log (startup, reloads, health changes, errors): one line per event on stderr, written through the
/// same `LogOutput` as an `access_log: stderr`, so the two never cut into each other.
///
/// `2026-12-02T10:23:15.123Z info gateway started version=0.1.0 config=conf/gateway.yaml routes=6`
public struct OperatorLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let output: LogOutput

    public init(label: String, level: Logger.Level, output: LogOutput = .standardError) {
        self.label = label
        self.logLevel = level
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        output.write(Self.render(level: event.level, message: "\(event.message)", metadata: metadata.merging(event.metadata ?? [:]) { $1 }) + "\n")
    }

    static func render(level: Logger.Level, message: String, metadata: Logger.Metadata, time: timespec = AccessRecord.now()) -> String {
        var line = AccessRecord.iso8601(time) + " " + level.rawValue + " " + message.replacingOccurrences(of: "\n", with: "\\n")
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            line += " \(key)=" + quoted("\(value)")
        }
        return line
    }

    /// `value` as is when it is one plain word, else in double quotes with `"` and `\` escaped.
    static func quoted(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { scalar in
            scalar.value > 0x20 && scalar.value < 0x7f && scalar != "\"" && scalar != "\\" && scalar != "="
        }
        if plain { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
