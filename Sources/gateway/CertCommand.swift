import ArgumentParser
import Foundation
import GatewayTLS

/// `gateway cert …`: certificate helpers.
struct Cert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Certificate helpers.",
        subcommands: [CertDev.self])
}

/// `gateway cert dev [--out DIR] [--name NAME …]`: a local CA and a leaf certificate for development HTTPS.
struct CertDev: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Write a local CA and a certificate for localhost, 127.0.0.1 and ::1 (ECDSA P-256).")

    @Option(help: "Directory for ca.pem, ca-key.pem, localhost.pem and localhost-key.pem.")
    var out: String = "certs"

    @Option(name: .customLong("name"), help: "A DNS name or IP address for the certificate (repeatable); replaces the defaults.")
    var names: [String] = []

    func run() throws {
        let names = self.names.isEmpty ? DevCertificates.defaultNames : self.names
        do {
            try DevCertificates.write(to: out, names: names)
        } catch {
            FileHandle.standardError.write(Data("gateway cert dev: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let ca = (out as NSString).appendingPathComponent(DevCertificates.caCertificateFile)
        let leaf = (out as NSString).appendingPathComponent(DevCertificates.leafCertificateFile)
        let key = (out as NSString).appendingPathComponent(DevCertificates.leafKeyFile)
        print("""
            Wrote a development CA and a certificate for \(names.joined(separator: ", ")):
              CA certificate    \(ca)
              CA key            \((out as NSString).appendingPathComponent(DevCertificates.caKeyFile))  (mode 0600, keep it private)
              certificate       \(leaf)
              key               \(key)  (mode 0600)

            Serve it (conf/gateway.yaml):
              server:
                listeners:
                  - address: 127.0.0.1:8443
                    tls:
                      certificates:
                        - { cert: \(leaf), key: \(key) }

            Try it without trusting anything system-wide:
              curl --cacert \(ca) https://localhost:8443/

            Trust the CA on this machine (Debian/Ubuntu):
              sudo cp \(ca) /usr/local/share/ca-certificates/gateway-dev-ca.crt
              sudo update-ca-certificates
            Firefox keeps its own trust store: Settings → Privacy & Security → Certificates → View Certificates →
            Authorities → Import \(ca). Chrome on Linux uses the NSS database:
              certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n gateway-dev-ca -i \(ca)
            Anyone holding ca-key.pem can mint certificates your machine trusts: never share it, delete it when done.
            """)
    }
}
