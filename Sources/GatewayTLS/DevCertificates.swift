import Crypto
import Foundation
import SwiftASN1
import X509

/// `gateway cert dev`: a local certificate authority and a leaf for the names a developer types
/// (`localhost`, `127.0.0.1`, `::1` by default), both ECDSA P-256. The CA is what the developer trusts once;
/// the leaf is what the HTTPS listener serves.
public enum DevCertificates {
    public struct Issued: Sendable {
        public var caCertificatePEM: String
        public var caKeyPEM: String
        public var leafCertificatePEM: String
        public var leafKeyPEM: String
    }

    /// The file names written by ``write(to:names:)``, inside the output directory.
    public static let caCertificateFile = "ca.pem"
    public static let caKeyFile = "ca-key.pem"
    public static let leafCertificateFile = "localhost.pem"
    public static let leafKeyFile = "localhost-key.pem"
    public static let defaultNames = ["localhost", "127.0.0.1", "::1"]

    /// Makes a fresh CA and a leaf for `names` (DNS names or IP literals) signed by it.
    public static func issue(names: [String], now: Date = Date()) throws -> Issued {
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName {
            OrganizationName("gateway development CA")
            CommonName("gateway dev CA \(shortStamp(now))")
        }
        let caKeyID = keyIdentifier(caKey.publicKey)
        let ca = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(caKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(10 * 365 * 86400),
            issuer: caName,
            subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(keyIdentifier: caKeyID)
            },
            issuerPrivateKey: .init(caKey))

        let leafKey = P256.Signing.PrivateKey()
        let leafName = try DistinguishedName {
            OrganizationName("gateway development certificate")
            CommonName(names.first ?? "localhost")
        }
        let sans = try names.map(generalName(for:))
        // 820 days: under the 825 that Apple platforms (and testssl.sh) accept for a TLS server certificate, counting
        // the hour of back-dating.
        let leaf = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(leafKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(820 * 86400),
            issuer: caName,
            subject: leafName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames(sans)
                SubjectKeyIdentifier(keyIdentifier: keyIdentifier(leafKey.publicKey))
                AuthorityKeyIdentifier(keyIdentifier: caKeyID)
            },
            issuerPrivateKey: .init(caKey))
        return Issued(
            caCertificatePEM: try ca.serializeAsPEM().pemString + "\n",
            caKeyPEM: caKey.pemRepresentation + "\n",
            leafCertificatePEM: try leaf.serializeAsPEM().pemString + "\n",
            leafKeyPEM: leafKey.pemRepresentation + "\n")
    }

    /// Issues and writes the four PEM files into `directory` (created if missing); keys get mode 0600.
    /// Returns the paths written.
    @discardableResult
    public static func write(to directory: String, names: [String]) throws -> [String] {
        let issued = try issue(names: names)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let files: [(String, String, Int16)] = [
            (caCertificateFile, issued.caCertificatePEM, 0o644),
            (caKeyFile, issued.caKeyPEM, 0o600),
            (leafCertificateFile, issued.leafCertificatePEM, 0o644),
            (leafKeyFile, issued.leafKeyPEM, 0o600),
        ]
        var written: [String] = []
        for (name, text, mode) in files {
            let path = (directory as NSString).appendingPathComponent(name)
            try PEMFiles.writeFile(path: path, contents: text, mode: mode)
            written.append(path)
        }
        return written
    }

    /// An IP literal becomes an `iPAddress` SAN, anything else a `dNSName`.
    static func generalName(for name: String) throws -> GeneralName {
        if let bytes = IPLiteral.bytes(name) {
            return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes)))
        }
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-.*".contains($0)) }) else {
            throw TLSFileError(path: name, reason: "'\(name)' is neither a host name nor an IP address")
        }
        return .dnsName(name.lowercased())
    }

    static func keyIdentifier(_ key: P256.Signing.PublicKey) -> ArraySlice<UInt8> {
        ArraySlice(Insecure.SHA1.hash(data: key.x963Representation))
    }

    private static func shortStamp(_ date: Date) -> String {
        String(Int(date.timeIntervalSince1970), radix: 36)
    }
}

/// IPv4 / IPv6 literal → network bytes, via inet_pton.
enum IPLiteral {
    static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}
