import NIOCore

/// A RESP2 reply.
public enum RESPValue: Sendable, Equatable {
    case simpleString(String)
    case error(String)
    case integer(Int)
    case bulkString(ByteBuffer)
    case null
    case array([RESPValue])

    /// Simple or bulk string as UTF-8.
    public var string: String? {
        switch self {
        case .simpleString(let s): return s
        case .bulkString(let b): return String(buffer: b)
        default: return nil
        }
    }

    /// An integer, or a bulk/simple string that parses as `Int`.
    public var int: Int? {
        switch self {
        case .integer(let i): return i
        case .simpleString(let s): return Int(s)
        case .bulkString(let b): return Int(String(buffer: b))
        default: return nil
        }
    }

    public var array: [RESPValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var isNull: Bool { self == .null }
}
