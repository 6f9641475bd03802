import Foundation
import Yams

/// `static: { root, index, spa_fallback, precompressed, cache }`. The root must be an existing directory when the
/// config is loaded (as `check` reports a missing include), so a typo is caught before serving 404s.
enum StaticFilesDecoder {
    static let keys = ["root", "index", "spa_fallback", "precompressed", "cache"]

    static func decode(_ node: Node, context: DecodeContext) -> StaticFilesSettings? {
        guard let map = MappingReader(node, what: "static", allowed: keys, context: context),
            let rootNode = map.required("root"), let root = context.nonEmptyString(rootNode, key: "root")
        else { return nil }
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory) {
            context.error("'root': directory '\(root)' does not exist (relative paths start at the working directory)", at: rootNode)
        } else if !isDirectory.boolValue {
            context.error("'root': '\(root)' is not a directory", at: rootNode)
        }
        var settings = StaticFilesSettings(root: root)
        if let value = map["index"], let index = context.nonEmptyString(value, key: "index") {
            if index.contains("/") || index == "." || index == ".." {
                context.error("'index' must be a file name like index.html, got '\(index)'", at: value)
            } else {
                settings.index = index
            }
        }
        if let value = map["spa_fallback"], let flag = context.bool(value, key: "spa_fallback") { settings.spaFallback = flag }
        if let value = map["precompressed"], let flag = context.bool(value, key: "precompressed") { settings.precompressed = flag }
        if let value = map["cache"] {
            if context.optionalBool(value) == false {
                settings.cache = nil
            } else if let duration = context.duration(value, key: "cache", positive: false) {
                settings.cache = duration
            }
        }
        return settings
    }
}
