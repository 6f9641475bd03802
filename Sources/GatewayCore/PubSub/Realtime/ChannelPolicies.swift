import GatewayConfig

/// Which channels keep history, across all routes of one configuration (SPEC §9).
///
/// History is a property of the CHANNEL, not of the route a message came through: a message published on a history
/// channel from a route without `history`, or with `POST /publish`, must still get its offset, or subscribers of the
/// history route would see a hole. So the hub looks the channel up here. `{user}` counts as a wildcard (the
/// publisher's user does not decide whether a channel keeps history); the first matching route's limits win.
struct ChannelPolicies: Sendable {
    private let history: [(pattern: String, limits: HistoryLimits)]

    init(configuration: GatewayConfiguration) {
        self.init(routes: configuration.routes)
    }

    init(routes: [RouteSettings]) {
        var history: [(String, HistoryLimits)] = []
        for route in routes {
            guard let settings = route.pubsub?.history else { continue }
            let limits = HistoryLimits(size: settings.size, ttlMilliseconds: Self.milliseconds(settings.ttl))
            for pattern in settings.channels { history.append((pattern.replacingOccurrences("{user}", "*"), limits)) }
        }
        self.history = history
    }

    static let empty = ChannelPolicies(routes: [])

    var hasHistory: Bool { !history.isEmpty }

    /// The limits of `channel` when it keeps history.
    func historyLimits(for channel: String) -> HistoryLimits? {
        guard !history.isEmpty else { return nil }
        for (pattern, limits) in history where ChannelPattern.matches(pattern, channel: channel, user: nil) {
            return limits
        }
        return nil
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(seconds * 1000 + attoseconds / 1_000_000_000_000_000, 1)
    }
}

extension String {
    fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
