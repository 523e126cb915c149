import Foundation
import LakeSupport
import LakeQuery
import LakeSQLite
import LakeStore

/// Which parcels a run covers, besides the option file's own selection.
public struct ParcelScope: Sendable {
    public var parcelIDs: [String]?
    public var aoi: String?
    public var year: Int?
    /// Instead of the option file's `parcels:` selection: parcels whose crop code is one of
    /// these or whose crop or crop-group name contains one (case-insensitive).
    public var crops: [String]?
    public init() {}

    /// Whether a parcel with this crop code and crop/group names is selected: its code is one of
    /// `codes`, or one of its names contains one of `groups` (case-insensitive). The option
    /// file's `parcels:` section and `--crops` (both lists the same words) select with it.
    static func selects(code: String?, names: [String], codes: [String]?, groups: [String]?) -> Bool {
        Selection(codes: codes, groups: groups).selects(code: code, names: names)
    }

    /// `selects` for many parcels: the words lowercased once, and one answer per distinct crop
    /// (a lake of 20,000 parcels declares a few dozen; lowercasing every name against the
    /// mowing file's 54 words for each parcel took 1.3 s of a 1.6 s run).
    struct Selection {
        let codes: Set<String>
        let groups: [String]
        private var known: [Crop: Bool] = [:]
        struct Crop: Hashable { let code: String?, names: [String] }

        init(codes: [String]?, groups: [String]?) {
            self.codes = Set(codes ?? [])
            self.groups = (groups ?? []).map { $0.lowercased() }
        }

        func selects(code: String?, names: [String]) -> Bool {
            if let code, codes.contains(code) { return true }
            let lowered = names.compactMap { $0.isEmpty ? nil : $0.lowercased() }
            return groups.contains { g in lowered.contains { $0.contains(g) } }
        }

        mutating func selects(cached code: String?, names: [String]) -> Bool {
            let crop = Crop(code: code, names: names)
            if let answer = known[crop] { return answer }
            let answer = selects(code: code, names: names)
            known[crop] = answer
            return answer
        }
    }
}

public struct MarkerRunSummary: Sendable {
    public var run: Int64 = 0
    public var parcels = 0
    public var markers = 0
    public var decisions: [String: Int] = [:]
    public var seconds = 0.0
    /// Where the writing thread's time went (seconds): set-up (parcels in scope, run record),
    /// waiting for the threads that read and analyse, writing results.
    public var phases: [String: Double] = ["setup": 0, "wait": 0, "write": 0]
    /// Area dates found atmospheric by the regional context.
    public var regionalDates = 0
    /// Coherence pairs with an area reference (the weather divided out of the cut detector's pairs).
    public var coherenceReferencePairs = 0
    /// Area days with a season level (the median of the selection's sampled parcels), which spell
    /// and cut detectors compare a parcel with (a dry summer shared by the area's meadows).
    public var seasonDays = 0
    /// What the user should know about how the run read its input (said on stderr).
    public var notes: [String] = []
    public var json: [String: Any] {
        ["run": run, "parcels": parcels, "markers": markers, "decisions": decisions, "seconds": seconds, "regional_dates": regionalDates,
         "coherence_reference_pairs": coherenceReferencePairs, "season_days": seasonDays,
         "parcels_per_second": seconds > 0 ? Double(parcels) / seconds : 0, "phases": phases]
    }
}

/// A marker found in one parcel.
public struct Marker: Sendable {
    public let detector: String
    public let kind: String
    public let event: Event
    public var details: [String: String] = [:]
}

/// A decision with its reasons.
public struct Decision: Sendable {
    public let scheme: String
    public let colour: String
    public let clearObservations: Int
    public let reasons: [String]
}

/// `lake markers run`: for every selected parcel, its signal series from the signatures (clear
/// observations only, offsets harmonised), pre-processed, run through the detectors, combined,
/// and decided; markers and decisions are stored with the run, all in one transaction.
public struct MarkerRun {
    let lake: Lake
    public init(lake: Lake) { self.lake = lake }

    struct ParcelInfo {
        let id: String, aoi: String, year: Int, crop: String?
        /// Crop name and crop group name ('' when none).
        let names: [String]
    }

