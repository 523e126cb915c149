import Foundation
import LakeAnalytics
import LakeGDAL
import LakeQuery
import LakeSQLite
import LakeStore
import LakeSupport

public enum ReportKind: String, Sendable, CaseIterable {
    case parcels, markers, decisions, heterogeneity, peers, timeseries, signatures
}

public enum ReportFormat: String, Sendable, CaseIterable {
    case csv, geojson
}

public struct ReportOptions: Sendable {
    public var run: Int64?
    public var out: String?
    /// peers: distance and number per parcel.
    public var distance = 1_000.0
    public var max = 10
    public init() {}
}

/// `lake report`: parcels, markers, decisions, heterogeneity, peers and time series as CSV (one
/// header line, long form for series, ISO dates) or GeoJSON (RFC 7946: WGS 84 lon/lat,
/// counter-clockwise exteriors, no `crs`), streamed row by row (constant memory).
public struct Reports {
    let lake: Lake
    public init(lake: Lake) { self.lake = lake }

    /// Writes the report; returns the number of rows or features.
    @discardableResult
    public func write(_ kind: ReportKind, format: ReportFormat, options: ReportOptions) throws -> Int {
        if format == .geojson && (kind == .timeseries || kind == .signatures) {
            throw LakeError.usage("the \(kind.rawValue) report is a CSV table (one row per parcel, scene and band); use --format csv")
        }
        let sink = try ReportSink(path: options.out, format: format)
        var count = 0
        do {
            switch kind {
            case .parcels: count = try parcels(sink, options)
            case .markers: count = try markers(sink, options)
            case .decisions: count = try decisions(sink, options)
            case .heterogeneity: count = try heterogeneity(sink, options)
            case .peers: count = try peers(sink, options)
            case .timeseries: count = try timeseries(sink)
            case .signatures: count = try signatures(sink)
            }
            try sink.finish()
        } catch {
            sink.abandon()
            throw error
        }
        return count
    }

    func latestRun(_ kind: String, table: String, _ options: ReportOptions) throws -> Int64 {
        if let run = options.run {
            guard try lake.db.scalar("SELECT count(*) FROM runs WHERE run_id = ?", .int(run))?.int == 1 else {
                throw LakeError.notFound("no run \(run) (lake runs lists them)")
            }
            return run
        }
        guard let run = try lake.db.scalar("SELECT max(run_id) FROM \(table)")?.int else {
            throw LakeError.notFound("no \(kind) run in the lake yet")
        }
        return run
    }

    /// Runs `sql`; the last selected column is the geometry (WKB in 4326) when `geometry`.
    func emit(_ sink: ReportSink, _ sql: String, _ bindings: [SQLValue], columns: [String], json: Set<String> = [], geometry: Bool) throws -> Int {
        let statement = try lake.db.prepare(sql)
        try statement.bind(bindings)
        sink.begin(columns: columns)
        var n = 0
        while try statement.step() {
            let values: [Any?] = columns.indices.map { i in
                let v = statement.value(Int32(i)).any
                if json.contains(columns[i]), let text = v as? String { return RawJSON(text) }
                return v
            }
            var geojson = "null"
            if geometry && sink.format == .geojson {
                geojson = try statement.withBlob(Int32(columns.count)) { bytes in
                    bytes.isEmpty ? "null" : try Geometry.fromWKB(bytes).geoJSON()
                }
            }
            sink.row(values, geometry: geojson)
            n += 1
        }
        return n
    }

    static let geometrySQL = "AsBinary(Transform(p.geom, 4326))"

    func parcels(_ sink: ReportSink, _ options: ReportOptions) throws -> Int {
        try emit(sink, """
            SELECT p.parcel_id, p.pid, p.aoi, p.year, p.ptype, p.crop_code, p.crop_name, g.group_name, round(p.area / 10000, 4),
                   (SELECT json_group_object(d.scheme, d.colour) FROM decisions d
                     WHERE d.pid = p.pid AND d.run_id = (SELECT max(run_id) FROM decisions d2 WHERE d2.pid = p.pid AND d2.scheme = d.scheme)),
                   \(Self.geometrySQL)
            FROM parcels p JOIN parcel_groups g USING (pid) ORDER BY p.pid
            """, [], columns: ["parcel_id", "pid", "aoi", "year", "ptype", "crop_code", "crop_name", "crop_group", "area_ha", "decisions"],
            json: ["decisions"], geometry: true)
    }

