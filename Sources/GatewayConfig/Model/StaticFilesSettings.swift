/// `static:` on a route: the gateway serves files from a directory itself (what nginx's `root`, `index`,
/// `try_files $uri /index.html` and `gzip_static` do), instead of proxying.
public struct StaticFilesSettings: Sendable, Equatable {
    /// The directory, as written (relative paths are relative to the working directory of the process).
    public var root: String
    /// Served for a request to a directory (`/docs/` → `/docs/index.html`).
    public var index: String = "index.html"
    /// Unknown paths whose last segment has no file extension get the root's index (single-page apps).
    public var spaFallback: Bool = false
    /// Serve `FILE.gz` (when present) to clients that accept gzip.
    public var precompressed: Bool = false
    /// `Cache-Control: public, max-age=N` on files; nil = no `Cache-Control`. The index answer always gets
    /// `no-cache` so a new deployment is picked up.
    public var cache: Duration? = nil

    public init(root: String) {
        self.root = root
    }
}