    /// What every stage of a run needs: the parcels in scope, the scene calendar, the bands to
    /// decode and the per-parcel chain.
    struct Plan: @unchecked Sendable {
        let parcels: [Int64: ParcelInfo]
        /// Every parcel of the AOI/year scope, whatever the option file selects, with its year:
        /// the regional context learns from all crops (atmosphere is shared by all of them,
        /// management by one crop at most).
        let area: [Int64: Int]
        /// The declared crop code of every parcel in `area` (the regional context's diversity).
        let crops: [Int64: String]
        let calendar: SceneCalendar
        let bandIDs: [UInt8?]
        let wanted: Set<UInt8>
        let cloudScreen: CloudScreen
        let engine: MarkerEngine
        var notes: [String] = []

        func observations(_ item: ParcelInput) throws -> [Observed] {
            try ObservationReader.read(item, wanted: wanted, bandIDs: bandIDs, calendar: calendar, blueStd: engine.screen != nil)
        }
    }

    /// Stage 1: the parcels in scope (the option file's selection within `scope`) and what to read.
    func plan(_ options: MarkerOptions, scope: ParcelScope) throws -> Plan {
        let db = lake.db
        var parcels: [Int64: ParcelInfo] = [:]
        let p = try db.prepare("""
            SELECT pid, parcel_id, year, crop_code, coalesce(crop_name, ''), coalesce(group_name, ''), aoi FROM parcel_groups
            WHERE (?1 IS NULL OR aoi = ?1) AND (?2 IS NULL OR year = ?2)
            """)
        try p.bind([scope.aoi.map(SQLValue.text) ?? .null, scope.year.map { .int(Int64($0)) } ?? .null])
        let wantedIDs = scope.parcelIDs.map(Set.init)
        var area: [Int64: Int] = [:], crops: [Int64: String] = [:]
        var inScope: [(Int64, ParcelInfo)] = []
        while try p.step() {
            let info = ParcelInfo(id: p.text(1) ?? "", aoi: p.text(6) ?? "", year: Int(p.int(2)), crop: p.text(3), names: [p.text(4) ?? "", p.text(5) ?? ""])
            area[p.int(0)] = info.year
            // The declared crop by code, else by name (lists that carry names only).
            crops[p.int(0)] = info.crop.flatMap { $0.isEmpty ? nil : $0 } ?? info.names[0]
            if let wantedIDs, !wantedIDs.contains(info.id) { continue }
            inScope.append((p.int(0), info))
        }
        // The option file selects by declared crop; parcels that declare none at all (a field
        // campaign's own polygons, a mowing data set) were given for this analysis: all of them.
        // So were parcels that carry only codes of a list the file does not name and no crop
        // name to select them by (a data set's own codes, and no crop table in the lake).
        let declaresNone = !inScope.isEmpty && inScope.allSatisfy { ($0.1.crop ?? "").isEmpty && $0.1.names.allSatisfy(\.isEmpty) }
        // (`parcel_groups` gives a parcel without a crop table entry its code as group name.)
        let namesNone = !inScope.isEmpty && inScope.allSatisfy { $0.1.names[0].isEmpty && ($0.1.names[1].isEmpty || $0.1.names[1] == $0.1.crop) }
        let fileCodes = Set(options.parcels?.crops ?? [])
        let codesOnly = !declaresNone && namesNone && options.parcels?.groups != nil && !inScope.contains { fileCodes.contains($0.1.crop ?? "") }
        var notes: [String] = []
        let selectsAll = scope.crops == nil && (declaresNone || codesOnly)
        let (codes, groups) = scope.crops.map { ($0, $0) } ?? (selectsAll ? (nil, nil) : (options.parcels?.crops, options.parcels?.groups))
        if declaresNone && scope.crops == nil && (options.parcels?.crops != nil || options.parcels?.groups != nil) {
            notes.append("no parcel in scope declares a crop: the option file's crop selection is not applied, all \(inScope.count) parcels are analysed")
        } else if codesOnly && scope.crops == nil {
            let seen = Array(Set(inScope.compactMap(\.1.crop)).sorted().prefix(6))
            notes.append("the parcels in scope declare crop codes only (\(seen.joined(separator: ", "))\(seen.count == 6 ? ", …" : "")), none of them named in "
                         + "the option file and no crop name to select by: all \(inScope.count) parcels are analysed (select with --crops CODE,…, "
                         + "or give the lake a crop table: lake ingest crops)")
        }
        var selection = ParcelScope.Selection(codes: codes, groups: groups)
        parcels.reserveCapacity(inScope.count)
        for (pid, info) in inScope {
            if (codes != nil || groups != nil) && !selection.selects(cached: info.crop, names: info.names) { continue }
            parcels[pid] = info
        }
        let yearless = parcels.values.filter { $0.year == 0 }.count
        if yearless > 0 && options.crop_check == nil {
            notes.append("\(yearless) of the \(parcels.count) parcels declare no year: each is analysed in every season its series covers "
                         + "(markers of each; the decision is the best-observed season's, the others' lights among its reasons)")
        }
        if let wantedIDs, parcels.isEmpty {
            throw LakeError.notFound("none of the parcels \(wantedIDs.sorted().prefix(5).joined(separator: ", ")) is in the lake (in scope)")
        }
        if parcels.isEmpty && !area.isEmpty && (scope.crops != nil || options.parcels?.crops != nil || options.parcels?.groups != nil) {
            throw LakeError.notFound(try Self.noCropMatch(db, options, scope))
        }
        let dictionary = try BandDictionary(db: db)
        let engine = MarkerEngine(options: options)
        // Only the bands the signal needs (and the phenology check's NDVI, NIR and SWIR, and
        // the screening's blue, red, NIR and SWIR).
        let coherence = engine.readsCoherence
        // A lake without red and NIR but with an NDVI band (extracted from NDVI rasters, or NDVI
        // series ingested as they were given) reads NDVI from that band.
        let ndviBand = options.signalKind == .ndvi || options.phenology != nil ? [Bands.ndvi] : []
        let needed = Set(options.signalKind.bands + ndviBand + (options.phenology == nil ? [] : ["B04", "B08", "B11"])
                         + (engine.screen != nil ? ["B02", "B04", "B08", "B11"] : []) + (coherence ? ["VV"] : []))
        return Plan(parcels: parcels, area: area, crops: crops, calendar: try SceneCalendar(db),
                    bandIDs: ["B02", "B04", "B08", "B11", "VV", "VH", Bands.ndvi].map { dictionary.id($0) },
                    wanted: Set(needed.compactMap { dictionary.id($0) }),
                    cloudScreen: Self.cloudScreen(options),
                    engine: engine, notes: notes)
    }