    func markers(_ sink: ReportSink, _ options: ReportOptions) throws -> Int {
        let run = try latestRun("markers", table: "markers", options)
        return try emit(sink, """
            SELECT m.run_id, p.parcel_id, p.pid, p.crop_name, m.signal,
                   CASE WHEN m.kind = 'gap' THEN 'data-gap' WHEN m.kind IN ('harvest', 'unconfirmed') AND m.detector LIKE '%-rejected'
                        THEN 'rejected' WHEN m.kind IN ('spell', 'threshold') THEN 'period' ELSE 'event' END,
                   m.detector, m.kind, m.start_date, m.date, m.end_date,
                   m.value_start, m.value_end, m.magnitude, m.confidence, m.details, \(Self.geometrySQL)
            FROM markers m JOIN parcels p USING (pid) WHERE m.run_id = ? ORDER BY p.pid, m.date, m.detector
            """, [.int(run)], columns: ["run_id", "parcel_id", "pid", "crop_name", "signal", "category", "detector", "kind", "start_date", "date",
                                        "end_date", "value_start", "value_end", "magnitude", "confidence", "details"], json: ["details"], geometry: true)
    }

    /// One row per parcel and scheme: each scheme's latest run (markers runs, lake check crops,
    /// lake decide's `overall`), or the schemes of one run with --run.
    func decisions(_ sink: ReportSink, _ options: ReportOptions) throws -> Int {
        if options.run == nil {
            guard try lake.db.scalar("SELECT count(*) FROM decisions")?.int ?? 0 > 0 else { throw LakeError.notFound("no decisions in the lake yet") }
            // Each scheme's latest run found once (a correlated max per row walked every newer
            // run's rows: minutes on a lake of many runs).
            return try emit(sink, """
                WITH latest(scheme, run_id) AS (SELECT scheme, max(run_id) FROM decisions GROUP BY scheme)
                SELECT d.run_id, p.parcel_id, p.pid, p.aoi, p.year, p.crop_code, p.crop_name, d.scheme, d.colour, d.clear_obs, d.reasons,
                       (SELECT json_group_array(date) FROM (SELECT m.date FROM markers m WHERE m.run_id = d.run_id AND m.pid = d.pid
                         AND m.kind NOT IN ('gap', 'harvest', 'unconfirmed') AND m.detector NOT LIKE '%-rejected' ORDER BY m.date)),
                       \(Self.geometrySQL)
                FROM latest l JOIN decisions d ON d.run_id = l.run_id AND d.scheme = l.scheme JOIN parcels p USING (pid)
                ORDER BY p.pid, d.scheme = 'overall', d.scheme
                """, [], columns: ["run_id", "parcel_id", "pid", "aoi", "year", "crop_code", "crop_name", "scheme", "colour",
                                   "clear_obs", "reasons", "marker_dates"], json: ["reasons", "marker_dates"], geometry: true)
        }
        let run = try latestRun("markers", table: "decisions", options)
        return try emit(sink, """
            SELECT d.run_id, p.parcel_id, p.pid, p.aoi, p.year, p.crop_code, p.crop_name, d.scheme, d.colour, d.clear_obs, d.reasons,
                   (SELECT json_group_array(date) FROM (SELECT m.date FROM markers m WHERE m.run_id = d.run_id AND m.pid = d.pid
                     AND m.kind NOT IN ('gap', 'harvest', 'unconfirmed') AND m.detector NOT LIKE '%-rejected' ORDER BY m.date)),
                   \(Self.geometrySQL)
            FROM decisions d JOIN parcels p USING (pid) WHERE d.run_id = ? ORDER BY p.pid, d.scheme
            """, [.int(run)], columns: ["run_id", "parcel_id", "pid", "aoi", "year", "crop_code", "crop_name", "scheme", "colour",
                                        "clear_obs", "reasons", "marker_dates"], json: ["reasons", "marker_dates"], geometry: true)
    }

