import NIOHTTP1
import OTel
import OTelSemanticConventions
import Tracing

/// One request's spans: the server span (the whole exchange), a child per upstream attempt (client kind; a retry
/// is a second child with `http.request.resend_count`), and one for the request policies (sessions, rate limits:
/// the Redis round trips). Attributes follow the OpenTelemetry HTTP semantic conventions; gateway-specific ones
/// are under `gateway.*`.
///
/// Owned by a `ProxyExchange`, used on its event loop only. An unsampled request gets its server span's context
/// only (the upstream sees a `traceparent` with the sampled flag off, naming that span as parent, and the access log
/// a `trace_id`): no attempt or policy spans, no attribute work — every setter checks `isRecording` first.
final class RequestTrace {
    let tracer: any Tracer
    let server: any Span
    private(set) var attempt: (any Span)?
    private var policy: (any Span)?
    /// Hex trace id for the access log (`trace_id`); rendered only when asked for (access log on).
    lazy var traceID: String? = server.context.otelTraceID

    /// Starts the server span, continuing the client's `traceparent` when it sent a valid one.
    init(tracer: any Tracer, head: HTTPRequestHead, path: String, scheme: String, clientIP: String, requestID: String) {
        self.tracer = tracer
        var parent = InstrumentationContext.topLevel
        if head.headers.contains(name: "traceparent") {
            tracer.extract(head.headers, into: &parent, using: HTTPHeadersExtractor())
        }
        let span = tracer.startSpan(head.method.rawValue, context: parent, ofKind: .server)
        server = span
        guard span.isRecording else { return }
        span.updateAttributes { attributes in
            attributes[OTelAttribute.http.request.method] = head.method.rawValue
            attributes[OTelAttribute.url.path] = path
            attributes[OTelAttribute.url.scheme] = scheme
            attributes[OTelAttribute.client.address] = clientIP
            attributes[OTelAttribute.network.`protocol`.version] = "\(head.version.major).\(head.version.minor)"
            if let host = head.headers.first(name: "host") {
                attributes[OTelAttribute.server.address] = RequestValidation.hostWithoutPort(host) ?? host
            }
            if let agent = head.headers.first(name: "user-agent") {
                attributes[OTelAttribute.userAgent.original] = agent
            }
            attributes["gateway.request_id"] = requestID
        }
    }

    /// The request matched a route: the span is renamed `{method} {http.route}` (semantic conventions).
    func routed(_ route: CompiledRoute, method: String) {
        guard server.isRecording else { return }
        // The route's path pattern: `/login` (exact) or `/api/*` (prefix `/api/`; `/api` gives `/api*`, as it also
        // matches `/apix`).
        let template = route.exactPath ?? ((route.prefix ?? "/") + "*")
        server.operationName = "\(method) \(template)"
        server.updateAttributes { attributes in
            attributes[OTelAttribute.http.route] = template
            attributes["gateway.route"] = route.name
        }
    }

    // MARK: Request policies

    func policyStarted() {
        guard server.isRecording else { return }  // parent-based: an unsampled request has no sampled children
        policy = tracer.startSpan("gateway.policies", context: server.context, ofKind: .internal)
    }

    /// `status`: the gateway's own answer (429, 401 …) when a policy stopped the request; nil when it proceeds.
    func policyFinished(status: Int?, error: String? = nil) {
        guard let span = policy else { return }
        policy = nil
        if span.isRecording {
            if let status {
                span.attributes["gateway.policy.response_status"] = status
                if status == 429 { span.addEvent("rate_limited") }
            }
            if let error {
                span.attributes[OTelAttribute.error.`type`] = "policy_error"
                span.setStatus(SpanStatus(code: .error, message: error))
            }
        }
        span.end()
    }

    // MARK: Upstream attempts

    /// A replica was picked for attempt `number` (1-based).
    func attemptStarted(number: Int, upstream: String, host: String, port: Int, url: String, method: String, uri: String) {
        attempt?.end()
        guard server.isRecording else { return }
        let span = tracer.startSpan(method, context: server.context, ofKind: .client)
        attempt = span
        guard span.isRecording else { return }
        span.updateAttributes { attributes in
            attributes[OTelAttribute.http.request.method] = method
            attributes[OTelAttribute.server.address] = host
            attributes[OTelAttribute.server.port] = port
            attributes[OTelAttribute.url.full] = Self.join(url, uri)
            if number > 1 { attributes[OTelAttribute.http.request.resendCount] = number - 1 }
            attributes["gateway.upstream"] = upstream
            attributes["gateway.replica"] = url
            attributes["gateway.attempt"] = number
        }
    }

    /// The open attempt ended. `status`: the upstream's response status when one arrived.
    func attemptFinished(outcome: AttemptOutcome, status: Int?) {
        guard let span = attempt else { return }
        attempt = nil
        if span.isRecording {
            span.attributes["gateway.attempt.outcome"] = outcome.metricLabel
            if let status { span.attributes[OTelAttribute.http.response.statusCode] = status }
            // Client spans: 4xx and 5xx are errors, as is every failure without a response.
            if let status, status >= 400 {
                span.attributes[OTelAttribute.error.`type`] = String(status)
                span.setStatus(SpanStatus(code: .error))
            } else if status == nil, outcome != .success {
                span.attributes[OTelAttribute.error.`type`] = outcome.metricLabel
                span.setStatus(SpanStatus(code: .error, message: outcome.metricLabel))
            }
        }
        span.end()
    }

    /// `traceparent`/`tracestate` for the upstream: the current attempt's span is the upstream's parent.
    func inject(into headers: inout HTTPHeaders) {
        headers.remove(name: "traceparent")
        headers.remove(name: "tracestate")
        tracer.inject((attempt ?? server).context, into: &headers, using: HTTPHeadersInjector())
    }

    // MARK: End

    /// The exchange is over: status, size, error marking (server spans: 5xx only), and the end of every open span.
    func finish(status: Int, responseBytes: Int, note: String?) {
        if policy != nil { policyFinished(status: nil) }
        if attempt != nil { attemptFinished(outcome: .aborted, status: nil) }
        if server.isRecording {
            server.updateAttributes { attributes in
                if status > 0 { attributes[OTelAttribute.http.response.statusCode] = status }
                attributes["http.response.body.size"] = responseBytes
                if status >= 500 || status == 0 {
                    attributes[OTelAttribute.error.`type`] = status > 0 ? String(status) : "aborted"
                }
            }
            if status >= 500 { server.setStatus(SpanStatus(code: .error, message: note)) }
            if let note { server.addEvent(SpanEvent(name: "gateway.note", attributes: ["gateway.note": .string(note)])) }
        }
        server.end()
    }

    static func join(_ base: String, _ uri: String) -> String {
        base.hasSuffix("/") && uri.hasPrefix("/") ? String(base.dropLast()) + uri : base + uri
    }
}