    /// Why a selection found nothing: what it asked for and the crops the lake has in scope.
    static func noCropMatch(_ db: Connection, _ options: MarkerOptions, _ scope: ParcelScope) throws -> String {
        let asked = scope.crops.map { "--crops " + $0.joined(separator: ",") }
            ?? ([options.parcels?.crops.map { "crops " + $0.joined(separator: ", ") }, options.parcels?.groups.map { "groups " + $0.joined(separator: ", ") }]
                .compactMap { $0 }.joined(separator: "; "))
        let s = try db.prepare("""
            SELECT coalesce(crop_code, '(none)'), coalesce(nullif(crop_name, ''), nullif(group_name, ''), ''), count(*) FROM parcel_groups
            WHERE (?1 IS NULL OR aoi = ?1) AND (?2 IS NULL OR year = ?2) GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 12
            """)
        try s.bind([scope.aoi.map(SQLValue.text) ?? .null, scope.year.map { .int(Int64($0)) } ?? .null])
        var crops: [String] = []
        while try s.step() { crops.append("\(s.text(0) ?? "")\(s.text(1).map { $0.isEmpty ? "" : " " + $0 } ?? "") (\(s.int(2)))") }
        return "the option file \(options.name) selects no parcel in scope (\(asked)); the crops here: \(crops.joined(separator: ", ")) — "
            + "name them with --crops CODE,NAME or in the file's parcels: section (a crop table with names: lake ingest crops)"
    }

