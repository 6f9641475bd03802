import NIOCore
import Testing

@testable import GatewayHTTP

@Suite struct HeaderNameRulesTests {
    @Test func underscoreNamesAreDroppedByDefault() {
        let rules = HeaderNameRules()
        #expect(rules.verdict(forRequestHeader: "X_Custom") == .dropUnderscore)
        #expect(rules.verdict(forRequestHeader: "X-Custom") == .keep)
        #expect(rules.verdict(forRequestHeader: "Accept") == .keep)
    }

    @Test func underscoreNamesPassWhenOptedIn() {
        let rules = HeaderNameRules(underscoresAllowed: true)
        #expect(rules.verdict(forRequestHeader: "X_Custom") == .keep)
    }

    @Test func gatewayOwnedNamesAreAlwaysDroppedInEverySpelling() {
        for allowed in [false, true] {
            let rules = HeaderNameRules(underscoresAllowed: allowed)
            for name in [
                "X-Gateway-User", "x-gateway-user", "X_Gateway_User", "x_GATEWAY-user", "X-Gateway_Session",
                "X_GATEWAY_SESSION", "X-Client-Cert-Subject", "x_client_cert_subject",
            ] {
                #expect(rules.verdict(forRequestHeader: name) == .dropGatewayOwned, "\(name) allowed=\(allowed)")
            }
            #expect(rules.verdict(forRequestHeader: "X-Gateway-Users") != .dropGatewayOwned)
        }
    }

    @Test func policyOwnedNamesCanBeAdded() {
        let rules = HeaderNameRules(underscoresAllowed: true, additionalOwned: ["X-User-Email"])
        #expect(rules.verdict(forRequestHeader: "x_user_email") == .dropGatewayOwned)
        #expect(rules.isGatewayOwned("X-User-Email"))
        #expect(!HeaderNameRules().isGatewayOwned("X-User-Email"))
    }

    @Test func connectionCannotRemoveHost() {
        #expect(!HeaderNameRules.connectionOptionMayRemove("host"))
        #expect(HeaderNameRules.connectionOptionMayRemove("x-foo"))
    }
}

@Suite struct HostRulesTests {
    @Test func validHosts() {
        for host in ["example.com", "example.com:8080", "127.0.0.1", "127.0.0.1:80", "[::1]", "[::1]:8080", "a-b.c_d", "h:"] {
            #expect(HostRules.isValid(host), "\(host)")
        }
    }

    @Test func invalidHosts() {
        for host in ["", "exa mple.com", "user@example.com", "user:pw@host", "host/path", "host:port", "host:123456",
                     "[::1", "[]", "[zz]", ":80", "host\t", "[::1]x"] {
            #expect(!HostRules.isValid(host), "\(host)")
        }
    }

    @Test func resolution() {
        let listener = "127.0.0.1:8080"
        #expect(HostRules.resolve(hostValues: ["a.com"], targetAuthority: nil, isHTTP10: false, listenerAuthority: listener) == .keep)
        if case .invalid = HostRules.resolve(hostValues: [], targetAuthority: nil, isHTTP10: false, listenerAuthority: listener) {} else {
            Issue.record("HTTP/1.1 without Host must be invalid")
        }
        #expect(HostRules.resolve(hostValues: [], targetAuthority: nil, isHTTP10: true, listenerAuthority: listener) == .replace(listener))
        #expect(HostRules.resolve(hostValues: ["other"], targetAuthority: "a.com", isHTTP10: false, listenerAuthority: listener) == .replace("a.com"))
        #expect(HostRules.resolve(hostValues: [], targetAuthority: "a.com", isHTTP10: false, listenerAuthority: listener) == .replace("a.com"))
        #expect(HostRules.resolve(hostValues: ["a.com"], targetAuthority: "a.com", isHTTP10: false, listenerAuthority: listener) == .keep)
        for bad in [["a b"], ["u@a.com"], ["a.com", "b.com"], [""]] {
            if case .invalid = HostRules.resolve(hostValues: bad, targetAuthority: nil, isHTTP10: true, listenerAuthority: listener) {} else {
                Issue.record("\(bad) must be invalid")
            }
        }
        if case .invalid = HostRules.resolve(hostValues: [], targetAuthority: "u@h", isHTTP10: false, listenerAuthority: listener) {} else {
            Issue.record("userinfo in the target authority must be invalid")
        }
    }
}

