import Foundation
import Yams

/// Loads `conf/gateway.yaml` (and its includes) into a validated ``GatewayConfiguration``.
///
/// ```swift
/// do {
///     let config = try ConfigLoader.load(path: "conf/gateway.yaml", environment: ProcessInfo.processInfo.environment)
/// } catch {
///     for problem in error.errors { print(problem) }   // conf/gateway.yaml:14:7: unknown key 'limt' ...
/// }
/// ```
/// Every problem is collected (decoding never stops at the first); the throw carries all of them.
/// Pure apart from reading files: safe to call from any thread, but it does blocking file I/O,
/// so call it off the event loops (e.g. on reload).
public enum ConfigLoader {
    static let topLevelKeys = ["server", "store", "upstreams", "sessions", "cache", "auth", "routes", "include", "observability"]
    static let includedKeys = ["routes", "upstreams"]

    /// Reads and validates the config at `path`. `environment` supplies `GATEWAY_REDIS_URL`
    /// (a non-empty value overrides `store.redis`).
    ///
    /// - Throws: always a ``ConfigErrors`` (plain `throws` rather than typed throws: `catch let e as
    ///   ConfigErrors` on a typed throw crashed the Swift 6.3 compiler in async callers).
    public static func load(path: String, environment: [String: String]) throws -> GatewayConfiguration {
        let diagnostics = Diagnostics()
        let (root, _) = SourceFile.load(path: path, diagnostics: diagnostics)
        return try assemble(root: root, path: path, environment: environment, diagnostics: diagnostics)
    }

    /// Validates YAML text as if it were the file at `path` (includes resolve relative to `path`).
    ///
    /// - Throws: always a ``ConfigErrors``.
    public static func load(yaml: String, path: String, environment: [String: String]) throws -> GatewayConfiguration {
        let diagnostics = Diagnostics()
        let (root, _) = SourceFile.parse(yaml: yaml, path: path, diagnostics: diagnostics)
        return try assemble(root: root, path: path, environment: environment, diagnostics: diagnostics)
    }

    private static func assemble(root: Node?, path: String, environment: [String: String],
                                 diagnostics: Diagnostics) throws(ConfigErrors) -> GatewayConfiguration {
        var config = GatewayConfiguration(sourceFiles: [path])
        var upstreams: [UpstreamDraft] = []
        var routes: [RouteDraft] = []
        let context = DecodeContext(file: path, diagnostics: diagnostics)
        var redisNode: Node?

        if let root, !root.isNull, let map = MappingReader(root, what: "the top level", allowed: topLevelKeys, context: context) {
            if let node = map["server"] { config.server = ServerDecoder.decode(node, context: context) }
            if let node = map["store"] {
                config.store = StoreDecoder.decode(node, context: context)
                if case .mapping(let storeMap) = node { redisNode = storeMap["redis"] }
            }
            if let node = map["upstreams"] { upstreams += UpstreamDecoder.decodeAll(node, context: context) }
            if let node = map["sessions"] { config.sessions = SessionsDecoder.decode(node, context: context) }
            if let node = map["auth"] { config.auth = AuthDecoder.decode(node, context: context) }
            if let node = map["cache"] { config.cache = CacheDecoder.decode(node, context: context) }
            if let node = map["routes"] { routes += RouteDecoder.decodeAll(node, context: context) }
            if let node = map["observability"] { config.observability = ObservabilityDecoder.decode(node, context: context) }
            if let node = map["include"], let patterns = context.stringListNodes(node, key: "include") {
                for patternNode in patterns {
                    guard let pattern = context.nonEmptyString(patternNode, key: "include") else { continue }
                    let files = IncludeResolver.expand(pattern: pattern, relativeTo: path)
                    // As in nginx: a glob may match nothing, but a plain file name must exist.
                    if files.isEmpty, !pattern.contains(where: { "*?[".contains($0) }) {
                        context.error("included file '\(pattern)' not found (relative to this file's directory)", at: patternNode)
                    }
                    for file in files
                    where !config.sourceFiles.contains(file) {
                        config.sourceFiles.append(file)
                        let included = loadIncluded(file, diagnostics: diagnostics)
                        upstreams += included.upstreams
                        routes += included.routes
                    }
                }
            }
        }

        applyEnvironment(environment, to: &config, redisNode: redisNode, path: path, diagnostics: diagnostics)
        SemanticValidator(diagnostics: diagnostics).validate(
            upstreams: upstreams, routes: routes, sessions: config.sessions, auth: config.auth)
        CacheDecoder.validate(routes: routes.map(\.settings), cache: config.cache, diagnostics: diagnostics)
        config.upstreams = upstreams.map(\.settings)
        config.routes = routes.map(\.settings)

        if !diagnostics.errors.isEmpty {
            throw ConfigErrors(errors: sorted(diagnostics.errors, files: config.sourceFiles))
        }
        config.warnings = sorted(diagnostics.warnings, files: config.sourceFiles)
        return config
    }

