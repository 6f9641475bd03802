import GatewayConfig
import GatewayTLS
import NIOConcurrencyHelpers

/// One bound listener at run time: its settings and, on HTTPS listeners, the reloadable TLS context.
final class ListenerRuntime: Sendable {
    let settings: ListenerSettings
    let tls: ServerTLSContext?

    init(settings: ListenerSettings, tls: ServerTLSContext?) {
        self.settings = settings
        self.tls = tls
    }
}

/// The listeners of the process. Addresses are fixed at start; certificate files are re-read on every reload.
final class ListenerSet: Sendable {
    let listeners: [ListenerRuntime]

    /// Loads every listener's certificates; errors name the config position and the file.
    init(server: ServerSettings) throws(ListenerTLSErrors) {
        var runtimes: [ListenerRuntime] = []
        var errors: [String] = []
        for settings in server.effectiveListeners {
            var context: ServerTLSContext? = nil
            if let tls = settings.tls {
                do {
                    context = try ServerTLSContext(spec: Self.spec(tls, http2: settings.servesHTTP2))
                } catch {
                    errors.append(Self.message(error, tls: tls))
                }
            }
            runtimes.append(ListenerRuntime(settings: settings, tls: context))
        }
        guard errors.isEmpty else { throw ListenerTLSErrors(messages: errors) }
        listeners = runtimes
    }

    /// Validation only (`gateway check`, reload): every TLS listener's files load.
    static func validate(_ server: ServerSettings) -> [String] {
        var errors: [String] = []
        for settings in server.effectiveListeners {
            guard let tls = settings.tls else { continue }
            do {
                _ = try ServerTLSContext(spec: spec(tls, http2: settings.servesHTTP2))
            } catch {
                errors.append(message(error, tls: tls))
            }
        }
        return errors
    }

    /// Re-reads the certificate files of listeners whose address is unchanged. All or nothing: when any file fails,
    /// nothing is swapped and the messages come back.
    func reload(server: ServerSettings) -> [String] {
        let byAddress = Dictionary(
            server.effectiveListeners.map { ($0.address.description, $0) }, uniquingKeysWith: { first, _ in first })
        var prepared: [(ServerTLSContext, ServerTLSSpec)] = []
        var errors: [String] = []
        for runtime in listeners {
            guard let context = runtime.tls, let listener = byAddress[runtime.settings.address.description],
                let next = listener.tls
            else { continue }
            // ALPN stays what the listener was bound with (the pipeline layout is fixed at start).
            let spec = Self.spec(next, http2: runtime.settings.servesHTTP2)
            do {
                _ = try ServerTLSContext(spec: spec)
                prepared.append((context, spec))
            } catch {
                errors.append(Self.message(error, tls: next))
            }
        }
        guard errors.isEmpty else { return errors }
        for (context, spec) in prepared {
            // Loaded a moment ago; a file replaced in between is reported like any other failure.
            do { try context.reload(spec: spec) } catch { errors.append(Self.message(error, tls: nil)) }
        }
        return errors
    }

    static func spec(_ tls: ListenerTLSSettings, http2: Bool) -> ServerTLSSpec {
        ServerTLSSpec(
            certificates: tls.certificates.map { .init(certificate: $0.certificate, key: $0.key) },
            minimumVersion: tls.minVersion == .tls13 ? .tls13 : .tls12,
            clientCA: tls.clientCA,
            applicationProtocols: http2 ? ["h2", "http/1.1"] : ["http/1.1"])
    }

    static func message(_ error: TLSFileError, tls: ListenerTLSSettings?) -> String {
        let location = tls?.certificates.first(where: { $0.certificate == error.path || $0.key == error.path })?.location
            ?? tls?.location
        return (location.map { "\($0): " } ?? "") + "tls: \(error.description)"
    }
}

struct ListenerTLSErrors: Error, CustomStringConvertible {
    var messages: [String]
    var description: String { messages.joined(separator: "\n") }
}

/// For `gateway check`: the certificate problems of a configuration (each names its file), empty when all load.
public enum ListenerCertificateCheck {
    public static func problems(_ configuration: GatewayConfiguration) -> [String] {
        var problems = ListenerSet.validate(configuration.server) + UpstreamTLS.contexts(for: configuration).errors
        if let url = configuration.store.redisURL, url.lowercased().hasPrefix("rediss://") {
            do {
                _ = try ClientTLSContext(spec: ClientTLSSpec(configuration.store.tls))
            } catch {
                problems.append((configuration.store.tls?.location.map { "\($0): " } ?? "") + "store.tls: \(error)")
            }
        }
        return problems
    }
}

extension ClientTLSSpec {
    init(_ files: ClientTLSFiles?, insecureSkipVerify: Bool = false) {
        self.init(
            caFile: files?.caFile, clientCertificate: files?.clientCert, clientKey: files?.clientKey,
            serverName: files?.serverName, insecureSkipVerify: insecureSkipVerify)
    }
}
