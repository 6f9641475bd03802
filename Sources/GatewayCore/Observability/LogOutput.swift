import Foundation
import NIOConcurrencyHelpers

/// One destination of log lines: a file descriptor plus the lock every writer of that descriptor takes.
///
/// Why one object per descriptor: the process log and the access log may share stderr (`access_log: stderr`), and
/// several threads log at once. Every write here is a batch of *whole* lines written under this lock, looping until
/// all bytes are out, so lines from different writers never interleave or overwrite each other. stderr and stdout
/// are written through descriptors 2 and 1 as inherited (a pipe, a file opened with `2>`, a journald socket),
/// never reopened by name as `/dev/stderr` was (which truncated a `2> file` and failed on sockets).
public final class LogOutput: Sendable {
    public static let standardError = LogOutput(descriptor: STDERR_FILENO, path: nil)
    public static let standardOutput = LogOutput(descriptor: STDOUT_FILENO, path: nil)

    /// The path for files (reopened on SIGUSR1), nil for inherited descriptors.
    public let path: String?
    private let state: NIOLockedValueBox<Int32>

    private init(descriptor: Int32, path: String?) {
        self.path = path
        self.state = NIOLockedValueBox(descriptor)
    }

    /// Opens `path` for appending (created 0644 if missing).
    public static func file(path: String) throws(LogOpenError) -> LogOutput {
        LogOutput(descriptor: try openForAppend(path), path: path)
    }

    deinit {
        if path != nil { state.withLockedValue { descriptor in _ = close(descriptor) } }
    }

    /// Writes `text` (one or more complete lines) as one unit.
    public func write(_ text: String) {
        var text = text
        text.withUTF8 { buffer in
            guard let base = buffer.baseAddress else { return }
            state.withLockedValue { descriptor in Self.writeAll(descriptor, base, buffer.count) }
        }
    }

    /// logrotate's convention (nginx does the same on USR1): the old file was renamed; open `path` again and write
    /// there from now on. Lines already queued go to whichever file is open when they are written; none is lost.
    public func reopen() throws(LogOpenError) {
        guard let path else { return }
        let fresh = try Self.openForAppend(path)
        let old = state.withLockedValue { descriptor in
            defer { descriptor = fresh }
            return descriptor
        }
        close(old)
    }

    private static func openForAppend(_ path: String) throws(LogOpenError) -> Int32 {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw LogOpenError(path: path, errno: errno) }
        return descriptor
    }

    private static func writeAll(_ descriptor: Int32, _ base: UnsafePointer<UInt8>, _ count: Int) {
        var offset = 0
        var stalls = 0
        while offset < count {
            let written = Glibc.write(descriptor, base + offset, count - offset)
            if written > 0 {
                offset += written
                continue
            }
            if written < 0, errno == EINTR { continue }
            if written < 0, errno == EAGAIN || errno == EWOULDBLOCK, stalls < 50 {
                // A non-blocking descriptor (inherited that way) that is full: wait for it briefly.
                var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                _ = poll(&poller, 1, 100)
                stalls += 1
                continue
            }
            return  // closed pipe, disk full...: drop the rest rather than spin
        }
    }
}

/// A log file that cannot be opened, in words an operator can act on.
public struct LogOpenError: Error, CustomStringConvertible {
    public var path: String
    public var errno: Int32

    public var description: String {
        "cannot open log file '\(path)': \(String(cString: strerror(errno)).lowercased())"
    }
}
