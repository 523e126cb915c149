import Foundation
import LakeSupport
import LakeSQLite
import LakeStore

public struct SignatureIngestOptions: Sendable {
    /// Parcel scope for identifiers: aoi/year/ptype of the parcels the rows refer to.
    public var aoi: String?
    public var year: Int?
    public var ptype: String?
    /// The parcel a parcelTimeSeries document belongs to (it names none itself).
    public var parcel: String?
    /// Create catalogue scenes named by a row's reference (and date) when they are unknown.
    public var createScenes = false
    public var strict = false
    /// Memory for sorting rows that do not arrive parcel by parcel before they spill to run
    /// files beside the lake (`LAKE_SORT_MEMORY_MB`, default 128 MiB).
    public var sortMemoryBudget = Int(ProcessInfo.processInfo.environment["LAKE_SORT_MEMORY_MB"] ?? "").map { $0 << 20 }
        ?? SignatureRuns.defaultMemoryBudget
    /// Bytes per piece of a CSV file parsed in parallel (small in tests, to cut many pieces).
    var pieceBytes = SignatureSource.defaultPieceBytes
    public init() {}
}

/// Loads signature statistics and SCL histograms:
///  * CSV in the JRC signature-table form: parcel (pid / parcel_id), scene (reference, obsid,
///    date_part or date), band, count, mean, std, min, max, p25, p50, p75;
///  * what the JRC RESTful parcelTimeSeries returns, as JSON (column lists) or CSV: date_part,
///    band, statistics, optional reference and hist;
///  * SCL histograms as a `hist` JSON object ({"4": 186, "5": 1}) or hist.0 … hist.11 columns.
/// Band names are normalised (B4 → B04, SC → SCL). One transaction per input.
public struct SignatureIngest {
    let lake: Lake

    public init(lake: Lake) { self.lake = lake }

