import NIOCore

extension TimeAmount {
    /// Converts a configuration `Duration` (what GatewayConfig stores) to NIO's `TimeAmount`.
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000)
    }

    var seconds: Double { Double(nanoseconds) / 1_000_000_000 }
}
