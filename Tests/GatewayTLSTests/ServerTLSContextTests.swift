import Foundation
import NIOSSL
import Testing

@testable import GatewayTLS

@Suite struct ServerTLSContextTests {
    /// Two leaves from one dev CA in a fresh directory: `a.pem`/`a-key.pem` for a.test, `b.pem`/`b-key.pem` for
    /// *.b.test.
    static func fixture() throws -> String {
        let directory = DevCertificatesTests.temporaryDirectory()
        let a = try DevCertificates.issue(names: ["a.test"])
        let b = try DevCertificates.issue(names: ["*.b.test"])
        try PEMFiles.writeFile(path: directory + "/a.pem", contents: a.leafCertificatePEM, mode: 0o644)
        try PEMFiles.writeFile(path: directory + "/a-key.pem", contents: a.leafKeyPEM, mode: 0o600)
        try PEMFiles.writeFile(path: directory + "/b.pem", contents: b.leafCertificatePEM, mode: 0o644)
        try PEMFiles.writeFile(path: directory + "/b-key.pem", contents: b.leafKeyPEM, mode: 0o600)
        try PEMFiles.writeFile(path: directory + "/ca.pem", contents: a.caCertificatePEM, mode: 0o644)
        try PEMFiles.writeFile(path: directory + "/junk.pem", contents: "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n", mode: 0o644)
        return directory
    }

    @Test func loadsSeveralCertificatesAndAClientCA() throws {
        let dir = try Self.fixture()
        let spec = ServerTLSSpec(
            certificates: [.init(certificate: dir + "/a.pem", key: dir + "/a-key.pem"),
                           .init(certificate: dir + "/b.pem", key: dir + "/b-key.pem")],
            minimumVersion: .tls13, clientCA: dir + "/ca.pem")
        let context = try ServerTLSContext(spec: spec)
        #expect(context.spec == spec)
    }

    @Test func errorsNameTheFile() throws {
        let dir = try Self.fixture()
        func failure(_ spec: ServerTLSSpec) -> TLSFileError? {
            do { _ = try ServerTLSContext(spec: spec); return nil } catch { return error }
        }
        let missing = failure(ServerTLSSpec(certificates: [.init(certificate: dir + "/none.pem", key: dir + "/a-key.pem")]))
        #expect(missing?.path == dir + "/none.pem")
        #expect(missing?.description.contains("no such file") == true)
        let junk = failure(ServerTLSSpec(certificates: [.init(certificate: dir + "/junk.pem", key: dir + "/a-key.pem")]))
        #expect(junk?.path == dir + "/junk.pem")
        let keyAsCert = failure(ServerTLSSpec(certificates: [.init(certificate: dir + "/a.pem", key: dir + "/a.pem")]))
        #expect(keyAsCert?.path == dir + "/a.pem")
        // b's key with a's certificate: the key file is named.
        let mismatch = failure(ServerTLSSpec(certificates: [.init(certificate: dir + "/a.pem", key: dir + "/b-key.pem")]))
        #expect(mismatch?.path == dir + "/b-key.pem")
        let badCA = failure(ServerTLSSpec(
            certificates: [.init(certificate: dir + "/a.pem", key: dir + "/a-key.pem")], clientCA: dir + "/junk.pem"))
        #expect(badCA?.path == dir + "/junk.pem")
        #expect(failure(ServerTLSSpec(certificates: [])) != nil)
    }

    @Test func aFailedReloadKeepsTheOldSpec() throws {
        let dir = try Self.fixture()
        let good = ServerTLSSpec(certificates: [.init(certificate: dir + "/a.pem", key: dir + "/a-key.pem")])
        let context = try ServerTLSContext(spec: good)
        let bad = ServerTLSSpec(certificates: [.init(certificate: dir + "/junk.pem", key: dir + "/a-key.pem")])
        #expect(throws: TLSFileError.self) { try context.reload(spec: bad) }
        #expect(context.spec == good)
        let next = ServerTLSSpec(certificates: [.init(certificate: dir + "/b.pem", key: dir + "/b-key.pem")])
        try context.reload(spec: next)
        #expect(context.spec == next)
    }

    @Test func clientContextNeedsCertAndKeyTogether() throws {
        let dir = try Self.fixture()
        #expect(throws: TLSFileError.self) { try ClientTLSContext(spec: ClientTLSSpec(clientCertificate: dir + "/a.pem")) }
        #expect(throws: TLSFileError.self) { try ClientTLSContext(spec: ClientTLSSpec(caFile: dir + "/junk.pem")) }
        _ = try ClientTLSContext(spec: ClientTLSSpec(
            caFile: dir + "/ca.pem", clientCertificate: dir + "/a.pem", clientKey: dir + "/a-key.pem"))
    }

    @Test func handshakeFailureReasons() {
        #expect(HandshakeFailureReason.classify(NIOSSLError.uncleanShutdown) == "eof")
        #expect(HandshakeFailureReason.classify(TLSFileError(path: "x", reason: "WRONG_VERSION_NUMBER")) == "not_tls")
        #expect(HandshakeFailureReason.classify(TLSFileError(path: "x", reason: "PEER_DID_NOT_RETURN_A_CERTIFICATE")) == "client_certificate_missing")
        #expect(HandshakeFailureReason.classify(TLSFileError(path: "x", reason: "UNSUPPORTED_PROTOCOL")) == "protocol_version")
        #expect(HandshakeFailureReason.classify(TLSFileError(path: "x", reason: "???")) == "other")
    }
}