    private static func loadIncluded(_ file: String, diagnostics: Diagnostics) -> (upstreams: [UpstreamDraft], routes: [RouteDraft]) {
        let (root, _) = SourceFile.load(path: file, diagnostics: diagnostics)
        guard let root, !root.isNull else { return ([], []) }
        let context = DecodeContext(file: file, diagnostics: diagnostics)
        guard case .mapping(let mapping) = root else {
            context.error("an included file must be a mapping with 'routes' and/or 'upstreams', got \(root.kindDescription)", at: root)
            return ([], [])
        }
        // Check keys by hand so top-level keys get a clearer message than "unknown key".
        var upstreams: [UpstreamDraft] = []
        var routes: [RouteDraft] = []
        for (key, value) in mapping {
            let name = key.scalar?.string ?? ""
            switch name {
            case "routes" where !value.isNull: routes += RouteDecoder.decodeAll(value, context: context)
            case "upstreams" where !value.isNull: upstreams += UpstreamDecoder.decodeAll(value, context: context)
            case "routes", "upstreams": break
            case _ where topLevelKeys.contains(name):
                context.error("'\(name)' is not allowed in an included file (only 'routes' and 'upstreams'); move it to the main config", at: key)
            default:
                context.error("unknown key '\(name)' in an included file" + Suggestion.hint(for: name, in: includedKeys)
                              + " (only 'routes' and 'upstreams' are allowed)", at: key)
            }
        }
        return (upstreams, routes)
    }

    /// `GATEWAY_REDIS_URL` (when set and non-empty) replaces `store.redis`, and a single node replaces a
    /// configured `store.cluster`/`store.sentinel` too (the environment wins, as for `store.redis`).
    private static func applyEnvironment(_ environment: [String: String], to config: inout GatewayConfiguration,
                                         redisNode: Node?, path: String, diagnostics: Diagnostics) {
        guard let value = environment["GATEWAY_REDIS_URL"]?.trimmingSpaces(), !value.isEmpty else { return }
        do {
            _ = try RedisURL.parse(value)
            config.store.redisURL = value
            config.store.cluster = nil
            config.store.sentinel = nil
        } catch {
            let location = redisNode.map { DecodeContext(file: path, diagnostics: diagnostics).location(of: $0) }
                ?? SourceLocation(file: path, line: 1, column: 1)
            diagnostics.report("GATEWAY_REDIS_URL from the environment is invalid: \(error.message)", at: location)
        }
    }

    private static func sorted(_ errors: [ConfigError], files: [String]) -> [ConfigError] {
        let order = Dictionary(files.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        return errors.enumerated().sorted { lhs, rhs in
            let a = lhs.element, b = rhs.element
            let fa = order[a.file] ?? files.count, fb = order[b.file] ?? files.count
            if fa != fb { return fa < fb }
            if a.line != b.line { return a.line < b.line }
            if a.column != b.column { return a.column < b.column }
            return lhs.offset < rhs.offset
        }.map(\.element)
    }
}
