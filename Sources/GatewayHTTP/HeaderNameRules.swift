/// Which client header names the gateway forwards (SPEC §13).
///
/// Many upstream stacks (CGI, WSGI, PHP-FPM, Rack) fold `-` and `_` into the same variable (`X_Gateway_User` and
/// `X-Gateway-User` both become `HTTP_X_GATEWAY_USER`), so a name with an underscore can impersonate a header the
/// gateway sets. Like nginx (`underscores_in_headers off`), names with `_` are dropped unless opted in; and whatever
/// the option, a name that folds (case-insensitively, `_` ≡ `-`) to a gateway-owned header is always dropped.
public struct HeaderNameRules: Sendable, Equatable {
    /// Headers only the gateway sets upstream, in folded form (lower-case, `-`).
    public static let gatewayOwned: Set<String> = ["x-gateway-user", "x-gateway-session", "x-client-cert-subject"]

    public enum Verdict: Equatable, Sendable {
        case keep
        /// The name contains `_` and `underscores_in_headers` is off.
        case dropUnderscore
        /// The name folds to a header the gateway owns.
        case dropGatewayOwned
    }

    public var underscoresAllowed: Bool
    /// Gateway-owned names in folded form: `gatewayOwned` plus any a policy adds (e.g. `claims_to_headers` targets).
    public let owned: Set<String>
    /// The same names as bytes, compared without allocating (this runs for every header of every request).
    private let ownedBytes: [[UInt8]]

    public init(underscoresAllowed: Bool = false, additionalOwned: some Sequence<String> = [String]()) {
        self.underscoresAllowed = underscoresAllowed
        self.owned = Self.gatewayOwned.union(additionalOwned.map(Self.fold))
        self.ownedBytes = owned.sorted().map { Array($0.utf8) }
    }

    public static func == (lhs: HeaderNameRules, rhs: HeaderNameRules) -> Bool {
        lhs.underscoresAllowed == rhs.underscoresAllowed && lhs.owned == rhs.owned
    }

    /// Lower-case with `_` turned into `-`: the name as a CGI-style upstream would see it.
    public static func fold(_ name: some StringProtocol) -> String {
        var bytes = Array(name.utf8)
        for index in bytes.indices {
            let byte = bytes[index]
            if byte == UInt8(ascii: "_") {
                bytes[index] = UInt8(ascii: "-")
            } else if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") {
                bytes[index] = byte + 32
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// What to do with a request header called `name`.
    public func verdict(forRequestHeader name: String) -> Verdict {
        var hasUnderscore = false
        for byte in name.utf8 where byte == UInt8(ascii: "_") {
            hasUnderscore = true
            break
        }
        if isGatewayOwned(name) { return .dropGatewayOwned }
        if hasUnderscore && !underscoresAllowed { return .dropUnderscore }
        return .keep
    }

    /// Whether `name` folds to a gateway-owned header (also used to strip them from upstream responses).
    public func isGatewayOwned(_ name: String) -> Bool {
        let utf8 = name.utf8
        let count = utf8.count
        for candidate in ownedBytes where candidate.count == count {
            if zip(utf8, candidate).allSatisfy({ Self.foldByte($0) == $1 }) { return true }
        }
        return false
    }

    private static func foldByte(_ byte: UInt8) -> UInt8 {
        if byte == UInt8(ascii: "_") { return UInt8(ascii: "-") }
        if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { return byte + 32 }
        return byte
    }

    /// Whether a `Connection` option may remove the header `lowercasedName`. `Host` always stays (nginx keeps it):
    /// `Connection: Host` must not produce an HTTP/1.1 request without Host.
    public static func connectionOptionMayRemove(_ lowercasedName: String) -> Bool {
        lowercasedName != "host"
    }
}
