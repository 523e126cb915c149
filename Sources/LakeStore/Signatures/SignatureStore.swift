import LakeSQLite

/// Counts of what a signature load did.
public struct SignatureMergeCounts: Equatable, Sendable {
    public var inserted = 0
    public var updated = 0
    public var unchanged = 0
    /// Keys (parcel, scene, band) given more than once in the merged rows with different
    /// statistics (the last one is kept): how many, and the first (pid, obsid, band id).
    public var conflicts = 0
    public var firstConflict: (pid: Int64, obsid: Int64, band: UInt8)?
    public init() {}

    public static func == (a: SignatureMergeCounts, b: SignatureMergeCounts) -> Bool {
        (a.inserted, a.updated, a.unchanged, a.conflicts) == (b.inserted, b.updated, b.unchanged, b.conflicts)
    }
}

/// Reads and writes signatures in their log-structured form (see schema/001_core.sql):
/// rows arrive in `signatures_pending` in any order and are merged into one packed series per
/// parcel in `signatures_packed`.
public final class SignatureStore {
    let db: Connection
    private lazy var insertPending = try? db.prepare(
        "INSERT INTO signatures_pending (pid, obsid, data) VALUES (?, ?, ?)")
    // Prepared once per store: a reader that keeps its store (SeriesReader) pays no parsing.
    private lazy var seriesPacked = try? db.prepare("SELECT data FROM signatures_packed WHERE pid = ?")
    private lazy var storePacked = try? db.prepare("INSERT OR REPLACE INTO signatures_packed (pid, nrows, data) VALUES (?, ?, ?)")
    private lazy var findPacked = try? db.prepare("SELECT 1 FROM signatures_packed WHERE pid = ?")
    private lazy var seriesPending = try? db.prepare("SELECT obsid, data FROM signatures_pending WHERE pid = ? ORDER BY rowid")

    public init(db: Connection) { self.db = db }

    /// Appends the bands of one (parcel, scene) to the pending log.
    public func append(pid: Int64, obsid: Int64, bands: [(UInt8, SignatureStats)]) throws {
        guard let statement = insertPending else {
            throw LakeError.database("cannot prepare the pending-signature insert")
        }
        let blob = PendingCodec.encode(bands)
        statement.reset()
        statement.bind(int: pid, at: 1)
        statement.bind(int: obsid, at: 2)
        blob.withUnsafeBytes { statement.bind(blob: $0, at: 3) }
        try statement.step()
    }

    /// Replaces one parcel's packed series with `rows`, which are in (band, obsid) order with
    /// one row per key (the codec's order). Pending rows of the parcel are not touched.
    public func writePacked(pid: Int64, rows: [SignatureRow]) throws {
        guard let statement = storePacked else { throw LakeError.database("cannot prepare the packed-series write") }
        let blob = SeriesCodec.encode(rows)
        statement.reset()
        statement.bind(int: pid, at: 1)
        statement.bind(int: Int64(rows.count), at: 2)
        blob.withUnsafeBytes { statement.bind(blob: $0, at: 3) }
        try statement.step()
    }

    /// Whether `pid` has a packed series.
    public func hasPacked(pid: Int64) throws -> Bool {
        guard let statement = findPacked else { throw LakeError.database("cannot prepare the packed-series lookup") }
        statement.reset()
        statement.bind(int: pid, at: 1)
        defer { statement.reset() }
        return try statement.step()
    }

    /// Writes the whole series of a parcel that has none yet, from rows given in any order,
    /// straight into `signatures_packed` — the path of parcel-ordered input, which needs neither
    /// the pending log nor its merge. Returns false, writing nothing, when a (scene, band) comes
    /// twice: those rows take the pending path, whose merge tells repeats from conflicts.
    public func writeFresh(pid: Int64, groups: [(obsid: Int64, bands: [(UInt8, SignatureStats)])]) throws -> Bool {
        var rows: [SignatureRow] = []
        rows.reserveCapacity(groups.count * (groups.first?.bands.count ?? 1))
        for g in groups { for (band, stats) in g.bands { rows.append(SignatureRow(obsid: g.obsid, bandID: band, stats: stats)) } }
        rows.sort { ($0.bandID, $0.obsid) < ($1.bandID, $1.obsid) }
        for i in rows.indices.dropFirst() where rows[i].bandID == rows[i - 1].bandID && rows[i].obsid == rows[i - 1].obsid { return false }
        try writePacked(pid: pid, rows: rows)
        return true
    }

    /// Records band ids written by `writeFresh` (the merge records its own).
    public func noteBands(_ bands: Set<UInt8>) throws {
        guard !bands.isEmpty else { return }
        try recordBands(bands)
    }

    /// Number of pending (pid, obsid) rows not yet merged.
    public func pendingCount() throws -> Int {
        Int(try db.scalar("SELECT count(*) FROM signatures_pending")?.int ?? 0)
    }

