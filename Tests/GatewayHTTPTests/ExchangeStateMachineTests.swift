import NIOCore
import Testing

@testable import GatewayHTTP

/// A manual clock: the machine never reads time, every event gets `now`.
struct ExchangeTestClock {
    var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    mutating func advance(_ amount: TimeAmount) { now = now + amount }
}

@Suite struct ExchangeStateMachineTests {
    typealias Machine = ExchangeStateMachine
    static let configuration = Machine.Configuration(
        clientHeaderTimeout: .seconds(10), clientIdleTimeout: .seconds(60), clientBodyTimeout: .seconds(5),
        responseTimeout: .seconds(30), maxAttempts: 2, replayLimit: 100)
    static let get = Machine.Request(isIdempotent: true)
    static let post = Machine.Request(isIdempotent: false, hasBody: true)

    /// Opens a connection and runs one request up to the upstream having been sent its head.
    func proxying(_ request: Machine.Request, clock: ExchangeTestClock) -> Machine {
        var machine = Machine(configuration: Self.configuration, now: clock.now)
        #expect(machine.requestHeadReceived(request, now: clock.now) == .startRequest)
        #expect(machine.requestFiltered(answer: nil) == .connect(attempt: 1))
        _ = machine.upstreamConnected(now: clock.now)
        return machine
    }