    /// What of the regional context a run of `options` learns: the shared drops (when the file
    /// screens observations and keeps the regional part on), each area's coherence (when a cut
    /// or harvest detector reads coherence), and the season (spell and cut detectors compare a
    /// parcel with its area's season: a dry summer).
    static func regionalParts(_ engine: MarkerEngine, _ options: MarkerOptions) -> (drops: Bool, coherence: Bool, season: Bool) {
        (engine.screen != nil && options.screening?.regional ?? true, engine.readsCoherence,
         engine.screen != nil && options.detectors.contains { ($0.type == "spell" || $0.type == "cut") && $0.regional ?? true })
    }

    /// The side of the regional context's square areas, in metres.
    static func areaSize(_ options: MarkerOptions) -> Double { options.screening?.area_metres ?? RegionalContext().size }

    /// Which SCL classes make an observation cloudy.
    static func cloudScreen(_ options: MarkerOptions) -> CloudScreen {
        options.observations?.cloud_classes.map { CloudScreen(excluded: Set($0)) } ?? CloudScreen()
    }

    /// Stage 1 inside the caller's transaction: the plan on this thread while a helper opens the
    /// reading threads' connections and locates every parcel's area for the regional context
    /// (when the run learns one). The caller's write lock, held from its transaction's start,
    /// keeps the lake as it is, so all of them read the same lake.
    func planAndReaders(_ options: MarkerOptions, scope: ParcelScope) throws -> (Plan, BatchPipeline.Readers, areas: [Int64: Int64]?) {
        precondition(lake.db.isInTransaction, "the readers must open under the run's write lock")
        let (drops, coherence, season) = Self.regionalParts(MarkerEngine(options: options), options)
        let size = Self.areaSize(options)
        let (plan, (readers, areas)) = try alongside({ [lake] in
            let readers = try BatchPipeline.Readers(lake, screen: Self.cloudScreen(options))
            let areas = drops || coherence || season ? try readers.withConnection { try RegionalContext.areas($0, size: size) } : nil
            return (readers, areas)
        }, while: { try self.plan(options, scope: scope) })
        return (plan, readers, areas)
    }

    /// Stage 2: the regional context, from a sample of each area's parcels of every crop: the
    /// dates of shared drops (when the option file screens observations and keeps the regional
    /// part on) and each area's typical coherence per pair (when a cut detector reads coherence).
    /// `readers` and `areas` as `planAndReaders` gives them (no areas: the run learns no context).
    func regionalContext(_ plan: Plan, _ options: MarkerOptions, readers: BatchPipeline.Readers,
                         areas: [Int64: Int64]?) throws -> RegionalContext {
        var regional = RegionalContext()
        let (drops, coherence, season) = Self.regionalParts(plan.engine, options)
        guard drops || coherence || season, let areas else { return regional }
        regional.size = Self.areaSize(options)
        regional.crops = plan.crops
        let sampled = regional.locate(areas, pids: { plan.area[$0] != nil }, selected: season ? { plan.parcels[$0] != nil } : nil)
        let first = Set(sampled.first), selected = Set(sampled.season)
        let sample = first.union(selected).sorted()
        let rules = regional   // (a copy for the reading threads: its thresholds)
        var residuals: [(pid: Int64, values: [(Int, Double)])] = []
        var recoveries: [(pid: Int64, values: [(Int, Double)])] = []
        var pairs: [(pid: Int64, values: [(Int, Double)])] = []
        var levels: [(pid: Int64, values: [(Int, Double)])] = []
        _ = try BatchPipeline.run(lake, pids: sample, screen: plan.cloudScreen, readers: readers, analyse: { item in
            let year = plan.area[item.pid]!
            let observations = try plan.observations(item)
            let isFirst = first.contains(item.pid), inSeason = selected.contains(item.pid)
            let (usable, atmospheric) = (drops && isFirst) || inSeason ? plan.engine.usableAndAtmospheric(observations, year: year) : ([], [])
            let r = drops && isFirst ? RegionalContext.residuals(usable, atmospheric: atmospheric) : []
            let b = drops && isFirst ? rules.recoveries(usable, atmospheric: atmospheric) : []
            let c = coherence && isFirst ? MarkerEngine.ofYear(observations, year).compactMap { o in o.coherence.map { (o.day, $0) } } : []
            let l = inSeason ? usable.map { ($0.day, $0.value) } : []
            return (isFirst, r, c, l, b)
        }, deliver: { pid, found in
            if found.0 {
                residuals.append((pid, found.1))
                recoveries.append((pid, found.4))
                pairs.append((pid, found.2))
            }
            if !found.3.isEmpty { levels.append((pid, found.3)) }
        })
        regional.learn(residuals, recoveries: recoveries)
        regional.learnCoherence(pairs)
        regional.learnSeason(levels)
        regional.seal()
        return regional
    }