    /// Merges every pending row into the packed series, parcel by parcel. Later rows replace
    /// earlier ones for the same (scene, band). Call inside the caller's transaction.
    @discardableResult
    ///
    /// `fresh`: parcels whose packed series this same load wrote (`writeFresh`): their packed
    /// rows count as rows of the load, so a pending row meeting one is a repeat in the input.
    public func mergePending(fresh: Set<Int64> = [], progress: ((Int) -> Void)? = nil) throws -> SignatureMergeCounts {
        var counts = SignatureMergeCounts()
        let scan = try db.prepare("SELECT pid, obsid, data FROM signatures_pending ORDER BY pid, rowid")
        let load = try db.prepare("SELECT data FROM signatures_packed WHERE pid = ?")
        var currentPid: Int64? = nil
        var series: [Key: SignatureStats] = [:]
        // Keys of the current parcel's packed series that no pending row has replaced yet: a
        // pending row meeting any other key meets an earlier pending row (a repeat in the input).
        var packedUntouched = Set<Key>()
        var seen = 0
        var bandsSeen = Set<UInt8>()

        func flush() throws {
            guard let pid = currentPid else { return }
            try writePacked(pid: pid, rows: series.sorted { $0.key < $1.key }
                .map { SignatureRow(obsid: $0.key.obsid, bandID: $0.key.band, stats: $0.value) })
        }

        while try scan.step() {
            let pid = scan.int(0), obsid = scan.int(1)
            if pid != currentPid {
                try flush()
                currentPid = pid
                series = [:]
                packedUntouched.removeAll(keepingCapacity: true)
                load.reset()
                load.bind(int: pid, at: 1)
                if try load.step() {
                    for row in try load.withBlob(0, SeriesCodec.decode) {
                        series[Key(band: row.bandID, obsid: row.obsid)] = row.stats
                        if !fresh.contains(pid) { packedUntouched.insert(Key(band: row.bandID, obsid: row.obsid)) }
                    }
                }
            }
            for (band, stats) in try scan.withBlob(2, PendingCodec.decode) {
                bandsSeen.insert(band)
                let key = Key(band: band, obsid: obsid)
                if let old = series.updateValue(stats, forKey: key) {
                    if packedUntouched.remove(key) == nil && !old.identical(to: stats) {
                        counts.conflicts += 1
                        if counts.firstConflict == nil { counts.firstConflict = (pid, obsid, band) }
                    }
                    if old.identical(to: stats) { counts.unchanged += 1 } else { counts.updated += 1 }
                } else {
                    counts.inserted += 1
                }
            }
            seen += 1
            if seen % 50_000 == 0 { progress?(seen) }
        }
        try flush()
        try db.execute("DELETE FROM signatures_pending")
        // Lakes created with auto_vacuum = INCREMENTAL give the log's pages back, so the file
        // stays the size of what it holds (a no-op on older files).
        try db.execute("PRAGMA incremental_vacuum")
        try recordBands(bandsSeen)
        return counts
    }

    /// The whole series of one parcel: packed rows with pending rows applied, sorted by
    /// (obsid, band). Statistics are as stored (digital numbers, no offset applied).
    public func series(pid: Int64) throws -> [SignatureRow] {
        guard let load = seriesPacked, let pending = seriesPending else {
            throw LakeError.database("cannot prepare the series reads")
        }
        load.reset()
        load.bind(int: pid, at: 1)
        var rows = try load.step() ? try load.withBlob(0, SeriesCodec.decode) : []
        defer { load.reset() }
        pending.reset()
        defer { pending.reset() }
        pending.bind(int: pid, at: 1)
        if try pending.step() {
            // Pending rows replace packed ones with the same key, in arrival order.
            var series: [Key: SignatureStats] = [:]
            for row in rows { series[Key(band: row.bandID, obsid: row.obsid)] = row.stats }
            repeat {
                let obsid = pending.int(0)
                for (band, stats) in try pending.withBlob(1, PendingCodec.decode) { series[Key(band: band, obsid: obsid)] = stats }
            } while try pending.step()
            rows = series.map { SignatureRow(obsid: $0.key.obsid, bandID: $0.key.band, stats: $0.value) }
        }
        rows.sort { $0.obsid != $1.obsid ? $0.obsid < $1.obsid : $0.bandID < $1.bandID }
        return rows
    }

    /// Total signature rows (packed + pending bands).
    public func rowCount() throws -> Int {
        let packed = try db.scalar("SELECT coalesce(sum(nrows), 0) FROM signatures_packed")?.int ?? 0
        let pending = try db.scalar("SELECT coalesce(sum(length(data) / 33), 0) FROM signatures_pending")?.int ?? 0
        return Int(packed + pending)
    }

    /// Band ids present in packed series are kept in lake_meta('bands') so that summaries need
    /// not decode every series.
    private func recordBands(_ new: Set<UInt8>) throws {
        let all = try packedBandIDs().union(new)
        try db.run("INSERT OR REPLACE INTO lake_meta (key, value) VALUES ('bands', ?)",
                   .text(all.sorted().map(String.init).joined(separator: ",")))
    }

    private func packedBandIDs() throws -> Set<UInt8> {
        let text = try db.scalar("SELECT value FROM lake_meta WHERE key = 'bands'")?.text ?? ""
        return Set(text.split(separator: ",").compactMap { UInt8($0) })
    }

    /// Names of the bands that have signatures (packed or pending), in band-id order.
    public func bandNames() throws -> [String] {
        var ids = try packedBandIDs()
        let pending = try db.prepare("SELECT data FROM signatures_pending")
        while try pending.step() { for (band, _) in try pending.withBlob(0, PendingCodec.decode) { ids.insert(band) } }
        let dictionary = try BandDictionary(db: db)
        return ids.sorted().map(dictionary.name)
    }

    struct Key: Hashable, Comparable {
        let band: UInt8
        let obsid: Int64
        static func < (a: Key, b: Key) -> Bool { (a.band, a.obsid) < (b.band, b.obsid) }
    }
}
