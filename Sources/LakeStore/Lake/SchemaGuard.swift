import LakeSQLite

/// Refuses lake files whose triggers or views lake did not create itself.
///
/// A lake file may come from anyone. Tables hold only data, but triggers and views hold code
/// that SQLite runs on the reader's behalf; a file is opened only when every trigger and view
/// it has is one that lake's own migrations produce (compared by name and SQL text against a
/// reference lake built in memory with the same SRID).
enum SchemaGuard {
    nonisolated(unsafe) private static var reference: [Int: [String: String]] = [:]

    static func verify(_ db: Connection, srid: Int, path: String) throws {
        let expected = try referenceCode(srid: srid)
        let found = try code(in: db)
        for (key, sql) in found.sorted(by: { $0.key < $1.key }) where expected[key] != sql {
            throw LakeError.lakeFile(path: path, reason:
                "contains \(key) that lake did not create; refusing to open a file that could run foreign code")
        }
    }

    private static func referenceCode(srid: Int) throws -> [String: String] {
        if let cached = reference[srid] { return cached }
        let memory = try Connection(path: ":memory:", mode: .create)
        try Migrator.migrate(memory, srid: srid, path: ":memory:")
        let result = try code(in: memory)
        reference[srid] = result
        return result
    }

    private static func code(in db: Connection) throws -> [String: String] {
        let statement = try db.prepare(
            "SELECT type, name, sql FROM sqlite_schema WHERE type IN ('trigger', 'view')")
        var result: [String: String] = [:]
        while try statement.step() {
            result["\(statement.text(0) ?? "") \(statement.text(1) ?? "")"] = statement.text(2) ?? ""
        }
        return result
    }
}
