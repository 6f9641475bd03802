import Yams

/// `server:` — listeners, limits, client timeouts, trusted proxies, access log.
enum ServerDecoder {
    static let keys = [
        "listen", "admin_listen", "max_header_bytes", "max_body_bytes", "timeouts", "shutdown_grace",
        "trusted_proxies", "access_log", "workers", "max_uri_bytes", "underscores_in_headers", "merge_slashes",
        "listeners", "hsts", "http2",
        "admin_auth",
    ]

    static func decode(_ node: Node, context: DecodeContext) -> ServerSettings {
        var server = ServerSettings()
        guard let map = MappingReader(node, what: "server", allowed: keys, context: context) else { return server }
        if let value = map["listen"], let address = listenAddress(value, key: "listen", context: context) {
            server.listen = address
            server.listenWritten = true
        }
        if let value = map["listeners"] { server.listeners = ListenersDecoder.listeners(value, context: context) }
        if let value = map["hsts"] { server.hsts = ListenersDecoder.hsts(value, context: context) }
        if let value = map["http2"] { server.http2 = http2(value, context: context) }
        if let value = map["admin_listen"] {
            if context.optionalBool(value) == false {
                server.adminListen = nil
            } else if let address = listenAddress(value, key: "admin_listen", context: context) {
                server.adminListen = address
            }
        }
        if let value = map["max_header_bytes"], let size = context.size(value, key: "max_header_bytes") {
            server.maxHeaderBytes = size
        }
        if let value = map["max_body_bytes"], let size = context.size(value, key: "max_body_bytes", positive: false) {
            server.maxBodyBytes = size
        }
        if let value = map["timeouts"],
            let timeouts = MappingReader(value, what: "server.timeouts", allowed: ["client_header", "client_idle", "client_body"], context: context)
        {
            if let node = timeouts["client_header"], let duration = context.duration(node, key: "client_header") {
                server.clientHeaderTimeout = duration
            }
            if let node = timeouts["client_idle"], let duration = context.duration(node, key: "client_idle") {
                server.clientIdleTimeout = duration
            }
            if let node = timeouts["client_body"], let duration = context.duration(node, key: "client_body") {
                server.clientBodyTimeout = duration
            }
        }
        if let value = map["shutdown_grace"], let duration = context.duration(value, key: "shutdown_grace", positive: false) {
            server.shutdownGrace = duration
        }
        if let value = map["trusted_proxies"], let entries = context.stringListNodes(value, key: "trusted_proxies") {
            server.trustedProxies = entries.compactMap { entry in
                context.parsed(entry, key: "trusted_proxies") { text throws(ValueParseError) in
                    try CIDRBlock.parse(text)
                }
            }
        }
        if let value = map["access_log"] { AccessLogDecoder.decode(value, into: &server, context: context) }
        if let value = map["max_uri_bytes"], let size = context.size(value, key: "max_uri_bytes") {
            server.maxURIBytes = size
        }
        if let value = map["underscores_in_headers"], let flag = context.bool(value, key: "underscores_in_headers") {
            server.underscoresInHeaders = flag
        }
        if let value = map["merge_slashes"], let flag = context.bool(value, key: "merge_slashes") {
            server.mergeSlashes = flag
        }
        if let value = map["workers"], let workers = context.int(value, key: "workers", atLeast: 0, atMost: 1024) {
            server.workers = workers
        }
        if let value = map["admin_auth"] { server.adminAuth = AdminAuthDecoder.decode(value, context: context) }
        return server
    }

    /// `server.http2: { max_concurrent_streams, max_header_list_bytes, max_resets, reset_window, ... }`.
    static func http2(_ node: Node, context: DecodeContext) -> HTTP2ServerSettings {
        var settings = HTTP2ServerSettings()
        guard let map = MappingReader(node, what: "server.http2", allowed: HTTP2ServerSettings.keys, context: context)
        else { return settings }
        if let node = map["max_concurrent_streams"],
            let value = context.int(node, key: "max_concurrent_streams", atLeast: 1, atMost: 2_147_483_647)
        {
            settings.maxConcurrentStreams = value
        }
        if let node = map["max_header_list_bytes"], let size = context.size(node, key: "max_header_list_bytes") {
            settings.maxHeaderListBytes = size
        }
        if let node = map["max_resets"], let value = context.int(node, key: "max_resets", atLeast: 1) {
            settings.maxResets = value
        }
        if let node = map["reset_window"], let duration = context.duration(node, key: "reset_window") {
            settings.resetWindow = duration
        }
        if let node = map["max_control_frames"], let value = context.int(node, key: "max_control_frames", atLeast: 1) {
            settings.maxControlFrames = value
        }
        if let node = map["control_frame_window"], let duration = context.duration(node, key: "control_frame_window") {
            settings.controlFrameWindow = duration
        }
        return settings
    }

    /// `host:port` text, or a bare integer port (= `:port`).
    static func listenAddress(_ node: Node, key: String, context: DecodeContext) -> ListenAddress? {
        if node.tagName == .int, let port = node.int {
            guard (0...65535).contains(port) else {
                context.error("'\(key)': port must be a number 0...65535", at: node)
                return nil
            }
            return ListenAddress(host: "0.0.0.0", port: port)
        }
        return context.parsed(node, key: key) { text throws(ValueParseError) in
            try ListenAddress.parse(text)
        }
    }
}

extension DecodeContext {
    /// The item nodes of a list of strings (a single string counts as a one-item list), so each
    /// item can be parsed and reported at its own position.
    func stringListNodes(_ node: Node, key: String) -> [Node]? {
        switch node {
        case .scalar: return [node]
        case .sequence(let sequence): return Array(sequence)
        default:
            error("'\(key)' must be a list of strings, got \(node.kindDescription)", at: node)
            return nil
        }
    }
}
