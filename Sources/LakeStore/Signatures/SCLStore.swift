import LakeSQLite

/// Writes SCL histograms (pixel counts of classes 0–11 per parcel and scene) to `scl_hist`,
/// telling whether each was new, changed or already there (ingest summaries count them).
public final class SCLStore {
    public enum Outcome: Sendable { case inserted, updated, unchanged }

    private let find: Statement
    private let write: Statement
    private let insert: Statement
    private let db: Connection
    private let columns: String
    /// Multi-row inserts by row count (one statement per batch costs less than one per row).
    private var batchInserts: [Int: Statement] = [:]
    public static let batchSize = 64
    /// Whether the last batch was mostly new histograms (a first load) or mostly known ones (a
    /// load repeated): the next batch is written the way that suits it.
    private var mostlyNew = true

    public init(db: Connection) throws {
        let columns = (0...11).map { "c\($0)" }.joined(separator: ", ")
        find = try db.prepare("SELECT \(columns) FROM scl_hist WHERE pid = ? AND obsid = ?")
        write = try db.prepare("INSERT OR REPLACE INTO scl_hist (pid, obsid, \(columns)) VALUES (?, ?\(String(repeating: ", ?", count: 12)))")
        insert = try db.prepare("INSERT OR IGNORE INTO scl_hist (pid, obsid, \(columns)) VALUES (?, ?\(String(repeating: ", ?", count: 12)))")
        self.db = db
        self.columns = columns
    }

    /// Counts of what a batch of upserts did.
    public struct Counts: Sendable {
        public var inserted = 0, updated = 0, unchanged = 0
        mutating func add(_ outcome: Outcome) {
            switch outcome {
            case .inserted: inserted += 1
            case .updated: updated += 1
            case .unchanged: unchanged += 1
            }
        }
    }

    /// Upserts `rows` (at most `batchSize`, keys distinct within the batch): new histograms in one
    /// multi-row INSERT OR IGNORE. When it inserted them all (a first load: SQLite's change count
    /// says so) that is all; otherwise each row is compared with what the lake holds and written
    /// where it differs: the change count is the number inserted, the rows that differed were
    /// updated, the rest were there already.
    public func upsert(batch rows: [(pid: Int64, obsid: Int64, counts: [Int])]) throws -> Counts {
        var counts = Counts()
        guard !rows.isEmpty else { return counts }
        precondition(rows.count <= Self.batchSize)
        guard mostlyNew else {
            for row in rows { counts.add(try upsert(pid: row.pid, obsid: row.obsid, counts: row.counts, knownFirst: true)) }
            mostlyNew = counts.inserted * 2 > rows.count
            return counts
        }
        let statement: Statement
        if let known = batchInserts[rows.count] { statement = known } else {
            let one = "(?" + String(repeating: ", ?", count: 13) + ")"
            statement = try db.prepare("INSERT OR IGNORE INTO scl_hist (pid, obsid, \(columns)) VALUES \(Array(repeating: one, count: rows.count).joined(separator: ", "))")
            batchInserts[rows.count] = statement
        }
        var index: Int32 = 1
        for row in rows {
            statement.bind(int: row.pid, at: index); statement.bind(int: row.obsid, at: index + 1)
            for (k, c) in row.counts.enumerated() { statement.bind(int: Int64(c), at: index + 2 + Int32(k)) }
            index += 14
        }
        try statement.step()
        statement.reset()
        let inserted = db.changes
        // The parcels to mark for a summary rebuild: none when nothing was new (the comparison
        // below marks the changed ones), else every parcel of the batch — exact for a batch of
        // new histograms; in a batch of new and known ones a parcel whose histograms were all
        // there already may be marked too, which costs only its rebuild (to the same summary).
        if heldTriggers != nil && inserted > 0 {
            var last: Int64?
            for row in rows where row.pid != last { touched.insert(row.pid); last = row.pid }
        }
        counts.inserted = inserted
        mostlyNew = inserted * 2 > rows.count
        guard inserted < rows.count else { return counts }
        // Some were there: a row that now differs from the lake's was there before with other
        // counts (an update); one that equals it was inserted just now or was there already.
        for row in rows where try compareAndWrite(pid: row.pid, obsid: row.obsid, counts: row.counts) == .updated { counts.updated += 1 }
        counts.unchanged = rows.count - inserted - counts.updated
        return counts
    }

