import Foundation
import NIOSSL
import X509

/// A certificate or key file that could not be used; the message names the file, so a reload that refuses it
/// says which one.
public struct TLSFileError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

/// Reading PEM certificates and keys with errors that name the file, and writing key files with a mode.
public enum PEMFiles {
    public static func readText(_ path: String) throws(TLSFileError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw TLSFileError(path: path, reason: exists ? "cannot be read (permissions?)" : "no such file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TLSFileError(path: path, reason: "is not a PEM text file")
        }
        return text
    }

    /// A certificate chain (leaf first) from a PEM file, for NIOSSL and parsed by swift-certificates (SANs, expiry).
    public static func certificateChain(_ path: String) throws(TLSFileError) -> [NIOSSLCertificate] {
        let text = try readText(path)
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(Array(text.utf8))
        } catch {
            throw TLSFileError(path: path, reason: "is not a PEM certificate (\(error))")
        }
        guard !chain.isEmpty else { throw TLSFileError(path: path, reason: "contains no PEM certificate") }
        return chain
    }

    public static func privateKey(_ path: String) throws(TLSFileError) -> NIOSSLPrivateKey {
        let text = try readText(path)
        do {
            return try NIOSSLPrivateKey(bytes: Array(text.utf8), format: .pem)
        } catch {
            throw TLSFileError(path: path, reason: "is not a PEM private key (\(error))")
        }
    }

    /// The X509 view of a NIOSSL certificate.
    public static func parsed(_ certificate: NIOSSLCertificate, path: String) throws(TLSFileError) -> Certificate {
        do {
            return try Certificate(derEncoded: certificate.toDERBytes())
        } catch {
            throw TLSFileError(path: path, reason: "certificate cannot be parsed (\(error))")
        }
    }

    /// Writes `contents` atomically with `mode` (the temporary file already has the mode, so a key is never
    /// readable by others, not even briefly).
    public static func writeFile(path: String, contents: String, mode: Int16) throws {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode_t(mode))
        guard fd >= 0 else { throw TLSFileError(path: path, reason: "cannot be written: \(String(cString: strerror(errno)))") }
        let bytes = Array(contents.utf8)
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        fchmod(fd, mode_t(mode))
        close(fd)
        guard written == bytes.count, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw TLSFileError(path: path, reason: "cannot be written: \(String(cString: strerror(errno)))")
        }
    }
}
