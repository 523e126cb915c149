import Foundation
import HummingbirdBcrypt
import LakeStore
import LakeSupport

/// The users `lake serve --users FILE` lets in, with the JRC's HTTP basic authentication. The
/// file holds one `name:bcrypt-hash` per line (`lake serve --users FILE --add-user NAME` adds or
/// replaces one, the password read from stdin); no password is stored in clear. A verified
/// `Authorization` header is remembered for the server's life, so bcrypt's deliberate cost is
/// paid once per user and password, not per request.
public final class Users: @unchecked Sendable {
    private let hashes: [String: String]
    private var accepted: Set<String> = []
    private let lock = Lock()

    public init(file: String) throws {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw LakeError.input(file: file, location: nil, reason: "cannot read the users file")
        }
        var hashes: [String: String] = [:]
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = line.trimmed()
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
                  line[line.index(after: colon)...].hasPrefix("$2") else {
                throw LakeError.input(file: file, location: "line \(n + 1)", reason: "expected name:bcrypt-hash (add users with lake serve --users FILE --add-user NAME)")
            }
            hashes[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        guard !hashes.isEmpty else { throw LakeError.input(file: file, location: nil, reason: "no users") }
        self.hashes = hashes
    }

    /// Whether `header` (the request's Authorization value) lets its user in, without bcrypt
    /// when that can be told: false for a missing or malformed header,
    /// true for one verified before; nil when the password must be checked (`verify`).
    func remembered(_ header: String?) -> Bool? {
        guard let header, header.hasPrefix("Basic ") else { return false }
        return lock.withLock({ accepted.contains(header) }) ? true : nil
    }

    /// Checks the header's password against its user's bcrypt hash (deliberately slow: tens of
    /// milliseconds) and remembers it when right.
    func verify(_ header: String) -> Bool {
        guard let data = Data(base64Encoded: String(header.dropFirst(6))), let pair = String(data: data, encoding: .utf8),
              let colon = pair.firstIndex(of: ":") else { return false }
        let name = String(pair[..<colon]), password = String(pair[pair.index(after: colon)...])
        guard let hash = hashes[name], Bcrypt.verify(password, hash: hash) else { return false }
        lock.withLock { _ = accepted.insert(header) }
        return true
    }

    /// Adds or replaces `name` in `file` (created when missing) with a bcrypt hash of `password`.
    public static func add(name: String, password: String, file: String) throws {
        guard !name.isEmpty, !name.contains(":"), !name.contains("\n") else { throw LakeError.usage("a user name has no ':' or line break") }
        guard !password.isEmpty else { throw LakeError.usage("empty password") }
        var lines = ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        lines.removeAll { $0.hasPrefix(name + ":") }
        lines.append("\(name):\(Bcrypt.hash(password, cost: 10))")
        let temporary = file + ".partial"
        try (lines.joined(separator: "\n") + "\n").write(toFile: temporary, atomically: false, encoding: .utf8)
        chmod(temporary, 0o600)
        // rename(2) replaces the old file in one step: no moment without a users file.
        guard rename(temporary, file) == 0 else { throw LakeError.usage("cannot write \(file): \(String(cString: strerror(errno)))") }
    }
}