    public func run(_ options: MarkerOptions, text: String, scope: ParcelScope) throws -> MarkerRunSummary {
        let started = Date()
        var summary = MarkerRunSummary()
        if let cc = options.crop_check {
            var o = CropCheckOptions()
            o.minPeers = cc.min_peers ?? o.minPeers; o.minBins = cc.min_bins ?? o.minBins; o.spreads = cc.spreads ?? o.spreads
            let s = try CropCheck(lake: lake).run(o, scope: scope, optionsText: text)
            summary.run = s.run; summary.parcels = s.parcels; summary.decisions = s.decisions
            summary.seconds = Date().timeIntervalSince(started)
            return summary
        }
        let db = lake.db
        // Committed before the run: the reading threads see the lake as last committed.
        try db.transaction { try SCLSummary.refresh(db) }
        // Every marker and decision refers to the run this transaction begins, and nothing else:
        // the per-row foreign-key lookups of `runs` are left out (the pragma only changes
        // outside a transaction).
        try db.execute("PRAGMA foreign_keys = OFF")
        defer { try? db.execute("PRAGMA foreign_keys = ON") }
        // The run's texts are lake's own (JSON from `JSONText`, colours from `Decision`): written
        // without SQLite's CHECKs on them (`RunLog.writingOwnRows`).
        try RunLog.writingOwnRows(db) { try BatchPipeline.writing(lake) { try db.transaction {
            summary.run = try RunLog.begin(db, kind: "markers", options: text, inputs: try RunInputs.describe(lake).merging(
                ["option_file": options.name, "scope": ["parcels": scope.parcelIDs ?? [], "aoi": scope.aoi ?? "", "year": scope.year ?? 0]]) { a, _ in a })
            let writer = try ResultWriter(db: db, run: summary.run, signal: options.signal)
            let (plan, readers, areas) = try planAndReaders(options, scope: scope)
            summary.notes = plan.notes
            let progress = Progress("markers \(options.name)", total: plan.parcels.count)
            summary.phases["setup"] = Date().timeIntervalSince(started)
            let clock = Date()
            let regional = try regionalContext(plan, options, readers: readers, areas: areas)
            summary.phases["regional"] = Date().timeIntervalSince(clock)
            summary.regionalDates = regional.sharedDates
            summary.coherenceReferencePairs = regional.referencePairs
            summary.seasonDays = regional.seasonDays
            // Stage 3: series read and analysed on every core, results written on this thread.
            let timing = try BatchPipeline.run(lake, pids: Array(plan.parcels.keys), screen: plan.cloudScreen, readers: readers, analyse: { item in
                let info = plan.parcels[item.pid]!, area = regional.area(for: item.pid)
                return ParcelOutcome(plan.engine.analyse(try plan.observations(item), year: info.year, crop: info.crop, names: info.names,
                                                         regional: area.days, coherence: area.coherence, season: area.season))
            }, deliver: { pid, outcome in
                try writer.write(pid: pid, outcome)
                summary.parcels += 1
                summary.markers += outcome.markers.count
                if let d = outcome.decision { summary.decisions[d.colourName, default: 0] += 1 }
                progress.advance()
            })
            try writer.finish()
            progress.finish()
            summary.phases["wait"] = timing.wait
            summary.phases["write"] = timing.deliver
            summary.seconds = Date().timeIntervalSince(started)
            try RunLog.finish(db, run: summary.run, summary: summary.json)
        } } }
        return summary
    }

    /// One screened observation: `lake screen`.
    public struct ScreenedObservation: Sendable {
        public let pid: Int64
        public let parcelID: String
        public let date: String
        public let value: Double?
        public let quality: String
    }

