import Foundation
import GatewayConfig
import GatewayEdge
import GatewayRedis
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// The edge steps of the request phase (SPEC §10), in their documented order: IP rules → CORS preflight → auth.
/// Sessions and rate limits follow in ``GatewayPolicyPipeline``. Pure decisions live in GatewayEdge; this type
/// does the I/O (JWKS fetches, forward-auth calls, the shared forward-auth cache) and builds the answers.
final class EdgePolicies: Sendable {
    private let environment: [String: String]
    private let client: EdgeHTTPClient
    private let logger: Logger
    private let redis: RedisClient?
    private let keyPrefix: String
    private let metrics = EdgeMetrics.shared
    private let verifiers = NIOLockedValueBox([String: JWTVerifier]())
    private let forwardCache = ForwardAuthCache()

    init(environment: [String: String], group: any EventLoopGroup, redis: RedisClient?, keyPrefix: String, logger: Logger) {
        self.environment = environment
        self.client = EdgeHTTPClient(group: group)
        self.redis = redis
        self.keyPrefix = keyPrefix
        self.logger = logger
    }

    /// The outcome of the edge steps: answer now, or go on with this context.
    enum Outcome {
        case respond(ProblemResponse)
        case proceed(PolicyContext)
    }

    func needsRequestPhase(_ route: CompiledRoute) -> Bool { route.edge.hasRequestWork }
    func needsResponsePhase(_ route: CompiledRoute) -> Bool { route.edge.hasResponseWork }

    // MARK: Request phase

    func requestPhase(_ request: PolicyRequest, on eventLoop: any EventLoop) -> EventLoopFuture<Outcome> {
        let route = request.route
        let edge = route.edge
        let headers = request.head.headers
        // 1. IP rules, on the client address after trusted_proxies.
        if let ip = edge.ip, case .denied(let reason) = ip.verdict(clientIP: request.clientIP) {
            metrics.ipDenied(route: route.name)
            return eventLoop.makeSucceededFuture(
                .respond(ProblemResponse(.forbidden, detail: "Access from \(request.clientIP) is not allowed: \(reason).")))
        }
        // 2. CORS preflight: answered here, never proxied.
        let origin = headers.first(name: "origin")
        if let cors = edge.cors {
            let requestMethod = headers.first(name: "access-control-request-method")
            if CORSPolicy.isPreflight(method: request.head.method.rawValue, origin: origin, requestMethod: requestMethod),
                let origin, let requestMethod
            {
                metrics.corsPreflight(route: route.name)
                let answer = cors.preflight(
                    origin: origin, requestMethod: requestMethod,
                    requestHeaders: headers[canonicalForm: "access-control-request-headers"].joined(separator: ","))
                var response = ProblemResponse(
                    .noContent,
                    detail: answer.allowed ? "CORS preflight allowed" : "CORS preflight refused (origin, method or headers not allowed)",
                    headers: answer.headers)
                response.customBody = .init(contentType: nil, bytes: [])
                return eventLoop.makeSucceededFuture(.respond(response))
            }
        }
        if request.head.method == .OPTIONS, let methods = route.settings.match.methods, !methods.contains("OPTIONS") {
            // Matched only because the route has `cors`; a plain OPTIONS is still outside `methods`.
            return eventLoop.makeSucceededFuture(
                .respond(
                    ProblemResponse(
                        .methodNotAllowed, detail: "OPTIONS is not allowed here.", headers: [("Allow", methods.joined(separator: ", "))])))
        }
        var context = PolicyContext()
        context.upstreamRemovals = edge.upstreamRemovals
        context.upstreamHeaders = edge.upstreamAdditions
        if let cors = edge.cors { context.responseHeaders = cors.responseHeaders(origin: origin) }
        // 3. Auth.
        if let jwt = edge.jwt {
            return authenticateJWT(request, provider: jwt, context: context, on: eventLoop)
        }
        if let forward = edge.forward {
            return authenticateForward(request, provider: forward, context: context, on: eventLoop)
        }
        return eventLoop.makeSucceededFuture(.proceed(context))
    }

    /// CORS fields for an answer the gateway gives itself after the preflight step (401, 403, 429 …), so the
    /// page's script can read it.
    func corsHeaders(for request: PolicyRequest) -> [(String, String)] {
        guard let cors = request.route.edge.cors, let origin = request.head.headers.first(name: "origin") else { return [] }
        let fields = cors.responseHeaders(origin: origin)
        return fields.isEmpty ? [("Vary", "Origin")] : fields + [("Vary", "Origin")]
    }

