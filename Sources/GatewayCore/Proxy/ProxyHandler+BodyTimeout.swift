import GatewayHTTP
import NIOCore

/// `server.timeouts.client_body` (SPEC §13, nginx `client_body_timeout`): a client that stops sending its request
/// body for longer than the timeout gets 408 and a close, and the upstream connection that was waiting for the
/// body is closed (never pooled half-used). The timer exists only while a request body is expected.
extension ProxyHandler {
    func startBodyTimer(_ exchange: ProxyExchange) {
        guard let context, !exchange.requestEnded, exchange.bodyTimer == nil else { return }
        let now = NIODeadline.now()
        let clock = BodyStallClock(timeout: exchange.snapshot.server.clientBodyTimeout.timeAmount, now: now)
        exchange.bodyClock = clock
        scheduleBodyCheck(exchange, at: now + clock.timeout, on: context.eventLoop)
    }

    /// Ends whichever upstream attempt is still open (no-op when none is).
    func endOpenAttempt(_ exchange: ProxyExchange, outcome: AttemptOutcome) {
        if let replica = exchange.replica { finishAttempt(exchange, replica, outcome: outcome) }
    }

    private func scheduleBodyCheck(_ exchange: ProxyExchange, at deadline: NIODeadline, on eventLoop: any EventLoop) {
        exchange.bodyTimer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            [weak self, weak exchange] in
            guard let self, let exchange else { return }
            self.checkBody(exchange)
        }
    }

    private func checkBody(_ exchange: ProxyExchange) {
        exchange.bodyTimer = nil
        guard self.exchange === exchange, !exchange.requestEnded, var clock = exchange.bodyClock, let context else {
            return
        }
        switch exchange.phase {
        case .filtering, .connecting, .proxying: break
        case .tunnel, .answeredLocally, .done: return
        }
        // While the gateway holds reads back (backpressure, policy check, connect) the client is not stalling.
        let verdict = clock.check(now: .now(), readsHeld: readPending)
        exchange.bodyClock = clock
        switch verdict {
        case .checkAgain(let deadline):
            scheduleBodyCheck(exchange, at: deadline, on: context.eventLoop)
        case .expired:
            exchange.bodyClock = nil
            exchange.outcomeNote = "client body timeout"
            respondLocally(
                exchange,
                ProblemResponse(
                    .requestTimeout,
                    detail: "The request body stalled for longer than \(exchange.snapshot.server.clientBodyTimeout).",
                    closeConnection: true))
        }
    }
}
