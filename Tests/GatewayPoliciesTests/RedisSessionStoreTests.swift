import GatewayRedis
import NIOPosix
import Testing

@testable import GatewayPolicies

@Suite(.serialized) struct RedisSessionStoreTests {
    @Test func createLookupDeleteAndDeleteAll() async throws {
        let server = try RedisTestServer.start()
        defer { server.stop() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let clientA = try await server.makeClient(group: group)
        let clientB = try await server.makeClient(group: group)
        let prefix = RedisTestServer.uniquePrefix()
        let expiry = SessionExpiry(idle: 600_000, absolute: 3_600_000)
        let storeA = RedisSessionStore(client: clientA, keyPrefix: prefix, expiry: expiry)
        let storeB = RedisSessionStore(client: clientB, keyPrefix: prefix, expiry: expiry)
        let loop = group.next()

        let id = try await storeA.create(data: #"{"user":"ann","role":"admin"}"#, user: "ann", on: loop).get()
        // Visible from the other instance at once.
        let session = try #require(try await storeB.lookup(id: id, on: loop).get())
        #expect(session.data == #"{"user":"ann","role":"admin"}"#)
        #expect(session.user == "ann")
        #expect(session.createdAt == session.lastSeen)
        let ttl = try await clientA.send(["PTTL", prefix + "sess:" + id], on: loop).get().int ?? 0
        #expect(ttl > 590_000 && ttl <= 600_000)

        let anonymous = try await storeA.create(data: "{}", user: nil, on: loop).get()
        #expect(try await storeA.lookup(id: anonymous, on: loop).get()?.user == nil)
        #expect(try await storeA.lookup(id: SessionCookieCodec.newSessionID(), on: loop).get() == nil)
        #expect(try await storeA.lookup(id: "junk", on: loop).get() == nil)

        // Ending it on B ends it on A.
        #expect(try await storeB.delete(id: id, on: loop).get())
        #expect(try await storeA.lookup(id: id, on: loop).get() == nil)
        #expect(try await !storeA.delete(id: id, on: loop).get())

        let a = try await storeA.create(data: "{}", user: "bob", on: loop).get()
        let b = try await storeB.create(data: "{}", user: "bob", on: loop).get()
        let other = try await storeA.create(data: "{}", user: "carol", on: loop).get()
        _ = try await storeA.delete(id: a, on: loop).get()
        #expect(try await storeB.deleteAll(user: "bob", on: loop).get() == 1)
        #expect(try await storeA.lookup(id: b, on: loop).get() == nil)
        #expect(try await storeA.lookup(id: other, on: loop).get() != nil)
        #expect(try await storeA.deleteAll(user: "bob", on: loop).get() == 0)

        let rotated = try await storeA.rotate(oldID: other, data: "{}", user: "carol", on: loop).get()
        #expect(try await storeA.lookup(id: other, on: loop).get() == nil)
        #expect(try await storeA.lookup(id: rotated, on: loop).get() != nil)

        await clientA.shutdown()
        await clientB.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func idleSlidesAbsoluteDoesNot() async throws {
        let server = try RedisTestServer.start()
        defer { server.stop() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client = try await server.makeClient(group: group)
        let store = RedisSessionStore(
            client: client, keyPrefix: RedisTestServer.uniquePrefix(), expiry: SessionExpiry(idle: 1_000, absolute: 2_500))
        let loop = group.next()

        let id = try await store.create(data: "{}", user: nil, on: loop).get()
        for _ in 0..<3 {  // used every 600 ms: survives past the 1 s idle timeout
            try await Task.sleep(for: .milliseconds(600))
            #expect(try await store.lookup(id: id, on: loop).get() != nil)
        }
        try await Task.sleep(for: .milliseconds(800))  // ≥ 2.6 s after creation: absolute deadline passed
        #expect(try await store.lookup(id: id, on: loop).get() == nil)

        let idle = try await store.create(data: "{}", user: nil, on: loop).get()
        try await Task.sleep(for: .milliseconds(1_200))
        #expect(try await store.lookup(id: idle, on: loop).get() == nil)

        await client.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func storeDownSurfacesDistinctError() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let client = RedisClient(
            configuration: try RedisConfiguration(url: "unix:///nonexistent/gw-policies.sock"), group: group,
            logger: .init(label: "down"))
        client.start()
        let store = RedisSessionStore(client: client, keyPrefix: "gw:", expiry: SessionExpiry(idle: 1000, absolute: 2000))
        await #expect(throws: SessionStoreUnavailable.self) {
            try await store.lookup(id: SessionCookieCodec.newSessionID(), on: group.next()).get()
        }
        await client.shutdown()
        try await group.shutdownGracefully()
    }
}
