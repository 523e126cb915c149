import Foundation
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

        let scanner = try SeriesScanner(lake: lake)
        scanner.pids = Set(parcels.keys)
        if let classes = options.observations?.cloud_classes { scanner.cloudScreen = CloudScreen(excluded: Set(classes)) }
        let dictionary = try BandDictionary(db: db)
        let bandIDs = ["B02", "B04", "B08", "B11", "VV", "VH"].map { dictionary.id($0) }
        var days: [Int64: Int] = [:]
        let s = try db.prepare("SELECT obsid, obstime FROM catalogue")
        while try s.step() { if let d = Days.number(s.text(1) ?? "") { days[s.int(0)] = d } }

        let engine = MarkerEngine(options: options)
        let progress = ProgressLine(total: parcels.count)
        try db.transaction {
            summary.run = try RunLog.begin(db, kind: "markers", options: text, inputs: try RunInputs.describe(lake).merging(
                ["option_file": options.name, "scope": ["parcels": scope.parcelIDs ?? [], "aoi": scope.aoi ?? "", "year": scope.year ?? 0]]) { a, _ in a })
            let insertMarker = try db.prepare("""
                INSERT INTO markers (run_id, pid, signal, detector, kind, start_date, date, end_date, value_start, value_end, magnitude, confidence, details)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let insertDecision = try db.prepare("INSERT INTO decisions (run_id, pid, scheme, colour, clear_obs, reasons) VALUES (?, ?, ?, ?, ?, ?)")
            try scanner.forEachParcel { pid, rows, histograms in
                guard let info = parcels[pid] else { return }
                // Observations: day, clear flag, band means.
                var byScene: [Int64: [Double?]] = [:]
                for row in rows {
                    guard let k = bandIDs.firstIndex(where: { $0 == row.bandID }) else { continue }
                    byScene[row.obsid, default: [Double?](repeating: nil, count: bandIDs.count)][k] = Double(row.stats.mean)
                }
                var observations: [Observed] = []
                observations.reserveCapacity(byScene.count)
                for (obsid, means) in byScene {
                    guard let day = days[obsid] else { continue }
                    observations.append(Observed(day: day, clear: histograms[obsid].map { scanner.cloudScreen.isClear($0) }, means: means))
                }
                observations.sort { $0.day < $1.day }
                let result = engine.analyse(observations, year: info.year, crop: info.crop, names: info.names)
                summary.parcels += 1
                for m in result.markers {
                    try insertMarker.bind([.int(summary.run), .int(pid), .text(options.signal), .text(m.detector), .text(m.kind),
                                           .text(Days.text(m.event.start)), .text(Days.text(m.event.date)), .text(Days.text(m.event.end)),
                                           .double(m.event.valueStart), .double(m.event.valueEnd), .double(m.event.magnitude),
                                           .double(m.event.confidence), .text(RunLog.json(m.details))])
                    try insertMarker.step(); insertMarker.reset()
                    summary.markers += 1
                }
                if let d = result.decision {
                    try insertDecision.bind([.int(summary.run), .int(pid), .text(d.scheme), .text(d.colour), .int(Int64(d.clearObservations)),
                                             .text(RunLog.json(d.reasons))])
                    try insertDecision.step(); insertDecision.reset()
                    summary.decisions[d.colour, default: 0] += 1
                }
                progress.advance()
            }
            progress.finish()
            summary.seconds = Date().timeIntervalSince(started)
            try RunLog.finish(db, run: summary.run, summary: summary.json)
        }
        return summary
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

/// Tiny progress on a terminal for runs.
final class ProgressLine {
    let total: Int
    var done = 0
    let enabled = isatty(2) == 1
    var last = Date.distantPast
    init(total: Int) { self.total = total }
    func advance() {
        done += 1
        guard enabled, Date().timeIntervalSince(last) > 0.1 else { return }
        last = Date()
        FileHandle.standardError.write("\rmarkers \(done)/\(total) parcels".data(using: .utf8)!)
    }
    func finish() { if enabled { FileHandle.standardError.write("\rmarkers \(done)/\(total) parcels\n".data(using: .utf8)!) } }
}
