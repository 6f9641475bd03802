/// Command-line options of `demo-backend`, parsed by hand so this target needs no ArgumentParser.
///
/// ```
/// demo-backend --port 9001 [--host 127.0.0.1] [--name r1] [--threads N]
/// ```
struct DemoOptions: Sendable, Equatable {
    var host = "127.0.0.1"
    var port = 9001
    /// Reported as `replica` in echo bodies so tests can tell replicas apart.
    var name = "demo"
    /// Event-loop threads; 0 = one per core.
    var threads = 0

    static let usage = """
        usage: demo-backend --port N [--host 127.0.0.1] [--name NAME] [--threads N]

        A small HTTP/1.1 + WebSocket upstream for the gateway's scripts, tests and benchmarks.
        Endpoints: /health, POST /admin/health?status=N, /slow?ms=N, /bytes?n=N[&chunked=1][&type=T][&chunk=N],
        /status/N, /stream?chunks=N&interval_ms=M[&type=T], /json?kb=N, /headers?Name=Value...,
        POST /login, POST /logout, /reset, WebSocket echo on any path; everything else echoes the request as JSON.
        """

    enum ParseError: Error, CustomStringConvertible {
        case missingValue(String)
        case badValue(String, String)
        case unknownArgument(String)
        case helpRequested

        var description: String {
            switch self {
            case .missingValue(let flag): return "missing value for \(flag)"
            case .badValue(let flag, let value): return "invalid value '\(value)' for \(flag)"
            case .unknownArgument(let arg): return "unknown argument '\(arg)'"
            case .helpRequested: return DemoOptions.usage
            }
        }
    }

    /// Parses `arguments` without the program name. Accepts `--flag value` and `--flag=value`.
    static func parse(_ arguments: [String]) throws(ParseError) -> DemoOptions {
        var options = DemoOptions()
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
            switch flag {
            case "--host":
                options.host = try takeValue()
            case "--port", "-p":
                let raw = try takeValue()
                guard let port = Int(raw), (0...65535).contains(port) else { throw .badValue(flag, raw) }
                options.port = port
            case "--name":
                options.name = try takeValue()
            case "--threads":
                let raw = try takeValue()
                guard let threads = Int(raw), threads >= 0 else { throw .badValue(flag, raw) }
                options.threads = threads
            default:
                throw .unknownArgument(flag)
            }
            index += 1
        }
        return options
    }
}