    /// The triggers that mark a parcel in `scl_dirty` on every histogram written, as the file
    /// holds them, while a bulk load has them off.
    private var heldTriggers: [String]?
    /// Parcels whose histograms the bulk load inserted or changed (and, in a batch of new and
    /// known histograms, possibly others of that batch: see `upsert(batch:)`).
    private var touched = Set<Int64>()

    /// A load of many histograms inside one transaction: rather than a trigger marking the
    /// parcel in `scl_dirty` on each row (half of what SQLite spends on a first load), the
    /// triggers are dropped for this transaction and each touched parcel is marked once by
    /// `endBulk`, which puts the triggers back with their exact text before the transaction
    /// ends. A load that fails rolls back, triggers included: no one ever sees the file without
    /// them.
    public func beginBulk() throws {
        precondition(db.isInTransaction, "a bulk load runs inside a transaction")
        guard heldTriggers == nil else { return }
        let s = try db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'scl_hist' AND name IN ('scl_hist_inserted', 'scl_hist_updated', 'scl_hist_deleted') ORDER BY name")
        var names: [String] = [], texts: [String] = []
        while try s.step() { names.append(s.text(0) ?? ""); texts.append(s.text(1) ?? "") }
        guard names.count == 3 else { return }   // not lake's schema as expected: leave the triggers on
        for name in names { try db.execute("DROP TRIGGER \(name)") }
        heldTriggers = texts
        touched.removeAll()
    }

    /// Marks the parcels the load touched and restores the triggers (see `beginBulk`).
    public func endBulk() throws {
        guard let texts = heldTriggers else { return }
        let mark = try db.prepare("INSERT OR IGNORE INTO scl_dirty (pid) VALUES (?)")
        for pid in touched.sorted() {
            mark.bind(int: pid, at: 1)
            try mark.step()
            mark.reset()
        }
        for text in texts { try db.execute(text) }
        heldTriggers = nil
        touched.removeAll()
    }

    @discardableResult
    public func upsert(pid: Int64, obsid: Int64, counts: [Int], knownFirst: Bool = false) throws -> Outcome {
        if knownFirst { return try compareAndWrite(pid: pid, obsid: obsid, counts: counts) }
        // New histograms (a first load) take one statement; one already there is compared.
        insert.bind(int: pid, at: 1)
        insert.bind(int: obsid, at: 2)
        for (k, count) in counts.enumerated() { insert.bind(int: Int64(count), at: Int32(k + 3)) }
        try insert.step()
        insert.reset()
        if db.changes == 1 {
            if heldTriggers != nil { touched.insert(pid) }
            return .inserted
        }
        return try compareAndWrite(pid: pid, obsid: obsid, counts: counts)
    }

    /// Compares with the stored histogram and writes only a changed one.
    private func compareAndWrite(pid: Int64, obsid: Int64, counts: [Int]) throws -> Outcome {
        find.bind(int: pid, at: 1)
        find.bind(int: obsid, at: 2)
        let existed = try find.step()
        let same = existed && (0..<12).allSatisfy { find.int(Int32($0)) == Int64(counts[$0]) }
        find.reset()
        if same { return .unchanged }
        if heldTriggers != nil { touched.insert(pid) }
        write.bind(int: pid, at: 1)
        write.bind(int: obsid, at: 2)
        for (k, count) in counts.enumerated() { write.bind(int: Int64(count), at: Int32(k + 3)) }
        try write.step()
        write.reset()
        return existed ? .updated : .inserted
    }
}
