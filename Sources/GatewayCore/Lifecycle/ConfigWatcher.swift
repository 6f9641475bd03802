import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// `serve --watch`: polls the config file and every included file (as Caddy's and Traefik's file watchers do) and
/// calls `onChange` — the same `Reloader.reload` as SIGHUP, so a bad edit is refused and the running config keeps
/// serving. Polling (not inotify) survives editors that save by rename, and costs one `stat` per file per tick.
/// A change is reloaded once the file has stayed the same for one tick, so a half-written file is not loaded.
final class ConfigWatcher: Sendable {
    /// What identifies a file version: modification time, size and inode (a rename-save changes the inode).
    struct Stamp: Equatable, Sendable {
        var modified: timespec
        var size: Int64
        var inode: UInt64
        var exists: Bool

        static func == (a: Stamp, b: Stamp) -> Bool {
            a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec && a.size == b.size
                && a.inode == b.inode && a.exists == b.exists
        }

        static func of(_ path: String) -> Stamp {
            var info = stat()
            guard stat(path, &info) == 0 else { return Stamp(modified: timespec(), size: -1, inode: 0, exists: false) }
            return Stamp(modified: info.st_mtim, size: Int64(info.st_size), inode: UInt64(info.st_ino), exists: true)
        }
    }

    private let files: @Sendable () -> [String]
    private let interval: TimeAmount
    private let logger: Logger
    private let onChange: @Sendable () -> Void
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)

    init(files: @escaping @Sendable () -> [String], interval: TimeAmount, logger: Logger,
         onChange: @escaping @Sendable () -> Void) {
        self.files = files
        self.interval = interval
        self.logger = logger
        self.onChange = onChange
    }

    func start() {
        let files = self.files, interval = self.interval, logger = self.logger, onChange = self.onChange
        logger.info("watching the configuration files for changes", metadata: ["files": "\(files().count)"])
        let started = Task.detached {
            var known = Dictionary(files().map { ($0, Stamp.of($0)) }, uniquingKeysWith: { a, _ in a })
            var pending: [String: Stamp]? = nil
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(max(interval.nanoseconds, 10_000_000)))
                if Task.isCancelled { break }
                let now = Dictionary(files().map { ($0, Stamp.of($0)) }, uniquingKeysWith: { a, _ in a })
                if now == known {
                    pending = nil
                    continue
                }
                if let seen = pending, seen == now {
                    // Stable for a whole tick: reload once.
                    let changed = now.keys.filter { known[$0] != now[$0] }.sorted()
                    logger.info("configuration changed on disk; reloading", metadata: ["files": "\(changed.joined(separator: ","))"])
                    onChange()
                    // The reload may have added or removed included files: start from what is there now.
                    known = Dictionary(files().map { ($0, Stamp.of($0)) }, uniquingKeysWith: { a, _ in a })
                    pending = nil
                } else {
                    pending = now
                }
            }
        }
        task.withLockedValue { $0 = started }
    }

    func stop() {
        task.withLockedValue { $0?.cancel() }
    }
}
