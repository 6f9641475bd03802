import NIOCore

/// Writes the head the gateway sends upstream straight into an outbound buffer, from the parsed client head: no
/// header dictionary is built and no field the gateway does not touch becomes a `String`.
///
/// The rules are the gateway's proxy-header contract (SPEC §3), the same as `ForwardedHeaders` applies on the
/// NIOHTTP1 path: hop-by-hop fields and anything the client's `Connection` lists are removed (`Upgrade` passes for a
/// WebSocket), `Proxy-*`, `Expect` and the identity headers only the gateway sets are never taken from the client,
/// `X-Forwarded-For` gets the client address appended, `X-Forwarded-Proto`/`-Host` are kept only from a trusted
/// peer, `Via` gets `1.1 gateway`, `X-Request-Id` is set. `Host` passes unchanged. The body framing is re-stated
/// explicitly: one canonical `Content-Length`, or `Transfer-Encoding: chunked`.
public enum HTTP1HeadWriter {
    public struct UpstreamRequest {
        /// The request target to send (`/rewritten/path?query`); nil sends the client's target unchanged.
        public var target: String?
        public var clientAddress: String
        public var peerIsTrusted: Bool
        public var requestID: String
        /// A WebSocket upgrade on a route that allows it: `Upgrade` and `Connection: upgrade` pass.
        public var keepUpgrade: Bool
        /// Headers a policy adds (identity headers, …), written after the gateway's own.
        public var extraHeaders: [(name: String, value: String)]
        /// The `Host` to send when the client sent none (an HTTP/1.0 request): the upstream's authority, as nginx
        /// sends `$proxy_host`. HTTP/1.1 requires the field, so without one it is sent empty (RFC 9112 §3.2).
        public var defaultHost: String?

        public init(
            target: String? = nil, clientAddress: String, peerIsTrusted: Bool = false, requestID: String,
            keepUpgrade: Bool = false, extraHeaders: [(name: String, value: String)] = [], defaultHost: String? = nil
        ) {
            self.target = target
            self.clientAddress = clientAddress
            self.peerIsTrusted = peerIsTrusted
            self.requestID = requestID
            self.keepUpgrade = keepUpgrade
            self.extraHeaders = extraHeaders
            self.defaultHost = defaultHost
        }
    }

    private static let crlf: StaticString = "\r\n"
    private static let separator: StaticString = ": "

