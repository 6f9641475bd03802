import Testing

@testable import GatewayPolicies

@Suite struct SessionDirectiveTests {
    @Test func parses() {
        #expect(SessionDirective(headerValue: "clear") == .clear)
        #expect(SessionDirective(headerValue: " Clear ") == .clear)
        #expect(SessionDirective(headerValue: #"{ "user": "ann", "role": "admin" }"#) == .issue(data: #"{"role":"admin","user":"ann"}"#, user: "ann"))
        #expect(SessionDirective(headerValue: #"{"cart":[1,2]}"#) == .issue(data: #"{"cart":[1,2]}"#, user: nil))
        #expect(SessionDirective(headerValue: #"{"user":""}"#) == .issue(data: #"{"user":""}"#, user: nil))
        #expect(SessionDirective(headerValue: "[1]") == nil)
        #expect(SessionDirective(headerValue: "{broken") == nil)
    }
}
