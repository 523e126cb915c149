import Foundation
import LakeSQLite
import LakeStore
import LakeSupport

/// Records analysis runs: each run's id, time, lake version, options text and inputs, so that
/// results (which carry the run id) can be traced and reproduced.
public enum RunLog {
    /// Inserts a run (inside the caller's transaction) and returns its id.
    public static func begin(_ db: Connection, kind: String, options: String, inputs: [String: Any]) throws -> Int64 {
        try db.run("""
            INSERT INTO runs (kind, started, lake_version, options, inputs) VALUES (?, ?, ?, ?, ?)
            """, .text(kind), .text(now()), .text(LakeVersion.current), .text(options), .text(json(inputs)))
        return db.lastInsertRowID
    }

    public static func finish(_ db: Connection, run: Int64, summary: [String: Any]) throws {
        try db.run("UPDATE runs SET finished = ?, summary = ?, status = 'done' WHERE run_id = ?",
                   .text(now()), .text(json(summary)), .int(run))
    }

    /// Runs `body`, a run's inserts of rows lake renders itself — reasons and details through
    /// `JSONText`, colours from the decision rules — with the tables' CHECKs off: `json_valid`
    /// of every decision's reasons cost the bench lake's 20,000 decisions 106 → 45 ms in the
    /// sqlite3 shell. SQLite compiles CHECKs into each statement and recompiles statements when
    /// the pragma changes, so statements prepared before serve too. Tests hold every row so
    /// written to the same checks, and the checks to holding again afterwards
    /// (`testRunRowsPassTheTablesChecks`).
    public static func writingOwnRows<T>(_ db: Connection, _ body: () throws -> T) throws -> T {
        try db.execute("PRAGMA ignore_check_constraints = ON")
        defer { try? db.execute("PRAGMA ignore_check_constraints = OFF") }
        return try body()
    }

    /// The most recent finished run of `kind`, if any.
    public static func latest(_ db: Connection, kind: String) throws -> Int64? {
        try db.scalar("SELECT max(run_id) FROM runs WHERE kind = ? AND status = 'done'", .text(kind))?.int
    }

    static func now() -> String { ISO8601DateFormatter().string(from: Date()) }

    public static func json(_ object: Any) -> String {
        guard JSONSerialization.isValidJSONObject(object),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Inserts one run's decisions of one scheme, row by row, with their reasons as JSON arrays;
/// counts them by colour (the run summaries of the crop check and of `lake decide`).
final class DecisionInserter {
    private let insert: Statement
    private let run: Int64
    private let scheme: String
    private(set) var colours: [String: Int] = [:]
    var rows: Int { colours.values.reduce(0, +) }

    init(_ db: Connection, run: Int64, scheme: String) throws {
        self.run = run
        self.scheme = scheme
        insert = try db.prepare("INSERT INTO decisions (run_id, pid, scheme, colour, clear_obs, reasons) VALUES (?, ?, ?, ?, ?, ?)")
    }

    func add(pid: Int64, colour: String, clearObservations: Int, reasons: [String]) throws {
        var json: [UInt8] = []
        JSONText.append(array: reasons, to: &json)
        try insert.bind([.int(run), .int(pid), .text(scheme), .text(colour), .int(Int64(clearObservations)), .text(String(decoding: json, as: UTF8.self))])
        try insert.step()
        insert.reset()
        colours[colour, default: 0] += 1
    }
}
