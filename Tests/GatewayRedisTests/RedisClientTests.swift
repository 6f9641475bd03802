import GatewayRedis
import NIOCore
import NIOPosix
import Testing

/// Integration tests against a real `redis-server` (one per test; or GATEWAY_TEST_REDIS_URL for the basic ones).
@Suite(.serialized) struct RedisClientTests {
    static var ownsServer: Bool { RedisServer.externalURL == nil }

    /// Runs `body` with a server URL: the external one, or a fresh local server.
    private func withServerURL(_ body: (String) async throws -> Void) async throws {
        if let external = RedisServer.externalURL {
            try await body(external)
            return
        }
        let server = try await RedisServer.started()
        do {
            try await body(server.url)
        } catch {
            await server.destroy()
            throw error
        }
        await server.destroy()
    }

    @Test func setGetIncr() async throws {
        try await withServerURL { url async throws in
            try await TestSupport.withClient(url: url) { client, group async throws in
                let loop = group.next()
                let key = TestSupport.uniqueKey("set")
                #expect(try await client.run("SET", key, "hello", on: loop) == .simpleString("OK"))
                #expect(try await client.run("GET", key, on: loop).string == "hello")
                #expect(try await client.run("GET", key + ":missing", on: loop) == .null)
                let counter = TestSupport.uniqueKey("incr")
                #expect(try await client.run("INCR", counter, on: loop) == .integer(1))
                #expect(try await client.run("INCRBY", counter, "41", on: loop).int == 42)
                #expect(try await client.run("GET", counter, on: loop).int == 42)
                #expect(client.isConnected)
            }
        }
    }

    @Test func binarySafeBulkStrings() async throws {
        try await withServerURL { url async throws in
            try await TestSupport.withClient(url: url) { client, group async throws in
                let loop = group.next()
                let key = ByteBuffer(bytes: Array("gw-test:bin:\0:".utf8) + [0xFF, 0x0D, 0x0A])
                let value = ByteBuffer(bytes: (0...255).map { UInt8($0) } + [13, 10, 0, 13, 10])
                _ = try await client.send([ByteBuffer(string: "SET"), key, value], on: loop).get()
                let reply = try await client.send([ByteBuffer(string: "GET"), key], on: loop).get()
                #expect(reply == .bulkString(value))
                let big = ByteBuffer(repeating: 0x61, count: 1 << 20)
                _ = try await client.send([ByteBuffer(string: "SET"), key, big], on: loop).get()
                #expect(try await client.send([ByteBuffer(string: "STRLEN"), key], on: loop).get() == .integer(1 << 20))
                #expect(try await client.send([ByteBuffer(string: "GET"), key], on: loop).get() == .bulkString(big))
                _ = try await client.send([ByteBuffer(string: "DEL"), key], on: loop).get()
            }
        }
    }

    @Test func arrays() async throws {
        try await withServerURL { url async throws in
            try await TestSupport.withClient(url: url) { client, group async throws in
                let loop = group.next()
                let list = TestSupport.uniqueKey("list")
                #expect(try await client.run("RPUSH", list, "a", "b", "c", on: loop) == .integer(3))
                let range = try await client.run("LRANGE", list, "0", "-1", on: loop)
                #expect(range.array?.compactMap(\.string) == ["a", "b", "c"])
                let mget = try await client.run("MGET", list + ":nope", list + ":nope2", on: loop)
                #expect(mget == .array([.null, .null]))
                #expect(try await client.run("LRANGE", list + ":empty", "0", "-1", on: loop) == .array([]))
                let multi = try await client.evaluate(RedisScript("return {1, 'two', {3}}"), keys: [], arguments: [], on: loop).get()
                #expect(multi == .array([.integer(1), .bulkString(ByteBuffer(string: "two")), .array([.integer(3)])]))
                _ = try await client.run("DEL", list, on: loop)
            }
        }
    }

    @Test func serverErrors() async throws {
        try await withServerURL { url async throws in
            try await TestSupport.withClient(url: url) { client, group async throws in
                let loop = group.next()
                await #expect(throws: RedisError.self) { try await client.run("NOSUCHCOMMAND", on: loop) }
                do {
                    _ = try await client.run("NOSUCHCOMMAND", "x", on: loop)
                    Issue.record("expected an error")
                } catch let error as RedisError {
                    guard case .server(let message) = error else { Issue.record("got \(error)"); return }
                    #expect(message.hasPrefix("ERR unknown command"))
                }
                let list = TestSupport.uniqueKey("wrongtype")
                _ = try await client.run("RPUSH", list, "x", on: loop)
                do {
                    _ = try await client.run("INCR", list, on: loop)
                    Issue.record("expected WRONGTYPE")
                } catch RedisError.server(let message) {
                    #expect(message.hasPrefix("WRONGTYPE"))
                }
                // The connection is still usable after errors.
                #expect(try await client.run("PING", on: loop) == .simpleString("PONG"))
                _ = try await client.run("DEL", list, on: loop)
            }
        }
    }

