import LakeSQLite
import LakeSupport

/// Counts of what a signature load did.
public struct SignatureMergeCounts: Equatable, Sendable {
    public var inserted = 0
    public var updated = 0
    public var unchanged = 0
    /// Keys (parcel, scene, band) given more than once in the merged rows with different
    /// statistics (the last one is kept): how many, and the first (pid, obsid, band id).
    public var conflicts = 0
    public var firstConflict: (pid: Int64, obsid: Int64, band: UInt8)?
    /// Keys given twice with different statistics under `RepeatRule.largerCount`: one
    /// acquisition seen in two overlapping tiles; the row with more pixels was kept.
    public var overlaps = 0
    public init() {}

    /// Adds another merge's counts (its first conflict where this one has none).
    public mutating func add(_ other: SignatureMergeCounts) {
        inserted += other.inserted; updated += other.updated; unchanged += other.unchanged
        conflicts += other.conflicts; overlaps += other.overlaps
        if firstConflict == nil { firstConflict = other.firstConflict }
    }

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
        try writePacked(pid: pid, nrows: rows.count, blob: SeriesCodec.encode(rows))
    }

    /// Writes an encoded series (`SeriesCodec.encode` of `nrows` rows).
    func writePacked(pid: Int64, nrows: Int, blob: [UInt8]) throws {
        guard let statement = storePacked else { throw LakeError.database("cannot prepare the packed-series write") }
        statement.reset()
        statement.bind(int: pid, at: 1)
        statement.bind(int: Int64(nrows), at: 2)
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

    /// What a merge does with a key (parcel, scene, band) the same input gives twice with
    /// different statistics. `conflict`: count it (the caller refuses the input: which of two
    /// rows for one product is right cannot be told). `largerCount`: input keyed by date names no
    /// product, and the same date twice is one acquisition seen in two overlapping tiles (a
    /// parcel on a tile edge, exported once per tile): the row with more pixels is kept (the
    /// first of equal ones) and counted as an overlap.
    public enum RepeatRule: Sendable {
        case conflict, largerCount

        /// Under `largerCount`, which of two different rows for one key stays: the one with
        /// more pixels, the earlier of equal ones (an unknown count counts as none).
        func kept(_ earlier: SignatureStats, _ later: SignatureStats) -> SignatureStats {
            func pixels(_ s: SignatureStats) -> Float { s.count.isNaN ? 0 : s.count }
            return pixels(later) > pixels(earlier) ? later : earlier
        }
    }

    /// The rule of the merges this store runs (`merge`, `mergePending`).
    public var repeats: RepeatRule = .conflict

    /// Writes the whole series of a parcel that has none yet, from rows given in any order,
    /// straight into `signatures_packed` — the path of parcel-ordered input, which needs neither
    /// the pending log nor its merge. Returns false, writing nothing, when a (scene, band) comes
    /// twice: those rows take the pending path, whose merge tells repeats from conflicts.
    public func writeFresh(pid: Int64, groups: [(obsid: Int64, bands: [(UInt8, SignatureStats)])]) throws -> Bool {
        let rows = SeriesAssembly.order(groups)
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
    ///
    /// `fresh`: parcels whose packed series this same load wrote (`writeFresh`): their packed
    /// rows count as rows of the load, so a pending row meeting one is a repeat in the input.
    @discardableResult
    public func mergePending(fresh: Set<Int64> = []) throws -> SignatureMergeCounts {
        let merge = try ParcelMerge(store: self, fresh: fresh)
        let scan = try db.prepare("SELECT pid, obsid, data FROM signatures_pending ORDER BY pid, rowid")
        while try scan.step() {
            try scan.withBlob(2) { try merge.add(pid: scan.int(0), obsid: scan.int(1), blob: $0) }
        }
        try merge.finish()
        try db.execute("DELETE FROM signatures_pending")
        // Lakes created with auto_vacuum = INCREMENTAL give the log's pages back, so the file
        // stays the size of what it holds (a no-op on older files).
        try db.execute("PRAGMA incremental_vacuum")
        return merge.counts
    }

    /// Merges a load's sorted rows (`SignatureRuns`) into the packed series, as `mergePending`
    /// merges the log's: the runs stand in for the log when it was empty at the load's start.
    ///
    /// A parcel without a packed series (most of a large load) needs nothing from the lake: two
    /// other threads assemble and encode such series while this one writes, and only parcels
    /// with a series already are merged here against it (`ParcelMerge`).
    @discardableResult
    public func merge(_ runs: SignatureRuns, fresh: Set<Int64> = []) throws -> SignatureMergeCounts {
        guard !runs.isEmpty else { return SignatureMergeCounts() }
        var withSeries = Set<Int64>()
        let scan = try db.prepare("SELECT pid FROM signatures_packed")
        while try scan.step() { withSeries.insert(scan.int(0)) }
        let merge = try ParcelMerge(store: self, fresh: fresh)
        var counts = SignatureMergeCounts()
        var bands = Set<UInt8>()
        let rule = repeats
        let known = withSeries
        // Parcels in batches of about 64 k rows: a job per parcel would cost more in hand-overs.
        try parallelOrdered(workers: 2, inFlight: 6, produce: { (emit: ([ParcelRows]) throws -> Void) in
            var batch: [ParcelRows] = [], batchRows = 0
            var current: ParcelRows?
            func flush() throws {
                guard let parcel = current else { return }
                batch.append(parcel)
                batchRows += parcel.rows
                current = nil
                if batchRows >= 65_536 { try emit(batch); batch = []; batchRows = 0 }
            }
            try runs.forEachInOrder { pid, obsid, blob in
                if pid != current?.pid {
                    try flush()
                    current = ParcelRows(pid: pid, againstSeries: known.contains(pid))
                }
                if current!.againstSeries { current!.raw.append((obsid, Array(blob))) }
                else { current!.groups.append((obsid, try PendingCodec.decode(blob))) }
                current!.rows += blob.count / PendingCodec.bytesPerBand
            }
            try flush()
            if !batch.isEmpty { try emit(batch) }
        }, work: { batch in
            batch.map { parcel -> MergedParcel in
                if parcel.againstSeries { return .againstSeries(pid: parcel.pid, rows: parcel.raw) }
                let (rows, merged) = SeriesAssembly.fold(SeriesAssembly.order(parcel.groups), pid: parcel.pid, repeats: rule)
                return .new(pid: parcel.pid, nrows: rows.count, blob: SeriesCodec.encode(rows), counts: merged,
                            bands: Set(rows.map(\.bandID)))
            }
        }, consume: { items in
            for item in items {
                switch item {
                case .new(let pid, let nrows, let blob, let merged, let parcelBands):
                    try writePacked(pid: pid, nrows: nrows, blob: blob)
                    counts.add(merged)
                    bands.formUnion(parcelBands)
                case .againstSeries(let pid, let rows):
                    for row in rows { try row.blob.withUnsafeBytes { try merge.add(pid: pid, obsid: row.obsid, blob: $0) } }
                }
            }
        })
        try merge.finish()
        counts.add(merge.counts)
        try recordBands(bands)
        return counts
    }

    /// One parcel's rows of a load's runs, as the merge's reading thread gathers them.
    struct ParcelRows {
        let pid: Int64
        let againstSeries: Bool
        var groups: [(obsid: Int64, bands: [(UInt8, SignatureStats)])] = []
        var raw: [(obsid: Int64, blob: [UInt8])] = []
        var rows = 0
        init(pid: Int64, againstSeries: Bool) { self.pid = pid; self.againstSeries = againstSeries }
    }

    /// What the merge's assembling threads hand to the writing one.
    enum MergedParcel {
        case new(pid: Int64, nrows: Int, blob: [UInt8], counts: SignatureMergeCounts, bands: Set<UInt8>)
        case againstSeries(pid: Int64, rows: [(obsid: Int64, blob: [UInt8])])
    }

    /// Applies rows given in parcel order (and arrival order within a parcel) to each parcel's
    /// packed series: the merge shared by the pending log and a load's sorted runs.
    final class ParcelMerge {
        let store: SignatureStore
        let fresh: Set<Int64>
        let load: Statement
        var counts = SignatureMergeCounts()
        var currentPid: Int64?
        var series: [Key: SignatureStats] = [:]
        /// Keys of the current parcel's packed series that no merged row has replaced yet: a
        /// row meeting any other key meets an earlier row of the same input (a repeat).
        var packedUntouched = Set<Key>()
        var bandsSeen = Set<UInt8>()

        init(store: SignatureStore, fresh: Set<Int64>) throws {
            self.store = store
            self.fresh = fresh
            load = try store.db.prepare("SELECT data FROM signatures_packed WHERE pid = ?")
        }

        func add(pid: Int64, obsid: Int64, blob: UnsafeRawBufferPointer) throws {
            if pid != currentPid { try flush(); try begin(pid) }
            for (band, stats) in try PendingCodec.decode(blob) {
                bandsSeen.insert(band)
                let key = Key(band: band, obsid: obsid)
                if let old = series.updateValue(stats, forKey: key) {
                    let repeated = packedUntouched.remove(key) == nil
                    if repeated && !old.identical(to: stats) {
                        if store.repeats == .largerCount {
                            counts.overlaps += 1
                            series[key] = store.repeats.kept(old, stats)
                            continue
                        }
                        counts.conflicts += 1
                        if counts.firstConflict == nil { counts.firstConflict = (pid, obsid, band) }
                    }
                    if old.identical(to: stats) { counts.unchanged += 1 } else { counts.updated += 1 }
                } else {
                    counts.inserted += 1
                }
            }
        }

        private func begin(_ pid: Int64) throws {
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
            load.reset()
        }

        private func flush() throws {
            guard let pid = currentPid else { return }
            try store.writePacked(pid: pid, rows: series.sorted { $0.key < $1.key }
                .map { SignatureRow(obsid: $0.key.obsid, bandID: $0.key.band, stats: $0.value) })
        }

        func finish() throws {
            try flush()
            currentPid = nil
            try store.recordBands(bandsSeen)
        }
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
        let pending = try db.scalar("SELECT coalesce(sum(length(data) / \(PendingCodec.bytesPerBand)), 0) FROM signatures_pending")?.int ?? 0
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

/// Puts one parcel's arrived rows into the packed series' order, (band, obsid), keeping a
/// repeated key's rows side by side in arrival order: shared by the at-once write of a new
/// parcel and the merge of a load's sorted runs.
enum SeriesAssembly {
    static func order(_ groups: [(obsid: Int64, bands: [(UInt8, SignatureStats)])]) -> [SignatureRow] {
        var buckets = [[SignatureRow]](repeating: [], count: 256)
        var usedBands: [UInt8] = []
        for g in groups {
            for (band, stats) in g.bands {
                if buckets[Int(band)].isEmpty { usedBands.append(band) }
                buckets[Int(band)].append(SignatureRow(obsid: g.obsid, bandID: band, stats: stats))
            }
        }
        var rows: [SignatureRow] = []
        rows.reserveCapacity(groups.count * (groups.first?.bands.count ?? 1))
        for band in usedBands.sorted() {
            var bucket = buckets[Int(band)]
            // Scenes mostly arrive in increasing order (one pass); otherwise a sort that keeps
            // arrival order among repeats of a scene.
            if !bucket.indices.dropFirst().allSatisfy({ bucket[$0 - 1].obsid < bucket[$0].obsid }) {
                bucket = bucket.enumerated().sorted { ($0.element.obsid, $0.offset) < ($1.element.obsid, $1.offset) }.map(\.element)
            }
            rows.append(contentsOf: bucket)
        }
        return rows
    }

    /// Folds repeated keys of ordered rows into the last one, counting as a merge counts a
    /// parcel without a series: each key inserted once, a repeat unchanged when identical,
    /// else an update and a conflict (two different rows for one key in one load) — or, under
    /// `largerCount`, an overlap that keeps the row with more pixels.
    static func fold(_ rows: [SignatureRow], pid: Int64, repeats: SignatureStore.RepeatRule = .conflict) -> ([SignatureRow], SignatureMergeCounts) {
        var counts = SignatureMergeCounts()
        var out: [SignatureRow] = []
        out.reserveCapacity(rows.count)
        for row in rows {
            if let last = out.last, last.bandID == row.bandID, last.obsid == row.obsid {
                if last.stats.identical(to: row.stats) { counts.unchanged += 1 } else if repeats == .largerCount {
                    counts.overlaps += 1
                    out[out.count - 1] = SignatureRow(obsid: row.obsid, bandID: row.bandID, stats: repeats.kept(last.stats, row.stats))
                    continue
                } else {
                    counts.updated += 1
                    counts.conflicts += 1
                    if counts.firstConflict == nil { counts.firstConflict = (pid, row.obsid, row.bandID) }
                }
                out[out.count - 1] = row
            } else {
                counts.inserted += 1
                out.append(row)
            }
        }
        return (out, counts)
    }
}
