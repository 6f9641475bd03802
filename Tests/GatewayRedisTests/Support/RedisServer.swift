import Foundation
import GatewayRedis
import NIOCore
import NIOPosix

/// A throwaway `redis-server` for one test: loopback only, OS-picked port, no persistence.
final class RedisServer: @unchecked Sendable {
    // @unchecked: `process` is only replaced by `start`/`stop`, which a test calls sequentially from one task.
    let port: Int
    let directory: URL
    let extraArguments: [String]
    private var process: Process?

    var unixSocketPath: String { directory.appendingPathComponent("redis.sock").path }
    var url: String { "redis://127.0.0.1:\(port)" }

    /// The external server from `GATEWAY_TEST_REDIS_URL`, if set (tests that control the server are skipped then).
    static var externalURL: String? { ProcessInfo.processInfo.environment["GATEWAY_TEST_REDIS_URL"] }

    init(extraArguments: [String] = []) throws {
        self.port = try Self.freePort()
        self.directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("gw-redis-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.extraArguments = extraArguments
    }

    static func started(extraArguments: [String] = []) async throws -> RedisServer {
        let server = try RedisServer(extraArguments: extraArguments)
        try await server.start()
        return server
    }

    func start() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", directory.path,
                             "--unixsocket", unixSocketPath, "--unixsocketperm", "700"] + extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        try await waitUntilAnswering()
    }

    func stop() async {
        guard let process else { return }
        self.process = nil
        // SIGKILL, not terminate(): the child inherits the test runner's blocked-signal mask, so SIGTERM would
        // stay pending forever. A killed redis-server is also exactly the "server crashed" case we want.
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
    }

    func destroy() async {
        await stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Polls with `redis-cli PING` until the server answers (PONG, or NOAUTH when a password is required).
    private func waitUntilAnswering() async throws {
        for _ in 0..<200 {
            let cli = Process()
            cli.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            cli.arguments = ["redis-cli", "-p", String(port), "PING"]
            let pipe = Pipe()
            cli.standardOutput = pipe
            cli.standardError = FileHandle.nullDevice
            try cli.run()
            while cli.isRunning { try await Task.sleep(for: .milliseconds(5)) }
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            if output.contains("PONG") || output.contains("NOAUTH") { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw RedisError.unavailable
    }

    /// Binds port 0 to let the OS pick a free port, then releases it.
    private static func freePort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0).wait()
        let port = channel.localAddress!.port!
        try channel.close().wait()
        return port
    }
}