    // MARK: JWT

    private func authenticateJWT(
        _ request: PolicyRequest, provider: JWTProviderSettings, context: PolicyContext, on eventLoop: any EventLoop
    ) -> EventLoopFuture<Outcome> {
        let route = request.route
        guard let token = BearerToken.extract(authorization: request.head.headers.first(name: "authorization")) else {
            if route.edge.authOptional {
                metrics.authDecision(route: route.name, result: "anonymous")
                return eventLoop.makeSucceededFuture(.proceed(context))
            }
            metrics.authDecision(route: route.name, result: "missing")
            return eventLoop.makeSucceededFuture(.respond(Self.unauthorized("a bearer token is required")))
        }
        let verifier = verifier(for: provider)
        // The hot path: a token verified before is one dictionary lookup, no task, no hop.
        if let claims = verifier.cachedClaims(for: token) {
            return eventLoop.makeSucceededFuture(accept(claims, route: route, context: context))
        }
        return eventLoop.makeFutureWithTask { await verifier.verify(token) }.map { result in
            switch result {
            case .success(let claims):
                return self.accept(claims, route: route, context: context)
            case .failure(let failure):
                self.metrics.authDecision(route: route.name, result: "invalid")
                return .respond(Self.unauthorized(failure.description))
            }
        }
    }

    private func accept(_ claims: JWTClaims, route: CompiledRoute, context: PolicyContext) -> Outcome {
        metrics.authDecision(route: route.name, result: "allowed")
        var context = context
        context.jwtClaims = claims
        context.upstreamHeaders += route.edge.claimHeaders(claims)
        if let user = route.edge.user(claims) { context.sessionUser = user }
        return .proceed(context)
    }

    func verifier(for provider: JWTProviderSettings) -> JWTVerifier {
        verifiers.withLockedValue { verifiers in
            if let existing = verifiers[provider.name], existing.settings == provider { return existing }
            let client = self.client
            let fetch: JWKSFetch = { url in
                let target = try EdgeHTTPClient.Target(url)
                let response = try await client.get(
                    target, headers: [("Accept", "application/jwk-set+json, application/json")], timeout: .seconds(5),
                    on: client.group.next()
                ).get()
                guard response.status == 200 else { throw EdgeHTTPClient.Failure.connect("HTTP \(response.status)") }
                return String(decoding: response.body, as: UTF8.self)
            }
            let verifier = JWTVerifier(settings: provider, environment: environment, fetch: fetch)
            verifiers[provider.name] = verifier
            return verifier
        }
    }

    static func unauthorized(_ description: String) -> ProblemResponse {
        ProblemResponse(
            .unauthorized, detail: "Invalid or missing bearer token: \(description).",
            headers: [("WWW-Authenticate", BearerChallenge.invalidToken(description))])
    }

    // MARK: Forward auth

    private func authenticateForward(
        _ request: PolicyRequest, provider: ForwardAuthSettings, context: PolicyContext, on eventLoop: any EventLoop
    ) -> EventLoopFuture<Outcome> {
        let route = request.route
        let headers = request.head.headers
        let authorization = headers.first(name: "authorization")
        let cookie = headers[canonicalForm: "cookie"].isEmpty ? nil : headers[canonicalForm: "cookie"].joined(separator: "; ")
        if authorization == nil, cookie == nil, route.edge.authOptional {
            metrics.authDecision(route: route.name, result: "anonymous")
            return eventLoop.makeSucceededFuture(.proceed(context))
        }
        let cacheKey = provider.cache == nil
            ? nil : ForwardAuthExchange.cacheKey(provider: provider.name, authorization: authorization, cookie: cookie)
        let now = Date().timeIntervalSince1970
        if let cacheKey, let cached = forwardCache.lookup(cacheKey, now: now) {
            return eventLoop.makeSucceededFuture(allowForward(cached, route: route, context: context))
        }
        let ask: @Sendable () -> EventLoopFuture<Outcome> = {
            self.askAuthService(request, provider: provider, cacheKey: cacheKey, context: context, on: eventLoop)
        }
        guard let cacheKey, let redis else { return ask() }
        // The shared tier: another instance may have asked already.
        let storeKey = keyPrefix + "fa:" + cacheKey
        return redis.send(["GET", storeKey], on: eventLoop).flatMap { reply -> EventLoopFuture<Outcome> in
            if let text = reply.string, let fields = Self.decodeCached(text) {
                self.forwardCache.insert(cacheKey, headers: fields, until: now + Self.seconds(provider.cache))
                return eventLoop.makeSucceededFuture(self.allowForward(fields, route: route, context: context))
            }
            return ask()
        }.flatMapError { _ in ask() }
    }

