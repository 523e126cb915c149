import LakeSQLite

/// Writes SCL histograms (pixel counts of classes 0–11 per parcel and scene) to `scl_hist`,
/// telling whether each was new, changed or already there (ingest summaries count them).
public final class SCLStore {
    public enum Outcome: Sendable { case inserted, updated, unchanged }

    private let find: Statement
    private let write: Statement

    public init(db: Connection) throws {
        let columns = (0...11).map { "c\($0)" }.joined(separator: ", ")
        find = try db.prepare("SELECT \(columns) FROM scl_hist WHERE pid = ? AND obsid = ?")
        write = try db.prepare("INSERT OR REPLACE INTO scl_hist (pid, obsid, \(columns)) VALUES (?, ?\(String(repeating: ", ?", count: 12)))")
    }

    @discardableResult
    public func upsert(pid: Int64, obsid: Int64, counts: [Int]) throws -> Outcome {
        try find.bind([.int(pid), .int(obsid)])
        let existed = try find.step()
        let same = existed && (0..<12).allSatisfy { find.int(Int32($0)) == Int64(counts[$0]) }
        find.reset()
        if same { return .unchanged }
        try write.bind([.int(pid), .int(obsid)] + counts.map { .int(Int64($0)) })
        try write.step()
        write.reset()
        return existed ? .updated : .inserted
    }
}
