/// Why a scalar value (duration, size, address, URL, CIDR) could not be parsed; `message` is
/// written to follow "expected X: " in a config error.
public struct ValueParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