    func heterogeneity(_ sink: ReportSink, _ options: ReportOptions) throws -> Int {
        let run = try latestRun("heterogeneity", table: "heterogeneity", options)
        return try emit(sink, """
            SELECT h.run_id, h.rank, p.parcel_id, p.pid, p.crop_name, h.crop_group, h.n_obs, h.cv, h.qd, h.qskew, h.score, h.split_dates, h.flag,
                   \(Self.geometrySQL)
            FROM heterogeneity h JOIN parcels p USING (pid) WHERE h.run_id = ? ORDER BY h.rank
            """, [.int(run)], columns: ["run_id", "rank", "parcel_id", "pid", "crop_name", "crop_group", "n_obs", "cv", "qd", "qskew",
                                        "score", "split_dates", "flag"], geometry: true)
    }

    /// For every parcel, its peers of the same crop (nearest first): one row per pair.
    func peers(_ sink: ReportSink, _ options: ReportOptions) throws -> Int {
        sink.begin(columns: ["parcel_id", "pid", "crop_code", "peer_id", "peer_pid", "distance_m", "rank"])
        var peerOptions = PeerOptions()
        peerOptions.distance = options.distance; peerOptions.max = options.max
        let queries = PeerQueries(lake: lake)
        let all = try lake.db.prepare("SELECT pid FROM parcels ORDER BY pid")
        var pids: [Int64] = []
        while try all.step() { pids.append(all.int(0)) }
        var n = 0
        for pid in pids {
            let parcel = try ParcelLookup.byPid(lake, pid: pid)
            for (k, peer) in try queries.peers(of: parcel, peerOptions).enumerated() {
                var geometry = "null"
                if sink.format == .geojson {
                    // The pair as a line between the parcels' inner points.
                    geometry = "{\"type\": \"LineString\", \"coordinates\": [[\(parcel.centroidLon), \(parcel.centroidLat)], [\(peer.parcel.centroidLon), \(peer.parcel.centroidLat)]]}"
                }
                sink.row([parcel.parcelID, parcel.pid, parcel.cropCode, peer.parcel.parcelID, peer.parcel.pid, peer.distance, k + 1], geometry: geometry)
                n += 1
            }
        }
        return n
    }

    /// Every parcel's signatures in long form (harmonised), with the observation's cloud-free flag.
    func timeseries(_ sink: ReportSink) throws -> Int {
        sink.begin(columns: ["parcel_id", "pid", "date", "reference", "band"] + SignatureStats.fieldNames + ["cloud_free"])
        var ids: [Int64: String] = [:]
        let p = try lake.db.prepare("SELECT pid, parcel_id FROM parcels")
        while try p.step() { ids[p.int(0)] = p.text(1) }
        var scenes: [Int64: (date: String, reference: String)] = [:]
        let s = try lake.db.prepare("SELECT obsid, substr(obstime, 1, 10), reference FROM catalogue")
        while try s.step() { scenes[s.int(0)] = (s.text(1) ?? "", s.text(2) ?? "") }
        let dictionary = try BandDictionary(db: lake.db)
        let scanner = try SeriesScanner(lake: lake)
        var n = 0
        try scanner.forEachParcel { pid, rows, clear in
            let sorted = rows.sorted { (scenes[$0.obsid]?.date ?? "", $0.obsid, $0.bandID) < (scenes[$1.obsid]?.date ?? "", $1.obsid, $1.bandID) }
            for row in sorted {
                let scene = scenes[row.obsid]
                sink.row([ids[pid], pid, scene?.date, scene?.reference, dictionary.name(row.bandID)]
                         + (0..<8).map { row.stats[$0] as Any? } + [clear[row.obsid] as Any?], geometry: "null")
                n += 1
            }
        }
        return n
    }
}

