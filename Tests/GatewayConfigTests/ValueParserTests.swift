import Testing

@testable import GatewayConfig

@Suite struct ValueParserTests {
    @Test(arguments: [
        ("250ms", Duration.milliseconds(250)), ("2s", .seconds(2)), ("1m", .seconds(60)), ("1h", .seconds(3600)),
        ("1.5s", .milliseconds(1500)), ("1h30m", .seconds(5400)), ("0s", .zero), ("100us", .microseconds(100)),
    ])
    func durations(text: String, expected: Duration) throws {
        #expect(try DurationParser.parse(text) == expected)
    }

    @Test(arguments: ["", "10", "s", "2 days", "1x", "1s1h", "1..5s", "-1s"])
    func badDurations(text: String) {
        #expect(throws: ValueParseError.self) { try DurationParser.parse(text) }
    }

    @Test func durationFormatting() {
        #expect(DurationParser.format(.milliseconds(250)) == "250ms")
        #expect(DurationParser.format(.seconds(5400)) == "1h30m")
    }

    @Test(arguments: [
        ("512", 512), ("16KiB", 16384), ("10MiB", 10_485_760), ("1GiB", 1 << 30), ("1KB", 1000), ("2MB", 2_000_000),
        ("16k", 16384), ("1.5MiB", 1_572_864), ("0", 0), ("64 KiB", 65536),
    ])
    func sizes(text: String, expected: Int) throws {
        #expect(try SizeParser.parse(text) == expected)
    }

    @Test(arguments: ["", "KiB", "10XB", "1.5", "-1", "99999999999999999GiB"])
    func badSizes(text: String) {
        #expect(throws: ValueParseError.self) { try SizeParser.parse(text) }
    }

    @Test func cidrBlocks() throws {
        #expect(try CIDRBlock.parse("127.0.0.1/32") == CIDRBlock(address: [127, 0, 0, 1], prefixLength: 32))
        #expect(try CIDRBlock.parse("10.1.2.3/8") == CIDRBlock(address: [10, 0, 0, 0], prefixLength: 8))
        #expect(try CIDRBlock.parse("192.168.1.7") == CIDRBlock(address: [192, 168, 1, 7], prefixLength: 32))
        let v6 = try CIDRBlock.parse("::1")
        #expect(v6.prefixLength == 128 && v6.address == Array(repeating: 0, count: 15) + [1])
        let net = try CIDRBlock.parse("fd00::/8")
        #expect(net.contains(IPAddressParser.parse("fd12::5")!))
        #expect(!net.contains(IPAddressParser.parse("fe80::1")!))
        #expect(try CIDRBlock.parse("10.0.0.0/8").contains(IPAddressParser.parse("::ffff:10.9.8.7")!))
        #expect(try CIDRBlock.parse("10.1.0.0/17").description == "10.1.0.0/17")
        for bad in ["10.0.0.0/33", "::/129", "10.0.0/8", "host", "10.0.0.0/", "1.2.3.4/x"] {
            #expect(throws: ValueParseError.self) { try CIDRBlock.parse(bad) }
        }
    }

    @Test func listenAddresses() throws {
        #expect(try ListenAddress.parse("127.0.0.1:8080") == ListenAddress(host: "127.0.0.1", port: 8080))
        #expect(try ListenAddress.parse("[::1]:9901") == ListenAddress(host: "::1", port: 9901))
        #expect(try ListenAddress.parse(":0") == ListenAddress(host: "0.0.0.0", port: 0))
        #expect(try ListenAddress.parse("localhost:80") == ListenAddress(host: "localhost", port: 80))
        #expect(ListenAddress(host: "::1", port: 1).description == "[::1]:1")
        for bad in ["8080", "::1:80", "[::1]80", "host:99999", "host:", "[nothex]:1", "a b:1"] {
            #expect(throws: ValueParseError.self) { try ListenAddress.parse(bad) }
        }
    }

    @Test func redisURLs() throws {
        #expect(try RedisURL.parse("redis://127.0.0.1:6379/0") == RedisURL(address: .tcp(host: "127.0.0.1", port: 6379)))
        #expect(try RedisURL.parse("redis://user:p%40ss@cache:6380/3")
            == RedisURL(address: .tcp(host: "cache", port: 6380), username: "user", password: "p@ss", database: 3))
        #expect(try RedisURL.parse("redis://:secret@cache") == RedisURL(address: .tcp(host: "cache", port: 6379), password: "secret"))
        #expect(try RedisURL.parse("unix:///run/redis.sock?db=2") == RedisURL(address: .unix(path: "/run/redis.sock"), database: 2))
        // The query forms `gateway serve` has always accepted (one parser for check and serve, issue 11).
        #expect(try RedisURL.parse("redis://cache:6380?db=4&password=p%26w&user=bob")
            == RedisURL(address: .tcp(host: "cache", port: 6380), username: "bob", password: "p&w", database: 4))
        #expect(try RedisURL.parse("unix:///run/redis.sock?password=x&db=1")
            == RedisURL(address: .unix(path: "/run/redis.sock"), password: "x", database: 1))
        #expect(try RedisURL.parse("redis://[::1]:6390/2") == RedisURL(address: .tcp(host: "::1", port: 6390), database: 2))
        for bad in ["rediss://h:1", "http://h:1", "redis://", "redis://h:1/x", "unix://relative", "redis://h:0",
                    "redis://h:1?x=1", "redis://h:1?db=x", "unix:///s?tls=1"] {
            #expect(throws: ValueParseError.self) { try RedisURL.parse(bad) }
        }
    }

    @Test func replicaURLs() throws {
        #expect(try ReplicaURLParser.parse("http://127.0.0.1:9001/") == ReplicaSettings(url: "http://127.0.0.1:9001", host: "127.0.0.1", port: 9001))
        #expect(try ReplicaURLParser.parse("http://app.internal:80").host == "app.internal")
        for bad in ["http://h", "http://h:0", "https://h:1", "http://u@h:1", "http://h:1/p", "h:1", "http://:1"] {
            #expect(throws: ValueParseError.self) { try ReplicaURLParser.parse(bad) }
        }
    }

    @Test func suggestions() {
        #expect(Suggestion.closest(to: "limt", in: ["limit", "window"]) == "limit")
        #expect(Suggestion.closest(to: "pathPrefix", in: ["path", "path_prefix"]) == "path_prefix")
        #expect(Suggestion.closest(to: "zzz", in: ["limit", "window"]) == nil)
    }
}
