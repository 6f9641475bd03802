import GatewayRedis
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// Collects what a subscriber delivers.
final class Inbox: Sendable {
    private let box = NIOLockedValueBox<[(channel: String, payload: String)]>([])
    let reconnects = NIOLockedValueBox(0)

    func append(_ channel: String, _ payload: ByteBuffer) {
        box.withLockedValue { $0.append((channel, String(buffer: payload))) }
    }

    var messages: [String] { box.withLockedValue { $0.map { "\($0.channel)=\($0.payload)" } } }
}

@Suite(.serialized) struct RedisSubscriberTests {
    private func withSubscriber(
        url: String,
        _ body: (RedisSubscriber, Inbox, RedisClient, any EventLoop) async throws -> Void
    ) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        var configuration = try RedisConfiguration(url: url, commandTimeout: .milliseconds(500))
        configuration.maximumReconnectDelay = .milliseconds(200)
        let inbox = Inbox()
        let subscriber = RedisSubscriber(configuration: configuration, eventLoop: group.next(),
                                         logger: TestSupport.logger) { channel, payload in inbox.append(channel, payload) }
        subscriber.onReconnect { inbox.reconnects.withLockedValue { $0 += 1 } }
        subscriber.start()
        let publisher = RedisClient(configuration: configuration, group: group, logger: TestSupport.logger)
        publisher.start()
        let loop = group.next()
        do {
            try await publisher.waitUntilConnected(on: loop, timeout: .seconds(5)).get()
            try await subscriber.waitUntilConnected(timeout: .seconds(5)).get()
            try await body(subscriber, inbox, publisher, loop)
        } catch {
            await subscriber.shutdown()
            await publisher.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
        await subscriber.shutdown()
        await publisher.shutdown()
        try await group.shutdownGracefully()
    }

    /// Publishes until `expected` shows up (subscriptions are applied asynchronously) or gives up.
    private func publishUntilReceived(_ publisher: RedisClient, on loop: any EventLoop, channel: String, payload: String,
                                      inbox: Inbox, expected: String) async throws -> Bool {
        try await TestSupport.eventually { () async throws -> Bool in
            _ = try await publisher.send(["PUBLISH", channel, payload], on: loop).get()
            try await Task.sleep(for: .milliseconds(20))
            return inbox.messages.contains(expected)
        }
    }

    @Test func deliversMessagesAndUnsubscribes() async throws {
        let server = try await RedisServer.started()
        try await withSubscriber(url: server.url) { subscriber, inbox, publisher, loop async throws in
            #expect(subscriber.isConnected)
            subscriber.subscribe("news")
            subscriber.subscribe("news")  // idempotent
            #expect(try await publishUntilReceived(publisher, on: loop, channel: "news", payload: "hello",
                                                   inbox: inbox, expected: "news=hello"))
            // Exactly one subscription on the server despite two subscribe calls.
            let numsub = try await publisher.send(["PUBSUB", "NUMSUB", "news"], on: loop).get()
            #expect(numsub.array?.last?.int == 1)
            // Binary payloads arrive intact, in order.
            for i in 0..<20 { _ = try await publisher.send(["PUBLISH", "news", "m\(i)"], on: loop).get() }
            #expect(await TestSupport.eventually { inbox.messages.contains("news=m19") })
            let ordered = inbox.messages.filter { $0.hasPrefix("news=m") }
            #expect(ordered == (0..<20).map { "news=m\($0)" })

            subscriber.unsubscribe("news")
            #expect(try await TestSupport.eventually { () async throws -> Bool in
                try await publisher.send(["PUBSUB", "NUMSUB", "news"], on: loop).get().array?.last?.int == 0
            })
            let before = inbox.messages.count
            #expect(try await publisher.send(["PUBLISH", "news", "after"], on: loop).get() == .integer(0))
            try await Task.sleep(for: .milliseconds(50))
            #expect(inbox.messages.count == before)
        }
        await server.destroy()
    }

    @Test func patternSubscriptionsGetConcreteChannel() async throws {
        let server = try await RedisServer.started()
        try await withSubscriber(url: server.url) { subscriber, inbox, publisher, loop async throws in
            subscriber.psubscribe("chat:*")
            #expect(try await publishUntilReceived(publisher, on: loop, channel: "chat:42", payload: "yo",
                                                   inbox: inbox, expected: "chat:42=yo"))
            subscriber.punsubscribe("chat:*")
            #expect(try await TestSupport.eventually { () async throws -> Bool in
                try await publisher.send(["PUBSUB", "NUMPAT"], on: loop).get() == .integer(0)
            })
        }
        await server.destroy()
    }

    @Test func resubscribesAfterServerRestart() async throws {
        let server = try await RedisServer.started()
        try await withSubscriber(url: server.url) { subscriber, inbox, publisher, loop async throws in
            subscriber.subscribe("a")
            subscriber.psubscribe("p:*")
            #expect(try await publishUntilReceived(publisher, on: loop, channel: "a", payload: "1",
                                                   inbox: inbox, expected: "a=1"))
            #expect(inbox.reconnects.withLockedValue { $0 } == 1)
            await server.stop()
            #expect(await TestSupport.eventually { !subscriber.isConnected })
            subscriber.subscribe("b")  // while down: applied on reconnect
            try await server.start()
            try await subscriber.waitUntilConnected(timeout: .seconds(5)).get()
            try await publisher.waitUntilConnected(on: loop, timeout: .seconds(5)).get()
            #expect(inbox.reconnects.withLockedValue { $0 } == 2)
            // Subscriptions are restored before the connection counts as up: no retry loop needed.
            #expect(try await publisher.send(["PUBLISH", "a", "2"], on: loop).get() == .integer(1))
            #expect(try await publisher.send(["PUBLISH", "b", "3"], on: loop).get() == .integer(1))
            #expect(try await publisher.send(["PUBLISH", "p:x", "4"], on: loop).get() == .integer(1))
            #expect(await TestSupport.eventually {
                Set(inbox.messages).isSuperset(of: ["a=2", "b=3", "p:x=4"])
            })
        }
        await server.destroy()
    }
}
