import GatewayConfig
import NIOCore
import Testing

@testable import GatewayPolicies

@Suite struct CacheKeyTests {
    @Test func headSharesTheGetKey() {
        func key(_ method: String) -> CacheKey {
            CacheKey.primary(
                route: "r", components: CacheKeyComponent.defaults, method: method, host: "Example.COM", path: "/a",
                query: "x=1", header: { _ in nil })
        }
        #expect(key("HEAD") == key("GET"))
        #expect(key("GET").text == "r GET example.com /a x=1")
        #expect(key("GET").digest.count == 32)
    }

    @Test func headerComponents() {
        let a = CacheKey.primary(
            route: "r", components: [.path, .header("accept-language")], method: "GET", host: "h", path: "/",
            query: nil, header: { $0 == "accept-language" ? "en" : nil })
        let b = CacheKey.primary(
            route: "r", components: [.path, .header("accept-language")], method: "GET", host: "h", path: "/",
            query: nil, header: { _ in "de" })
        #expect(a != b)
        #expect(a.text == "r / accept-language=en")
    }

    @Test func variants() {
        #expect(CacheKey.varyNames(["Accept-Language, accept-encoding", "ACCEPT-LANGUAGE"]) == ["accept-encoding", "accept-language"])
        #expect(CacheKey.varyNames(["*"]) == ["*"])
        #expect(CacheKey.variant(names: [], requestHeader: { _ in "x" }) == "")
        let headers = ["accept-encoding": "gzip,  br", "accept-language": "en"]
        #expect(CacheKey.variant(names: ["accept-encoding", "accept-language"], requestHeader: { headers[$0] })
            == "accept-encoding:gzip,br\naccept-language:en")
        #expect(CacheKey.variant(names: ["accept-encoding"], requestHeader: { _ in nil }) == "accept-encoding:")
    }
}

@Suite struct CacheEntryCodecTests {
    let entry = CacheEntry(
        status: 200, headers: [.init("Content-Type", "application/json"), .init("ETag", "\"é\"")],
        body: ByteBuffer(bytes: [0, 1, 2, 255]), storedAt: 1234.5, initialAge: 3, varyNames: ["accept-language"],
        variant: "accept-language:en", route: "catalog", path: "/api/x")

    @Test func roundTrips() {
        #expect(CacheEntryCodec.decode(CacheEntryCodec.encode(entry)) == entry)
    }

    @Test func refusesTruncatedOrForeignInput() {
        let encoded = CacheEntryCodec.encode(entry)
        for length in 0..<encoded.readableBytes {
            #expect(CacheEntryCodec.decode(encoded.getSlice(at: 0, length: length)!) == nil)
        }
        var trailing = encoded
        trailing.writeInteger(UInt8(0))
        #expect(CacheEntryCodec.decode(trailing) == nil)
        var other = encoded
        other.setInteger(UInt8(9), at: other.readerIndex)
        #expect(CacheEntryCodec.decode(other) == nil)
        #expect(CacheEntryCodec.decode(ByteBuffer(string: "garbage that is not an entry")) == nil)
    }

    @Test func a304RefreshesHeadersButNotFraming() {
        let refreshed = entry.refreshed(
            with: [.init("ETag", "\"v2\""), .init("Content-Length", "0"), .init("Cache-Control", "max-age=5")],
            at: 2000, initialAge: 1)
        #expect(refreshed.etag == "\"v2\"")
        #expect(refreshed.header("content-length") == nil)
        #expect(refreshed.header("cache-control") == "max-age=5")
        #expect(refreshed.header("content-type") == "application/json")
        #expect(refreshed.storedAt == 2000 && refreshed.initialAge == 1)
        #expect(refreshed.body == entry.body)
    }
}

@Suite struct LRUCacheTests {
    @Test func evictsTheLeastRecentlyUsed() {
        var lru = LRUCache<Int>(capacity: 30)
        lru.set("a", 1, weight: 10)
        lru.set("b", 2, weight: 10)
        lru.set("c", 3, weight: 10)
        #expect(lru.get("a") == 1)  // a is now the newest
        let evicted = lru.set("d", 4, weight: 10)
        #expect(evicted == ["b"])
        #expect(lru.get("b") == nil)
        #expect(lru.weight == 30 && lru.count == 3)
    }

