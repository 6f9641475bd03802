/// Checks that span routes, upstreams, sessions and files: references resolve, names are unique,
/// features that need each other are both present. Runs after every file is decoded.
struct SemanticValidator {
    let diagnostics: Diagnostics

    func validate(upstreams: [UpstreamDraft], routes: [RouteDraft], sessions: SessionSettings?, auth: AuthSettings = AuthSettings()) {
        checkUnique(auth.jwt.map { ($0.name, $0.location ?? SourceLocation(file: "config", line: 1, column: 1)) }, kind: "auth.jwt")
        checkUnique(auth.forward.map { ($0.name, $0.location ?? SourceLocation(file: "config", line: 1, column: 1)) }, kind: "auth.forward")
        for draft in routes { checkEdge(draft, auth: auth) }
        checkUnique(upstreams.map { ($0.settings.name, $0.nameLocation) }, kind: "upstream")
        checkUnique(routes.map { ($0.settings.name, $0.nameLocation) }, kind: "route")
        let upstreamNames = upstreams.map(\.settings.name)
        for draft in routes {
            check(draft, upstreamNames: upstreamNames, sessions: sessions)
        }
    }

    /// `auth: { jwt: NAME }` names a declared provider; `jwt:CLAIM` rate-limit keys need a JWT route.
    private func checkEdge(_ draft: RouteDraft, auth: AuthSettings) {
        let route = draft.settings
        if let routeAuth = route.auth {
            let location = draft.authLocation ?? route.location ?? draft.nameLocation
            switch routeAuth.provider {
            case .jwt(let name) where auth.jwtProvider(named: name) == nil:
                let names = auth.jwt.map(\.name)
                diagnostics.report(
                    "route '\(route.name)': unknown JWT provider '\(name)'"
                        + (names.isEmpty ? " (declare it under auth.jwt)" : Suggestion.hint(for: name, in: names)), at: location)
            case .forward(let name) where auth.forwardProvider(named: name) == nil:
                let names = auth.forward.map(\.name)
                diagnostics.report(
                    "route '\(route.name)': unknown forward-auth service '\(name)'"
                        + (names.isEmpty ? " (declare it under auth.forward)" : Suggestion.hint(for: name, in: names)), at: location)
            default: break
            }
        }
        let isJWT = if case .jwt = route.auth?.provider { true } else { false }
        if !isJWT {
            for location in draft.jwtKeyLocations {
                diagnostics.report("route '\(route.name)': rate limit key 'jwt:CLAIM' needs 'auth: { jwt: NAME }' on the route", at: location)
            }
        }
    }

    private func checkUnique(_ names: [(String, SourceLocation)], kind: String) {
        var first: [String: SourceLocation] = [:]
        for (name, location) in names {
            if let earlier = first[name] {
                diagnostics.report("duplicate \(kind) name '\(name)' (first defined at \(earlier))", at: location)
            } else {
                first[name] = location
            }
        }
    }

    private func check(_ draft: RouteDraft, upstreamNames: [String], sessions: SessionSettings?) {
        let route = draft.settings
        if let staticLocation = draft.staticLocation {
            for (present, what) in [
                (draft.upstreamLocation != nil, "'upstream'"), (draft.pubsubLocation != nil, "'pubsub'"),
                (route.websocket, "'websocket'"), (route.compress != nil, "'compress' (use static.precompressed)"),
            ] where present {
                diagnostics.report(
                    "route '\(route.name)': a static route serves files itself; remove \(what)", at: staticLocation)
            }
        } else if let pubsubLocation = draft.pubsubLocation {
            if let websocketLocation = draft.websocketLocation, route.websocket {
                diagnostics.report(
                    "route '\(route.name)': 'websocket' and 'pubsub' cannot be combined (pubsub routes are WebSocket endpoints the gateway answers itself)",
                    at: websocketLocation)
            }
            if let upstreamLocation = draft.upstreamLocation {
                diagnostics.report(
                    "route '\(route.name)': a pubsub route is answered by the gateway; remove 'upstream' (pubsub declared at \(pubsubLocation.line):\(pubsubLocation.column))",
                    at: upstreamLocation)
            }
        } else if let upstream = route.upstream, let location = draft.upstreamLocation {
            if !upstreamNames.contains(upstream) {
                let known: String
                if upstream.contains("://") {
                    // nginx habit (`proxy_pass http://...`): say where addresses go.
                    let names = upstreamNames.isEmpty ? "" : " (defined: \(upstreamNames.joined(separator: ", ")))"
                    known = "; 'upstream' takes the name of an upstream\(names), not a URL: declare it under "
                        + "'upstreams:', e.g. `upstreams: { app: { replicas: [\(upstream)] } }`, and write 'upstream: app'"
                } else {
                    known = upstreamNames.isEmpty ? " (no upstreams are defined)" : Suggestion.hint(for: upstream, in: upstreamNames)
                }
                diagnostics.report("route '\(route.name)': unknown upstream '\(upstream)'\(known)", at: location)
            }
        } else {
            diagnostics.report("route '\(route.name)' needs an 'upstream' (or a 'pubsub' or 'static' block)", at: route.location ?? draft.nameLocation)
        }

        if sessions == nil {
            if route.session != .off, let location = draft.sessionLocation {
                diagnostics.report(
                    "route '\(route.name)': 'session: \(route.session.rawValue)' needs a top-level 'sessions' block", at: location)
            }
            for location in draft.sessionUserKeyLocations {
                diagnostics.report("rate limit key 'session_user' needs a top-level 'sessions' block", at: location)
            }
        }
        if route.session == .off {
            for location in draft.sessionUserKeyLocations where sessions != nil {
                diagnostics.report(
                    "rate limit key 'session_user' needs the route's 'session' to be optional, required or issue", at: location)
            }
            let jwtUser = if case .jwt = route.auth?.provider { true } else { false }
            if let location = draft.userPatternLocation, route.pubsub != nil, !jwtUser {
                diagnostics.report(
                    "route '\(route.name)': channel patterns with {user} need 'session' optional, required or issue", at: location)
            }
        }
    }
}
