import NIOCore
import NIOPosix

/// Error text for operators: what went wrong and where, without library type names
/// (`connection refused by 127.0.0.1:9003`, not `NIOConnectionError(... SingleConnectionFailure(target: [IPv4]...))`).
/// Callers keep the raw `"\(error)"` for debug-level logs.
public enum OperatorText {
    public static func describe(_ error: any Error) -> String {
        if let connection = error as? NIOConnectionError {
            if connection.dnsAError != nil || connection.dnsAAAAError != nil {
                return "cannot resolve host '\(connection.host)'"
            }
            if let first = connection.connectionErrors.first {
                return "\(describe(first.error)) (\(address(first.target)))"
            }
            return "cannot connect to \(connection.host):\(connection.port)"
        }
        if let io = error as? IOError { return errnoText(io.errnoCode) }
        if let channel = error as? ChannelError {
            switch channel {
            case .connectTimeout(let amount): return "connect timed out after \(duration(amount))"
            case .ioOnClosedChannel, .alreadyClosed, .eof: return "connection closed"
            case .outputClosed: return "connection closed for writing"
            case .inputClosed: return "connection closed for reading"
            default: return "connection error (\(channel))"
            }
        }
        if let bind = error as? SocketAddressError {
            return "invalid address (\(bind))"
        }
        return "\(error)"
    }

    /// `127.0.0.1:8080` / `[::1]:8080` / a Unix path, instead of NIO's `[IPv4]127.0.0.1/127.0.0.1:8080`.
    public static func address(_ address: SocketAddress?) -> String {
        guard let address else { return "?" }
        switch address {
        case .v4:
            return "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
        case .v6:
            return "[\(address.ipAddress ?? "?")]:\(address.port ?? 0)"
        case .unixDomainSocket:
            return address.pathname ?? "unix socket"
        }
    }

    public static func errnoText(_ code: CInt) -> String {
        switch code {
        case ECONNREFUSED: return "connection refused"
        case ECONNRESET: return "connection reset by peer"
        case ETIMEDOUT: return "connection timed out"
        case EHOSTUNREACH: return "host unreachable"
        case ENETUNREACH: return "network unreachable"
        case EADDRINUSE: return "address already in use"
        case EADDRNOTAVAIL: return "address not available on this host"
        case EACCES: return "permission denied"
        case EPIPE: return "connection closed by peer"
        default: return String(cString: strerror(code)).lowercased()
        }
    }

    /// `1s`, `250ms`.
    public static func duration(_ amount: TimeAmount) -> String {
        let ms = amount.nanoseconds / 1_000_000
        if ms >= 1000, ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}