extension Reports {
    /// Every signature in the JRC table form (`aoi_s2_signatures`: pid, obsid, band, count, mean,
    /// std, min, max, p25, p50, p75) as stored — digital numbers without the scenes' offsets,
    /// float32 values in their shortest round-trip text — in pid, obsid and band order. The obsid
    /// is the scene's JRC `dias_catalogue` id where the catalogue came with one (schema 6),
    /// else lake's own. Written straight to the buffer: a hundred-million-row table is common.
    func signatures(_ sink: ReportSink) throws -> Int {
        sink.begin(columns: ["pid", "obsid", "band"] + SignatureStats.fieldNames)
        var obsids: [Int64: Int64] = [:]
        let s = try lake.db.prepare("SELECT obsid, coalesce(source_id, obsid) FROM catalogue")
        while try s.step() { obsids[s.int(0)] = s.int(1) }
        let dictionary = try BandDictionary(db: lake.db)
        var names: [UInt8: String] = [:]
        let store = SignatureStore(db: lake.db)
        let pids = try lake.db.prepare("SELECT pid FROM signatures_packed UNION SELECT pid FROM signatures_pending ORDER BY 1")
        var n = 0
        var line = ""
        while try pids.step() {
            let pid = pids.int(0)
            let prefix = String(pid) + ","
            for row in try store.series(pid: pid) {
                let name = names[row.bandID] ?? {
                    let name = TableWriter.csvField(dictionary.name(row.bandID))
                    names[row.bandID] = name
                    return name
                }()
                line.removeAll(keepingCapacity: true)
                line += prefix
                line += String(obsids[row.obsid] ?? row.obsid)
                line += ","
                line += name
                for k in 0..<8 {
                    let v = row.stats[k]
                    line += ","
                    if v.isNaN { continue }
                    if v == v.rounded(), abs(v) < 1e7 { line += String(Int(v)) } else { line += String(v) }
                }
                line += "\n"
                sink.raw(line)
                n += 1
            }
        }
        return n
    }
}

/// Streams CSV or a GeoJSON FeatureCollection to a file (written to a temporary name and
/// renamed at the end, so a failed report leaves no half file) or to stdout.
final class ReportSink {
    let format: ReportFormat
    private let path: String?
    private let temporary: String?
    private var out: OutputBuffer
    /// The temporary file's handle (the buffer writes to its descriptor).
    private var handle: FileHandle?
    private var columns: [String] = []
    private var rows = 0

    init(path: String?, format: ReportFormat) throws {
        self.format = format
        self.path = path
        if let path {
            let temporary = path + ".partial"
            guard FileManager.default.createFile(atPath: temporary, contents: nil), let handle = FileHandle(forWritingAtPath: temporary) else {
                throw LakeError.usage("cannot write \(path)")
            }
            self.temporary = temporary
            self.handle = handle
            out = OutputBuffer(descriptor: handle.fileDescriptor)
        } else {
            temporary = nil
            out = OutputBuffer(descriptor: STDOUT_FILENO)
        }
    }

    func begin(columns: [String]) {
        self.columns = columns
        switch format {
        case .csv: out.write(columns.map(TableWriter.csvField).joined(separator: ",") + "\n")
        case .geojson: out.write("{\"type\": \"FeatureCollection\", \"features\": [")
        }
    }

    func row(_ values: [Any?], geometry: String) {
        switch format {
        case .csv:
            out.write(values.map { v -> String in
                if let raw = v as? RawJSON { return TableWriter.csvField(raw.text) }
                return TableWriter.csvField(TableWriter.text(v))
            }.joined(separator: ",") + "\n")
        case .geojson:
            out.write(rows == 0 ? "\n" : ",\n")
            out.write("{\"type\": \"Feature\", \"properties\": {")
            out.write(zip(columns, values).map { "\(TableWriter.jsonString($0)): \(TableWriter.jsonValue($1))" }.joined(separator: ", "))
            out.write("}, \"geometry\": \(geometry)}")
        }
        rows += 1
    }

    /// A ready line of CSV.
    func raw(_ text: String) {
        out.write(text)
        rows += 1
    }

    func finish() throws {
        if format == .geojson { out.write("\n]}\n") }
        out.flush()
        if let path, let temporary {
            try? handle?.close()
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: temporary, toPath: path)
        }
    }

    func abandon() {
        if let temporary { try? handle?.close(); try? FileManager.default.removeItem(atPath: temporary) }
    }
}
