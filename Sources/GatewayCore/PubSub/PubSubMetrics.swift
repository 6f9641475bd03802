import CoreMetrics

/// `gateway_pubsub_messages_total{direction}`: `published` (accepted from clients and the admin API), `received`
/// (messages the hub got for fan-out, from Redis or a local publish), `delivered` (frames written to subscribers),
/// `dropped` (Redis payloads that were not JSON). (`gateway_pubsub_slow_consumers_total`, connections closed with 1013, is
/// counted by the socket handler.)
struct PubSubMetrics: Sendable {
    let published = CoreMetrics.Counter(label: "gateway_pubsub_messages_total", dimensions: [("direction", "published")])
    let received = CoreMetrics.Counter(label: "gateway_pubsub_messages_total", dimensions: [("direction", "received")])
    let delivered = CoreMetrics.Counter(label: "gateway_pubsub_messages_total", dimensions: [("direction", "delivered")])
    let dropped = CoreMetrics.Counter(label: "gateway_pubsub_messages_total", dimensions: [("direction", "dropped")])

    /// `gateway_pubsub_history_reads_total`: history reads from the store (recoveries, history frames, admin).
    static let historyReads = CoreMetrics.Counter(label: "gateway_pubsub_history_reads_total")

    /// `gateway_pubsub_recoveries_total{result}`: subscribes with `since` (and gap repairs): `recovered` or `failed`.
    static func recovery(_ recovered: Bool) -> CoreMetrics.Counter {
        CoreMetrics.Counter(label: "gateway_pubsub_recoveries_total", dimensions: [("result", recovered ? "recovered" : "failed")])
    }
}
