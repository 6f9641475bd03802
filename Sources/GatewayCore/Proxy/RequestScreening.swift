import GatewayHTTP
import NIOCore
import NIOHTTP1

/// Applies the request rules of `GatewayHTTP` (SPEC §13) to a decoded request head, before routing and before any
/// policy reads it: the result is the head the rest of the gateway sees and the upstream gets, or the problem to
/// answer. The rules themselves are pure; this only maps them onto `HTTPRequestHead`.
enum RequestScreening {
    struct Accepted {
        /// Normalised target (path + query, no fragment), cleaned headers, a valid `Host`.
        var head: HTTPRequestHead
        /// The normalised path the router matches.
        var path: String
        var query: String?
    }

    enum Outcome {
        case accepted(Accepted)
        case rejected(ProblemResponse)
    }

    /// - Parameter listenerAuthority: `ip:port` the client connected to; the `Host` of an HTTP/1.0 request
    ///   without one.
    static func screen(_ head: HTTPRequestHead, snapshot: GatewaySnapshot, listenerAuthority: () -> String) -> Outcome {
        let server = snapshot.server
        if head.uri.utf8.count > server.maxURIBytes {
            return .rejected(
                ProblemResponse(
                    .uriTooLong,
                    detail: "The request target is longer than the limit of \(server.maxURIBytes) bytes.",
                    closeConnection: true))
        }
        if head.method == .CONNECT {
            // A proxy tunnel: not something an API gateway offers. The decoder stops parsing after CONNECT, so
            // nothing that follows on this connection could be answered: close.
            return .rejected(
                ProblemResponse(
                    .methodNotAllowed, detail: "CONNECT is not supported.", closeConnection: true))
        }

        let target: RequestTarget
        do {
            target = try RequestTarget.parse(head.uri)
        } catch {
            return .rejected(ProblemResponse(.badRequest, detail: error.detail, closeConnection: true))
        }
        if target.form == .authority {
            return .rejected(
                ProblemResponse(
                    .badRequest, detail: "An authority-form target is only valid with CONNECT.", closeConnection: true))
        }

        let framing: RequestFraming
        do {
            framing = try FramingRules.evaluate(
                contentLength: head.headers[canonicalForm: "content-length"].map(String.init),
                transferEncoding: head.headers[canonicalForm: "transfer-encoding"].map(String.init))
        } catch {
            switch error {
            case .badRequest(let detail):
                return .rejected(ProblemResponse(.badRequest, detail: detail, closeConnection: true))
            case .notImplemented(let detail):
                return .rejected(ProblemResponse(.notImplemented, detail: detail, closeConnection: true))
            }
        }

        let isHTTP10 = head.version.major == 1 && head.version.minor == 0
        let hostResolution = HostRules.resolve(
            hostValues: head.headers[canonicalForm: "host"].map(String.init),
            targetAuthority: target.authority, isHTTP10: isHTTP10, listenerAuthority: listenerAuthority())
        if case .invalid(let detail) = hostResolution {
            return .rejected(ProblemResponse(.badRequest, detail: detail, closeConnection: true))
        }

        var path = target.path
        if target.form != .asterisk {
            do {
                path = try snapshot.pathNormalizer.normalize(target.path)
            } catch {
                return .rejected(ProblemResponse(.badRequest, detail: error.detail, closeConnection: true))
            }
        }

        // Only rebuild what changed: most requests pass every rule untouched.
        var out = head
        // The target changes when the path was normalised, a fragment was dropped, or it was absolute-form.
        let targetUnchanged =
            target.form != .absolute && path.utf8.count == target.path.utf8.count && path == target.path
            && !head.uri.utf8.contains(UInt8(ascii: "#"))
        if !targetUnchanged { out.uri = target.query.map { path + "?" + $0 } ?? path }
        let rules = snapshot.headerRules
        var dropped = false
        for (name, _) in head.headers where rules.verdict(forRequestHeader: name) != .keep {
            dropped = true
            break
        }
        if dropped {
            var headers = HTTPHeaders()
            headers.reserveCapacity(head.headers.count)
            for (name, value) in head.headers where rules.verdict(forRequestHeader: name) == .keep {
                headers.add(name: name, value: value)
            }
            out.headers = headers
        }
        if case .replace(let host) = hostResolution {
            out.headers.remove(name: "host")
            out.headers.add(name: "Host", value: host)
        }
        if case .contentLength(let length) = framing {
            let canonical = String(length)
            let values = out.headers[canonicalForm: "content-length"]
            if values.count != 1 || values[0] != canonical[...] {
                out.headers.replaceOrAdd(name: "Content-Length", value: canonical)
            }
        }
        return .accepted(Accepted(head: out, path: path, query: target.query))
    }
}

extension RequestValidation {
    /// `ip:port` of the listener a channel accepted on, for `Host` of HTTP/1.0 requests that have none.
    static func listenerAuthority(_ address: SocketAddress?) -> String {
        guard let address, let ip = address.ipAddress, let port = address.port else { return "localhost" }
        if case .v6 = address { return "[\(ip)]:\(port)" }
        return "\(ip):\(port)"
    }
}
