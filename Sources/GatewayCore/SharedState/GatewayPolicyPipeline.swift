import CoreMetrics
import Foundation
import GatewayConfig
import GatewayPolicies
import Logging
import NIOCore
import NIOHTTP1

/// The request and response phases backed by shared state (SPEC §3 rate limits, §4 sessions, §10 edge):
/// request: IP rules → CORS preflight → auth (``EdgePolicies``) → session lookup → rate limits (which may key on
/// the session user or a JWT claim);
/// response: session issue / clear from the upstream's `X-Gateway-Session` header, response header rules, CORS `Vary`.
struct GatewayPolicyPipeline: RequestPolicies {
    let keyPrefix: String
    let limiter: any RateLimiter
    let sessions: SessionComponents?
    let logger: Logger
    /// `nil` only in tests that build a pipeline without edge policies.
    var edge: EdgePolicies? = nil

    struct SessionComponents: Sendable {
        let store: any SessionStore
        let codec: SessionCookieCodec
    }

    func needsRequestPhase(_ route: CompiledRoute) -> Bool {
        route.settings.session != .off || !route.settings.rateLimits.isEmpty || route.edge.hasRequestWork
    }

    func needsResponsePhase(_ route: CompiledRoute) -> Bool {
        (route.settings.session != .off && sessions != nil) || route.edge.hasResponseWork
    }

    // MARK: Request phase

    func requestPhase(_ request: PolicyRequest, on eventLoop: any EventLoop) -> EventLoopFuture<RequestPhaseResult> {
        guard let edge, edge.needsRequestPhase(request.route) else {
            return sharedStatePhase(request, context: PolicyContext(), on: eventLoop)
        }
        return edge.requestPhase(request, on: eventLoop).flatMap { outcome -> EventLoopFuture<RequestPhaseResult> in
            switch outcome {
            case .respond(let problem):
                return eventLoop.makeSucceededFuture(.respond(Self.withCORS(problem, request: request, edge: edge)))
            case .proceed(let context):
                return self.sharedStatePhase(request, context: context, on: eventLoop).map { result in
                    guard case .respond(let problem) = result else { return result }
                    return .respond(Self.withCORS(problem, request: request, edge: edge))
                }
            }
        }
    }

    /// A refusal after the preflight step still carries the CORS fields (a browser shows the page the 401/429).
    private static func withCORS(_ problem: ProblemResponse, request: PolicyRequest, edge: EdgePolicies) -> ProblemResponse {
        guard problem.status != .noContent || problem.customBody == nil else { return problem }  // a preflight answer
        var problem = problem
        for field in edge.corsHeaders(for: request) where !problem.headers.contains(where: { $0.0 == field.0 }) {
            problem.headers.append(field)
        }
        return problem
    }

    /// Sessions then rate limits, starting from what the edge steps decided.
    private func sharedStatePhase(_ request: PolicyRequest, context: PolicyContext, on eventLoop: any EventLoop)
        -> EventLoopFuture<RequestPhaseResult>
    {
        if request.route.settings.session == .off || sessions == nil {
            return applyRateLimits(request, context: context, on: eventLoop)  // no session step to wait for
        }
        return lookupSession(request, base: context, on: eventLoop).flatMap { lookup -> EventLoopFuture<RequestPhaseResult> in
            switch lookup {
            case .respond(let problem):
                return eventLoop.makeSucceededFuture(.respond(problem))
            case .proceed(let context):
                return self.applyRateLimits(request, context: context, on: eventLoop)
            }
        }
    }

