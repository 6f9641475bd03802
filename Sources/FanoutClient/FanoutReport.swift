/// The result of a run as the one JSON line `fanout-client` prints.
///
/// `deliveries_per_s` is delivered / (first publish → last delivery), so a gateway that falls behind stretches the
/// window instead of looking as fast as the publisher.
struct FanoutReport {
    var options: FanoutOptions
    var sent: Int
    var publishSeconds: Double
    var snapshot: LoopStats.Snapshot
    /// Seconds from the first publish to the last delivery.
    var windowSeconds: Double
    /// CPU time this process used from the first publish to the report (includes the drain wait's polling).
    var cpuSeconds: Double

    static func percentile(_ sorted: [UInt64], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let index = min(sorted.count - 1, Int(p * Double(sorted.count)))
        return Double(sorted[index]) / 1e6
    }

    /// One JSON object (hand-written: every value is a number).
    var jsonLine: String {
        let expected = options.expectedDeliveries(sent: sent)
        let samples = snapshot.latencySamples.sorted()
        func number(_ value: Double, _ digits: Int = 3) -> String {
            guard value.isFinite else { return "null" }
            var scale = 1.0
            for _ in 0..<digits { scale *= 10 }
            let rounded = (value * scale).rounded() / scale
            return "\(rounded)"
        }
        let fields: [(String, String)] = [
            ("subscribers", "\(options.subscribers)"),
            ("ports", "\(options.ports.count)"),
            ("rooms", "\(options.rooms)"),
            ("idle", "\(options.idle)"),
            ("rate", number(options.rate)),
            ("duration_s", number(publishSeconds)),
            ("sent", "\(sent)"),
            ("expected", "\(expected)"),
            ("delivered", "\(snapshot.delivered)"),
            ("delivered_pct", number(expected > 0 ? 100 * Double(snapshot.delivered) / Double(expected) : .nan, 2)),
            ("offered_per_s", number(options.rate * Double(options.subscribers) / Double(options.rooms), 0)),
            ("deliveries_per_s", number(windowSeconds > 0 ? Double(snapshot.delivered) / windowSeconds : .nan, 0)),
            ("window_s", number(windowSeconds)),
            ("p50_ms", number(Self.percentile(samples, 0.50))),
            ("p99_ms", number(Self.percentile(samples, 0.99))),
            ("max_ms", number(samples.last.map { Double($0) / 1e6 } ?? .nan)),
            ("latency_samples", "\(samples.count)"),
            ("min_per_subscriber", "\(snapshot.minPerSubscriber == .max ? 0 : snapshot.minPerSubscriber)"),
            ("max_per_subscriber", "\(snapshot.maxPerSubscriber)"),
            ("closed_early", "\(snapshot.closedEarly)"),
            ("closed_1013", "\(snapshot.slowConsumerCloses)"),
            ("error_frames", "\(snapshot.errorFrames)"),
            ("cpu_s", number(cpuSeconds)),
        ]
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }
}