    /// Every observation of the parcels in scope with its quality verdict (the option file's
    /// screening, regional context included), in pid and date order; nothing is written.
    public func screen(_ options: MarkerOptions, scope: ParcelScope, _ body: (ScreenedObservation) throws -> Void) throws {
        // A file with `crop_check` runs the crop check (see `run`), which screens with its own chain.
        let options = options.crop_check == nil ? options : try CropCheck.observationOptions()
        let db = lake.db
        if !db.isReadOnly { try db.transaction { try SCLSummary.refresh(db) } }
        try db.transaction {
            let (plan, readers, areas) = try planAndReaders(options, scope: scope)
            let regional = try regionalContext(plan, options, readers: readers, areas: areas)
            _ = try BatchPipeline.run(lake, pids: Array(plan.parcels.keys), screen: plan.cloudScreen, readers: readers, analyse: { item -> [(Int, Double?, Quality)] in
                let year = plan.parcels[item.pid]!.year
                let observations = try plan.observations(item)
                // A parcel without a year: each season it has (as `markers run` analyses it).
                return MarkerEngine.seasons(observations, declared: year).flatMap { y in
                    let s = plan.engine.screened(observations, year: y, regional: regional.days(for: item.pid))
                    return zip(s.observations, s.verdicts).map { ($0.day, $0.value(options.signalKind), $1) }
                }
            }, deliver: { pid, rows in
                let id = plan.parcels[pid]!.id
                for (day, value, q) in rows {
                    try body(ScreenedObservation(pid: pid, parcelID: id, date: Days.text(day), value: value, quality: q.rawValue))
                }
            })
        }
    }
}

/// A parcel's markers and decision as they are written. Their texts (dates, JSON) are built on
/// the worker thread that analysed the parcel, into one buffer that the writing thread binds
/// without copying.
final class ParcelOutcome: @unchecked Sendable {
    struct MarkerRow {
        let detector: Text, kind: Text, start: Text, date: Text, end: Text, details: Text
        let valueStart: Double, valueEnd: Double, magnitude: Double, confidence: Double
    }
    struct DecisionRow {
        let scheme: Text, colour: Text, reasons: Text
        let clearObservations: Int
        let colourName: String
    }
    /// A range of `text`.
    struct Text { let start: Int32, count: Int32 }

    let markers: [MarkerRow]
    let decision: DecisionRow?
    private let text: UnsafeMutableRawBufferPointer

    init(_ result: (markers: [Marker], decision: Decision?)) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64 * result.markers.count + 160)
        func add(_ write: (inout [UInt8]) -> Void) -> Text {
            let start = bytes.count
            write(&bytes)
            return Text(start: Int32(start), count: Int32(bytes.count - start))
        }
        func add(_ s: String) -> Text { add { $0.append(contentsOf: s.utf8) } }
        func add(day: Int) -> Text { add { Days.append(day, to: &$0) } }
        markers = result.markers.map { m in
            MarkerRow(detector: add(m.detector), kind: add(m.kind), start: add(day: m.event.start), date: add(day: m.event.date),
                      end: add(day: m.event.end), details: m.details.isEmpty ? add("{}") : add { JSONText.append(object: m.details, to: &$0) },
                      valueStart: m.event.valueStart, valueEnd: m.event.valueEnd, magnitude: m.event.magnitude, confidence: m.event.confidence)
        }
        decision = result.decision.map { d in
            DecisionRow(scheme: add(d.scheme), colour: add(d.colour), reasons: add { JSONText.append(array: d.reasons, to: &$0) },
                        clearObservations: d.clearObservations, colourName: d.colour)
        }
        text = .allocate(byteCount: max(1, bytes.count), alignment: 1)
        bytes.withUnsafeBytes { text.copyMemory(from: $0) }
    }

    deinit { text.deallocate() }

    func bytes(_ t: Text) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: text[Int(t.start)..<Int(t.start + t.count)])
    }
}

