import Foundation
import JWTKit

/// One JSON value of a token's payload.
public enum ClaimValue: Sendable, Equatable, Codable {
    case string(String)
    case integer(Int64)
    case number(Double)
    case bool(Bool)
    case array([ClaimValue])
    case object([String: ClaimValue])
    case null

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([ClaimValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: ClaimValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    /// The value as a header/key text: strings as they are, numbers and booleans as JSON, a list of strings
    /// joined with `,` (roles), anything else as compact JSON. Nil for null.
    public var text: String? {
        switch self {
        case .string(let value): return value
        case .integer(let value): return String(value)
        case .number(let value):
            return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .bool(let value): return value ? "true" : "false"
        case .null: return nil
        case .array(let items):
            let texts = items.compactMap { item -> String? in
                if case .string(let s) = item { return s }
                return nil
            }
            if texts.count == items.count { return texts.joined(separator: ",") }
            return json
        case .object: return json
        }
    }

    var json: String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Seconds since the epoch for `exp`/`nbf`/`iat`.
    var seconds: Double? {
        switch self {
        case .integer(let value): return Double(value)
        case .number(let value): return value
        default: return nil
        }
    }
}

/// A verified token's payload: every claim, by name. jwt-kit checks the signature; the registered claims are
/// checked by ``JWTVerifier`` so each failure gets its own RFC 6750 description.
public struct JWTClaims: JWTPayload, Equatable {
    public var values: [String: ClaimValue]

    public init(_ values: [String: ClaimValue]) {
        self.values = values
    }

    public init(from decoder: any Decoder) throws {
        values = try decoder.singleValueContainer().decode([String: ClaimValue].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(values)
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {}

    public subscript(_ name: String) -> ClaimValue? { values[name] }

    /// `aud` as a list (a single string is a one-element list).
    var audiences: [String] {
        switch values["aud"] {
        case .string(let value): return [value]
        case .array(let items):
            return items.compactMap { item -> String? in
                if case .string(let s) = item { return s }
                return nil
            }
        default: return []
        }
    }
}
