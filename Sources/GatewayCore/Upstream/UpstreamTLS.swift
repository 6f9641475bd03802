import GatewayConfig
import GatewayTLS
import Logging

/// Builds the client TLS contexts of every `https://` replica (files read here, off the event loops) and installs
/// them in `UpstreamTLSRegistry.shared`, all or nothing.
enum UpstreamTLS {
    static func contexts(for configuration: GatewayConfiguration) -> (contexts: [String: ClientTLSContext], errors: [String]) {
        var contexts: [String: ClientTLSContext] = [:]
        var errors: [String] = []
        for upstream in configuration.upstreams where upstream.replicas.contains(where: \.tls) {
            let spec = ClientTLSSpec(upstream.tls, insecureSkipVerify: upstream.insecureSkipVerify)
            do {
                let context = try ClientTLSContext(spec: spec, alpn: ["http/1.1"])
                for replica in upstream.replicas where replica.tls {
                    contexts[UpstreamTLSRegistry.key(upstream: upstream.name, replica: replica.url)] = context
                }
            } catch {
                errors.append((upstream.tls?.location.map { "\($0): " } ?? "") + "upstream '\(upstream.name)'.tls: \(error)")
            }
        }
        return (contexts, errors)
    }

    /// Validates and installs; the messages of a refused configuration come back (nothing installed then).
    static func install(_ configuration: GatewayConfiguration, logger: Logger) -> [String] {
        let (contexts, errors) = contexts(for: configuration)
        guard errors.isEmpty else { return errors }
        UpstreamTLSRegistry.shared.replaceAll(contexts)
        for upstream in configuration.upstreams where upstream.insecureSkipVerify {
            logger.warning(
                "upstream '\(upstream.name)': insecure_skip_verify is on: replica certificates are NOT verified (development only)")
        }
        return []
    }
}