    private func askAuthService(
        _ request: PolicyRequest, provider: ForwardAuthSettings, cacheKey: String?, context: PolicyContext,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<Outcome> {
        let route = request.route
        let target: EdgeHTTPClient.Target
        do {
            target = try EdgeHTTPClient.Target(provider.url)
        } catch {
            return eventLoop.makeSucceededFuture(.respond(Self.authUnavailable("the auth service URL is invalid")))
        }
        let headers = ForwardAuthExchange.requestHeaders(
            clientHeaders: request.head.headers.map { ($0.name, $0.value) }, method: request.head.method.rawValue,
            uri: request.head.uri, host: request.head.headers.first(name: "host"), scheme: request.scheme,
            clientIP: request.clientIP)
        return client.get(target, headers: headers, timeout: provider.timeout.timeAmount, on: eventLoop)
            .map { response -> Outcome in
                switch ForwardAuthExchange.decide(
                    status: response.status, headers: response.headers, body: response.body, copyHeaders: provider.copyHeaders)
                {
                case .allow(let fields):
                    let pairs = fields.map { ForwardAuthCache.HeaderPair(name: $0.name, value: $0.value) }
                    if let cacheKey, let ttl = provider.cache {
                        self.forwardCache.insert(cacheKey, headers: pairs, until: Date().timeIntervalSince1970 + Self.seconds(ttl))
                        if let redis = self.redis {
                            let milliseconds = String(max(1, Int(Self.seconds(ttl) * 1000)))
                            _ = redis.send(
                                ["SET", self.keyPrefix + "fa:" + cacheKey, Self.encodeCached(pairs), "PX", milliseconds],
                                on: eventLoop)
                        }
                    }
                    return self.allowForward(pairs, route: route, context: context)
                case .deny(let status, let fields, let body):
                    self.metrics.authDecision(route: route.name, result: "denied")
                    var problem = ProblemResponse(
                        HTTPResponseStatus(statusCode: status), detail: "The auth service refused the request (\(status)).",
                        headers: fields.filter { $0.name.lowercased() != "content-type" }.map { ($0.name, $0.value) })
                    let type = fields.first { $0.name.lowercased() == "content-type" }?.value
                    problem.customBody = .init(contentType: type, bytes: body)
                    return .respond(problem)
                case .unavailable(let reason):
                    self.metrics.authDecision(route: route.name, result: "unavailable")
                    return .respond(Self.authUnavailable(reason))
                }
            }
            .flatMapErrorThrowing { error in
                self.metrics.authDecision(route: route.name, result: "unavailable")
                self.logger.warning(
                    "forward auth failed", metadata: ["route": "\(route.name)", "url": "\(provider.url)", "error": "\(error)"])
                return .respond(Self.authUnavailable("the auth service is unreachable"))
            }
    }

    private func allowForward(_ fields: [ForwardAuthCache.HeaderPair], route: CompiledRoute, context: PolicyContext) -> Outcome {
        metrics.authDecision(route: route.name, result: "allowed")
        var context = context
        context.upstreamHeaders += fields.map { ($0.name, $0.value) }
        return .proceed(context)
    }

    static func authUnavailable(_ reason: String) -> ProblemResponse {
        ProblemResponse(
            .serviceUnavailable, detail: "Authentication is unavailable: \(reason); try again shortly.",
            headers: [("Retry-After", "1")])
    }

    static func seconds(_ duration: Duration?) -> Double {
        guard let duration else { return 0 }
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    /// `name\tvalue\n` lines (names are tokens; values have no CR/LF).
    static func encodeCached(_ fields: [ForwardAuthCache.HeaderPair]) -> String {
        "ok\n" + fields.map { "\($0.name)\t\($0.value)\n" }.joined()
    }

    static func decodeCached(_ text: String) -> [ForwardAuthCache.HeaderPair]? {
        guard text.hasPrefix("ok\n") else { return nil }
        return text.dropFirst(3).split(separator: "\n").compactMap { line -> ForwardAuthCache.HeaderPair? in
            guard let tab = line.firstIndex(of: "\t") else { return nil }
            return ForwardAuthCache.HeaderPair(name: String(line[..<tab]), value: String(line[tab...].dropFirst()))
        }
    }
}
