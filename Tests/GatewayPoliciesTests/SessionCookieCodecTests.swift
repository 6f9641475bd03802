import GatewayConfig
import Testing

@testable import GatewayPolicies

@Suite struct SessionCookieCodecTests {
    let secret = Array("0123456789abcdef0123456789abcdef".utf8)
    var codec: SessionCookieCodec { SessionCookieCodec(cookieName: "gw_session", secret: secret, secure: false) }

    @Test func idsAreRandom256Bit() {
        let a = SessionCookieCodec.newSessionID()
        let b = SessionCookieCodec.newSessionID()
        #expect(a != b)
        #expect(a.count == 43)
        #expect(SessionCookieCodec.isWellFormedID(a[...]))
    }

    @Test func roundTrip() {
        let id = SessionCookieCodec.newSessionID()
        let value = codec.encode(id: id)
        #expect(value.hasPrefix(id + "."))
        #expect(codec.decode(value) == id)
    }

    @Test func tamperedValuesAreRejected() {
        let id = SessionCookieCodec.newSessionID()
        let value = codec.encode(id: id)
        let otherID = SessionCookieCodec.newSessionID()
        #expect(codec.decode(otherID + value.dropFirst(id.count)) == nil)
        var bytes = Array(value.utf8)
        bytes[bytes.count - 1] = bytes[bytes.count - 1] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(codec.decode(String(decoding: bytes, as: UTF8.self)) == nil)
        #expect(codec.decode(id) == nil)
        #expect(codec.decode("") == nil)
        #expect(codec.decode("a.b") == nil)
        let otherKey = SessionCookieCodec(cookieName: "gw_session", secret: Array(repeating: 7, count: 32), secure: false)
        #expect(otherKey.decode(value) == nil)
    }

    /// The last base64url character of a 32-byte MAC has two unused bits; every other spelling of it
    /// must be refused, not just the ones that change the decoded bytes.
    @Test func everyOtherLastCharacterIsRefused() {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        for _ in 0..<8 {
            let value = codec.encode(id: SessionCookieCodec.newSessionID())
            for character in alphabet where character != value.last {
                #expect(codec.decode(String(value.dropLast()) + String(character)) == nil, "\(character)")
            }
            #expect(codec.decode(value) != nil)
        }
    }

    @Test func parsesCookieHeader() {
        let id = SessionCookieCodec.newSessionID()
        let value = codec.encode(id: id)
        #expect(codec.sessionID(fromCookieHeaders: ["theme=dark; gw_session=\(value); x=1"]) == id)
        #expect(codec.sessionID(fromCookieHeaders: ["a=b", "gw_session=\"\(value)\""]) == id)
        #expect(codec.sessionID(fromCookieHeaders: ["gw_session=junk; gw_session=\(value)"]) == id)
        #expect(codec.sessionID(fromCookieHeaders: ["xgw_session=\(value)"]) == nil)
        #expect(codec.sessionID(fromCookieHeaders: []) == nil)
        #expect(codec.hasCookie(inCookieHeaders: ["gw_session=junk"]))
        #expect(!codec.hasCookie(inCookieHeaders: ["other=1"]))
    }

    @Test func setCookieAttributes() {
        #expect(codec.setCookieHeader("v") == "gw_session=v; Path=/; HttpOnly; SameSite=Lax")
        let secure = SessionCookieCodec(cookieName: "s", secret: secret, secure: true)
        #expect(secure.setCookieHeader("v") == "s=v; Path=/; HttpOnly; SameSite=Lax; Secure")
        #expect(secure.expireCookieHeader().hasPrefix("s=; Path=/; Max-Age=0; "))
        #expect(secure.expireCookieHeader().hasSuffix("; Secure"))
    }

    @Test func secretFromEnvironment() throws {
        var settings = SessionSettings()
        settings.secretEnv = "MY_SECRET"
        #expect(throws: SessionSecretError.missing(variable: "MY_SECRET")) {
            try SessionCookieCodec(settings: settings, environment: [:])
        }
        #expect(throws: SessionSecretError.tooShort(variable: "MY_SECRET", bytes: 5)) {
            try SessionCookieCodec(settings: settings, environment: ["MY_SECRET": "short"])
        }
        let codec = try SessionCookieCodec(settings: settings, environment: ["MY_SECRET": String(repeating: "k", count: 32)])
        #expect(codec.cookieName == "gw_session")
    }
}
