import Foundation
import LakeIngest
import LakeQuery
import LakeSQLite
import LakeStore

/// Which parcels a run covers, besides the option file's own selection.
public struct ParcelScope: Sendable {
    public var parcelIDs: [String]?
    public var aoi: String?
    public var year: Int?
    public init() {}
}

public struct MarkerRunSummary: Sendable {
    public var run: Int64 = 0
    public var parcels = 0
    public var markers = 0
    public var decisions: [String: Int] = [:]
    public var seconds = 0.0
    public var json: [String: Any] {
        ["run": run, "parcels": parcels, "markers": markers, "decisions": decisions, "seconds": seconds,
         "parcels_per_second": seconds > 0 ? Double(parcels) / seconds : 0]
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

    struct ParcelInfo { let id: String; let year: Int; let crop: String?; let names: [String] }

    public func run(_ options: MarkerOptions, text: String, scope: ParcelScope) throws -> MarkerRunSummary {
        let started = Date()
        var summary = MarkerRunSummary()
        let db = lake.db
        // Parcels in scope.
        var parcels: [Int64: ParcelInfo] = [:]
        let p = try db.prepare("""
            SELECT pid, parcel_id, year, crop_code, coalesce(crop_name, ''), coalesce(group_name, '') FROM parcel_groups
            WHERE (?1 IS NULL OR aoi = ?1) AND (?2 IS NULL OR year = ?2)
            """)
        try p.bind([scope.aoi.map(SQLValue.text) ?? .null, scope.year.map { .int(Int64($0)) } ?? .null])
        let wantedIDs = scope.parcelIDs.map(Set.init)
        while try p.step() {
            let info = ParcelInfo(id: p.text(1) ?? "", year: Int(p.int(2)), crop: p.text(3), names: [p.text(4) ?? "", p.text(5) ?? ""])
            if let wantedIDs, !wantedIDs.contains(info.id) { continue }
            if let sel = options.parcels {
                let byCrop = sel.crops.map { codes in info.crop.map(codes.contains) ?? false } ?? false
                let byGroup = sel.groups.map { gs in gs.contains { g in info.names.contains { $0.lowercased().contains(g.lowercased()) } } } ?? false
                if (sel.crops != nil || sel.groups != nil) && !byCrop && !byGroup { continue }
            }
            parcels[p.int(0)] = info
        }
        if let wantedIDs, parcels.isEmpty {
            throw LakeError.notFound("none of the parcels \(wantedIDs.sorted().prefix(5).joined(separator: ", ")) is in the lake (in scope)")
        }

        let calendar = try SceneCalendar(db)
        let dictionary = try BandDictionary(db: db)
        let bandIDs = ["B02", "B04", "B08", "B11", "VV", "VH"].map { dictionary.id($0) }
        let wanted = Set(bandIDs.compactMap { $0 })
        let screen = options.observations?.cloud_classes.map { CloudScreen(excluded: Set($0)) } ?? CloudScreen()

        let engine = MarkerEngine(options: options)
        let progress = Progress("markers \(options.name)", total: parcels.count)
        try db.transaction {
            summary.run = try RunLog.begin(db, kind: "markers", options: text, inputs: try RunInputs.describe(lake).merging(
                ["option_file": options.name, "scope": ["parcels": scope.parcelIDs ?? [], "aoi": scope.aoi ?? "", "year": scope.year ?? 0]]) { a, _ in a })
            let insertMarker = try db.prepare("""
                INSERT INTO markers (run_id, pid, signal, detector, kind, start_date, date, end_date, value_start, value_end, magnitude, confidence, details)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let insertDecision = try db.prepare("INSERT INTO decisions (run_id, pid, scheme, colour, clear_obs, reasons) VALUES (?, ?, ?, ?, ?, ?)")

            // Read in pid order (SQLite, this thread) while the previous batch is analysed on every
            // core in the background; results are written in order, on this thread.
            var batch: [Pending] = []
            var inFlight: (work: [Pending], results: UnsafeResults, group: DispatchGroup)?
            let infos = parcels
            let threads = ProcessInfo.processInfo.activeProcessorCount
            func write(_ work: [Pending], _ results: UnsafeResults) throws {
                for (i, item) in work.enumerated() {
                    let result = results.get(i)
                    summary.parcels += 1
                    for m in result.markers {
                        try insertMarker.bind([.int(summary.run), .int(item.pid), .text(options.signal), .text(m.detector), .text(m.kind),
                                               .text(Days.text(m.event.start)), .text(Days.text(m.event.date)), .text(Days.text(m.event.end)),
                                               .double(m.event.valueStart), .double(m.event.valueEnd), .double(m.event.magnitude),
                                               .double(m.event.confidence), .text(JSONText.object(m.details))])
                        try insertMarker.step(); insertMarker.reset()
                        summary.markers += 1
                    }
                    if let d = result.decision {
                        try insertDecision.bind([.int(summary.run), .int(item.pid), .text(d.scheme), .text(d.colour), .int(Int64(d.clearObservations)),
                                                 .text(JSONText.array(d.reasons))])
                        try insertDecision.step(); insertDecision.reset()
                        summary.decisions[d.colour, default: 0] += 1
                    }
                    progress.advance()
                }
            }
            func flush() throws {
                if let previous = inFlight {
                    previous.group.wait()
                    try write(previous.work, previous.results)
                    inFlight = nil
                }
                guard !batch.isEmpty else { return }
                let work = batch
                let results = UnsafeResults(count: work.count)
                let group = DispatchGroup()
                DispatchQueue.global().async(group: group) {
                    let step = min(threads, work.count)
                    DispatchQueue.concurrentPerform(iterations: step) { worker in
                        var slot: [Int64: Int] = [:]
                        var i = worker
                        while i < work.count {
                            let item = work[i]
                            let observations = Self.observations(item, wanted: wanted, bandIDs: bandIDs, calendar: calendar, slot: &slot)
                            let info = infos[item.pid]!
                            results.set(i, engine.analyse(observations, year: info.year, crop: info.crop, names: info.names))
                            i += step
                        }
                    }
                }
                inFlight = (work, results, group)
                batch.removeAll(keepingCapacity: true)
            }
            try PackedScan.forEach(lake, screen: screen) { pid, blob, clear in
                guard parcels[pid] != nil else { return }
                batch.append(Pending(pid: pid, blob: blob, clear: clear))
                if batch.count >= 1024 { try flush() }
            }
            try flush()
            try flush()   // the last batch in flight
            progress.finish()
            summary.seconds = Date().timeIntervalSince(started)
            try RunLog.finish(db, run: summary.run, summary: summary.json)
        }
        return summary
    }
}

/// A parcel read but not yet analysed: its packed series and clear flags by obsid.
struct Pending: Sendable {
    let pid: Int64
    let blob: [UInt8]
    /// (obsid, clear) sorted by obsid.
    let clear: [(Int64, Bool)]
}

/// Results of a batch, written by index from worker threads (each index by one thread).
final class UnsafeResults: @unchecked Sendable {
    private var items: [(markers: [Marker], decision: Decision?)]
    private let lock = NSLock()
    init(count: Int) { items = Array(repeating: ([], nil), count: count) }
    func set(_ i: Int, _ value: (markers: [Marker], decision: Decision?)) { lock.lock(); items[i] = value; lock.unlock() }
    func get(_ i: Int) -> (markers: [Marker], decision: Decision?) { items[i] }
}

extension MarkerRun {
    /// A parcel's observations from its packed series: the means of the bands markers use,
    /// with offsets applied to reflectances, by day.
    static func observations(_ item: Pending, wanted: Set<UInt8>, bandIDs: [UInt8?], calendar: SceneCalendar,
                             slot: inout [Int64: Int]) -> [Observed] {
        guard let columns = try? item.blob.withUnsafeBytes({ try SeriesCodec.decode($0, bands: wanted, fields: [1]) }) else { return [] }
        // slot[obsid] = index into the parcel's observations; a scratch table reused per parcel.
        slot.removeAll(keepingCapacity: true)
        var days: [Int] = []
        var means: [[Double?]] = []
        for c in columns {
            guard let k = bandIDs.firstIndex(where: { $0 == c.band }), let values = c.values[1] else { continue }
            let reflectance = k < 4
            for (j, obsid) in c.obsids.enumerated() {
                guard let day = calendar.day(obsid) else { continue }
                let index: Int
                if let known = slot[obsid] { index = known } else {
                    index = days.count
                    slot[obsid] = index
                    days.append(day)
                    means.append([Double?](repeating: nil, count: bandIDs.count))
                }
                means[index][k] = Double(reflectance ? values[j] + calendar.offset(obsid) : values[j])
            }
        }
        var clear = [Bool?](repeating: nil, count: days.count)
        for (obsid, flag) in item.clear { if let i = slot[obsid] { clear[i] = flag } }
        var out = days.indices.map { Observed(day: days[$0], clear: clear[$0], means: means[$0]) }
        out.sort { $0.day < $1.day }
        return out
    }
}

/// One observation of a parcel: its day, clear flag and band means (B02, B04, B08, B11, VV, VH).
struct Observed {
    let day: Int
    let clear: Bool?
    let means: [Double?]

    func value(_ signal: Signal) -> Double? {
        switch signal {
        case .ndvi: return SeriesScanner.value(.ndvi, [means[1], means[2]])
        case .bsi: return SeriesScanner.value(.bsi, [means[0], means[1], means[2], means[3]])
        case .vv: return means[4]
        case .vh: return means[5]
        }
    }
}