    public func run(path: String, options: SignatureIngestOptions) throws -> IngestSummary {
        let started = Date()
        var summary = IngestSummary(kind: "signatures", source: path)
        guard FileManager.default.fileExists(atPath: path) else {
            throw LakeError.input(file: path, location: nil, reason: "no such file")
        }
        let db = lake.db
        // Every row's parcel and scene are looked up in the lake (Resolver) inside the same
        // transaction before it is written, so SQLite's own foreign-key checks would only repeat
        // that lookup per row (a tenth of an SCL load): off for this transaction only.
        try db.execute("PRAGMA foreign_keys = OFF")
        defer { try? db.execute("PRAGMA foreign_keys = ON") }
        try db.transaction {
            let resolver = try Resolver(lake: lake, options: options, path: path)
            let sink = try Sink(lake: lake, memoryBudget: options.sortMemoryBudget)
            defer { sink.chunks?.abandon() }
            // A histogram-only file needs nothing of the lake once its rows are keyed (unless it
            // creates scenes): out of parcel order its histograms may be written on another
            // thread while it is read, where chunks of a quarter of the sort memory (64 bytes
            // a histogram) hold 16 scenes of every parcel in scope (`HistogramChunks.dense`).
            let chunkRows = options.sortMemoryBudget / 4 / 64
            if !options.createScenes, SignatureSource.histogramsOnly(path: path), HistogramChunks.dense(chunkRows: chunkRows, parcels: resolver.parcels.count) {
                sink.chunkRows = chunkRows
            }
            try sink.histograms.beginBulk()
            let size = fileSize(path)
            let progress = Progress("signatures \(URL(fileURLWithPath: path).lastPathComponent)", total: size, unit: .bytes)
            // The file is parsed on other threads while this one resolves and writes.
            try SignatureSource.stream(path: path, pieceBytes: options.pieceBytes) { (row: SignatureSource.Row) in
                summary.read += 1
                if summary.read % 10_000 == 0 { progress.set(row.offset) }
                if let error = row.error { summary.reject(row.location, error); return }
                if row.empty { summary.skipped += 1; return }
                guard let (pid, obsid) = try resolver.key(row.parcel ?? options.parcel, row, &summary) else { return }
                if let hist = row.hist {
                    try sink.scl(pid: pid, obsid: obsid, hist: hist, &summary)
                }
                if let band = row.band, let stats = row.stats, let id = try sink.bandID(band) {
                    try sink.signature(pid: pid, obsid: obsid, band: id, stats: stats)
                }
            }
            progress.finish()
            try sink.flushHistograms(&summary)
            try sink.finishSignatures()
            try sink.histograms.endBulk()
            let store = SignatureStore(db: db)
            // Rows that name their scene by date only: the same date twice is one acquisition
            // in two overlapping tiles, not a contradiction (SignatureStore.RepeatRule).
            let byDate = resolver.keyedByDate > 0 && resolver.keyedByProduct == 0
            store.repeats = byDate ? .largerCount : .conflict
            var counts = try store.merge(sink.runs, fresh: sink.fresh)
            counts.add(try store.mergePending(fresh: sink.fresh))
            counts.inserted += sink.freshRows
            if let (pid, obsid, band) = counts.firstConflict {
                // Which of two different rows for one key is right cannot be told: nothing of the file is kept.
                let parcel = try db.scalar("SELECT parcel_id FROM parcels WHERE pid = ?", .int(pid))?.text ?? "pid \(pid)"
                let scene = try db.scalar("SELECT reference FROM catalogue WHERE obsid = ?", .int(obsid))?.text ?? "obsid \(obsid)"
                let name = try db.scalar("SELECT name FROM bands WHERE band_id = ?", .int(Int64(band)))?.text ?? "band \(band)"
                throw LakeError.input(file: path, location: nil, reason:
                    "parcel \(parcel), scene \(scene), band \(name) is given more than once with different statistics (\(counts.conflicts) such keys); nothing of this file was loaded")
            }
            if resolver.matchedByNumber > 0 {
                summary.notes.append("\(resolver.matchedByNumber) rows named their parcel by the same number written otherwise (124.0 or 0124 for 124)")
            }
            if counts.overlaps > 0 {
                summary.notes.append("\(counts.overlaps) (parcel, date, band) rows came twice with different statistics: one acquisition in "
                                     + "two overlapping tiles; the row with more pixels was kept")
            }
            try SCLSummary.refresh(db)
            summary.inserted += counts.inserted
            summary.updated += counts.updated
            summary.skipped += counts.unchanged
            try summary.enforceStrict(options.strict, unit: "rows")
            summary.seconds = Date().timeIntervalSince(started)
            try IngestLog.record(db, summary, started: started, options: [
                "aoi": options.aoi ?? "", "year": options.year ?? 0, "ptype": options.ptype ?? "",
                "parcel": options.parcel ?? "", "create_scenes": options.createScenes])
        }
        return summary
    }
}

/// Groups consecutive rows of one (parcel, scene) and writes them, and writes SCL rows.
///
/// Rows of one parcel that arrive together (parcel-ordered input) are kept until the parcel
/// changes: a parcel the lake has no series of, seen for the first time in this load with
/// several scenes, is written packed at once (`SignatureStore.writeFresh`); anything else —
/// a parcel with a series already, one met again later in the file, scene-ordered input —
/// goes to the load's external sort (`SignatureRuns`, bounded memory, run files beside the
/// lake) and is merged parcel by parcel at the end. When the lake's pending log holds rows
/// from elsewhere, everything goes to the log instead and its merge applies both together.
final class Sink {
    let store: SignatureStore
    let bands: BandDictionary
    let histograms: SCLStore
    var key: (Int64, Int64)?
    var group: [(UInt8, SignatureStats)] = []
    /// Band names as written in the input → band id (nil for SCL, which is a histogram).
    var bandIDs: [String: UInt8?] = [:]
    /// The current parcel's (scene, bands) groups, in input order.
    var parcel: Int64?
    var parcelGroups: [(obsid: Int64, bands: [(UInt8, SignatureStats)])] = []
    /// Parcels met in this load; those written packed at once; the bands they hold.
    var met = Set<Int64>()
    var fresh = Set<Int64>()
    var freshBands = Set<UInt8>()
    var freshRows = 0
    /// The packed path needs the pending log empty when the load begins (a parcel with pending
    /// rows from elsewhere must be merged with them).
    let packedPathOpen: Bool
    /// Rows not written at once, sorted by parcel for the merge (used while packedPathOpen).
    let runs: SignatureRuns