/// Inserts a run's markers and decisions. Rows are buffered and inserted `perStatement` at a
/// time through one multi-row INSERT (a thirty-second of the statement executions), with their
/// texts bound in place from each parcel's outcome.
private final class ResultWriter {
    static let perStatement = 32
    let run: Int64
    let signal: String
    private let markerMany: Statement, markerOne: Statement
    private let decisionMany: Statement, decisionOne: Statement
    /// Buffered rows; the outcomes keep their texts alive until the rows are inserted.
    private var markers: [(Int64, ParcelOutcome, Int)] = []
    private var decisions: [(Int64, ParcelOutcome)] = []

    init(db: Connection, run: Int64, signal: String) throws {
        self.run = run
        self.signal = signal
        func insert(_ table: String, _ columns: String, rows: Int) throws -> Statement {
            let width = columns.split(separator: ",").count
            let row = "(" + Array(repeating: "?", count: width).joined(separator: ", ") + ")"
            return try db.prepare("INSERT INTO \(table) (\(columns)) VALUES " + Array(repeating: row, count: rows).joined(separator: ", "))
        }
        let markerColumns = "run_id, pid, signal, detector, kind, start_date, date, end_date, value_start, value_end, magnitude, confidence, details"
        markerMany = try insert("markers", markerColumns, rows: Self.perStatement)
        markerOne = try insert("markers", markerColumns, rows: 1)
        let decisionColumns = "run_id, pid, scheme, colour, clear_obs, reasons"
        decisionMany = try insert("decisions", decisionColumns, rows: Self.perStatement)
        decisionOne = try insert("decisions", decisionColumns, rows: 1)
        markers.reserveCapacity(Self.perStatement)
        decisions.reserveCapacity(Self.perStatement)
    }

    func write(pid: Int64, _ outcome: ParcelOutcome) throws {
        for i in outcome.markers.indices {
            markers.append((pid, outcome, i))
            if markers.count == Self.perStatement { try insertMarkers(markers, markerMany); markers.removeAll(keepingCapacity: true) }
        }
        if outcome.decision != nil {
            decisions.append((pid, outcome))
            if decisions.count == Self.perStatement { try insertDecisions(decisions, decisionMany); decisions.removeAll(keepingCapacity: true) }
        }
    }

    /// Writes what is still buffered, one row per statement.
    func finish() throws {
        for m in markers { try insertMarkers([m], markerOne) }
        for d in decisions { try insertDecisions([d], decisionOne) }
        markers.removeAll()
        decisions.removeAll()
    }

    private func insertMarkers(_ rows: [(Int64, ParcelOutcome, Int)], _ s: Statement) throws {
        s.reset()
        var k: Int32 = 1
        for (pid, outcome, i) in rows {
            let m = outcome.markers[i]
            s.bind(int: run, at: k); s.bind(int: pid, at: k + 1); s.bind(text: signal, at: k + 2)
            s.bind(borrowedText: outcome.bytes(m.detector), at: k + 3); s.bind(borrowedText: outcome.bytes(m.kind), at: k + 4)
            s.bind(borrowedText: outcome.bytes(m.start), at: k + 5); s.bind(borrowedText: outcome.bytes(m.date), at: k + 6)
            s.bind(borrowedText: outcome.bytes(m.end), at: k + 7); s.bind(double: m.valueStart, at: k + 8)
            s.bind(double: m.valueEnd, at: k + 9); s.bind(double: m.magnitude, at: k + 10); s.bind(double: m.confidence, at: k + 11)
            s.bind(borrowedText: outcome.bytes(m.details), at: k + 12)
            k += 13
        }
        try s.step()
        s.reset()
    }

    private func insertDecisions(_ rows: [(Int64, ParcelOutcome)], _ s: Statement) throws {
        s.reset()
        var k: Int32 = 1
        for (pid, outcome) in rows {
            let d = outcome.decision!
            s.bind(int: run, at: k); s.bind(int: pid, at: k + 1); s.bind(borrowedText: outcome.bytes(d.scheme), at: k + 2)
            s.bind(borrowedText: outcome.bytes(d.colour), at: k + 3); s.bind(int: Int64(d.clearObservations), at: k + 4)
            s.bind(borrowedText: outcome.bytes(d.reasons), at: k + 5)
            k += 6
        }
        try s.step()
        s.reset()
    }
}
