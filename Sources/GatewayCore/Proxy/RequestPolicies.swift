import GatewayConfig
import GatewayEdge
import NIOCore
import NIOHTTP1

/// What the policy phases see of a request.
struct PolicyRequest {
    let route: CompiledRoute
    let head: HTTPRequestHead
    let clientIP: String
    let requestID: String
    /// The verified mTLS client subject, for the `client_cert` rate-limit key.
    var clientCertSubject: String? = nil
    /// `http` or `https`, for the forward-auth request's `X-Forwarded-Proto`.
    var scheme: String = "http"
}

/// The outcome of the request-filter phase (sessions, rate limits).
enum RequestPhaseResult {
    /// Go on to the upstream; `upstreamHeaders` are added to the upstream request (identity headers),
    /// `responseHeaders` to whatever the client finally gets (rate-limit fields).
    case proceed(context: PolicyContext)
    /// Answer the client now (401, 429, 503 …).
    case respond(ProblemResponse)
}

/// State a request carries from the request phase to the response phase.
struct PolicyContext {
    var upstreamHeaders: [(String, String)] = []
    var responseHeaders: [(String, String)] = []
    /// The session the request arrived with, if any (its id, for rotation or clearing).
    var sessionID: String? = nil
    var sessionUser: String? = nil
    /// Client header names dropped from the upstream request before `upstreamHeaders` are added (header rules,
    /// `claims_to_headers` and forward-auth `copy_headers`, which a client must not be able to forge).
    var upstreamRemovals: [String] = []
    /// The verified JWT's claims (for `jwt:CLAIM` rate-limit keys).
    var jwtClaims: JWTClaims? = nil
}

/// The outcome of the response-filter phase for the upstream's response head.
struct ResponsePhaseResult {
    var addHeaders: [(String, String)] = []
    var removeHeaders: [String] = []
}

/// The request and response phases that need shared state (GUIDE: Pingora's `request_filter`/`response_filter`).
/// Implementations complete their futures on the given event loop.
protocol RequestPolicies: Sendable {
    func requestPhase(_ request: PolicyRequest, on eventLoop: any EventLoop) -> EventLoopFuture<RequestPhaseResult>
    func responsePhase(
        _ request: PolicyRequest,
        context: PolicyContext,
        responseHead: HTTPResponseHead,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<ResponsePhaseResult>
    /// Whether this route needs the response phase at all (lets the hot path skip a future).
    func needsResponsePhase(_ route: CompiledRoute) -> Bool
    /// Whether this route needs the request phase at all.
    func needsRequestPhase(_ route: CompiledRoute) -> Bool
}