    init(lake: Lake, memoryBudget: Int) throws {
        store = SignatureStore(db: lake.db)
        bands = try BandDictionary(db: lake.db)
        histograms = try SCLStore(db: lake.db)
        packedPathOpen = try store.pendingCount() == 0
        let folder = URL(fileURLWithPath: lake.path).deletingLastPathComponent().path
        runs = SignatureRuns(directory: folder, memoryBudget: memoryBudget)
        histogramRuns = SignatureRuns(directory: folder, memoryBudget: memoryBudget / 4)
    }

    func bandID(_ raw: String) throws -> UInt8? {
        if let known = bandIDs[raw] { return known }
        let id = Bands.normalise(raw) == Bands.scl ? nil : try bands.idAdding(raw)
        bandIDs[raw] = id
        return id
    }

    func signature(pid: Int64, obsid: Int64, band: UInt8, stats: SignatureStats) throws {
        if let key, key != (pid, obsid) { try flush() }
        key = (pid, obsid)
        group.append((band, stats))
    }

    func flush() throws {
        if let key, !group.isEmpty {
            if key.0 != parcel { try flushParcel(); parcel = key.0 }
            parcelGroups.append((key.1, group))
        }
        key = nil
        group.removeAll(keepingCapacity: true)
    }

    /// Writes the current parcel's rows: packed at once where it can, else to the pending log.
    func flushParcel() throws {
        guard let pid = parcel, !parcelGroups.isEmpty else { return }
        defer { parcelGroups.removeAll(keepingCapacity: true); parcel = nil }
        let first = met.insert(pid).inserted
        if packedPathOpen && first && parcelGroups.count >= 2, try !store.hasPacked(pid: pid), try store.writeFresh(pid: pid, groups: parcelGroups) {
            fresh.insert(pid)
            for g in parcelGroups { freshRows += g.bands.count; for (band, _) in g.bands { freshBands.insert(band) } }
            return
        }
        for g in parcelGroups {
            if packedPathOpen { try runs.add(pid: pid, obsid: g.obsid, bands: g.bands) }
            else { try store.append(pid: pid, obsid: g.obsid, bands: g.bands) }
        }
    }

    /// Ends the load's signature rows: the last parcel written, the bands recorded.
    func finishSignatures() throws {
        try flush()
        try flushParcel()
        try store.noteBands(freshBands)
    }

    /// Histograms are written as they come while the file is in parcel order (batches of
    /// `SCLStore.batchSize`, while the other threads parse on). From the first row out of that
    /// order they go to an external sort by parcel (`SignatureRuns`, a quarter of the sort
    /// budget, then run files beside the lake) and are written in parcel order at the end:
    /// `scl_hist` is keyed by parcel and scene, so a scene-ordered file written as it comes puts
    /// each scene's rows on every page of the table (1.46 M histograms: 7.6–8.8 s against
    /// 4.1–4.7 s parcel-ordered, see BENCHMARKS). Rows of one parcel keep their file order (a
    /// repeated histogram: the later one wins).
    var streaming = true
    /// The parcel of the last histogram written as it came: the file is in parcel order while
    /// parcels do not go back (a parcel's scenes in any order: they land on the same pages).
    var lastStreamed: Int64?
    let histogramRuns: SignatureRuns
    /// The histograms written as they come, in batches.
    var batcher = HistogramBatcher()
    /// Out of parcel order, a histogram-only file in a lake of few enough parcels is sorted and
    /// written chunk by chunk while it is read (`HistogramChunks`): set by the load where that
    /// may be (`chunkRows`), the writer made at the first row out of order.
    var chunkRows: Int?
    var chunks: HistogramChunks?

    func scl(pid: Int64, obsid: Int64, hist: [Int], _ summary: inout IngestSummary) throws {
        if streaming {
            if let last = lastStreamed, last > pid {
                streaming = false
                if let chunkRows {
                    // What streamed so far is written before the chunks' thread takes the lake.
                    try batcher.flush(to: histograms)
                    chunks = HistogramChunks(store: histograms, chunkRows: chunkRows)
                }
            } else {
                lastStreamed = pid
                return try batcher.add(pid, obsid, hist, to: histograms)
            }
        }
        if let chunks { return try chunks.add(pid: pid, obsid: obsid, histogram: hist) }
        try histogramRuns.add(pid: pid, obsid: obsid) { SCLHistogramBytes.append(hist, to: &$0) }
    }