    private func lookupSession(_ request: PolicyRequest, base: PolicyContext, on eventLoop: any EventLoop)
        -> EventLoopFuture<RequestPhaseResult>
    {
        let mode = request.route.settings.session
        guard mode != .off, let sessions else {
            return eventLoop.makeSucceededFuture(.proceed(context: base))
        }
        let cookieLines = request.head.headers[canonicalForm: "cookie"].map(String.init)
        guard let id = sessions.codec.sessionID(fromCookieHeaders: cookieLines) else {
            if mode == .required {
                return eventLoop.makeSucceededFuture(.respond(Self.unauthorized(hadCookie: sessions.codec.hasCookie(inCookieHeaders: cookieLines))))
            }
            return eventLoop.makeSucceededFuture(.proceed(context: base))
        }
        return sessions.store.lookup(id: id, on: eventLoop).map { session -> RequestPhaseResult in
            guard let session else {
                if mode == .required { return .respond(Self.unauthorized(hadCookie: true)) }
                return .proceed(context: base)
            }
            var context = base
            context.sessionID = session.id
            context.sessionUser = session.user ?? base.sessionUser
            if let user = session.user { context.upstreamHeaders.append(("X-Gateway-User", user)) }
            context.upstreamHeaders.append(("X-Gateway-Session", session.data))
            return .proceed(context: context)
        }.flatMapErrorThrowing { error in
            CoreMetrics.Counter(label: "gateway_store_errors_total", dimensions: [("op", "session_lookup")]).increment()
            logger.warning("session store unavailable", metadata: ["error": "\(error)"])
            return .respond(
                ProblemResponse(
                    .serviceUnavailable, detail: "The session store is unreachable; try again shortly.",
                    headers: [("Retry-After", "1")]))
        }
    }

    private func applyRateLimits(_ request: PolicyRequest, context: PolicyContext, on eventLoop: any EventLoop)
        -> EventLoopFuture<RequestPhaseResult>
    {
        let compiled = request.route
        let route = compiled.settings
        guard !route.rateLimits.isEmpty else { return eventLoop.makeSucceededFuture(.proceed(context: context)) }
        let claims = context.jwtClaims
        let requests = RateLimitKeys.requests(
            prefix: keyPrefix, route: route, clientIP: request.clientIP, headers: request.head.headers,
            sessionUser: context.sessionUser, clientCertSubject: request.clientCertSubject,
            jwtClaim: { name in claims?[name]?.text })
        return limiter.check(requests, on: eventLoop).map { decision -> RequestPhaseResult in
            var context = context
            context.responseHeaders.append(contentsOf: RateLimitHeaders.fields(policy: compiled.rateLimitPolicy, decision: decision))
            Self.count(decision, metrics: compiled.metrics)
            switch decision.outcome {
            case .allowed:
                return .proceed(context: context)
            case .storeUnavailable:
                var problem = ProblemResponse(
                    .serviceUnavailable, detail: "The rate-limit store is unreachable; try again shortly.",
                    headers: [("Retry-After", "1")])
                problem.headers.append(contentsOf: context.responseHeaders.filter { $0.0 != "Retry-After" })
                return .respond(problem)
            default:
                let limitName = decision.mostRestrictive?.limit.name ?? "limit"
                let problem = ProblemResponse(
                    .tooManyRequests,
                    detail: "Rate limit '\(limitName)' exceeded; retry after \(decision.retryAfterSeconds ?? 1) s.",
                    headers: context.responseHeaders)
                return .respond(problem)
            }
        }
    }

    /// `gateway_ratelimit_decisions_total{route, limit, result}`: one per limit, or one `limit="*"` when
    /// the decision was taken without the store's numbers (`allowed_without_store`, `store_unavailable`).
    private static func count(_ decision: RateLimitDecision, metrics: RouteMetrics) {
        for result in decision.results {
            let label = decision.degraded ? "degraded" : (result.allowed ? "allowed" : "denied")
            metrics.rateLimitDecisions(limit: result.limit.name, result: label).increment()
        }
        if decision.results.isEmpty {
            let label = decision.isAllowed ? "allowed_without_store" : "store_unavailable"
            metrics.rateLimitDecisions(limit: "*", result: label).increment()
        }
    }

