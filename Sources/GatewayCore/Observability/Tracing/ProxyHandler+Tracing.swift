import NIOCore

/// The proxy's tracing hooks, each a one-line call from `ProxyHandler` (all no-ops when `services.tracing` is nil,
/// since `exchange.trace` then stays nil):
/// - `begin(head:)`: `startTrace` right after the exchange is created (routed or screened out);
/// - before/after `policies.requestPhase`: `trace?.policyStarted()` / `trace?.policyFinished(result)`;
/// - `startUpstream` after the pick: `trace?.attemptStarted(...)`; `finishAttempt` after the ledger guard:
///   `trace?.attemptFinished(...)`;
/// - `upstreamHead(for:route:)`: `trace?.inject(into:)` (traceparent/tracestate for the upstream);
/// - `RequestObserver.requestFinished`: `trace?.finish(...)` and `trace_id` in the access record.
extension ProxyHandler {
    func startTrace(_ exchange: ProxyExchange, path: String) {
        guard let tracing = services.tracing else { return }
        let trace = RequestTrace(
            tracer: tracing.tracer, head: exchange.head, path: path, scheme: security == nil ? "http" : "https",
            clientIP: exchange.clientIP, requestID: exchange.requestID)
        if let route = exchange.route { trace.routed(route, method: exchange.head.method.rawValue) }
        exchange.trace = trace
    }
}

extension RequestTrace {
    /// The request phase's result: proceed, a local answer (429, 401 …), or a store failure (503).
    func policyFinished(_ result: Result<RequestPhaseResult, any Error>) {
        switch result {
        case .success(.proceed):
            policyFinished(status: nil)
        case .success(.respond(let problem)):
            policyFinished(status: Int(problem.status.code))
        case .failure(let error):
            policyFinished(status: 503, error: "\(error)")
        }
    }
}
