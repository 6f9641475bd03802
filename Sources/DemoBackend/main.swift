#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

// demo-backend: the upstream used by scripts/dev.sh, the integration tests and the benchmarks.

/// Unbuffered line output (stdout may be a pipe read by a test harness waiting for this line).
func writeLine(_ text: String, fd: Int32) {
    var bytes = Array((text + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if written <= 0 { return }
        offset += written
    }
}

let options: DemoOptions
do {
    options = try DemoOptions.parse(Array(CommandLine.arguments.dropFirst()))
} catch DemoOptions.ParseError.helpRequested {
    writeLine(DemoOptions.usage, fd: 1)
    exit(0)
} catch {
    writeLine("demo-backend: \(error)\n\(DemoOptions.usage)", fd: 2)
    exit(2)
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: options.threads > 0 ? options.threads : System.coreCount)
let channel: Channel
do {
    channel = try DemoServer.bind(options: options, group: group)
} catch {
    writeLine("demo-backend: cannot listen on \(options.host):\(options.port): \(error)", fd: 2)
    exit(1)
}
writeLine("demo-backend \(options.name) listening on \(channel.localAddress.map { "\($0)" } ?? "?")", fd: 1)
try channel.closeFuture.wait()
