import GatewayConfig
import GatewayTLS
import GatewayUpstreams

/// What a proxied route needs of its upstream, resolved once when the snapshot is built (issue 11, item 4): the
/// group itself (not its name), its retries and keepalive, the affinity cookie of `balance: cookie`, and the client
/// TLS context of each `https://` replica. A request therefore looks nothing up by name and formats no string to pick
/// a replica and find its pooled connections.
///
/// The group object survives reloads that keep the upstream's name; a reload builds a new snapshot and with it new
/// `RouteUpstream`s carrying the new settings.
final class RouteUpstream: Sendable {
    let name: String
    let group: UpstreamGroup
    let retries: Int
    let keepalive: Int
    /// The cookie read and set for `balance: cookie`; nil for every other strategy.
    let affinityCookie: String?
    /// By replica URL; empty when no replica is `https://` (then nothing is looked up per request).
    private let tlsContexts: [String: ClientTLSContext]

    init(settings: UpstreamSettings, group: UpstreamGroup, tls: UpstreamTLSRegistry) {
        self.name = settings.name
        self.group = group
        self.retries = settings.retries
        self.keepalive = settings.keepalive
        self.affinityCookie = settings.balance == .cookie ? settings.affinityCookie : nil
        var contexts: [String: ClientTLSContext] = [:]
        for replica in settings.replicas where replica.tls {
            if let context = tls.context(upstream: settings.name, replica: replica.url) { contexts[replica.url] = context }
        }
        self.tlsContexts = contexts
    }

    /// Chooses a replica not in `excluding` (replica indexes) and counts the attempt as started: one lock.
    func pickAndStart<Excluded: Collection<Int>>(clientIP: String, affinityCookie: String?, excluding: Excluded) -> Pick? {
        group.pickAndStart(BalancerContext(clientIP: clientIP, affinityCookie: affinityCookie), excluding: excluding)
    }

    /// The client TLS context for `replica`, nil for plain HTTP.
    func tlsContext(for replica: Replica) -> ClientTLSContext? {
        guard replica.tls, !tlsContexts.isEmpty else { return nil }
        return tlsContexts[replica.url]
    }

    /// Resolves every upstream of `configuration` against `registry` (which must already have applied it).
    static func resolveAll(
        _ configuration: GatewayConfiguration, registry: UpstreamRegistry, tls: UpstreamTLSRegistry = .shared
    ) -> [String: RouteUpstream] {
        var resolved: [String: RouteUpstream] = [:]
        for settings in configuration.upstreams {
            guard let group = registry.group(named: settings.name) else { continue }
            resolved[settings.name] = RouteUpstream(settings: settings, group: group, tls: tls)
        }
        return resolved
    }
}
