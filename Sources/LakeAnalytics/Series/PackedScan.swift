import LakeQuery
import LakeSQLite
import LakeStore

/// Parcels' packed series (undecoded) with their observations' clear flags, in pid order: the
/// input of whole-lake analyses, which decode only the columns they need. Clear flags come from
/// the per-parcel SCL summaries (one row per parcel); a parcel whose histograms changed since
/// its summary was built reads `scl_hist` instead.
public final class PackedScan {
    private let packed: Statement
    private let summaries: Statement
    private let hist: Statement
    private let summarised: Bool
    private var dirty = Set<Int64>()
    private let excluded: UInt16
    private var clear: [(Int64, Bool)] = []

    /// A reader over `db` (the lake's own connection or one of `Lake.readerConnection`).
    public init(_ db: Connection, schemaVersion: Int, screen: CloudScreen) throws {
        guard try SignatureStore(db: db).pendingCount() == 0 else {
            throw LakeError.usage("signatures are waiting to be merged; run any `lake ingest signatures` or `lake extract` to completion first")
        }
        excluded = screen.excluded.reduce(UInt16(0)) { $0 | 1 << UInt16($1) }
        let cloudy = screen.excluded.sorted().map { "c\($0)" }.joined(separator: " + ")
        hist = try db.prepare("SELECT obsid, \(cloudy.isEmpty ? "0" : cloudy) = 0 FROM scl_hist WHERE pid = ? ORDER BY obsid")
        // Lakes older than schema 3 (opened read-only, not migrated) have no summaries.
        summarised = schemaVersion >= 3
        if summarised {
            let s = try db.prepare("SELECT pid FROM scl_dirty")
            while try s.step() { dirty.insert(s.int(0)) }
        }
        // The series are most of the file and are read once: mapped, SQLite reads them from
        // the OS page cache instead of copying every page into its own cache first (half the
        // read time). Readers hold the lake against writers meanwhile.
        try db.execute("PRAGMA mmap_size = 17179869184")
        packed = try db.prepare("SELECT pid, data FROM signatures_packed WHERE pid BETWEEN ? AND ? ORDER BY pid")
        summaries = try db.prepare(summarised ? "SELECT pid, data FROM scl_summary WHERE pid BETWEEN ? AND ? ORDER BY pid"
                                              : "SELECT ?1, ?2 WHERE 0")
    }

    /// Calls `body` with each parcel in `pids` (a pid range) that has signatures: its pid, its
    /// packed series (valid only during the call) and its (obsid, clear) flags sorted by obsid.
    public func forEach(_ pids: ClosedRange<Int64> = Int64.min...Int64.max,
                        _ body: (Int64, UnsafeRawBufferPointer, [(Int64, Bool)]) throws -> Void) throws {
        try packed.bind([.int(pids.lowerBound), .int(pids.upperBound)])
        try summaries.bind([.int(pids.lowerBound), .int(pids.upperBound)])
        defer { packed.reset(); summaries.reset() }
        var summaryPending = try summaries.step()
        while try packed.step() {
            let pid = packed.int(0)
            clear.removeAll(keepingCapacity: true)
            while summaryPending && summaries.int(0) < pid { summaryPending = try summaries.step() }
            if !summarised || dirty.contains(pid) {
                try hist.bind([.int(pid)])
                while try hist.step() { clear.append((hist.int(0), hist.int(1) != 0)) }
            } else if summaryPending && summaries.int(0) == pid {
                try summaries.withBlob(1) { blob in
                    try SCLSummary.forEach(blob) { obsid, classes in clear.append((obsid, classes & excluded == 0)) }
                }
            }
            try packed.withBlob(1) { try body(pid, $0, clear) }
        }
    }

    /// Every parcel of the lake, on the lake's own connection.
    public static func forEach(_ lake: Lake, screen: CloudScreen,
                               _ body: (Int64, UnsafeRawBufferPointer, [(Int64, Bool)]) throws -> Void) throws {
        let scan = try PackedScan(lake.db, schemaVersion: lake.schemaVersion, screen: screen)
        defer { try? lake.db.execute("PRAGMA mmap_size = 0") }
        try scan.forEach(Int64.min...Int64.max, body)
    }
}
