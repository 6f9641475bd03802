/// How a request body is delimited (RFC 9112 §6), decided from its `Content-Length` and `Transfer-Encoding` fields.
public enum RequestFraming: Equatable, Sendable {
    case none
    /// The canonical length (`005` → 5), sent upstream as a plain decimal.
    case contentLength(Int)
    case chunked
}

/// Why a request's framing is refused.
public enum FramingError: Error, Equatable, Sendable {
    /// 400: ambiguous or malformed framing (a smuggling shape).
    case badRequest(String)
    /// 501: a transfer coding the gateway does not implement (nginx answers the same).
    case notImplemented(String)
}

public enum FramingRules {
    /// - Parameters:
    ///   - contentLength: every `Content-Length` field value.
    ///   - transferEncoding: every `Transfer-Encoding` field value.
    public static func evaluate(contentLength: [String], transferEncoding: [String])
        throws(FramingError) -> RequestFraming
    {
        if !contentLength.isEmpty && !transferEncoding.isEmpty {
            throw .badRequest("Both Content-Length and Transfer-Encoding are present.")
        }
        if !transferEncoding.isEmpty {
            let codings = transferEncoding.flatMap { $0.split(separator: ",") }
                .map { $0.trimmingOWS().lowercased() }
                .filter { !$0.isEmpty }
            // Only `chunked`, alone: any other coding (gzip, identity, …) would have to be decoded or forwarded
            // with a meaning the gateway cannot check.
            guard codings == ["chunked"] else {
                let listed = transferEncoding.joined(separator: ", ")
                throw .notImplemented("Transfer-Encoding '\(listed)' is not supported; only 'chunked' is.")
            }
            return .chunked
        }
        var length: Int? = nil
        for value in contentLength {
            for element in value.split(separator: ",", omittingEmptySubsequences: false) {
                let digits = element.trimmingOWS()
                guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
                    throw .badRequest("Content-Length is not a number.")
                }
                guard let parsed = Int(digits) else { throw .badRequest("Content-Length is too large.") }
                if let length, length != parsed { throw .badRequest("Conflicting Content-Length values.") }
                length = parsed
            }
        }
        return length.map { .contentLength($0) } ?? .none
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (HTTP's optional whitespace).
    func trimmingOWS() -> Substring {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
