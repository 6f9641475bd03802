import Foundation
import NIOSSL
import Testing
import SwiftASN1
import X509

@testable import GatewayTLS

@Suite struct DevCertificatesTests {
    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "gateway-tls-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func leafIsSignedByTheCAForTheNames() throws {
        let issued = try DevCertificates.issue(names: ["localhost", "127.0.0.1", "::1"])
        let ca = try Certificate(pemEncoded: issued.caCertificatePEM)
        let leaf = try Certificate(pemEncoded: issued.leafCertificatePEM)
        #expect(leaf.issuer == ca.subject)
        #expect(ca.subject == ca.issuer)
        #expect(try ca.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(try leaf.extensions.basicConstraints == .notCertificateAuthority)
        #expect(ca.publicKey.isValidSignature(leaf.signature, for: leaf))
        let sans = try #require(try leaf.extensions.subjectAlternativeNames)
        #expect(sans.contains(.dnsName("localhost")))
        #expect(sans.contains(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))))
        #expect(sans.contains(.ipAddress(ASN1OctetString(contentBytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]))))
        #expect(leaf.signatureAlgorithm == .ecdsaWithSHA256)
        #expect(leaf.notValidAfter > Date().addingTimeInterval(800 * 86400))
        // BoringSSL accepts the pair as a server identity.
        _ = try NIOSSLContext(configuration: .makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(issued.leafCertificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(issued.leafKeyPEM.utf8), format: .pem))))
    }

    @Test func writesFilesWithPrivateKeysMode0600() throws {
        let directory = Self.temporaryDirectory() + "/nested/certs"
        let paths = try DevCertificates.write(to: directory, names: ["dev.test"])
        #expect(paths.count == 4)
        for (name, mode) in [("ca.pem", 0o644), ("ca-key.pem", 0o600), ("localhost.pem", 0o644), ("localhost-key.pem", 0o600)] {
            let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/" + name)
            #expect((attributes[.posixPermissions] as? Int) == mode, "\(name)")
        }
        let leaf = try Certificate(pemEncoded: String(contentsOfFile: directory + "/localhost.pem", encoding: .utf8))
        #expect(try leaf.extensions.subjectAlternativeNames == SubjectAlternativeNames([.dnsName("dev.test")]))
    }

    @Test func refusesNamesThatAreNeitherHostsNorIPs() {
        #expect(throws: TLSFileError.self) { try DevCertificates.issue(names: ["bad name"]) }
        #expect(throws: TLSFileError.self) { try DevCertificates.issue(names: [""]) }
    }

    @Test func ipLiterals() {
        #expect(IPLiteral.bytes("10.0.0.1") == [10, 0, 0, 1])
        #expect(IPLiteral.bytes("::1")?.count == 16)
        #expect(IPLiteral.bytes("localhost") == nil)
        #expect(IPLiteral.bytes("1.2.3") == nil)
    }
}
