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
        public init() {}
        public mutating func add(_ other: Counts) {
            inserted += other.inserted; updated += other.updated; unchanged += other.unchanged
        }
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
        // What the parcels' summaries get: nothing when nothing was new (the comparison below
        // records the changed ones), else every row of the batch — in a batch of new and known
        // histograms a known one is recorded with the mask it already has.
        if heldTriggers != nil && inserted > 0 {
            for row in rows { record(row.pid, row.obsid, row.counts) }
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
    /// Per parcel, the class mask of each histogram the bulk load wrote, in the order written
    /// (`record`): what `endBulk` brings the parcel's summary up to date with.
    private var written: [Int64: [SCLSummary.Entry]] = [:]
    /// The parcel being recorded (rows usually arrive parcel by parcel): kept apart from
    /// `written` until another parcel comes, so that a row costs no hashing.
    private var current: (pid: Int64, entries: [SCLSummary.Entry])?
    private var recorded = 0
    /// Parcels the load wrote to after `recordLimit` entries were held: marked for a rebuild
    /// from `scl_hist` instead (memory stays bounded whatever the file's size).
    private var unrecorded = Set<Int64>()
    /// About 16 bytes an entry: 64 MB at most (a variable so that tests can make it small).
    nonisolated(unsafe) public static var recordLimit = 4_000_000

    /// A load of many histograms inside one transaction. Rather than a trigger marking the
    /// parcel in `scl_dirty` on each row (half of what SQLite spends on a first load), and the
    /// summaries then rebuilt from `scl_hist` (a fifth of a first load), the triggers are dropped
    /// for this transaction, the masks of the histograms written are kept, and `endBulk` writes
    /// each touched parcel's summary: its trusted summary (or none, when it had no histograms)
    /// with the load's histograms put in. A parcel whose summary cannot be trusted (marked in
    /// `scl_dirty`, damaged) or that came after the memory limit is marked for the usual
    /// rebuild. `endBulk` puts the triggers back with their exact text before the transaction
    /// ends. A load that fails rolls back, triggers and summaries included: no one ever sees the
    /// file without them.
    public func beginBulk() throws {
        precondition(db.isInTransaction, "a bulk load runs inside a transaction")
        guard heldTriggers == nil else { return }
        let s = try db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'scl_hist' AND name IN ('scl_hist_inserted', 'scl_hist_updated', 'scl_hist_deleted') ORDER BY name")
        var names: [String] = [], texts: [String] = []
        while try s.step() { names.append(s.text(0) ?? ""); texts.append(s.text(1) ?? "") }
        guard names.count == 3 else { return }   // not lake's schema as expected: leave the triggers on
        for name in names { try db.execute("DROP TRIGGER \(name)") }
        heldTriggers = texts
        written.removeAll(); current = nil; recorded = 0; unrecorded.removeAll()
    }

    /// Keeps the mask of a histogram the bulk load wrote.
    private func record(_ pid: Int64, _ obsid: Int64, _ counts: [Int]) {
        if current?.pid != pid {
            if let (p, entries) = current { written[p, default: []].append(contentsOf: entries) }
            current = (pid, written.removeValue(forKey: pid) ?? [])
        }
        if recorded >= Self.recordLimit || (!unrecorded.isEmpty && unrecorded.contains(pid)) { unrecorded.insert(pid); return }
        current!.entries.append(SCLSummary.Entry(obsid: obsid, classes: SCLSummary.mask(counts)))
        recorded += 1
    }

    /// Brings the summaries of the parcels the load touched up to date (or marks them for a
    /// rebuild) and restores the triggers (see `beginBulk`).
    public func endBulk() throws {
        guard let texts = heldTriggers else { return }
        if let (p, entries) = current { written[p, default: []].append(contentsOf: entries); current = nil }
        let mark = try db.prepare("INSERT OR IGNORE INTO scl_dirty (pid) VALUES (?)")
        let isDirty = try db.prepare("SELECT 1 FROM scl_dirty WHERE pid = ?")
        let old = try db.prepare("SELECT data FROM scl_summary WHERE pid = ?")
        let put = try db.prepare("INSERT OR REPLACE INTO scl_summary (pid, data) VALUES (?, ?)")
        for pid in Set(written.keys).union(unrecorded).sorted() {
            isDirty.bind(int: pid, at: 1)
            let dirty = try isDirty.step()
            isDirty.reset()
            var summary: [Int64: UInt16]? = nil
            if !dirty && !unrecorded.contains(pid), let entries = written[pid] {
                // The parcel's summary before the load is the truth about its other histograms
                // (a parcel with histograms has one unless it is marked); none: it had none.
                old.bind(int: pid, at: 1)
                var before: [SCLSummary.Entry]? = []
                if try old.step() { before = old.withBlob(0) { try? SCLSummary.decode(Array($0)) } }
                old.reset()
                if let before {
                    var masks: [Int64: UInt16] = [:]
                    for e in before { masks[e.obsid] = e.classes }
                    for e in entries { masks[e.obsid] = e.classes }   // later writes win
                    summary = masks
                }
            }
            if let summary {
                let entries = summary.sorted { $0.key < $1.key }.map { SCLSummary.Entry(obsid: $0.key, classes: $0.value) }
                put.bind(int: pid, at: 1)
                try SCLSummary.encode(entries).withUnsafeBytes { put.bind(blob: $0, at: 2); try put.step() }
                put.reset()
            } else {
                mark.bind(int: pid, at: 1)
                try mark.step()
                mark.reset()
            }
        }
        for text in texts { try db.execute(text) }
        heldTriggers = nil
        written.removeAll(); unrecorded.removeAll(); recorded = 0
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
            if heldTriggers != nil { record(pid, obsid, counts) }
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
        if heldTriggers != nil { record(pid, obsid, counts) }
        write.bind(int: pid, at: 1)
        write.bind(int: obsid, at: 2)
        for (k, count) in counts.enumerated() { write.bind(int: Int64(count), at: Int32(k + 3)) }
        try write.step()
        write.reset()
        return existed ? .updated : .inserted
    }
}