    /// Writes the last batch and the sorted histograms, in parcel order.
    func flushHistograms(_ summary: inout IngestSummary) throws {
        try batcher.flush(to: histograms)
        HistogramChunks.lastChunks = 0
        if let chunks {
            batcher.counts.add(try chunks.finish())
        }
        try histogramRuns.forEachInOrder { pid, obsid, bytes in
            guard let counts = SCLHistogramBytes.decode(bytes) else { throw LakeError.database("a sorted SCL histogram cannot be read back") }
            try batcher.add(pid, obsid, counts, to: histograms)
        }
        try batcher.flush(to: histograms)
        summary.inserted += batcher.counts.inserted
        summary.updated += batcher.counts.updated
        summary.skipped += batcher.counts.unchanged
        batcher.counts = SCLStore.Counts()
    }
}

/// Turns a row's parcel and scene references into lake keys, with caches.
final class Resolver {
    let lake: Lake
    let options: SignatureIngestOptions
    let path: String
    var parcels: [String: Int64] = [:]
    var ambiguousParcels: Set<String> = []
    /// Parcels declared in several years of one AOI and parcel type (and nothing else): a
    /// row goes to the declaration of its scene's year.
    var parcelsByYear: [String: [Int: Int64]] = [:]
    /// Each scene's year (from its observation time).
    var sceneYears: [Int64: Int] = [:]
    var scenesByReference: [String: Int64] = [:]
    /// References as written in the input (paths, .SAFE/.zip names) → obsid.
    var scenesByRawReference: [String: Int64] = [:]
    var scenesByObsid: Set<Int64> = []
    /// A JRC dias_catalogue id → the scene's obsid in this lake.
    var scenesBySourceID: [Int64: Int64] = [:]
    var scenesByDate: [String: [(obsid: Int64, card: String)]] = [:]

    init(lake: Lake, options: SignatureIngestOptions, path: String) throws {
        self.lake = lake; self.options = options; self.path = path
        let p = try lake.db.prepare("""
            SELECT parcel_id, pid, year, aoi, ptype FROM parcels
            WHERE (?1 IS NULL OR aoi = ?1) AND (?2 IS NULL OR year = ?2) AND (?3 IS NULL OR ptype = ?3)
            """)
        let scope: [SQLValue] = [options.aoi.map(SQLValue.text) ?? .null, options.year.map { .int(Int64($0)) } ?? .null,
                                 options.ptype.map(SQLValue.text) ?? .null]
        try p.bind(scope)
        while try p.step() {
            let id = p.text(0) ?? ""
            if parcels.updateValue(p.int(1), forKey: id) != nil { ambiguousParcels.insert(id) }
        }
        // The declaration sets of the parcels that have several: (year, AOI, parcel type, pid).
        if !ambiguousParcels.isEmpty {
            var sets: [String: [(year: Int, aoi: String, ptype: String, pid: Int64)]] = [:]
            p.reset()
            try p.bind(scope)
            while try p.step() {
                let id = p.text(0) ?? ""
                if ambiguousParcels.contains(id) { sets[id, default: []].append((Int(p.int(2)), p.text(3) ?? "", p.text(4) ?? "", p.int(1))) }
            }
            for (id, s) in sets {
                guard let first = s.first, s.allSatisfy({ $0.aoi == first.aoi && $0.ptype == first.ptype && $0.year != 0 }),
                      Set(s.map(\.year)).count == s.count else { continue }
                parcelsByYear[id] = Dictionary(uniqueKeysWithValues: s.map { ($0.year, $0.pid) })
            }
        }
        let s = try lake.db.prepare("SELECT obsid, reference, substr(obstime, 1, 10), card, source_id FROM catalogue")
        while try s.step() {
            addScene(obsid: s.int(0), reference: s.text(1) ?? "", date: s.text(2) ?? "", card: s.text(3) ?? "")
            if case .int(let id) = s.value(4) { scenesBySourceID[id] = s.int(0) }
        }
    }

