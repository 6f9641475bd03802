import NIOCore

/// What a pub/sub WebSocket connection needs from the process-wide hub (implemented by `PubSubHub`; a protocol so
/// the socket handler can be tested against a fake).
protocol PubSubEndpoint: AnyObject, Sendable {
    /// Starts delivering `channel` to `subscriber`. Called on `subscriber`'s event loop; idempotent per subscriber.
    /// The future (on `eventLoop`) completes when the subscription is active on the store: a message published
    /// after that reaches `subscriber`. No message of `channel` is delivered before it completes.
    func subscribe(_ channel: String, _ subscriber: any PubSubSubscriber, on eventLoop: any EventLoop)
        -> EventLoopFuture<Void>
    /// Stops delivering `channel` to `subscriber`. Called on `subscriber`'s event loop.
    func unsubscribe(_ channel: String, _ subscriber: any PubSubSubscriber, on eventLoop: any EventLoop)
    /// Publishes `data` (one JSON value, as raw text) to every subscriber of `channel` on every instance. Publishes
    /// from one event loop are delivered in call order. Fails when the store is unreachable.
    func publish(_ channel: String, data: ByteBuffer, on eventLoop: any EventLoop) -> EventLoopFuture<Void>
}

/// A local receiver of channel messages: a WebSocket connection. Loop-confined to the loop it subscribed on.
protocol PubSubSubscriber: AnyObject {
    /// Writes (without flushing) one complete, shared WebSocket frame. Never mutate `frame`.
    func deliver(_ frame: ByteBuffer)
    /// Flushes what `deliver` wrote (called once per batch of deliveries on this loop).
    func flushDeliveries()
    /// A delivery with its position (history channels) or a presence event; by default writes the shared frame.
    func deliver(_ delivery: PubSubDelivery)
}

extension PubSubSubscriber {
    func deliver(_ delivery: PubSubDelivery) { deliver(delivery.frame) }
}
