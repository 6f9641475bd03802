/// One problem found in a configuration file, with the 1-based position where it was written.
///
/// `description` is the line `gateway check` prints: `conf/gateway.yaml:14:7: unknown key 'limt' (did you mean 'limit'?)`.
/// Problems that concern a whole file (missing, unreadable) point at `1:1`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public init(at location: SourceLocation, _ message: String) {
        self.init(file: location.file, line: location.line, column: location.column, message: message)
    }

    public var location: SourceLocation { SourceLocation(file: file, line: line, column: column) }

    public var description: String { "\(file):\(line):\(column): \(message)" }
}

/// Every problem found while loading a configuration (the loader never stops at the first one).
///
/// Ordered by file (the main file first, then includes in load order), then by line and column.
/// `description` is one `FILE:LINE:COLUMN: message` line per problem.
public struct ConfigErrors: Error, Sendable, Equatable, CustomStringConvertible {
    public var errors: [ConfigError]

    public init(errors: [ConfigError]) {
        self.errors = errors
    }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
