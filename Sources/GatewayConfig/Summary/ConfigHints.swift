/// Advice `gateway check` prints (to stderr, prefixed `hint:`) about configurations that are valid but likely to
/// surprise under load. Never an error: the configuration still loads.
public enum ConfigHints {
    /// Below this, an active-check timeout is easily missed by a replica that is only busy.
    public static let shortCheckTimeout: Duration = .seconds(2)

    public static func hints(for config: GatewayConfiguration) -> [String] {
        var hints: [String] = []
        for upstream in config.upstreams {
            guard let health = upstream.health, health.timeout < shortCheckTimeout, upstream.panicThreshold == nil
            else { continue }
            hints.append(
                "hint: upstream '\(upstream.name)': active checks time out after \(DurationFormat.text(health.timeout)) "
                    + "and no panic_threshold is set; under load every replica can fail its checks at once and all "
                    + "requests get 503. Consider 'panic_threshold: 50%' or a longer health.timeout.")
        }
        return hints
    }
}

enum DurationFormat {
    /// `250ms`, `1s`, `1.5s`: the way durations are written in the config.
    static func text(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let millis = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        if millis % 1000 == 0 { return "\(millis / 1000)s" }
        if millis < 1000 { return "\(millis)ms" }
        return "\(Double(millis) / 1000)s"
    }
}
