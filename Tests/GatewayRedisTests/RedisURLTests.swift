import GatewayRedis
import NIOCore
import Testing

@Suite struct RedisURLTests {
    @Test func tcpDefaults() throws {
        let config = try RedisConfiguration(url: "redis://127.0.0.1")
        #expect(config.address == .tcp(host: "127.0.0.1", port: 6379))
        #expect(config.database == 0)
        #expect(config.username == nil)
        #expect(config.password == nil)
        #expect(config.commandTimeout == .milliseconds(100))
    }

    @Test func tcpFull() throws {
        let config = try RedisConfiguration(url: "redis://alice:s%40cret@redis.local:6380/5", commandTimeout: .seconds(1))
        #expect(config.address == .tcp(host: "redis.local", port: 6380))
        #expect(config.username == "alice")
        #expect(config.password == "s@cret")
        #expect(config.database == 5)
        #expect(config.commandTimeout == .seconds(1))
    }

    @Test func passwordOnlyAndIPv6() throws {
        let config = try RedisConfiguration(url: "redis://:pw@[::1]:7000/")
        #expect(config.address == .tcp(host: "::1", port: 7000))
        #expect(config.username == nil)
        #expect(config.password == "pw")
        #expect(config.database == 0)
    }

    @Test func unixSocket() throws {
        let config = try RedisConfiguration(url: "unix:///var/run/redis.sock?db=2")
        #expect(config.address == .unix(path: "/var/run/redis.sock"))
        #expect(config.database == 2)
        let plain = try RedisConfiguration(url: "unix:///tmp/r.sock")
        #expect(plain.address == .unix(path: "/tmp/r.sock"))
        #expect(plain.database == 0)
    }

    @Test func rediss() throws {
        let config = try RedisConfiguration(url: "rediss://user:pw@cache.internal:6380/3")
        #expect(config.useTLS)
        #expect(config.address == .tcp(host: "cache.internal", port: 6380))
        #expect(config.database == 3)
        #expect(config.password == "pw")
        #expect(try RedisConfiguration(url: "redis://h:1").useTLS == false)
    }

    @Test(arguments: [
        "http://localhost", "redis://", "redis://host:notaport", "redis://host:0", "redis://host:6379/x",
        "redis://host/-1", "unix://relative.sock", "unix:///tmp/s?db=a", "rediss://", "rediss://host:0", "redis://[::1",
        "unix:///tmp/s?bogus=1",
    ])
    func invalid(_ url: String) {
        #expect(throws: RedisError.self) { try RedisConfiguration(url: url) }
        do {
            _ = try RedisConfiguration(url: url)
        } catch let error as RedisError {
            guard case .invalidURL = error else {
                Issue.record("expected .invalidURL, got \(error)")
                return
            }
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