    private func addScene(obsid: Int64, reference: String, date: String, card: String) {
        scenesByReference[reference] = obsid
        if let year = Int(date.prefix(4)) { sceneYears[obsid] = year }
        scenesByObsid.insert(obsid)
        scenesByDate[date, default: []].append((obsid, card))
    }

    /// The previous row's identifiers and keys: consecutive rows mostly repeat them, and the
    /// reader hands the same String for the same bytes, so `==` is a pointer comparison.
    private var lastParcel: (id: String, pid: Int64)?
    private var lastReference: (raw: String, obsid: Int64)?
    /// Rows whose scene was found by its date alone, and by a product reference or obsid.
    private(set) var keyedByDate = 0, keyedByProduct = 0

    /// The row's parcel and scene. The parcel is looked up first (a row of an unknown parcel
    /// creates no scene); where the parcel is declared in several years of one AOI, the row's
    /// scene says which declaration.
    func key(_ id: String?, _ row: SignatureSource.Row, _ summary: inout IngestSummary) throws -> (pid: Int64, obsid: Int64)? {
        if let id, let years = parcelsByYear[id] {
            guard let obsid = try obsid(row, &summary) else { return nil }
            guard let year = sceneYears[obsid], let pid = years[year] else {
                summary.reject(row.location, "parcel \(id) is declared for \(years.keys.sorted().map(String.init).joined(separator: ", ")), "
                               + "not for the year of this row's scene (\(sceneYears[obsid].map(String.init) ?? "unknown")); give --year to load it into one declaration")
                return nil
            }
            return (pid, obsid)
        }
        guard let pid = pid(id, &summary, row.location), let obsid = try obsid(row, &summary) else { return nil }
        return (pid, obsid)
    }

    func pid(_ id: String?, _ summary: inout IngestSummary, _ location: @autoclosure () -> String) -> Int64? {
        if let id, let last = lastParcel, last.id == id { return last.pid }
        guard let pid = lookUpPid(id, &summary, location) else { return nil }
        lastParcel = (id!, pid)
        return pid
    }

    private func lookUpPid(_ id: String?, _ summary: inout IngestSummary, _ location: () -> String) -> Int64? {
        guard let id, !id.isEmpty else {
            summary.reject(location(), "no parcel identifier (a pid or parcel_id column, or --parcel)"); return nil
        }
        if ambiguousParcels.contains(id) {
            summary.reject(location(), "parcel \(id) is in more than one declaration set (AOIs or parcel types); give --aoi/--year/--ptype"); return nil
        }
        guard let pid = parcels[id] ?? byNumber(id) else { summary.reject(location(), "unknown parcel \(id)"); return nil }
        return pid
    }

    /// Numeric identifiers as tables rewrite them: 124.0 (an integer column with a gap, through
    /// pandas or a spreadsheet) or 0124 (zero-padded) for the lake's 124, and the other way
    /// round. Matched by value where exactly one parcel in scope has that value.
    private lazy var parcelsByNumber: [String: Int64?] = {
        var out: [String: Int64?] = [:]
        for (id, pid) in parcels where !ambiguousParcels.contains(id) {
            guard let n = Self.number(id) else { continue }
            out[n] = out[n] == nil ? pid : .some(nil)
        }
        return out
    }()
    private(set) var matchedByNumber = 0

    private func byNumber(_ id: String) -> Int64? {
        guard let n = Self.number(id), let found = parcelsByNumber[n], let pid = found else { return nil }
        matchedByNumber += 1
        return pid
    }

    /// An integer identifier's value as text without leading zeros or a zero fraction
    /// ("0124", "124.0" and "124" are "124"); nil for anything else.
    static func number(_ id: String) -> String? {
        var digits = Substring(id)
        if let dot = digits.firstIndex(of: ".") {
            guard digits[digits.index(after: dot)...].allSatisfy({ $0 == "0" }) else { return nil }
            digits = digits[..<dot]
        }
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let trimmed = digits.drop { $0 == "0" }
        return trimmed.isEmpty ? "0" : String(trimmed)
    }

