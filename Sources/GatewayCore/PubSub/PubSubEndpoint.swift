/// Pub/sub WebSocket routes are served through this (see PubSub/).
protocol PubSubEndpoint: Sendable {}
