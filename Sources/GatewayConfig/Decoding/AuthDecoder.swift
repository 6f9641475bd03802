import Foundation
import Yams

/// Top-level `auth:` — `jwt: { NAME: {...} }` verifiers and `forward: { NAME: {...} }` services (SPEC §10).
enum AuthDecoder {
    static let keys = ["jwt", "forward"]
    static let jwtKeys = [
        "jwks_file", "jwks_url", "secret_env", "jwks_refresh", "issuer", "audience", "algorithms", "leeway",
        "claims_to_headers", "user_claim",
    ]
    /// RFC 7519 §4.1 and OpenID Connect Core §5.1 claims, plus the common `scope`/`roles`/`groups`/`azp`/`tid`.
    static let knownClaims = [
        "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "name", "given_name", "family_name", "middle_name", "nickname",
        "preferred_username", "profile", "picture", "website", "email", "email_verified", "gender", "birthdate",
        "zoneinfo", "locale", "phone_number", "phone_number_verified", "address", "updated_at", "scope", "scp", "roles",
        "groups", "azp", "tid", "oid", "client_id", "sid", "org_id", "tenant",
    ]
    static let forwardKeys = ["url", "copy_headers", "timeout", "cache"]

    static func decode(_ node: Node, context: DecodeContext) -> AuthSettings {
        var auth = AuthSettings()
        guard let map = MappingReader(node, what: "auth", allowed: keys, context: context) else { return auth }
        if let value = map["jwt"] {
            auth.jwt = named(value, what: "auth.jwt", context: context).compactMap { name, nameNode, body in
                jwtProvider(name: name, nameNode: nameNode, node: body, context: context)
            }
        }
        if let value = map["forward"] {
            auth.forward = named(value, what: "auth.forward", context: context).compactMap { name, nameNode, body in
                forwardProvider(name: name, nameNode: nameNode, node: body, context: context)
            }
        }
        return auth
    }

    /// The entries of a `NAME: {...}` mapping with checked names.
    private static func named(_ node: Node, what: String, context: DecodeContext) -> [(String, Node, Node)] {
        guard case .mapping(let mapping) = node else {
            context.error("'\(what)' must be a mapping of NAME: {...}, got \(node.kindDescription)", at: node)
            return []
        }
        var entries: [(String, Node, Node)] = []
        for (key, value) in mapping {
            guard let name = context.nonEmptyString(key, key: what) else { continue }
            if !NameRules.isValid(name) {
                context.error("\(what) name '\(name)' \(NameRules.message)", at: key)
                continue
            }
            entries.append((name, key, value))
        }
        return entries
    }

