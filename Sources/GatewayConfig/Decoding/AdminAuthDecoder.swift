import Foundation
import Yams

/// `server.admin_auth: { basic_users_file: conf/admin.htpasswd }` or `{ token_env: GATEWAY_ADMIN_TOKEN }`.
enum AdminAuthDecoder {
    static let keys = ["basic_users_file", "token_env"]

    static func decode(_ node: Node, context: DecodeContext) -> AdminAuthSettings? {
        guard let map = MappingReader(node, what: "server.admin_auth", allowed: keys, context: context) else { return nil }
        let file = map["basic_users_file"]
        let token = map["token_env"]
        switch (file, token) {
        case (let file?, nil):
            guard let path = context.nonEmptyString(file, key: "basic_users_file") else { return nil }
            return .basicUsersFile(path: resolve(path, relativeTo: context.file))
        case (nil, let token?):
            guard let name = context.nonEmptyString(token, key: "token_env") else { return nil }
            guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                context.error(
                    "'token_env' names an environment variable (e.g. GATEWAY_ADMIN_TOKEN), not the token itself",
                    at: token)
                return nil
            }
            return .tokenEnv(name: name)
        case (.some, .some):
            context.error("server.admin_auth takes one of 'basic_users_file' or 'token_env', not both", at: node)
            return nil
        case (nil, nil):
            context.error("server.admin_auth needs 'basic_users_file' or 'token_env'", at: node)
            return nil
        }
    }

    /// A relative path is taken from the directory of the config file that names it (as `include:`).
    static func resolve(_ path: String, relativeTo file: String) -> String {
        if path.hasPrefix("/") { return path }
        let directory = (file as NSString).deletingLastPathComponent
        return directory.isEmpty ? path : (directory as NSString).appendingPathComponent(path)
    }
}
