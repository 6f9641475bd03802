import GatewayConfig
import Testing

@testable import GatewayCore

@Suite struct RouterTests {
    func route(_ name: String, path: String? = nil, prefix: String? = nil, host: String? = nil, methods: [String]? = nil,
               strip: StripPrefix = .none) -> RouteSettings {
        var settings = RouteSettings(name: name)
        settings.match.path = path
        settings.match.pathPrefix = prefix
        settings.match.host = host
        settings.match.methods = methods
        settings.upstream = "app"
        settings.stripPrefix = strip
        return settings
    }

    func matchedName(_ router: Router, _ method: String, _ path: String, host: String? = nil) -> String? {
        if case .matched(let route) = router.route(method: method, path: path, host: host) { return route.name }
        return nil
    }

    @Test func exactPathBeatsAnyPrefix() {
        let router = Router(routes: [route("prefix", prefix: "/api/v1/"), route("login", path: "/api/v1/login")])
        #expect(matchedName(router, "GET", "/api/v1/login") == "login")
        #expect(matchedName(router, "GET", "/api/v1/users") == "prefix")
    }

    @Test func longestPrefixWinsRegardlessOfFileOrder() {
        let router = Router(routes: [route("short", prefix: "/api/"), route("long", prefix: "/api/v1/")])
        #expect(matchedName(router, "GET", "/api/v1/x") == "long")
        #expect(matchedName(router, "GET", "/api/v2/x") == "short")
    }

    @Test func tiesGoToFileOrder() {
        let router = Router(routes: [route("first", prefix: "/a/"), route("second", prefix: "/a/")])
        #expect(matchedName(router, "GET", "/a/b") == "first")
    }

    @Test func hostMustMatch() {
        let router = Router(routes: [route("other", prefix: "/", host: "api.example.com"), route("any", prefix: "/")])
        #expect(matchedName(router, "GET", "/x", host: "api.example.com") == "other")
        #expect(matchedName(router, "GET", "/x", host: "www.example.com") == "any")
    }

    @Test func wrongMethodIs405WithAllowList() {
        let router = Router(routes: [route("login", path: "/login", methods: ["POST"])])
        guard case .methodNotAllowed(let allowed) = router.route(method: "GET", path: "/login", host: nil) else {
            Issue.record("expected 405")
            return
        }
        #expect(allowed == ["POST"])
        #expect(matchedName(router, "POST", "/login") == "login")
    }

    @Test func methodMismatchFallsThroughToAnotherRoute() {
        let router = Router(routes: [route("login", path: "/login", methods: ["POST"]), route("all", prefix: "/")])
        #expect(matchedName(router, "GET", "/login") == "all")
    }

    @Test func noRouteIs404() {
        let router = Router(routes: [route("api", prefix: "/api/")])
        guard case .notFound = router.route(method: "GET", path: "/other", host: nil) else {
            Issue.record("expected 404")
            return
        }
    }

    @Test func stripPrefixTrueRemovesTheMatchedPrefix() {
        let router = Router(routes: [route("api", prefix: "/api/v1/", strip: .matchedPrefix)])
        guard case .matched(let compiled) = router.route(method: "GET", path: "/api/v1/users", host: nil) else {
            Issue.record("no match")
            return
        }
        #expect(compiled.rewrite(path: "/api/v1/users") == "/users")
        #expect(compiled.rewrite(path: "/api/v1/") == "/")
    }

    @Test func stripPrefixStringRemovesExactlyThatPrefix() {
        let router = Router(routes: [route("login", path: "/api/v1/login", strip: .literal("/api/v1"))])
        guard case .matched(let compiled) = router.route(method: "POST", path: "/api/v1/login", host: nil) else {
            Issue.record("no match")
            return
        }
        #expect(compiled.rewrite(path: "/api/v1/login") == "/login")
    }
}