    public static func writeUpstreamRequest(
        _ head: HTTP1RequestHead, _ request: UpstreamRequest, into out: inout ByteBuffer
    ) {
        head.bytes.withUnsafeReadableBytes { raw in
            func write(_ range: Range<Int>) {
                out.writeBytes(UnsafeRawBufferPointer(rebasing: raw[range]))
            }
            func writeField(_ name: StaticString, _ value: String) {
                out.writeStaticString(name)
                out.writeStaticString(separator)
                out.writeString(value)
                out.writeStaticString(crlf)
            }
            write(head.methodRange)
            out.writeInteger(HTTP1Bytes.sp)
            if let target = request.target { out.writeString(target) } else { write(head.targetRange) }
            out.writeStaticString(" HTTP/1.1\r\n")

            var hasConnectionField = false
            for field in head.fields where field.known == .connection {
                hasConnectionField = true
                break
            }
            var forwardedFor: [Range<Int>] = []
            var via: [Range<Int>] = []
            var forwardedProto: Range<Int>? = nil
            var forwardedHost: Range<Int>? = nil
            var host: Range<Int>? = nil
            var wroteLength = false
            for field in head.fields {
                switch field.known {
                case .xForwardedFor:
                    forwardedFor.append(field.valueRange)
                    continue
                case .xForwardedProto:
                    if request.peerIsTrusted { forwardedProto = field.valueRange }
                    continue
                case .xForwardedHost:
                    if request.peerIsTrusted { forwardedHost = field.valueRange }
                    continue
                case .via:
                    via.append(field.valueRange)
                    continue
                case .host:
                    host = field.valueRange
                case .upgrade:
                    if request.keepUpgrade {
                        write(field.nameRange.lowerBound..<field.valueRange.upperBound)
                        out.writeStaticString(crlf)
                    }
                    continue
                case .contentLength:
                    if !wroteLength, case .contentLength(let length) = head.framing {
                        out.writeStaticString("Content-Length: ")
                        out.writeString(String(length))
                        out.writeStaticString(crlf)
                        wroteLength = true
                    }
                    continue
                case .connection, .keepAlive, .te, .trailer, .transferEncoding, .proxyConnection,
                    .proxyAuthenticate, .proxyAuthorization, .xGatewayUser, .xGatewaySession, .xRequestID, .expect:
                    continue
                default:
                    break
                }
                if startsWithProxyDash(raw, field.nameRange) { continue }
                if hasConnectionField && listedInConnection(raw, head.fields, field.nameRange) { continue }
                // name ": " value, copied as received (the value is already trimmed of whitespace).
                write(field.nameRange)
                out.writeStaticString(separator)
                write(field.valueRange)
                out.writeStaticString(crlf)
            }
            if host == nil {
                // Found by the fuzzer: an HTTP/1.0 request without Host went upstream as HTTP/1.1 without Host.
                writeField("Host", request.defaultHost ?? "")
            }
            if request.keepUpgrade { writeField("Connection", "upgrade") }
            out.writeStaticString("X-Forwarded-For: ")
            for range in forwardedFor {
                write(range)
                out.writeStaticString(", ")
            }
            out.writeString(request.clientAddress)
            out.writeStaticString(crlf)
            out.writeStaticString("X-Forwarded-Proto: ")
            if let forwardedProto { write(forwardedProto) } else { out.writeStaticString("http") }
            out.writeStaticString(crlf)
            if let chosen = forwardedHost ?? host {
                out.writeStaticString("X-Forwarded-Host: ")
                write(chosen)
                out.writeStaticString(crlf)
            }
            out.writeStaticString("Via: ")
            for range in via {
                write(range)
                out.writeStaticString(", ")
            }
            out.writeStaticString("1.1 gateway\r\n")
            writeField("X-Request-Id", request.requestID)
            for (name, value) in request.extraHeaders {
                out.writeString(name)
                out.writeStaticString(separator)
                out.writeString(value)
                out.writeStaticString(crlf)
            }
            if !request.keepUpgrade, case .chunked = head.framing {
                out.writeStaticString("Transfer-Encoding: chunked\r\n")
            }
            out.writeStaticString(crlf)
        }
    }

    /// A `Proxy-…` name (any case): such fields are for the gateway itself, never forwarded.
    static func startsWithProxyDash(_ raw: UnsafeRawBufferPointer, _ name: Range<Int>) -> Bool {
        name.count > 6 && HTTP1Bytes.equalsIgnoringCase(raw, name.lowerBound, name.lowerBound + 6, "proxy-")
    }

    /// Whether the field name in `name` is one of the options of a `Connection` field (RFC 9110 §7.6.1).
    static func listedInConnection(_ raw: UnsafeRawBufferPointer, _ fields: [HTTP1Field], _ name: Range<Int>) -> Bool {
        var listed = false
        for field in fields where field.known == .connection && !listed {
            HTTP1Bytes.forEachListElement(raw, field.valueRange.lowerBound, field.valueRange.upperBound) { first, last in
                guard !listed, last - first == name.count else { return }
                var same = true
                for offset in 0..<name.count where asciiLower(raw[first + offset]) != asciiLower(raw[name.lowerBound + offset]) {
                    same = false
                    break
                }
                listed = same
            }
        }
        return listed
    }

    @inline(__always)
    static func asciiLower(_ byte: UInt8) -> UInt8 {
        byte >= 65 && byte <= 90 ? byte | 0x20 : byte
    }
}
