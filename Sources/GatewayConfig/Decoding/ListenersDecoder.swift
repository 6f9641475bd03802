import Foundation
import Yams

/// `server.listeners` and `server.hsts` (SPEC §7). Certificate paths are resolved against the directory of the file
/// that names them; whether the files load is checked by the TLS layer (`gateway check` and every start/reload).
enum ListenersDecoder {
    static let listenerKeys = ["address", "tls", "http2", "redirect_https"]
    static let tlsKeys = ["certificates", "min_version", "client_ca"]

    static func listeners(_ node: Node, context: DecodeContext) -> [ListenerSettings] {
        guard case .sequence(let sequence) = node else {
            context.error("'listeners' must be a list of listeners, got \(node.kindDescription)", at: node)
            return []
        }
        var result: [ListenerSettings] = []
        for item in sequence {
            guard let map = MappingReader(item, what: "server.listeners[]", allowed: listenerKeys, context: context),
                let addressNode = map.required("address"),
                let address = ServerDecoder.listenAddress(addressNode, key: "address", context: context)
            else { continue }
            var listener = ListenerSettings(address: address)
            listener.location = context.location(of: item)
            if let value = map["tls"] { listener.tls = tls(value, context: context) }
            if let value = map["http2"], let flag = context.bool(value, key: "http2") { listener.http2 = flag }
            if let value = map["redirect_https"],
                let port = context.int(value, key: "redirect_https", atLeast: 1, atMost: 65535)
            {
                if map["tls"] != nil {
                    context.error("'redirect_https' is for plain listeners; this one has 'tls'", at: value)
                } else {
                    listener.redirectHTTPS = port
                }
            }
            result.append(listener)
        }
        return result
    }

    static func tls(_ node: Node, context: DecodeContext) -> ListenerTLSSettings? {
        guard let map = MappingReader(node, what: "tls", allowed: tlsKeys, context: context) else { return nil }
        var tls = ListenerTLSSettings()
        tls.location = context.location(of: node)
        if let list = map.required("certificates") {
            guard case .sequence(let sequence) = list, !sequence.isEmpty else {
                context.error("'certificates' must be a non-empty list of { cert: FILE, key: FILE }", at: list)
                return nil
            }
            for item in sequence {
                guard let pair = MappingReader(item, what: "tls.certificates[]", allowed: ["cert", "key"], context: context),
                    let certNode = pair.required("cert"), let keyNode = pair.required("key"),
                    let cert = context.nonEmptyString(certNode, key: "cert"),
                    let key = context.nonEmptyString(keyNode, key: "key")
                else { continue }
                tls.certificates.append(CertificateFileSettings(
                    certificate: context.resolvedPath(cert), key: context.resolvedPath(key),
                    location: context.location(of: item)))
            }
        }
        if let value = map["min_version"] {
            if case .scalar(let scalar) = value, let version = TLSMinimumVersion(rawValue: scalar.string) {
                tls.minVersion = version
            } else {
                context.error("'min_version' must be \"1.2\" or \"1.3\" (TLS 1.0 and 1.1 are not offered), got \(value.describedValue)", at: value)
            }
        }
        if let value = map["client_ca"], let path = context.nonEmptyString(value, key: "client_ca") {
            tls.clientCA = context.resolvedPath(path)
        }
        return tls
    }

    static func hsts(_ node: Node, context: DecodeContext) -> HSTSSettings? {
        if let flag = context.optionalBool(node) { return flag ? HSTSSettings() : nil }
        guard let map = MappingReader(node, what: "server.hsts", allowed: ["max_age", "include_subdomains"], context: context)
        else { return nil }
        var hsts = HSTSSettings()
        if let value = map["max_age"], let duration = context.duration(value, key: "max_age") { hsts.maxAge = duration }
        if let value = map["include_subdomains"], let flag = context.bool(value, key: "include_subdomains") {
            hsts.includeSubdomains = flag
        }
        return hsts
    }
}

extension ListenersDecoder {
    /// `tls: { ca_file, client_cert, client_key, server_name }` of an outgoing connection.
    static func clientTLS(_ node: Node, what: String, allowServerName: Bool, context: DecodeContext) -> ClientTLSFiles? {
        let keys = ["ca_file", "client_cert", "client_key"] + (allowServerName ? ["server_name"] : [])
        guard let map = MappingReader(node, what: what, allowed: keys, context: context) else { return nil }
        var tls = ClientTLSFiles()
        tls.location = context.location(of: node)
        if let value = map["ca_file"], let path = context.nonEmptyString(value, key: "ca_file") {
            tls.caFile = context.resolvedPath(path)
        }
        if let value = map["client_cert"], let path = context.nonEmptyString(value, key: "client_cert") {
            tls.clientCert = context.resolvedPath(path)
        }
        if let value = map["client_key"], let path = context.nonEmptyString(value, key: "client_key") {
            tls.clientKey = context.resolvedPath(path)
        }
        if (tls.clientCert == nil) != (tls.clientKey == nil) {
            context.error("'\(what)': client_cert and client_key go together", at: node)
        }
        if let value = map["server_name"], let name = context.nonEmptyString(value, key: "server_name") {
            tls.serverName = name
        }
        return tls
    }
}

extension DecodeContext {
    /// `path` as written when absolute, else relative to the directory of the file being decoded.
    func resolvedPath(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        let directory = (file as NSString).deletingLastPathComponent
        return directory.isEmpty ? path : (directory as NSString).appendingPathComponent(path)
    }
}
