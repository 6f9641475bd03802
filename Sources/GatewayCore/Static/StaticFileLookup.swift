import Foundation
import GatewayConfig

/// Finds the file a static route answers with. Blocking file-system calls (`realpath`, `stat`, `open`): run it on
/// a thread pool, never on an event loop.
///
/// Order: the path under the root; a directory → its index (or a redirect to the same path with `/` when the request
/// lacked it, as nginx does); missing and `spa_fallback` and no file extension → the root's index. The resolved
/// file (symlinks followed) must still lie inside the root's resolved path, else it is treated as missing.
enum StaticFileLookup {
    struct Found: Sendable {
        var descriptor: Int32
        var size: Int64
        var modified: Int
        var contentType: String
        /// Serving `FILE.gz` with `Content-Encoding: gzip`.
        var gzip: Bool
        /// The answer is the index (directory index or SPA fallback): gets `Cache-Control: no-cache`.
        var isIndex: Bool
    }

    enum Outcome: Sendable {
        case found(Found)
        case redirect(location: String)
        case notFound
    }

    static func find(
        settings: StaticFilesSettings, segments: [String], directoryRequested: Bool, requestPath: String,
        acceptsGzip: Bool
    ) -> Outcome {
        guard let root = realPath(settings.root) else { return .notFound }
        var candidate = ([root] + segments).joined(separator: "/")
        var isIndex = false
        var info = stat()
        if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            if !directoryRequested && !segments.isEmpty { return .redirect(location: requestPath + "/") }
            candidate += "/" + settings.index
            isIndex = true
        }
        var resolved = realPath(candidate)
        if resolved == nil, settings.spaFallback, !StaticPath.hasExtension(segments) {
            resolved = realPath(root + "/" + settings.index)
            isIndex = true
        }
        guard let path = resolved, isInside(path, root: root) else { return .notFound }

        var gzip = false
        var servedPath = path
        if settings.precompressed, acceptsGzip, let compressed = realPath(path + ".gz"), isInside(compressed, root: root),
            stat(compressed, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG
        {
            servedPath = compressed
            gzip = true
        }
        let descriptor = open(servedPath, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return .notFound }
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            return .notFound
        }
        return .found(
            Found(
                descriptor: descriptor, size: Int64(info.st_size), modified: Int(info.st_mtim.tv_sec),
                contentType: MIMETypes.type(forFileName: path), gzip: gzip, isIndex: isIndex))
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func isInside(_ path: String, root: String) -> Bool {
        root == "/" ? path.hasPrefix("/") : (path == root || path.hasPrefix(root + "/"))
    }
}