@Suite struct FramingRulesTests {
    @Test func noBody() throws {
        #expect(try FramingRules.evaluate(contentLength: [], transferEncoding: []) == .none)
    }

    @Test func contentLengthIsCanonicalised() throws {
        #expect(try FramingRules.evaluate(contentLength: ["005"], transferEncoding: []) == .contentLength(5))
        #expect(try FramingRules.evaluate(contentLength: ["5", "5"], transferEncoding: []) == .contentLength(5))
        #expect(try FramingRules.evaluate(contentLength: ["5, 005"], transferEncoding: []) == .contentLength(5))
        #expect(try FramingRules.evaluate(contentLength: ["0"], transferEncoding: []) == .contentLength(0))
    }

    @Test func badContentLengths() {
        for values in [["5", "6"], ["-1"], ["+5"], [""], ["5,"], ["1e3"], ["99999999999999999999999"], [" "]] {
            #expect(throws: FramingError.self, "\(values)") {
                try FramingRules.evaluate(contentLength: values, transferEncoding: [])
            }
        }
    }

    @Test func onlyChunkedAloneIsAccepted() throws {
        #expect(try FramingRules.evaluate(contentLength: [], transferEncoding: ["chunked"]) == .chunked)
        #expect(try FramingRules.evaluate(contentLength: [], transferEncoding: ["Chunked "]) == .chunked)
        for codings in [["gzip, chunked"], ["identity, chunked"], ["gzip", "chunked"], ["chunked, chunked"], ["gzip"], [""]] {
            do {
                _ = try FramingRules.evaluate(contentLength: [], transferEncoding: codings)
                Issue.record("\(codings) accepted")
            } catch {
                guard case .notImplemented = error else {
                    Issue.record("\(codings): \(error)")
                    continue
                }
            }
        }
    }

    @Test func bothLengthAndCodingIsBadRequest() {
        #expect(throws: FramingError.badRequest("Both Content-Length and Transfer-Encoding are present.")) {
            try FramingRules.evaluate(contentLength: ["5"], transferEncoding: ["chunked"])
        }
    }
}

@Suite struct RequestLineMeterTests {
    @Test func measuresUpToTheNewline() {
        var meter = RequestLineMeter()
        meter.feed(ByteBuffer(string: "GET /abc HTTP/1.1\r\nHost: x\r\n"))
        #expect(meter.complete)
        #expect(meter.length == 18)
        #expect(!meter.exceeds(uriLimit: 8))
        meter.feed(ByteBuffer(string: String(repeating: "a", count: 1000)))
        #expect(meter.length == 18)
    }

    @Test func anOpenLongLineExceeds() {
        var meter = RequestLineMeter()
        meter.feed(ByteBuffer(string: "GET /" + String(repeating: "a", count: 100)))
        #expect(!meter.complete)
        #expect(meter.exceeds(uriLimit: 64))
        #expect(!meter.exceeds(uriLimit: 200))
        meter.reset()
        #expect(meter.length == 0)
        meter.stop()
        meter.feed(ByteBuffer(string: "GET /"))
        #expect(meter.length == 0)
    }
}