    private static func unauthorized(hadCookie: Bool) -> ProblemResponse {
        ProblemResponse(
            .unauthorized,
            detail: hadCookie ? "The session is unknown, expired or invalid; log in again." : "This route needs a session; log in first.")
    }

    // MARK: Response phase

    func responsePhase(
        _ request: PolicyRequest,
        context: PolicyContext,
        responseHead: HTTPResponseHead,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<ResponsePhaseResult> {
        var result = ResponsePhaseResult()
        // Response header rules and CORS' `Vary: Origin` (added, so the upstream's own `Vary` stays).
        let edge = request.route.edge
        result.removeHeaders = edge.responseRemovals
        result.addHeaders = edge.responseAdditions
        if edge.cors != nil { result.addHeaders.append(("Vary", "Origin")) }
        guard let sessions, request.route.settings.session != .off,
            let value = responseHead.headers.first(name: "x-gateway-session")
        else {
            return eventLoop.makeSucceededFuture(result)
        }
        result.removeHeaders.append("x-gateway-session")
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if trimmed.lowercased() == "clear" {
            result.addHeaders.append(("Set-Cookie", sessions.codec.expireCookieHeader()))
            guard let id = context.sessionID else { return eventLoop.makeSucceededFuture(result) }
            let cleared = result
            return sessions.store.delete(id: id, on: eventLoop).map { _ in cleared }
        }
        guard request.route.settings.session == .issue else {
            logger.warning("upstream tried to issue a session on a route without `session: issue`",
                           metadata: ["route": "\(request.route.name)"])
            return eventLoop.makeSucceededFuture(result)
        }
        guard let (compact, user) = Self.parseSessionObject(trimmed) else {
            logger.warning("upstream sent an X-Gateway-Session that is not a JSON object", metadata: ["route": "\(request.route.name)"])
            return eventLoop.makeSucceededFuture(result)
        }
        let issued = result
        return sessions.store.rotate(oldID: context.sessionID, data: compact, user: user, on: eventLoop).map { id in
            var result = issued
            result.addHeaders.append(("Set-Cookie", sessions.codec.setCookieHeader(sessions.codec.encode(id: id))))
            return result
        }
    }

    /// The object as compact JSON and its `user` field.
    static func parseSessionObject(_ text: String) -> (String, String?)? {
        guard let data = text.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let compact = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return nil }
        let user: String?
        switch object["user"] {
        case let string as String: user = string
        case let number as NSNumber: user = number.stringValue
        default: user = nil
        }
        return (String(decoding: compact, as: UTF8.self), user)
    }
}

/// `DELETE /sessions?user=NAME` on the admin listener.
struct SessionAdmin: AdminExtensions {
    let store: any SessionStore

    func handle(_ request: AdminRequest, on eventLoop: any EventLoop) -> EventLoopFuture<AdminResponse>? {
        guard request.path == "/sessions" else { return nil }
        guard request.method == .DELETE else {
            return eventLoop.makeSucceededFuture(.problem(.methodNotAllowed, "Use DELETE /sessions?user=NAME."))
        }
        guard let user = request.query["user"], !user.isEmpty else {
            return eventLoop.makeSucceededFuture(.problem(.badRequest, "The query parameter `user` is required."))
        }
        return store.deleteAll(user: user, on: eventLoop).map { count in
            .json("{\"user\":\(JSONText.quote(user)),\"sessions_ended\":\(count)}")
        }.flatMapErrorThrowing { error in
            .problem(.serviceUnavailable, "The session store is unreachable: \(error).")
        }
    }
}

/// Several admin extensions, asked in order.
struct CombinedAdminExtensions: AdminExtensions {
    let parts: [any AdminExtensions]

    func handle(_ request: AdminRequest, on eventLoop: any EventLoop) -> EventLoopFuture<AdminResponse>? {
        for part in parts {
            if let future = part.handle(request, on: eventLoop) { return future }
        }
        return nil
    }
}
