import Foundation
import Yams

/// Reads one YAML file into a node tree; I/O and syntax problems become positioned errors.
enum SourceFile {
    /// The root node (nil for an empty file or after reporting a problem) and whether it loaded.
    static func load(path: String, diagnostics: Diagnostics) -> (root: Node?, ok: Bool) {
        let fileStart = SourceLocation(file: path, line: 1, column: 1)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            diagnostics.report("cannot read config file: no such file", at: fileStart)
            return (nil, false)
        }
        guard !isDirectory.boolValue else {
            diagnostics.report("cannot read config file: it is a directory", at: fileStart)
            return (nil, false)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            diagnostics.report("cannot read config file: permission denied or I/O error", at: fileStart)
            return (nil, false)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            diagnostics.report("config file is not valid UTF-8", at: fileStart)
            return (nil, false)
        }
        return parse(yaml: text, path: path, diagnostics: diagnostics)
    }

    static func parse(yaml: String, path: String, diagnostics: Diagnostics) -> (root: Node?, ok: Bool) {
        do {
            return (try Yams.compose(yaml: yaml), true)
        } catch let error as YamlError {
            let (location, message) = describe(error, path: path, yaml: yaml)
            diagnostics.report(message, at: location)
            return (nil, false)
        } catch {
            diagnostics.report("YAML error: \(error)", at: SourceLocation(file: path, line: 1, column: 1))
            return (nil, false)
        }
    }

    private static func describe(_ error: YamlError, path: String, yaml: String) -> (SourceLocation, String) {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: path, line: mark.line, column: mark.column) }
        func text(_ context: YamlError.Context?, _ problem: String) -> String {
            guard let context else { return "YAML syntax error: \(problem)" }
            return "YAML syntax error: \(problem) (\(context.text) at \(context.mark.line):\(context.mark.column))"
        }
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _):
            return (at(mark), text(context, problem))
        case .composer(let context, let problem, let mark, _):
            if problem.contains("another document") {
                return (at(mark), "a config file holds one YAML document; remove the '---' separator")
            }
            return (at(mark), text(context, problem))
        case .duplicatedKeysInMapping(let duplicates, let context):
            let names = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return (locate(key: duplicates.first, near: context.mark, yaml: yaml, path: path),
                    "duplicate key \(names) in the same mapping")
        case .reader(let problem, let offset, _, _):
            var location = SourceLocation(file: path, line: 1, column: 1)
            if let offset {
                let prefix = yaml.prefix(offset)
                location.line = prefix.filter { $0 == "\n" }.count + 1
                location.column = prefix.count - (prefix.lastIndex(of: "\n").map { prefix.distance(from: prefix.startIndex, to: $0) + 1 } ?? 0) + 1
            }
            return (location, "cannot read YAML: \(problem)")
        default:
            return (SourceLocation(file: path, line: 1, column: 1), "YAML error: \(error)")
        }
    }

    /// Yams reports duplicate keys at the first occurrence; point at the second one, which is the
    /// line to delete, by scanning forward for the same key text at the same column.
    private static func locate(key: String?, near mark: Mark, yaml: String, path: String) -> SourceLocation {
        let fallback = SourceLocation(file: path, line: mark.line, column: mark.column)
        guard let key else { return fallback }
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        for index in mark.line..<lines.count {
            let line = lines[index]
            let columnIndex = mark.column - 1
            guard line.count > columnIndex else { continue }
            let rest = line.dropFirst(columnIndex)
            if rest.hasPrefix(key + ":") || rest.hasPrefix("\"\(key)\":") || rest.hasPrefix("'\(key)':") {
                return SourceLocation(file: path, line: index + 1, column: mark.column)
            }
        }
        return fallback
    }
}