@Suite struct BodyStallClockTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test func expiresAfterTheTimeoutWithoutProgress() {
        var clock = BodyStallClock(timeout: .seconds(60), now: start)
        do { let verdict = clock.check(now: start + .seconds(30), readsHeld: false); #expect(verdict == .checkAgain(at: start + .seconds(60))) }
        do { let verdict = clock.check(now: start + .seconds(60), readsHeld: false); #expect(verdict == .expired) }
    }

    @Test func progressPushesTheDeadline() {
        var clock = BodyStallClock(timeout: .seconds(60), now: start)
        clock.progressed(at: start + .seconds(50))
        do { let verdict = clock.check(now: start + .seconds(60), readsHeld: false); #expect(verdict == .checkAgain(at: start + .seconds(110))) }
    }

    @Test func heldReadsAreNotTheClientsFault() {
        var clock = BodyStallClock(timeout: .seconds(60), now: start)
        do { let verdict = clock.check(now: start + .seconds(90), readsHeld: true); #expect(verdict == .checkAgain(at: start + .seconds(150))) }
        do { let verdict = clock.check(now: start + .seconds(149), readsHeld: false); #expect(verdict == .checkAgain(at: start + .seconds(150))) }
        do { let verdict = clock.check(now: start + .seconds(150), readsHeld: false); #expect(verdict == .expired) }
    }
}

@Suite struct AttemptTrackerTests {
    @Test func anAttemptEndsExactlyOnce() {
        var tracker = AttemptTracker()
        let first = tracker.start()
        do { let result = tracker.end(first); #expect(result) }
        do { let result = tracker.end(first); #expect(!result) }
        do { let result = tracker.endOpen(); #expect(result == nil) }
    }

    @Test func aStaleEndDoesNotCloseTheNextAttempt() {
        var tracker = AttemptTracker()
        let first = tracker.start()
        do { let result = tracker.end(first); #expect(result) }
        let second = tracker.start()
        do { let result = tracker.end(first); #expect(!result) }
        #expect(tracker.open == second)
        do { let result = tracker.endOpen(); #expect(result == second) }
        do { let result = tracker.end(second); #expect(!result) }
    }
}

@Suite struct ResponseRulesTests {
    @Test func statusRange() {
        #expect(ResponseRules.isValidStatus(100))
        #expect(ResponseRules.isValidStatus(599))
        #expect(!ResponseRules.isValidStatus(99))
        #expect(!ResponseRules.isValidStatus(600))
        #expect(!ResponseRules.isValidStatus(999))
    }

    @Test func informationalForwarding() {
        #expect(ResponseRules.forwardsInformational(103, clientIsHTTP11: true))
        #expect(ResponseRules.forwardsInformational(102, clientIsHTTP11: true))
        #expect(!ResponseRules.forwardsInformational(103, clientIsHTTP11: false))
        #expect(!ResponseRules.forwardsInformational(100, clientIsHTTP11: true))
        #expect(!ResponseRules.forwardsInformational(101, clientIsHTTP11: true))
        #expect(!ResponseRules.forwardsInformational(200, clientIsHTTP11: true))
    }

    @Test func informationalReasons() {
        #expect(ResponseRules.informationalReason(103) == "Early Hints")
        #expect(ResponseRules.informationalReason(102) == "Processing")
        #expect(ResponseRules.informationalReason(150) == "Informational")
    }

    @Test func persistence() {
        #expect(ResponseRules.persistence(isHTTP10: true, clientKeepAlive: true, gatewayCloses: false, lengthDelimited: true) == .keepAlive(announce: true))
        #expect(ResponseRules.persistence(isHTTP10: true, clientKeepAlive: true, gatewayCloses: false, lengthDelimited: false) == .close)
        #expect(ResponseRules.persistence(isHTTP10: true, clientKeepAlive: false, gatewayCloses: false, lengthDelimited: true) == .close)
        #expect(ResponseRules.persistence(isHTTP10: false, clientKeepAlive: true, gatewayCloses: false, lengthDelimited: false) == .keepAlive(announce: false))
        #expect(ResponseRules.persistence(isHTTP10: false, clientKeepAlive: true, gatewayCloses: true, lengthDelimited: true) == .close)
    }
}
