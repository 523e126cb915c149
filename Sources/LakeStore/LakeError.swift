import LakeSQLite

/// Every failure lake reports, with the context a user needs to act on it.
/// Exit codes are part of the command-line contract (README, "Exit codes").
public enum LakeError: Error, CustomStringConvertible, Sendable {
    /// The command line asks for something impossible (exit 2).
    case usage(String)
    /// The file is missing, not a lake, damaged, or from a newer lake (exit 3).
    case lakeFile(path: String, reason: String)
    /// An input file cannot be read or is not of the expected form (exit 4).
    case input(file: String, location: String?, reason: String)
    /// What was asked for is not in the lake (exit 5).
    case notFound(String)
    /// An identifier matches more than one thing; the candidates are listed (exit 6).
    case ambiguous(String, candidates: [String])
    /// The database refused an operation (exit 10).
    case database(String)
    /// A PostgreSQL server cannot be reached or refused an operation (exit 11).
    case remote(String)

    public var description: String {
        switch self {
        case .usage(let m): return m
        case .lakeFile(let path, let reason): return "\(path): \(reason)"
        case .input(let file, let location, let reason):
            return location.map { "\(file):\($0): \(reason)" } ?? "\(file): \(reason)"
        case .notFound(let m): return m
        case .ambiguous(let m, let candidates):
            return m + "\n" + candidates.map { "  " + $0 }.joined(separator: "\n")
        case .database(let m): return "database: \(m)"
        case .remote(let m): return "PostgreSQL: \(m)"
        }
    }

    public var exitCode: Int32 {
        switch self {
        case .usage: 2
        case .lakeFile: 3
        case .input: 4
        case .notFound: 5
        case .ambiguous: 6
        case .database: 10
        case .remote: 11
        }
    }

    /// Wraps any error thrown below the store so that the CLI reports it uniformly.
    public static func wrap(_ error: Error) -> LakeError {
        if let lake = error as? LakeError { return lake }
        if let sql = error as? SQLiteError { return .database(sql.description) }
        return .database(String(describing: error))
    }
}
