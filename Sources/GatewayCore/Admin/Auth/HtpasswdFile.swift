/// An htpasswd file of bcrypt entries, as `htpasswd -B` writes them: `user:$2y$05$…` per line.
///
/// Blank lines and `#` comments are skipped. Other hash schemes (apr1 MD5, SHA-1, crypt) are refused with the
/// line number: they are weak, and the admin listener guards reloads and drains.
struct HtpasswdFile: Sendable, Equatable {
    struct Problem: Error, Equatable, CustomStringConvertible {
        var line: Int
        var message: String
        var description: String { "line \(line): \(message)" }
    }

    /// user → bcrypt hash.
    private(set) var users: [String: String] = [:]

    init(users: [String: String]) {
        self.users = users
    }

    static func parse(_ text: String) throws(Problem) -> HtpasswdFile {
        var users: [String: String] = [:]
        for (number, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":") else {
                throw Problem(line: number + 1, message: "expected 'user:hash'")
            }
            let user = String(line[..<colon])
            let hash = String(line[line.index(after: colon)...])
            guard !user.isEmpty else { throw Problem(line: number + 1, message: "empty user name") }
            guard isBcrypt(hash) else {
                throw Problem(
                    line: number + 1,
                    message: "user '\(user)': only bcrypt entries are accepted (create them with `htpasswd -B`)")
            }
            guard users[user] == nil else { throw Problem(line: number + 1, message: "user '\(user)' appears twice") }
            users[user] = hash
        }
        guard !users.isEmpty else { throw Problem(line: 1, message: "the file holds no user") }
        return HtpasswdFile(users: users)
    }

    /// `$2a$`, `$2b$` or `$2y$`, a two-digit cost, `$`, then 53 characters of salt and hash.
    static func isBcrypt(_ hash: String) -> Bool {
        let bytes = Array(hash.utf8)
        guard bytes.count == 60, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"),
            [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(bytes[2]), bytes[3] == UInt8(ascii: "$"),
            bytes[6] == UInt8(ascii: "$")
        else { return false }
        let digits = bytes[4...5].allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        let alphabet = bytes[7...].allSatisfy {
            ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z"))
                || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "/")
        }
        return digits && alphabet
    }
}
