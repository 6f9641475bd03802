import GatewayConfig
import GatewayHTTP
import GatewayUpstreams
import NIOCore
import NIOHTTP1

/// One request's journey through the gateway: its phase, its upstream attempt(s), and what has been sent where.
/// Owned by a `ProxyHandler`; touched only on that connection's event loop.
final class ProxyExchange {
    enum Phase {
        /// Running the request phases (sessions, rate limits); body parts are held.
        case filtering
        /// Waiting for an upstream connection; body parts are held.
        case connecting
        /// Request head sent upstream; body streaming and/or waiting for the response head.
        case proxying
        /// The upstream answered 101: bytes are spliced both ways.
        case tunnel
        /// The gateway answered itself; any remaining request body is read and dropped.
        case answeredLocally
        /// Response finished.
        case done
    }

    let head: HTTPRequestHead
    let requestID: String
    let snapshot: GatewaySnapshot
    let route: CompiledRoute?
    let clientIP: String
    let startedAt: NIODeadline
    let isIdempotent: Bool
    let isWebSocketUpgrade: Bool
    /// Whether the request declared a body (Content-Length > 0 or chunked).
    let hasBody: Bool
    let maxBodyBytes: Int

    /// The normalised request path (what was routed) and the query, untouched.
    var path: String = "/"
    var query: String? = nil
    /// The request target as the client sent it (for the access log; `head.uri` is the normalised one).
    var clientURI: String? = nil
    /// `TLSv1.3` etc. on HTTPS listeners, for the access log's `tls` field.
    var tlsVersion: String? = nil

    var phase: Phase = .filtering
    var policy = PolicyContext()

    // Request side.
    /// Body parts (and `.end`) received before the upstream connection was ready.
    var heldParts: [HTTPServerRequestPart] = []
    /// A copy of the body kept for a retry while it stays under `replayLimit` (nil once it outgrew it).
    var replayBody: [ByteBuffer]? = []
    var replayBytes = 0
    var requestEnded = false
    var requestBytes = 0
    /// Whether the client asked for `Expect: 100-continue` (answered by the gateway once it forwards).
    var expectsContinue = false

    // Upstream side.
    var connection: UpstreamConnection?
    /// The current attempt's replica (counted as started by the pick).
    var replica: Pick?
    /// Indexes of the replicas whose attempt failed, excluded from the retry's pick (empty on the common path: no
    /// allocation).
    var failedReplicas: [Int] = []
    /// The URL of the last replica picked (the access log's `replica`), kept after a failed attempt.
    var lastReplicaURL: String?
    var attempts = 0
    var attemptStartedAt: NIODeadline = .now()
    /// Whether any byte of the current attempt reached the upstream socket.
    var requestSent = false
    /// When the current attempt's response head must have arrived (`timeouts.response`); the
    /// connection's ``ProxyHandler`` keeps the one timer that enforces it.
    var responseDeadline: NIODeadline?
    var upstreamResponseHead: HTTPResponseHead?
    var upstreamResponseEnded = false
    /// Which attempt is open: each one ends exactly once (in-flight counts, passive health), whatever ends it.
    var attemptLedger = AttemptTracker()
    /// `timeouts.client_body`: the gap since the body last made progress, and the timer checking it.
    var bodyClock: BodyStallClock?
    var bodyTimer: Scheduled<Void>?

    // Response side.
    var responseStarted = false
    var responseStatus: Int = 0
    var responseBytes = 0
    /// Close the client connection once the response is written.
    var closeAfterResponse = false
    /// Response parts held while the response phase (e.g. creating a session) runs.
    var heldResponseParts: [HTTPClientResponsePart]? = nil
    var compress = false
    /// The response head, built but not yet written (see `ProxyHandler.writePendingResponseHead`).
    var pendingResponseHead: HTTPResponseHead?
    /// Upstream trailers are passed on (the client gets a chunked HTTP/1.1 body and the `Trailer` field).
    var forwardTrailers = false
    var outcomeNote: String? = nil
    /// The `detail` of the problem document the gateway answered with (recent errors on the dashboard).
    var problemDetail: String? = nil
    /// The response cache's state for this request (nil when the route does not cache).
    var cache: CacheExchange? = nil
    /// The request's spans when tracing is on (`ProxyHandler+Tracing`).
    var trace: RequestTrace? = nil

    /// Request bodies up to this size are kept so the request can be replayed on another replica.
    static let replayLimit = 64 * 1024

    init(
        head: HTTPRequestHead,
        requestID: String,
        snapshot: GatewaySnapshot,
        route: CompiledRoute?,
        clientIP: String
    ) {
        self.head = head
        self.requestID = requestID
        self.snapshot = snapshot
        self.route = route
        self.clientIP = clientIP
        self.startedAt = .now()
        switch head.method {
        case .GET, .HEAD, .OPTIONS, .PUT, .DELETE, .TRACE: self.isIdempotent = true
        default: self.isIdempotent = false
        }
        let upgrade = head.headers[canonicalForm: "upgrade"].contains { $0.lowercased() == "websocket" }
        self.isWebSocketUpgrade = upgrade
        let length = head.headers.first(name: "content-length").flatMap { Int($0) } ?? 0
        self.hasBody = length > 0 || head.headers.contains(name: "transfer-encoding")
        self.maxBodyBytes = route?.settings.maxBodyBytes ?? snapshot.server.maxBodyBytes
        self.expectsContinue = head.headers[canonicalForm: "expect"].contains { $0.lowercased() == "100-continue" }
    }

    var routeName: String { route?.name ?? "-" }

    /// Whether the request could be sent again to another replica after this attempt failed.
    var canReplay: Bool {
        if !requestSent { return true }
        guard isIdempotent, replayBody != nil else { return false }
        return true
    }

    func keepForReplay(_ buffer: ByteBuffer) {
        guard replayBody != nil else { return }
        replayBytes += buffer.readableBytes
        if replayBytes > Self.replayLimit {
            replayBody = nil
        } else {
            replayBody?.append(buffer)
        }
    }

    func cancelResponseTimer() {
        responseDeadline = nil
    }

    func cancelBodyTimer() {
        bodyTimer?.cancel()
        bodyTimer = nil
        bodyClock = nil
    }
}