    @Test func replacingAndRemoving() {
        var lru = LRUCache<Int>(capacity: 100)
        lru.set("a", 1, weight: 40)
        lru.set("a", 2, weight: 50)
        #expect(lru.weight == 50 && lru.get("a") == 2)
        #expect(lru.remove("a") == 2)
        #expect(lru.weight == 0 && lru.count == 0)
        lru.set("x", 1, weight: 101)  // heavier than everything: not kept
        #expect(lru.count == 0)
        for i in 0..<10 { lru.set("k\(i)", i, weight: 5) }
        #expect(lru.removeAll { key, value in value % 2 == 0 } == 5)
        #expect(lru.weight == 25)
        #expect(lru.containsAny(prefix: "k1") && !lru.containsAny(prefix: "k0"))
    }

    @Test func evictsManyForOneBigItem() {
        var lru = LRUCache<Int>(capacity: 100)
        for i in 0..<10 { lru.set("k\(i)", i, weight: 10) }
        let evicted = lru.set("big", 0, weight: 95)
        #expect(evicted == (0..<10).map { "k\($0)" })
        #expect(lru.count == 1 && lru.weight == 95)
    }
}

@Suite struct MemoryCacheTierTests {
    func entry(variant: String, vary: [String], route: String = "r", path: String = "/a") -> CacheEntry {
        CacheEntry(
            status: 200, headers: [], body: ByteBuffer(string: variant), storedAt: 0, varyNames: vary, variant: variant,
            route: route, path: path)
    }

    @Test func selectsTheVariant() {
        let tier = MemoryCacheTier(capacity: 1 << 20)
        tier.put(digest: "d", entry: entry(variant: "accept-language:en", vary: ["accept-language"]))
        tier.put(digest: "d", entry: entry(variant: "accept-language:de", vary: ["accept-language"]))
        #expect(tier.get(digest: "d", requestHeader: { _ in "en" })?.variant == "accept-language:en")
        #expect(tier.get(digest: "d", requestHeader: { _ in "de" })?.variant == "accept-language:de")
        #expect(tier.get(digest: "d", requestHeader: { _ in "fr" }) == nil)
        // new Vary names drop the old variants
        tier.put(digest: "d", entry: entry(variant: "", vary: []))
        #expect(tier.stats.entries == 1)
    }

    @Test func purges() {
        let tier = MemoryCacheTier(capacity: 1 << 20)
        tier.put(digest: "1", entry: entry(variant: "", vary: [], path: "/api/p/1"))
        tier.put(digest: "2", entry: entry(variant: "", vary: [], path: "/api/p/2"))
        tier.put(digest: "3", entry: entry(variant: "", vary: [], path: "/api/q"))
        tier.put(digest: "4", entry: entry(variant: "", vary: [], route: "other", path: "/api/p/1"))
        #expect(tier.remove(route: "r", pathPrefix: "/api/p/") == 2)
        #expect(tier.remove(digest: "3") == 1)
        #expect(tier.stats.entries == 1)
    }

    @Test func zeroCapacityStoresNothing() {
        let tier = MemoryCacheTier(capacity: 0)
        tier.put(digest: "d", entry: entry(variant: "", vary: []))
        #expect(tier.get(digest: "d", requestHeader: { _ in nil }) == nil)
    }
}

@Suite struct CoalescingStateTests {
    @Test func oneLeaderPerKey() {
        var state = CoalescingState<Int>()
        #expect(state.arrive("a", waiter: 1) == .lead)
        #expect(state.arrive("a", waiter: 2) == .wait)
        #expect(state.arrive("a", waiter: 3) == .wait)
        #expect(state.arrive("b", waiter: 4) == .lead)
        #expect(state.inFlight == 2)
        #expect(state.finish("a") == [2, 3])
        #expect(state.finish("a") == [])
        #expect(state.arrive("a", waiter: 5) == .lead)
    }

    @Test func purgeMessages() {
        for message in [CachePurgeMessage.digest("abc"), .prefix(route: "r", path: "/a\nb")] {
            #expect(CachePurgeMessage(encoded: message.encoded) == message)
        }
        #expect(CachePurgeMessage(encoded: "") == nil)
        #expect(CachePurgeMessage(encoded: "x\nabc") == nil)
        #expect(CachePurgeMessage(encoded: "p\nonly-route") == nil)
    }
}
