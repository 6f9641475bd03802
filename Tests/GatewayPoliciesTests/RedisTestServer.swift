import Foundation
import GatewayRedis
import Logging
import NIOCore
import NIOPosix

/// A throwaway `redis-server` listening on a unix socket in a temp directory (no TCP port at all), or the
/// server named by `GATEWAY_TEST_REDIS_URL`. Each test uses its own key prefix, so a shared server is fine.
final class RedisTestServer: Sendable {
    let url: String
    private let process: Process?
    private let directory: String?

    static func start() throws -> RedisTestServer {
        if let url = ProcessInfo.processInfo.environment["GATEWAY_TEST_REDIS_URL"], !url.isEmpty {
            return RedisTestServer(url: url, process: nil, directory: nil)
        }
        let directory = NSTemporaryDirectory() + "gw-policies-redis-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let socket = directory + "/redis.sock"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "redis-server", "--port", "0", "--unixsocket", socket, "--save", "", "--appendonly", "no",
            "--dir", directory, "--loglevel", "warning",
        ]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(5)
        while !FileManager.default.fileExists(atPath: socket) {
            guard Date() < deadline, process.isRunning else {
                kill(process.processIdentifier, SIGKILL)
                throw RedisError.unavailable
            }
            usleep(10_000)
        }
        return RedisTestServer(url: "unix://" + socket, process: process, directory: directory)
    }

    private init(url: String, process: Process?, directory: String?) {
        self.url = url
        self.process = process
        self.directory = directory
    }

    /// A started client, connected on every loop of `group`.
    func makeClient(group: any EventLoopGroup) async throws -> RedisClient {
        let configuration = try RedisConfiguration(url: url, commandTimeout: .seconds(2))
        let client = RedisClient(configuration: configuration, group: group, logger: Logger(label: "test-redis"))
        client.start()
        for loop in group.makeIterator() {
            try await client.waitUntilConnected(on: loop, timeout: .seconds(5)).get()
        }
        return client
    }

    func stop() {
        if let process, process.isRunning {
            // SIGKILL, not terminate(): the child can inherit a signal mask blocking SIGTERM from the test
            // process's thread, and a redis-server without persistence has nothing to flush anyway.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
    }

    static func uniquePrefix() -> String { "t" + String(UInt32.random(in: 0...UInt32.max), radix: 36) + ":" }
}
