import NIOPosix
import Testing

@testable import GatewayPolicies

@Suite struct MemorySessionStoreTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()
    // idle 10 min, absolute 1 h
    let expiry = SessionExpiry(idle: 600_000, absolute: 3_600_000)

    @Test func createLookupDelete() async throws {
        let store = MemorySessionStore(expiry: expiry, clock: ManualClock().clock)
        let id = try await store.create(data: #"{"user":"ann"}"#, user: "ann", on: loop).get()
        let session = try #require(try await store.lookup(id: id, on: loop).get())
        #expect(session.data == #"{"user":"ann"}"#)
        #expect(session.user == "ann")
        #expect(try await store.delete(id: id, on: loop).get())
        #expect(try await store.lookup(id: id, on: loop).get() == nil)
        #expect(try await !store.delete(id: id, on: loop).get())
        #expect(try await store.lookup(id: "unknown", on: loop).get() == nil)
    }

    @Test func idleTimeoutSlides() async throws {
        let clock = ManualClock()
        let store = MemorySessionStore(expiry: expiry, clock: clock.clock)
        let id = try await store.create(data: "{}", user: nil, on: loop).get()
        // Use it every 5 minutes for 50 minutes: stays alive.
        for _ in 0..<10 {
            clock.advance(seconds: 300)
            #expect(try await store.lookup(id: id, on: loop).get() != nil)
        }
        clock.advance(seconds: 600)
        #expect(try await store.lookup(id: id, on: loop).get() == nil)
    }

    @Test func refreshIsThrottled() async throws {
        let clock = ManualClock()
        let store = MemorySessionStore(expiry: expiry, clock: clock.clock)
        let id = try await store.create(data: "{}", user: nil, on: loop).get()
        let created = try #require(try await store.lookup(id: id, on: loop).get())
        clock.advance(seconds: 30)  // < idle/10 = 60 s: no refresh
        #expect(try await store.lookup(id: id, on: loop).get()?.lastSeen == created.lastSeen)
        clock.advance(seconds: 31)
        #expect(try await store.lookup(id: id, on: loop).get()?.lastSeen == created.lastSeen + 61_000)
    }

    @Test func absoluteTimeoutDoesNotSlide() async throws {
        let clock = ManualClock()
        let store = MemorySessionStore(expiry: expiry, clock: clock.clock)
        let id = try await store.create(data: "{}", user: nil, on: loop).get()
        for _ in 0..<11 {
            clock.advance(seconds: 300)
            #expect(try await store.lookup(id: id, on: loop).get() != nil)
        }
        clock.advance(seconds: 300)  // 60 minutes since creation
        #expect(try await store.lookup(id: id, on: loop).get() == nil)
    }

    @Test func deleteAllOfUser() async throws {
        let store = MemorySessionStore(expiry: expiry, clock: ManualClock().clock)
        let a = try await store.create(data: "{}", user: "ann", on: loop).get()
        let b = try await store.create(data: "{}", user: "ann", on: loop).get()
        let c = try await store.create(data: "{}", user: "bob", on: loop).get()
        #expect(try await store.deleteAll(user: "ann", on: loop).get() == 2)
        #expect(try await store.lookup(id: a, on: loop).get() == nil)
        #expect(try await store.lookup(id: b, on: loop).get() == nil)
        #expect(try await store.lookup(id: c, on: loop).get() != nil)
        #expect(try await store.deleteAll(user: "ann", on: loop).get() == 0)
    }

    @Test func rotateDropsOldSession() async throws {
        let store = MemorySessionStore(expiry: expiry, clock: ManualClock().clock)
        let old = try await store.create(data: "{}", user: "ann", on: loop).get()
        let new = try await store.rotate(oldID: old, data: #"{"user":"ann"}"#, user: "ann", on: loop).get()
        #expect(new != old)
        #expect(try await store.lookup(id: old, on: loop).get() == nil)
        #expect(try await store.lookup(id: new, on: loop).get() != nil)
    }
}
