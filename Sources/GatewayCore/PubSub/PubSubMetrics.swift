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
}
