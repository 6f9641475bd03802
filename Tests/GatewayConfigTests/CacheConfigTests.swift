import Testing

@testable import GatewayConfig

@Suite struct CacheConfigTests {
    func route(_ cache: String) -> String {
        baseUpstream + "routes:\n  - name: catalog\n    match: { path_prefix: /api/ }\n    upstream: app\n" + cache
    }

    @Test func specExample() throws {
        let yaml = "cache:\n  max_object_bytes: 1MiB\n  memory: 64MiB\n" + route("""
                cache:
                  ttl: 60s
                  stale_while_revalidate: 30s
                  stale_if_error: 5m
                  key: [method, host, path, query, "header:Accept-Language"]
                  methods: [GET, HEAD]

            """)
        let config = try ConfigLoader.load(yaml: yaml, path: "/cfg/gateway.yaml", environment: [:])
        #expect(config.cache?.maxObjectBytes == 1 << 20)
        #expect(config.cache?.memoryBytes == 64 << 20)
        let cache = try #require(config.routes.first?.cache)
        #expect(cache.ttl == .seconds(60))
        #expect(cache.staleWhileRevalidate == .seconds(30))
        #expect(cache.staleIfError == .seconds(300))
        #expect(cache.key == [.method, .host, .path, .query, .header("accept-language")])
        #expect(cache.methods == ["GET", "HEAD"])
        #expect(!cache.storeSetCookie)
    }

    @Test func defaults() throws {
        let config = try ConfigLoader.load(yaml: "cache: true\n" + route("    cache: true\n"), path: "/cfg/gateway.yaml", environment: [:])
        #expect(config.cache == CacheSettings().with(location: config.cache?.location))
        #expect(config.routes[0].cache?.key == CacheKeyComponent.defaults)
        let off = try ConfigLoader.load(yaml: "cache: false\n" + route("    cache: false\n"), path: "/cfg/gateway.yaml", environment: [:])
        #expect(off.cache == nil && off.routes[0].cache == nil)
    }

    @Test func errorsNameFileLineAndKey() {
        #expect(errorLines(route("    cache: { ttl: 5s }\n")) == [
            "/cfg/gateway.yaml:8:12: route 'catalog': 'cache' needs the top-level 'cache:' block (e.g. 'cache: { memory: 64MiB }')"
        ])
        let top = "cache: {}\n"
        #expect(errorLines(top + route("    cache: { tll: 5s }\n")).contains {
            $0.hasSuffix(":9:14: unknown key 'tll' in route cache (did you mean 'ttl'?)")
        })
        #expect(errorLines(top + route("    cache: { key: [method, cookie] }\n")).first?.contains(
            "'cookie' is not a cache key component") == true)
        #expect(errorLines(top + route("    cache: { key: [\"header:\"] }\n")).first?.contains("not a cache key component") == true)
        #expect(errorLines(top + route("    cache: { methods: [POST] }\n")).first?.contains("only GET and HEAD") == true)
        #expect(errorLines(top + route("    cache: { ttl: soon }\n")).first?.contains("'ttl'") == true)
        #expect(errorLines("cache: { max_object_bytes: 0 }\n" + route("")).first?.contains("'max_object_bytes' must be larger than 0") == true)
        #expect(errorLines("cache: { memry: 1MiB }\n" + route("")).first?.hasSuffix("unknown key 'memry' in cache (did you mean 'memory'?)") == true)
    }

    @Test func schemaKnowsTheKeys() {
        let schema = ConfigSchema.json()
        #expect(schema.contains("\"stale_while_revalidate\""))
        #expect(schema.contains("\"max_object_bytes\""))
    }
}

extension CacheSettings {
    func with(location: GatewayConfig.SourceLocation?) -> CacheSettings {
        var copy = self
        copy.location = location
        return copy
    }
}
