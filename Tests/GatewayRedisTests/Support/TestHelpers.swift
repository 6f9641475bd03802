import GatewayRedis
import Logging
import NIOCore
import NIOPosix

enum TestSupport {
    static let logger: Logger = {
        var logger = Logger(label: "redis-test")
        logger.logLevel = .critical
        return logger
    }()

    /// Starts a client against `url`, waits until every loop is connected, runs `body`, then shuts down.
    static func withClient<T>(
        url: String, threads: Int = 2, commandTimeout: TimeAmount = .milliseconds(500),
        waitForConnection: Bool = true,
        _ body: (RedisClient, MultiThreadedEventLoopGroup) async throws -> T
    ) async throws -> T {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        var configuration = try RedisConfiguration(url: url, commandTimeout: commandTimeout)
        configuration.maximumReconnectDelay = .milliseconds(200)
        let client = RedisClient(configuration: configuration, group: group, logger: logger)
        client.start()
        do {
            if waitForConnection {
                for loop in group.makeIterator() {
                    try await client.waitUntilConnected(on: loop, timeout: .seconds(5)).get()
                }
            }
            let result = try await body(client, group)
            await client.shutdown()
            try await group.shutdownGracefully()
            return result
        } catch {
            await client.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Polls `condition` every 10 ms for up to `timeout`.
    static func eventually(timeout: Duration = .seconds(5), _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return try await condition()
    }

    static func uniqueKey(_ name: String) -> String { "gw-test:\(name):\(UInt64.random(in: 0...UInt64.max))" }
}

extension RedisClient {
    /// Convenience for tests: send from the given loop and await.
    func run(_ arguments: String..., on loop: any EventLoop) async throws -> RESPValue {
        try await send(arguments, on: loop).get()
    }
}