    @Test func keepAliveRequestCycle() {
        var clock = ExchangeTestClock()
        var machine = Machine(configuration: Self.configuration, now: clock.now)
        #expect(machine.nextDeadline == clock.now + .seconds(10))  // client_header from the connection's start
        clock.advance(.seconds(1))
        machine.bytesReceived(now: clock.now)
        #expect(machine.requestHeadReceived(Self.get, now: clock.now) == .startRequest)
        #expect(machine.nextDeadline == nil)  // no client timer while a request is served
        #expect(machine.requestFiltered(answer: nil) == .connect(attempt: 1))
        #expect(machine.upstreamConnected(now: clock.now) == .sendRequestHead(replay: false, sendContinue: false))
        #expect(machine.nextDeadline == clock.now + .seconds(30))  // response timeout: the request was complete
        #expect(machine.responseHeadReceived(status: 200, now: clock.now) == .forwardResponseHead(closeConnection: false))
        #expect(machine.nextDeadline == nil)
        #expect(machine.responseBodyReceived() == .forwardResponseBody)
        #expect(
            machine.responseEnded(upstreamKeepAlive: true, now: clock.now)
                == .finishResponse(reuseUpstream: true, closeConnection: false))
        #expect(machine.nextDeadline == clock.now + .seconds(60))  // client_idle
        // The next (pipelined or later) request starts a fresh exchange.
        #expect(machine.requestHeadReceived(Self.get, now: clock.now) == .startRequest)
    }

    @Test func pipelinedRequestsAreServedInOrderAndCloseStops() {
        let clock = ExchangeTestClock()
        var machine = Machine(configuration: Self.configuration, now: clock.now)
        var order: [String] = []
        for (index, keepAlive) in [true, false].enumerated() {
            var request = Self.get
            request.keepAlive = keepAlive
            #expect(machine.requestHeadReceived(request, now: clock.now) == .startRequest)
            _ = machine.requestFiltered(answer: nil)
            _ = machine.upstreamConnected(now: clock.now)
            #expect(machine.responseHeadReceived(status: 200, now: clock.now) == .forwardResponseHead(closeConnection: !keepAlive))
            order.append("response \(index)")
            let end = machine.responseEnded(upstreamKeepAlive: true, now: clock.now)
            #expect(end == .finishResponse(reuseUpstream: true, closeConnection: !keepAlive))
        }
        #expect(order == ["response 0", "response 1"])
        #expect(machine.isClosed)  // the second said Connection: close; a third pipelined head is never served
    }

    @Test func expectContinueIsAnsweredWhenTheUpstreamIsThere() {
        let clock = ExchangeTestClock()
        var request = Self.post
        request.expectContinue = true
        var machine = Machine(configuration: Self.configuration, now: clock.now)
        _ = machine.requestHeadReceived(request, now: clock.now)
        _ = machine.requestFiltered(answer: nil)
        #expect(machine.upstreamConnected(now: clock.now) == .sendRequestHead(replay: false, sendContinue: true))
        #expect(machine.requestBodyReceived(bytes: 10, now: clock.now) == .forwardRequestBody)
        #expect(machine.requestEnded(now: clock.now) == .endRequest)
    }

    @Test func expectContinueAnsweredLocallyClosesTheConnection() {
        let clock = ExchangeTestClock()
        var request = Self.post
        request.expectContinue = true
        var machine = Machine(configuration: Self.configuration, now: clock.now)
        _ = machine.requestHeadReceived(request, now: clock.now)
        // e.g. 401 or 413 by declared length: the client may or may not send the body, so the connection ends.
        #expect(machine.requestFiltered(answer: 401) == .respond(status: 401, closeConnection: true))
        #expect(machine.localResponseSent(now: clock.now) == .finishResponse(reuseUpstream: false, closeConnection: true))
    }

    @Test func localAnswerKeepsABodilessConnection() {
        let clock = ExchangeTestClock()
        var machine = Machine(configuration: Self.configuration, now: clock.now)
        _ = machine.requestHeadReceived(Self.get, now: clock.now)
        #expect(machine.requestFiltered(answer: 404) == .respond(status: 404, closeConnection: false))
        #expect(machine.localResponseSent(now: clock.now) == .finishResponse(reuseUpstream: false, closeConnection: false))
        #expect(!machine.isClosed)
    }

    @Test func retryReplaysTheKeptBody() {
        let clock = ExchangeTestClock()
        var machine = Machine(configuration: Self.configuration, now: clock.now)
        _ = machine.requestHeadReceived(Self.post, now: clock.now)
        _ = machine.requestFiltered(answer: nil)
        #expect(machine.requestBodyReceived(bytes: 40, now: clock.now) == .holdRequestBody)  // still connecting
        #expect(machine.requestEnded(now: clock.now) == .none)
        // A POST may go to another replica when nothing was sent…
        #expect(machine.attemptFailed(.connectFailed, retryAllowed: true) == .connect(attempt: 2))
        #expect(machine.upstreamConnected(now: clock.now) == .sendRequestHead(replay: true, sendContinue: false))
        // …but not once it may have been processed.
        #expect(machine.attemptFailed(.resetBeforeResponse, retryAllowed: true) == .respond(status: 502, closeConnection: false))
    }

    @Test func retryRules() {
        let clock = ExchangeTestClock()
        // An idempotent request is retried after a reset, up to maxAttempts.
        var machine = proxying(Self.get, clock: clock)
        #expect(machine.attemptFailed(.resetBeforeResponse, retryAllowed: true) == .connect(attempt: 2))
        _ = machine.upstreamConnected(now: clock.now)
        #expect(machine.attemptFailed(.resetBeforeResponse, retryAllowed: true) == .respond(status: 502, closeConnection: false))
        // No budget: 502 at once.
        var noBudget = proxying(Self.get, clock: clock)
        #expect(noBudget.attemptFailed(.connectFailed, retryAllowed: false) == .respond(status: 502, closeConnection: false))
        // A body over the replay limit cannot be sent again.
        var big = Machine(configuration: Self.configuration, now: clock.now)
        _ = big.requestHeadReceived(Machine.Request(isIdempotent: true, hasBody: true), now: clock.now)
        _ = big.requestFiltered(answer: nil)
        _ = big.upstreamConnected(now: clock.now)
        #expect(big.requestBodyReceived(bytes: 101, now: clock.now) == .forwardRequestBody)
        #expect(big.requestEnded(now: clock.now) == .endRequest)
        #expect(big.attemptFailed(.resetBeforeResponse, retryAllowed: true) == .respond(status: 502, closeConnection: false))
    }

    @Test func responseTimeoutAnswers504() {
        var clock = ExchangeTestClock()
        var machine = proxying(Self.get, clock: clock)
        clock.advance(.seconds(29))
        #expect(machine.timerFired(now: clock.now) == .none)  // early: the handler re-arms for nextDeadline
        clock.advance(.seconds(1))
        #expect(machine.timerFired(now: clock.now) == .respond(status: 504, closeConnection: false))
        // A late response head from the abandoned attempt is ignored.
        #expect(machine.responseHeadReceived(status: 200, now: clock.now) == .none)
    }

    @Test func responseTimeoutStartsWhenTheRequestIsComplete() {
        var clock = ExchangeTestClock()
        var machine = proxying(Self.post, clock: clock)
        #expect(machine.nextDeadline == clock.now + .seconds(5))  // only the body clock runs
        clock.advance(.seconds(4))
        _ = machine.requestBodyReceived(bytes: 1, now: clock.now)
        #expect(machine.requestEnded(now: clock.now) == .endRequest)
        #expect(machine.nextDeadline == clock.now + .seconds(30))
    }

    @Test func upstreamClosingMidBodyAbortsBoth() {
        let clock = ExchangeTestClock()
        var machine = proxying(Self.get, clock: clock)
        _ = machine.responseHeadReceived(status: 200, now: clock.now)
        _ = machine.responseBodyReceived()
        #expect(machine.upstreamClosedMidResponse() == .abortBoth)
        #expect(machine.isClosed)
    }

    @Test func upstreamClosingBeforeTheHeadIsAFailedAttempt() {
        let clock = ExchangeTestClock()
        var machine = proxying(Self.get, clock: clock)
        #expect(machine.upstreamClosedMidResponse() == .respond(status: 502, closeConnection: false))
    }

    @Test func clientClosingMidUploadAbortsTheUpstream() {
        let clock = ExchangeTestClock()
        var machine = proxying(Self.post, clock: clock)
        _ = machine.requestBodyReceived(bytes: 10, now: clock.now)
        #expect(machine.clientClosed() == .abortUpstream)
        #expect(machine.isClosed)
        #expect(machine.responseHeadReceived(status: 200, now: clock.now) == .none)
    }

    @Test func quiesceDuringAResponseClosesAfterIt() {
        let clock = ExchangeTestClock()
        var machine = proxying(Self.get, clock: clock)
        _ = machine.responseHeadReceived(status: 200, now: clock.now)
        #expect(machine.quiesce() == .none)
        #expect(
            machine.responseEnded(upstreamKeepAlive: true, now: clock.now)
                == .finishResponse(reuseUpstream: true, closeConnection: true))
        // Before the head: the head itself says Connection: close.
        var early = proxying(Self.get, clock: clock)
        _ = early.quiesce()
        #expect(early.responseHeadReceived(status: 200, now: clock.now) == .forwardResponseHead(closeConnection: true))
        // An idle connection closes at once.
        var idle = Machine(configuration: Self.configuration, now: clock.now)
        #expect(idle.quiesce() == .close)
    }

    @Test func upgrade() {
        let clock = ExchangeTestClock()
        var machine = proxying(Machine.Request(isIdempotent: true, wantsUpgrade: true), clock: clock)
        #expect(machine.responseHeadReceived(status: 101, now: clock.now) == .startTunnel)
        #expect(machine.nextDeadline == nil)
        var notAllowed = proxying(Self.get, clock: clock)
        #expect(notAllowed.responseHeadReceived(status: 101, now: clock.now) == .respond(status: 502, closeConnection: false))
        var informational = proxying(Self.get, clock: clock)
        #expect(informational.responseHeadReceived(status: 103, now: clock.now) == .none)
        #expect(informational.responseHeadReceived(status: 200, now: clock.now) == .forwardResponseHead(closeConnection: false))
    }

    @Test func clientTimers() {
        var clock = ExchangeTestClock()
        // client_header with no byte at all: close quietly.
        var silent = Machine(configuration: Self.configuration, now: clock.now)
        clock.advance(.seconds(10))
        #expect(silent.timerFired(now: clock.now) == .close)
        // A partial head: 408.
        var partial = Machine(configuration: Self.configuration, now: clock.now)
        partial.bytesReceived(now: clock.now)
        clock.advance(.seconds(9))
        #expect(partial.timerFired(now: clock.now) == .none)
        clock.advance(.seconds(1))
        #expect(partial.timerFired(now: clock.now) == .respond(status: 408, closeConnection: true))
        // client_idle after a response; a new head's first byte switches to client_header.
        var idle = Machine(configuration: Self.configuration, now: clock.now)
        _ = idle.requestHeadReceived(Self.get, now: clock.now)
        _ = idle.requestFiltered(answer: 204)
        _ = idle.localResponseSent(now: clock.now)
        clock.advance(.seconds(30))
        idle.bytesReceived(now: clock.now)
        #expect(idle.nextDeadline == clock.now + .seconds(10))
        var idle2 = Machine(configuration: Self.configuration, now: clock.now)
        _ = idle2.requestHeadReceived(Self.get, now: clock.now)
        _ = idle2.requestFiltered(answer: 204)
        _ = idle2.localResponseSent(now: clock.now)
        clock.advance(.seconds(60))
        #expect(idle2.timerFired(now: clock.now) == .close)
    }

    @Test func stalledBodyAnswers408() {
        var clock = ExchangeTestClock()
        var machine = proxying(Self.post, clock: clock)
        _ = machine.requestBodyReceived(bytes: 5, now: clock.now)
        clock.advance(.seconds(5))
        #expect(machine.timerFired(now: clock.now) == .respond(status: 408, closeConnection: true))
    }

    @Test func bodyOverTheLimitAnswers413() {
        let clock = ExchangeTestClock()
        var request = Self.post
        request.maxBodyBytes = 10
        var machine = proxying(request, clock: clock)
        #expect(machine.requestBodyReceived(bytes: 10, now: clock.now) == .forwardRequestBody)
        #expect(machine.requestBodyReceived(bytes: 1, now: clock.now) == .respond(status: 413, closeConnection: true))
        #expect(machine.requestBodyReceived(bytes: 1, now: clock.now) == .discardRequestBody)
    }
}
