import NIOSSL
import X509

/// The subject of a verified client certificate in RFC 4514 form (`CN=alice,O=Example`), or nil.
public enum ClientCertificateSubject {
    public static func subject(of certificate: NIOSSLCertificate?) -> String? {
        guard let certificate, let bytes = try? certificate.toDERBytes(),
            let parsed = try? Certificate(derEncoded: bytes)
        else { return nil }
        return parsed.subject.description
    }
}
