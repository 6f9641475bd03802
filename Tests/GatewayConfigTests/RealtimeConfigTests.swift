import Testing

@testable import GatewayConfig

/// SPEC §9 keys: `history`, `presence`, `publish_rate`, `sse`.
@Suite struct RealtimeConfigTests {
    let sessions = """
        sessions:
          cookie: gw
          secret_env: S

        """

    @Test func specExampleDecodes() throws {
        let config = try ConfigLoader.load(
            yaml: baseUpstream + sessions + """
                routes:
                  - name: events
                    match: { path: /ws }
                    session: optional
                    pubsub:
                      subscribe: ["public:*", "chat:*", "user:{user}"]
                      publish: ["chat:*"]
                      history: { channels: ["chat:*", "user:{user}"], size: 100, ttl: 10m }
                      presence: ["chat:*"]
                      publish_rate: { limit: 20, window: 1s, key: session_user }
                  - name: events-sse
                    match: { path: /events }
                    session: optional
                    sse: { subscribe: ["public:*", "user:{user}"] }
                """, path: "/cfg/gateway.yaml", environment: ["S": String(repeating: "k", count: 40)])
        let ws = try #require(config.routes[0].pubsub)
        #expect(ws.history == PubSubHistorySettings(channels: ["chat:*", "user:{user}"], size: 100, ttl: .seconds(600)))
        #expect(ws.presence == ["chat:*"])
        #expect(ws.publishRate == PubSubPublishRate(limit: 20, window: .seconds(1), key: .sessionUser))
        #expect(ws.transport == .websocket)
        let sse = try #require(config.routes[1].pubsub)
        #expect(sse.transport == .sse && sse.subscribe == ["public:*", "user:{user}"] && sse.sseKeepalive == .seconds(15))
        #expect(config.routes[1].upstream == nil)
    }

    @Test func badValuesNameFileLineAndKey() {
        let lines = errorLines(baseUpstream + """
            routes:
              - name: a
                match: { path: /ws }
                pubsub:
                  subscribe: ["chat:*"]
                  history: { channels: ["chat:*"], size: 0, ttl: 10m }
                  publish_rate: { limit: 5, window: 1s, key: everyone }
              - name: b
                match: { path: /b }
                sse: { subscribe: ["x"], publish: ["x"] }
              - name: c
                match: { path: /c }
                pubsub: { subscribe: ["x"] }
                sse: { subscribe: ["x"] }
              - name: d
                match: { path: /d }
                pubsub: { subscribe: ["x"], history: { size: 5 } }
            """)
        #expect(lines.contains { $0.hasPrefix("/cfg/gateway.yaml:9:46:") && $0.contains("'size'") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("/cfg/gateway.yaml:10:50:") && $0.contains("'key'") && $0.contains("connection") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("/cfg/gateway.yaml:13:30:") && $0.contains("publish") }, "\(lines)")
        #expect(lines.contains { $0.contains("'sse' and 'pubsub' cannot be combined") }, "\(lines)")
        #expect(lines.contains { $0.contains("history is missing required key 'channels'") }, "\(lines)")
    }
}
