import Foundation
import Yams

/// `server.access_log`: `stdout | stderr | false | true | PATH`, or `{ path: stdout|stderr|PATH, format: json|combined }`.
///
/// A file's directory must exist and be writable when the config is loaded (as nginx refuses to start when it
/// cannot open a log), so `check` catches `access_log: /nonexistent-dir/access.log` and `serve` never starts
/// without the log it was asked to write.
enum AccessLogDecoder {
    static let keys = ["path", "format"]

    static func decode(_ node: Node, into server: inout ServerSettings, context: DecodeContext) {
        if let flag = context.optionalBool(node) {
            server.accessLog = flag ? .stdout : .off
            return
        }
        if case .mapping = node {
            guard let map = MappingReader(node, what: "access_log", allowed: keys, context: context) else { return }
            if let value = map["path"] {
                if let flag = context.optionalBool(value) {
                    server.accessLog = flag ? .stdout : .off
                } else if let target = target(value, context: context) {
                    server.accessLog = target
                }
            }
            if let value = map["format"], let format = context.enumeration(value, key: "format", as: AccessLogFormat.self) {
                server.accessLogFormat = format
            }
            return
        }
        if let target = target(node, context: context) { server.accessLog = target }
    }

    private static func target(_ node: Node, context: DecodeContext) -> AccessLogTarget? {
        guard let text = context.nonEmptyString(node, key: "access_log") else { return nil }
        switch text {
        case "stdout": return .stdout
        case "stderr": return .stderr
        case "off": return .off
        default:
            if let problem = writabilityProblem(path: text) {
                context.error("'access_log': \(problem)", at: node)
                return nil
            }
            return .file(path: text)
        }
    }

    /// Why `path` cannot be opened for appending, or nil. Relative paths are relative to the working directory.
    static func writabilityProblem(path: String) -> String? {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { return "'\(path)' is a directory; give a file name inside it" }
            return access(path, W_OK) == 0 ? nil : "'\(path)' is not writable by this user"
        }
        let directory = (path as NSString).deletingLastPathComponent
        let parent = directory.isEmpty ? "." : directory
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory) else {
            return "directory '\(parent)' does not exist (create it, or log to stdout/stderr)"
        }
        guard isDirectory.boolValue else { return "'\(parent)' is not a directory" }
        return access(parent, W_OK) == 0 ? nil : "directory '\(parent)' is not writable by this user"
    }
}
