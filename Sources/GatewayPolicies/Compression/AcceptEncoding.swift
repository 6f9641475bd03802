/// A parsed `Accept-Encoding` request header (RFC 9110 §12.5.3), reduced to what the gateway needs: gzip.
///
/// - No header at all means identity only (SPEC §3); an empty value means the same.
/// - `gzip` and `x-gzip` are the same coding; `*` covers codings not named; `;q=0` refuses.
public struct AcceptEncoding: Sendable, Equatable {
    /// Quality of gzip, 0...1000 (thousandths); 0 = not acceptable.
    public var gzipQuality: Int
    /// Quality of identity, 0...1000; identity is acceptable unless refused explicitly or by `*;q=0`.
    public var identityQuality: Int

    /// Parses all values of the header (pass every field line; they are joined as a list).
    public init(headerValues: [String]) {
        var gzip: Int? = nil
        var identity: Int? = nil
        var star: Int? = nil
        for value in headerValues {
            for member in value.split(separator: ",") {
                let parts = member.split(separator: ";")
                guard let first = parts.first else { continue }
                let coding = first.trimmingASCIISpaces().lowercased()
                guard !coding.isEmpty else { continue }
                var quality = 1000
                for parameter in parts.dropFirst() {
                    let pair = parameter.split(separator: "=", maxSplits: 1)
                    guard pair.count == 2, pair[0].trimmingASCIISpaces().lowercased() == "q" else { continue }
                    quality = Self.parseQuality(pair[1].trimmingASCIISpaces()) ?? 0
                }
                switch coding {
                case "gzip", "x-gzip": gzip = max(gzip ?? 0, quality)
                case "identity": identity = quality
                case "*": star = quality
                default: break
                }
            }
        }
        self.gzipQuality = gzip ?? star ?? 0
        self.identityQuality = identity ?? (star == 0 ? 0 : (star ?? 1000))
        // "identity" is always acceptable unless explicitly refused; with `*;q=0` alone it is refused too.
        if identity == nil, star == nil { self.identityQuality = 1000 }
    }

    public init(gzipQuality: Int, identityQuality: Int) {
        self.gzipQuality = gzipQuality
        self.identityQuality = identityQuality
    }

    public var acceptsGzip: Bool { gzipQuality > 0 }
    /// gzip acceptable and not ranked below identity.
    public var prefersGzip: Bool { gzipQuality > 0 && gzipQuality >= identityQuality }
    public var acceptsIdentity: Bool { identityQuality > 0 }

    /// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in thousandths; nil when malformed.
    static func parseQuality(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, first == UInt8(ascii: "0") || first == UInt8(ascii: "1") else { return nil }
        var value = Int(first - UInt8(ascii: "0")) * 1000
        if bytes.count > 1 {
            guard bytes[1] == UInt8(ascii: "."), bytes.count <= 5 else { return nil }
            var scale = 100
            for digit in bytes.dropFirst(2) {
                guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
                value += Int(digit - UInt8(ascii: "0")) * scale
                scale /= 10
            }
        }
        return value > 1000 ? nil : value
    }
}

extension StringProtocol {
    func trimmingASCIISpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars = scalars.dropFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
