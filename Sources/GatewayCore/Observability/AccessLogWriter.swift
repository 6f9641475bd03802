import Dispatch
import GatewayConfig
import NIOConcurrencyHelpers

/// Writes access-log lines off the event loops: lines are queued under a lock and a background queue writes them in
/// batches (one `LogOutput.write`, i.e. whole lines under the descriptor's lock), so a slow disk or a full stdout pipe
/// never stalls request handling and lines never mix with the process log when both go to stderr.
final class AccessLogWriter: Sendable {
    private let queue = DispatchQueue(label: "gateway.access-log")
    private let pending = NIOLockedValueBox<(lines: [String], scheduled: Bool)>(([], false))
    let output: LogOutput
    let format: AccessLogFormat
    /// Lines beyond this are dropped (and counted) rather than growing memory without bound.
    private let maxQueuedLines = 100_000
    let dropped = NIOLockedValueBox<Int>(0)

    init(output: LogOutput, format: AccessLogFormat) {
        self.output = output
        self.format = format
    }

    /// Nil for `access_log: false`; throws when a file cannot be opened (serve refuses to start, as nginx does).
    static func make(target: AccessLogTarget, format: AccessLogFormat) throws(LogOpenError) -> AccessLogWriter? {
        switch target {
        case .off: return nil
        case .stdout: return AccessLogWriter(output: .standardOutput, format: format)
        case .stderr: return AccessLogWriter(output: .standardError, format: format)
        case .file(let path): return AccessLogWriter(output: try .file(path: path), format: format)
        }
    }

    func write(_ record: AccessRecord) {
        switch format {
        case .json: write(line: record.jsonLine())
        case .combined: write(line: record.combinedLine())
        }
    }

    func write(line: String) {
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

    /// SIGUSR1: write what is queued to the old file, then switch to a freshly opened one.
    func reopen() throws(LogOpenError) {
        flush()
        try output.reopen()
    }

    /// Blocks until queued lines are written (shutdown and reopen only).
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
        output.write(text)
    }
}