    /// A catalogue entry for a composite or dated sample that names no product (WorldCereal
    /// dekads/months): `<collection>_<S2|S1|S1C>_<YYYYMMDD>` (S1C: coherence), no radiometric offset.
    private func createComposite(_ row: SignatureSource.Row, date: String, card: String) throws -> Int64 {
        let collection = row.collection ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let radar = card != "s2"
        let kind = card == "s2" ? "S2" : card == "bs" ? "S1" : "S1C"
        let reference = "\(collection)_\(kind)_\(date.replacingOccurrences(of: "-", with: ""))"
        if let obsid = scenesByReference[reference] { return obsid }
        try lake.db.run("""
            INSERT INTO catalogue (reference, obstime, sensor, card, radiometric_offset, source) VALUES (?, ?, ?, ?, 0, ?)
            """, .text(reference), .text(date + "T00:00:00Z"), .text(radar ? "1" : "2"), .text(card), .text(path))
        let obsid = lake.db.lastInsertRowID
        addScene(obsid: obsid, reference: reference, date: date, card: card)
        return obsid
    }

    func obsid(_ row: SignatureSource.Row, _ summary: inout IngestSummary) throws -> Int64? {
        if row.reference != nil || row.obsid != nil { keyedByProduct += 1 } else { keyedByDate += 1 }
        if let raw = row.reference, let last = lastReference, last.raw == raw { return last.obsid }
        if let raw = row.reference, let obsid = scenesByRawReference[raw] { lastReference = (raw, obsid); return obsid }
        if let reference = row.reference.map(ProductName.strip), !reference.isEmpty {
            if let obsid = scenesByReference[reference] { scenesByRawReference[row.reference!] = obsid; return obsid }
            guard options.createScenes else {
                summary.reject(row.location, "unknown scene \(reference) (ingest its catalogue entry first, or --create-scenes)"); return nil
            }
            guard let product = ProductName(reference) else {
                summary.reject(row.location, "cannot create scene \(reference): not a Sentinel product name"); return nil
            }
            let obstime = row.date.map { $0.count == 10 ? $0 + "T00:00:00Z" : $0 } ?? product.obstime
            try lake.db.run("""
                INSERT INTO catalogue (reference, obstime, sensor, card, tile, relative_orbit, processing_baseline, radiometric_offset, source)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, .text(product.reference), .text(obstime), .text(product.sensor), .text(product.card),
                product.tile.map(SQLValue.text) ?? .null, product.relativeOrbit.map { .int(Int64($0)) } ?? .null,
                product.baseline.map(SQLValue.text) ?? .null,
                .double(SceneRecord.defaultOffset(card: product.card, baseline: product.baseline)), .text(path))
            let obsid = lake.db.lastInsertRowID
            addScene(obsid: obsid, reference: product.reference, date: String(obstime.prefix(10)), card: product.card)
            return obsid
        }
        if let obsid = row.obsid {
            // The agency's dias_catalogue id when the catalogue came with one, else lake's own.
            if let mapped = scenesBySourceID[obsid] { return mapped }
            guard scenesBySourceID.isEmpty, scenesByObsid.contains(obsid) else {
                summary.reject(row.location, "unknown scene obsid \(obsid)" + (scenesBySourceID.isEmpty ? "" : " (not an id of the ingested dias_catalogue)"))
                return nil
            }
            return obsid
        }
        guard let date = row.date else { summary.reject(row.location, "no scene (reference, obsid, date_part or date)"); return nil }
        let radar = ["VV", "VH", "HH", "HV"].contains(row.band.map(Bands.normalise) ?? "")
        let implied = row.band.flatMap(Bands.radarProduct)
        let wantedCards: Set<String> = implied == "c6" ? ["c6", "c12"] : implied == "bs" ? ["bs"] : radar ? ["bs", "c6", "c12"] : ["s2", "l1c"]
        let candidates = (scenesByDate[String(date.prefix(10))] ?? []).filter { wantedCards.contains($0.card) }
        if candidates.count == 1 { return candidates[0].obsid }
        if candidates.isEmpty {
            guard options.createScenes else {
                summary.reject(row.location, "no scene in the catalogue on \(date.prefix(10)) (ingest the catalogue, or --create-scenes)"); return nil
            }
            return try createComposite(row, date: String(date.prefix(10)), card: implied ?? (radar ? "bs" : "s2"))
        }
        summary.reject(row.location, "\(candidates.count) scenes on \(date.prefix(10)); give the scene reference"); return nil
    }
}
