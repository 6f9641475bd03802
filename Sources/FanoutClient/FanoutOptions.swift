/// Command-line options of `fanout-client`, parsed by hand (like `demo-backend`) so the target needs no
/// ArgumentParser.
///
/// ```
/// fanout-client --ports 8080,8081 --subscribers 200 --rate 500 --duration 10
/// fanout-client --ports 8080 --idle 10000 --hold      # idle connections only, held until killed
/// ```
struct FanoutOptions: Sendable, Equatable {
    var host = "127.0.0.1"
    /// Gateway ports; subscribers are spread over them round-robin, the publisher and idle connections use
    /// `publishPort` / `idlePorts`.
    var ports: [Int] = []
    var channel = "bench:fan"
    var subscribers = 0
    /// Messages per second published (0 = no publisher).
    var rate = 0.0
    /// Seconds of publishing.
    var duration = 10.0
    /// Publisher timer period in milliseconds; each tick sends every message that has become due since the last one.
    var tickMilliseconds = 5.0
    /// Every subscriber parses the timestamp of every Nth message it receives (latency sample).
    var sampleEvery = 10
    /// Idle connections (upgraded, no subscription), opened before the subscribers.
    var idle = 0
    /// Where the publisher connects (default: the first port).
    var publishPort: Int?
    /// Where idle connections go (default: all ports, round-robin).
    var idlePorts: [Int] = []
    /// After publishing ends, how long to wait for the last deliveries.
    var drainSeconds = 5.0
    /// Event-loop threads of the client itself.
    var threads = 1
    /// Connections being opened at once.
    var connectConcurrency = 64
    /// After opening the idle connections (and the fan-out run, if any), print `{"idle_open":N}` and keep every
    /// connection open until the process is killed.
    var hold = false

    static let usage = """
        usage: fanout-client --ports P1[,P2…] [--subscribers N] [--rate MSG_PER_S] [--duration S]
                             [--channel bench:fan] [--tick-ms 5] [--sample-every 10] [--idle M] [--idle-ports P…]
                             [--publish-port P] [--drain S] [--threads 1] [--connect-concurrency 64] [--hold]
                             [--host 127.0.0.1]

        WebSocket pub/sub fan-out load generator for the gateway (SPEC §5). Opens N subscribers of CHANNEL spread
        round-robin over the ports (/ws?subscribe=CHANNEL, each waits for its `subscribed` frame), optionally M idle
        connections, then publishes {"t":<ns>,"n":k} at MSG_PER_S for S seconds through one more connection, and
        prints one JSON line: sent, expected, delivered, deliveries/s, publish→receive latency p50/p99.
        """

    enum ParseError: Error, CustomStringConvertible {
        case missingValue(String)
        case badValue(String, String)
        case unknownArgument(String)
        case missingPorts
        case helpRequested

        var description: String {
            switch self {
            case .missingValue(let flag): return "missing value for \(flag)"
            case .badValue(let flag, let value): return "invalid value '\(value)' for \(flag)"
            case .unknownArgument(let arg): return "unknown argument '\(arg)'"
            case .missingPorts: return "--ports is required"
            case .helpRequested: return FanoutOptions.usage
            }
        }
    }

    /// Parses `arguments` without the program name. Accepts `--flag value` and `--flag=value`.
    static func parse(_ arguments: [String]) throws(ParseError) -> FanoutOptions {
        var options = FanoutOptions()
        var index = 0
        while index < arguments.count {
            var flag = arguments[index]
            var value: String?
            if let equals = flag.firstIndex(of: "="), flag.hasPrefix("--") {
                value = String(flag[flag.index(after: equals)...])
                flag = String(flag[..<equals])
            }
            if flag == "-h" || flag == "--help" { throw .helpRequested }
            func takeValue() throws(ParseError) -> String {
                if let value { return value }
                index += 1
                guard index < arguments.count else { throw .missingValue(flag) }
                return arguments[index]
            }
            func takeInt(_ range: ClosedRange<Int>) throws(ParseError) -> Int {
                let raw = try takeValue()
                guard let number = Int(raw), range.contains(number) else { throw .badValue(flag, raw) }
                return number
            }
            func takeDouble() throws(ParseError) -> Double {
                let raw = try takeValue()
                guard let number = Double(raw), number >= 0, number.isFinite else { throw .badValue(flag, raw) }
                return number
            }
            func takePorts() throws(ParseError) -> [Int] {
                let raw = try takeValue()
                let ports = raw.split(separator: ",").compactMap { Int($0) }
                guard !ports.isEmpty, ports.allSatisfy({ (1...65535).contains($0) }) else { throw .badValue(flag, raw) }
                return ports
            }
            switch flag {
            case "--host": options.host = try takeValue()
            case "--ports", "--port": options.ports = try takePorts()
            case "--channel": options.channel = try takeValue()
            case "--subscribers": options.subscribers = try takeInt(0...1_000_000)
            case "--rate": options.rate = try takeDouble()
            case "--duration": options.duration = try takeDouble()
            case "--tick-ms": options.tickMilliseconds = max(0.1, try takeDouble())
            case "--sample-every": options.sampleEvery = try takeInt(1...1_000_000)
            case "--idle": options.idle = try takeInt(0...1_000_000)
            case "--idle-ports": options.idlePorts = try takePorts()
            case "--publish-port": options.publishPort = try takePorts()[0]
            case "--drain": options.drainSeconds = try takeDouble()
            case "--threads": options.threads = try takeInt(1...64)
            case "--connect-concurrency": options.connectConcurrency = try takeInt(1...10_000)
            case "--hold": options.hold = true
            default: throw .unknownArgument(flag)
            }
            index += 1
        }
        guard !options.ports.isEmpty else { throw .missingPorts }
        if options.idlePorts.isEmpty { options.idlePorts = options.ports }
        return options
    }
}
