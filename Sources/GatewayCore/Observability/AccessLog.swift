import Foundation
import GatewayConfig
import Logging
import NIOConcurrencyHelpers

/// Writes access-log lines off the event loops: lines are queued under a lock and a background queue writes them in
/// batches with one `write(2)` each, so a slow disk or a full stdout pipe never stalls request handling.
final class AccessLogWriter: Sendable {
    private let queue = DispatchQueue(label: "gateway.access-log")
    private let pending = NIOLockedValueBox<(lines: [String], scheduled: Bool)>(([], false))
    private let fileDescriptor: Int32
    private let ownsDescriptor: Bool
    /// Lines beyond this are dropped (and counted) rather than growing memory without bound.
    private let maxQueuedLines = 100_000
    let dropped = NIOLockedValueBox<Int>(0)

    init?(target: AccessLogTarget) {
        switch target {
        case .off:
            return nil
        case .stdout:
            fileDescriptor = STDOUT_FILENO
            ownsDescriptor = false
        case .file(let path):
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard fd >= 0 else { return nil }
            fileDescriptor = fd
            ownsDescriptor = true
        }
    }

    deinit {
        if ownsDescriptor { close(fileDescriptor) }
    }

    func write(_ line: String) {
        let shouldSchedule = pending.withLockedValue { state -> Bool in
            guard state.lines.count < maxQueuedLines else {
                dropped.withLockedValue { $0 += 1 }
                return false
            }
            state.lines.append(line)
            if state.scheduled { return false }
            state.scheduled = true
            return true
        }
        if shouldSchedule { queue.async { self.drain() } }
    }

    /// Blocks until queued lines are written (shutdown only).
    func flush() {
        queue.sync { self.drain() }
    }

    private func drain() {
        let lines = pending.withLockedValue { state -> [String] in
            let lines = state.lines
            state.lines = []
            state.scheduled = false
            return lines
        }
        guard !lines.isEmpty else { return }
        var text = lines.joined(separator: "\n")
        text.append("\n")
        text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fileDescriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
    }
}

/// A swift-log handler that renders each access-log record as one JSON line (message = `"access"`, metadata = the
/// fields) and hands it to the `AccessLogWriter`.
struct AccessLogHandler: LogHandler {
    let writer: AccessLogWriter
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields: [String] = []
        let merged = event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            fields.append(JSONText.quote(key) + ":" + Self.render(value))
        }
        writer.write("{" + fields.joined(separator: ",") + "}")
    }

    private static func render(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let string): return JSONText.quote(string)
        case .stringConvertible(let convertible):
            if let number = convertible as? Int { return String(number) }
            if let number = convertible as? Double { return String(number) }
            return JSONText.quote(convertible.description)
        case .array(let array): return "[" + array.map(render).joined(separator: ",") + "]"
        case .dictionary(let dictionary):
            return "{" + dictionary.map { JSONText.quote($0.key) + ":" + render($0.value) }.joined(separator: ",") + "}"
        }
    }
}