    static func jwtProvider(name: String, nameNode: Node, node: Node, context: DecodeContext) -> JWTProviderSettings? {
        guard let map = MappingReader(node, what: "auth.jwt.\(name)", allowed: jwtKeys, context: context) else { return nil }
        var sources: [(JWTKeySource, Node)] = []
        if let value = map["jwks_file"], let path = context.nonEmptyString(value, key: "jwks_file") {
            sources.append((.jwksFile(jwksPath(path, context: context)), value))
        }
        if let value = map["jwks_url"], let url = context.nonEmptyString(value, key: "jwks_url") {
            if url.hasPrefix("http://") || url.hasPrefix("https://") {
                sources.append((.jwksURL(url), value))
            } else {
                context.error("'jwks_url' must be an http:// or https:// URL, got '\(url)'", at: value)
            }
        }
        if let value = map["secret_env"], let variable = context.nonEmptyString(value, key: "secret_env") {
            if variable.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) {
                sources.append((.secretEnv(variable), value))
            } else {
                context.error("'secret_env' names an environment variable (e.g. JWT_HS256_SECRET), not the secret itself", at: value)
            }
        }
        guard sources.count <= 1 else {
            context.error("auth.jwt.\(name): give exactly one of 'jwks_file', 'jwks_url' or 'secret_env'", at: sources[1].1)
            return nil
        }
        guard let first = sources.first else {
            if map["jwks_file"] == nil, map["jwks_url"] == nil, map["secret_env"] == nil {
                context.error("auth.jwt.\(name) needs one of 'jwks_file', 'jwks_url' or 'secret_env'", at: node)
            }
            return nil
        }
        let (source, sourceNode) = first
        var provider = JWTProviderSettings(name: name, keys: source)
        provider.location = context.location(of: nameNode)
        provider.keysLocation = context.location(of: sourceNode)
        if let value = map["jwks_refresh"], let duration = context.duration(value, key: "jwks_refresh") {
            provider.jwksRefresh = duration
        }
        if let value = map["issuer"], let issuer = context.nonEmptyString(value, key: "issuer") { provider.issuer = issuer }
        if let value = map["audience"], let audience = context.stringList(value, key: "audience") { provider.audience = audience }
        if let value = map["leeway"], let duration = context.duration(value, key: "leeway", positive: false) {
            provider.leeway = duration
        }
        let isSecret = if case .secretEnv = source { true } else { false }
        let defaults = isSecret ? ["HS256"] : ["RS256", "ES256", "EdDSA"]
        provider.algorithms = defaults
        if let value = map["algorithms"], let nodes = context.stringListNodes(value, key: "algorithms") {
            var algorithms: [String] = []
            for item in nodes {
                guard let alg = context.nonEmptyString(item, key: "algorithms") else { continue }
                guard let known = JWTProviderSettings.supportedAlgorithms.first(where: { $0.lowercased() == alg.lowercased() }) else {
                    let reason = alg.lowercased() == "none" ? "unsigned tokens are never accepted" : "not a supported algorithm"
                    context.error(
                        "'algorithms': '\(alg)' is \(reason); use \(JWTProviderSettings.supportedAlgorithms.joined(separator: ", "))"
                            + Suggestion.hint(for: alg, in: JWTProviderSettings.supportedAlgorithms), at: item)
                    continue
                }
                if known.hasPrefix("HS") != isSecret {
                    context.error(
                        isSecret
                            ? "'algorithms': '\(known)' needs a public key (jwks_file or jwks_url); secret_env verifies HS256/HS384/HS512 only"
                            : "'algorithms': '\(known)' needs a shared secret (secret_env); a JWKS gives public keys — accepting HS* with them invites key confusion",
                        at: item)
                    continue
                }
                if !algorithms.contains(known) { algorithms.append(known) }
            }
            if nodes.isEmpty { context.error("'algorithms' must list at least one algorithm", at: value) }
            provider.algorithms = algorithms
        }
        if let value = map["claims_to_headers"] {
            if case .mapping(let mapping) = value {
                for (claimNode, headerNode) in mapping {
                    guard let claim = context.nonEmptyString(claimNode, key: "claims_to_headers"),
                        let header = context.nonEmptyString(headerNode, key: claim)
                    else { continue }
                    guard claim.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "." }) else {
                        context.error("'claims_to_headers': '\(claim)' is not a claim name (a top-level claim such as sub or email)", at: claimNode)
                        continue
                    }
                    guard header.allSatisfy(\.isHTTPTokenCharacter) else {
                        context.error("'claims_to_headers': '\(header)' is not a header name", at: headerNode)
                        continue
                    }
                    if !knownClaims.contains(claim) {
                        context.warning(
                            "'claims_to_headers': '\(claim)' is not a registered JWT or OpenID Connect claim"
                                + Suggestion.hint(for: claim, in: knownClaims) + "; make sure your identity provider issues it",
                            at: claimNode)
                    }
                    provider.claimsToHeaders.append(ClaimHeader(claim: claim, header: header))
                }
            } else {
                context.error("'claims_to_headers' must be a mapping of claim: Header-Name, got \(value.kindDescription)", at: value)
            }
        }
        if let value = map["user_claim"], let claim = context.nonEmptyString(value, key: "user_claim") { provider.userClaim = claim }
        return provider
    }

    /// As written when it exists from the working directory (`conf/jwks.json` in the SPEC), else relative to the file.
    static func jwksPath(_ path: String, context: DecodeContext) -> String {
        if path.hasPrefix("/") || FileManager.default.fileExists(atPath: path) { return path }
        return context.resolvedPath(path)
    }

    static func forwardProvider(name: String, nameNode: Node, node: Node, context: DecodeContext) -> ForwardAuthSettings? {
        guard let map = MappingReader(node, what: "auth.forward.\(name)", allowed: forwardKeys, context: context),
            let urlNode = map.required("url"), let url = context.nonEmptyString(urlNode, key: "url")
        else { return nil }
        guard url.hasPrefix("http://"), url.dropFirst("http://".count).contains(where: { $0 != "/" }) else {
            context.error("'url' must be an http://host:port/path URL (the auth service is called in plain HTTP), got '\(url)'", at: urlNode)
            return nil
        }
        var provider = ForwardAuthSettings(name: name, url: url)
        provider.location = context.location(of: nameNode)
        if let value = map["copy_headers"], let nodes = context.stringListNodes(value, key: "copy_headers") {
            for item in nodes {
                guard let header = context.nonEmptyString(item, key: "copy_headers") else { continue }
                if header.allSatisfy(\.isHTTPTokenCharacter) {
                    provider.copyHeaders.append(header)
                } else {
                    context.error("'copy_headers': '\(header)' is not a header name", at: item)
                }
            }
        }
        if let value = map["timeout"], let duration = context.duration(value, key: "timeout") { provider.timeout = duration }
        if let value = map["cache"] {
            if context.optionalBool(value) == false {
                provider.cache = nil
            } else if let duration = context.duration(value, key: "cache") {
                provider.cache = duration
            }
        }
        return provider
    }
}