    @Test func thousandPipelinedIncrements() async throws {
        try await withServerURL { url async throws in
            try await TestSupport.withClient(url: url, commandTimeout: .seconds(5)) { client, group async throws in
                let key = TestSupport.uniqueKey("pipelined")
                // 1000 commands issued from every loop at once (on-loop fast path) and from many tasks (off-loop).
                var futures: [EventLoopFuture<RESPValue>] = []
                for loop in group.makeIterator() {
                    let batch = try await loop.submit {
                        (0..<250).map { _ in client.send(["INCR", key], on: loop) }
                    }.get()
                    futures.append(contentsOf: batch)
                }
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    for index in 0..<500 {
                        tasks.addTask {
                            _ = try await client.send(["INCR", key], on: group.next()).get()
                            _ = index
                        }
                    }
                    try await tasks.waitForAll()
                }
                for future in futures { _ = try await future.get() }
                #expect(try await client.run("GET", key, on: group.next()).int == 1000)
                _ = try await client.run("DEL", key, on: group.next())
            }
        }
    }

    @Test func evalshaFallsBackOnNoscript() async throws {
        try await withServerURL { url async throws in
            try await TestSupport.withClient(url: url) { client, group async throws in
                let loop = group.next()
                let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
                let key = TestSupport.uniqueKey("script")
                _ = try await client.run("SCRIPT", "FLUSH", on: loop)
                #expect(try await client.evaluate(script, keys: [key], arguments: ["5"], on: loop).get() == .integer(5))
                // EVAL loaded it: the server knows our locally computed SHA.
                #expect(try await client.run("SCRIPT", "EXISTS", script.sha1, on: loop) == .array([.integer(1)]))
                #expect(try await client.run("SCRIPT", "LOAD", script.source, on: loop).string == script.sha1)
                #expect(try await client.evaluate(script, keys: [key], arguments: ["5"], on: loop).get() == .integer(10))
                _ = try await client.run("SCRIPT", "FLUSH", on: loop)
                #expect(try await client.evaluate(script, keys: [key], arguments: ["1"], on: loop).get() == .integer(11))
                // Script errors surface as .server.
                await #expect(throws: RedisError.self) {
                    try await client.evaluate(RedisScript("return redis.error_reply('boom')"), keys: [], arguments: [], on: loop).get()
                }
                _ = try await client.run("DEL", key, on: loop)
            }
        }
    }

    @Test func commandTimeoutKeepsConnectionUsable() async throws {
        try await withServerURL { url async throws in
            try await TestSupport.withClient(url: url, commandTimeout: .milliseconds(100)) { client, group async throws in
                let loop = group.next()
                let key = TestSupport.uniqueKey("blocked")
                let start = ContinuousClock.now
                // BLPOP blocks this connection for 300 ms (like DEBUG SLEEP, but needs no DEBUG permission).
                await #expect(throws: RedisError.timeout) { try await client.run("BLPOP", key, "0.3", on: loop) }
                let elapsed = ContinuousClock.now - start
                #expect(elapsed < .milliseconds(280))
                // The late reply is discarded; afterwards replies still match their commands.
                try await Task.sleep(for: .milliseconds(400))
                #expect(try await client.run("SET", key + ":after", "ok", on: loop) == .simpleString("OK"))
                #expect(try await client.run("GET", key + ":after", on: loop).string == "ok")
                #expect(try await client.run("ECHO", "x", on: loop).string == "x")
                _ = try await client.run("DEL", key + ":after", on: loop)
            }
        }
    }

    @Test func selectDatabase() async throws {
        try await withServerURL { url async throws in
            let key = TestSupport.uniqueKey("db")
            let base = url.split(separator: "/", omittingEmptySubsequences: false).prefix(3).joined(separator: "/")
            try await TestSupport.withClient(url: base + "/3") { client, group async throws in
                _ = try await client.run("SET", key, "in-db-3", on: group.next())
            }
            try await TestSupport.withClient(url: base + "/0") { client, group async throws in
                #expect(try await client.run("GET", key, on: group.next()) == .null)
            }
            try await TestSupport.withClient(url: base + "/3") { client, group async throws in
                #expect(try await client.run("GET", key, on: group.next()).string == "in-db-3")
                _ = try await client.run("DEL", key, on: group.next())
            }
        }
    }

    @Test(.enabled(if: RedisClientTests.ownsServer)) func failFastWhenDownAndReconnectAfterRestart() async throws {
        let server = try await RedisServer.started()
        try await TestSupport.withClient(url: server.url) { client, group async throws in
            let loop = group.next()
            let key = TestSupport.uniqueKey("restart")
            _ = try await client.run("SET", key, "1", on: loop)
            await server.stop()
            #expect(await TestSupport.eventually { !client.isConnected })
            let start = ContinuousClock.now
            await #expect(throws: RedisError.unavailable) { try await client.run("GET", key, on: loop) }
            #expect(ContinuousClock.now - start < .milliseconds(50))
            await #expect(throws: RedisError.timeout) {
                try await client.waitUntilConnected(on: loop, timeout: .milliseconds(100)).get()
            }
            try await server.start()
            try await client.waitUntilConnected(on: loop, timeout: .seconds(5)).get()
            #expect(client.isConnected)
            // No persistence: the restarted server is empty, but the connection works.
            #expect(try await client.run("GET", key, on: loop) == .null)
            #expect(try await client.run("INCR", key, on: loop) == .integer(1))
        }
        await server.destroy()
    }

    @Test(.enabled(if: RedisClientTests.ownsServer)) func inFlightCommandsFailWhenConnectionDrops() async throws {
        let server = try await RedisServer.started()
        try await TestSupport.withClient(url: server.url, commandTimeout: .seconds(5)) { client, group async throws in
            let loop = group.next()
            let blocked = client.send(["BLPOP", TestSupport.uniqueKey("never"), "0"], on: loop)
            try await Task.sleep(for: .milliseconds(50))
            await server.stop()
            await #expect(throws: RedisError.connectionClosed) { try await blocked.get() }
        }
        await server.destroy()
    }

    @Test(.enabled(if: RedisClientTests.ownsServer)) func authWithPassword() async throws {
        let server = try await RedisServer.started(extraArguments: ["--requirepass", "s3cret"])
        try await TestSupport.withClient(url: "redis://:s3cret@127.0.0.1:\(server.port)/2") { client, group async throws in
            #expect(try await client.run("PING", on: group.next()) == .simpleString("PONG"))
            #expect(try await client.run("CLIENT", "INFO", on: group.next()).string?.contains("db=2") == true)
        }
        // Also with an explicit ACL user name.
        try await TestSupport.withClient(url: "redis://default:s3cret@127.0.0.1:\(server.port)") { client, group async throws in
            #expect(try await client.run("PING", on: group.next()) == .simpleString("PONG"))
        }
        // Wrong password: never counts as connected, commands fail fast.
        try await TestSupport.withClient(url: "redis://:wrong@127.0.0.1:\(server.port)", waitForConnection: false) { client, group async throws in
            let loop = group.next()
            await #expect(throws: RedisError.timeout) {
                try await client.waitUntilConnected(on: loop, timeout: .milliseconds(300)).get()
            }
            #expect(!client.isConnected)
            await #expect(throws: RedisError.unavailable) { try await client.run("PING", on: loop) }
        }
        await server.destroy()
    }

    @Test(.enabled(if: RedisClientTests.ownsServer)) func unixSocket() async throws {
        let server = try await RedisServer.started()
        try await TestSupport.withClient(url: "unix://\(server.unixSocketPath)?db=1") { client, group async throws in
            let loop = group.next()
            #expect(try await client.run("SET", "gw-test:unix", "yes", on: loop) == .simpleString("OK"))
            #expect(try await client.run("CLIENT", "INFO", on: loop).string?.contains("db=1") == true)
        }
        await server.destroy()
    }

    @Test func shutdownFailsLaterCommands() async throws {
        try await withServerURL { url async throws in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let client = RedisClient(configuration: try RedisConfiguration(url: url), group: group, logger: TestSupport.logger)
            client.start()
            try await client.waitUntilConnected(on: group.next(), timeout: .seconds(5)).get()
            await client.shutdown()
            #expect(!client.isConnected)
            await #expect(throws: RedisError.shutdown) { try await client.run("PING", on: group.next()) }
            // A loop outside the client's group borrows a connection and gets the result on its own loop.
            try await group.shutdownGracefully()
        }
    }

    @Test func foreignEventLoopHopsBack() async throws {
        try await withServerURL { url async throws in
            try await TestSupport.withClient(url: url, threads: 1) { client, _ async throws in
                let foreign = MultiThreadedEventLoopGroup(numberOfThreads: 1)
                let loop = foreign.next()
                let future = client.send(["PING"], on: loop)
                #expect(future.eventLoop === loop)
                #expect(try await future.get() == .simpleString("PONG"))
                try await foreign.shutdownGracefully()
            }
        }
    }
}
