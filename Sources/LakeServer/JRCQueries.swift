import Foundation
import LakeAnalytics
import LakeGDAL
import LakeQuery
import LakeSQLite
import LakeStore
import LakeSupport

/// An error answered as JSON with an HTTP status.
struct APIError: Error {
    let status: Int
    let message: String
    static func badRequest(_ m: String) -> APIError { APIError(status: 400, message: m) }
    static func notFound(_ m: String) -> APIError { APIError(status: 404, message: m) }

    /// `body` with lake's and GDAL's errors as HTTP errors: not found → 404, any other reason the
    /// request cannot be served from this lake or these files → 400.
    static func mapping<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as LakeError {
            if case .notFound = error { throw notFound("\(error)") }
            throw badRequest("\(error)")
        } catch let error as GDALError { throw badRequest(error.message) }
    }
}

/// The JRC CbM query API's answers, in its column form: one JSON object whose keys are columns
/// and whose values are lists, one element per row (`{"pid": [7], "cropname": ["maize"], …}`).
/// Parameters and keys as the JRC documentation gives them ("Build a RESTful API", "Parcel
/// information", "Parcel Time Series", "Parcel peers").
enum JRCQueries {
    typealias Parameters = [String: String]

    static func string(_ p: Parameters, _ key: String) -> String? { p[key].flatMap { $0.isEmpty ? nil : $0 } }

    static func flag(_ p: Parameters, _ key: String, default value: Bool) -> Bool {
        guard let v = string(p, key)?.lowercased() else { return value }
        return ["true", "1", "yes"].contains(v)
    }

    static func required(_ p: Parameters, _ key: String) throws -> String {
        guard let v = string(p, key) else { throw APIError.badRequest("missing parameter \(key)") }
        return v
    }

    static func number(_ p: Parameters, _ key: String, default value: Double? = nil, range: ClosedRange<Double>) throws -> Double {
        guard let text = string(p, key) else {
            guard let value else { throw APIError.badRequest("missing parameter \(key)") }
            return value
        }
        guard let v = Double(text), v.isFinite, range.contains(v) else {
            throw APIError.badRequest("\(key) must be a number within \(range.lowerBound)…\(range.upperBound), not \(text)")
        }
        return v
    }

    static func year(_ p: Parameters) throws -> Int? {
        guard let text = string(p, "year") else { return nil }
        guard let y = Int(text), (1900...2200).contains(y) else { throw APIError.badRequest("year must be a year, not \(text)") }
        return y
    }

    /// The JRC `pid` is the parcel's identifier in its declaration set: lake's `parcel_id`.
    static func parcel(_ c: QueryContext, _ p: Parameters) throws -> ParcelRecord {
        let id = try required(p, "pid")
        return try APIError.mapping {
            try ParcelLookup.byID(c.lake, id: id, aoi: string(p, "aoi") ?? string(p, "parcels"), year: try year(p), ptype: string(p, "ptype"))
        }
    }

    /// An identifier as the JRC gives it: a number when it is one.
    static func idValue(_ id: String) -> Any { Int64(id).map { $0 as Any } ?? id }

    /// The parcels' columns, typed (written without the casts of `[String: Any]`: a quick
    /// lookup's answer spent a fifth of its time there).
    static func parcelColumns(_ c: QueryContext, _ parcels: [ParcelRecord], geometry: Bool) throws -> [String: JSONColumn] {
        var out: [String: JSONColumn] = [
            "pid": .identifiers(parcels.map(\.parcelID)),
            "cropname": .strings(parcels.map(\.cropName)),
            "cropcode": .strings(parcels.map(\.cropCode)),
            "srid": .integers(parcels.map { _ in Int64(c.lake.srid) }),
            "area": .doubles(parcels.map(\.areaM2)),
            "clon": .doubles(parcels.map(\.centroidLon)),
            "clat": .doubles(parcels.map(\.centroidLat)),
        ]
        if geometry {
            try c.lake.db.loadSpatiaLite()
            let statement = try c.lake.db.prepare("SELECT AsText(geom) FROM parcels WHERE pid = ?")
            out["geom"] = .strings(try parcels.map { parcel -> String? in
                statement.reset()
                statement.bind(int: parcel.pid, at: 1)
                return try statement.step() ? statement.text(0) : nil
            })
        }
        return out
    }

    static func parcelByID(_ c: QueryContext, _ p: Parameters) throws -> [String: JSONColumn] {
        try parcelColumns(c, [try parcel(c, p)], geometry: flag(p, "withGeometry", default: false))
    }

    static func parcelByLocation(_ c: QueryContext, _ p: Parameters) throws -> [String: JSONColumn] {
        let lon = try number(p, "lon", range: -180...180), lat = try number(p, "lat", range: -90...90)
        let aoi = string(p, "aoi"), year = try year(p), ptype = string(p, "ptype")
        let found = try ParcelLookup.at(c.lake, lon: lon, lat: lat).filter {
            (aoi == nil || $0.aoi == aoi) && (year == nil || $0.year == year) && (ptype == nil || $0.ptype == ptype)
        }
        return try parcelColumns(c, found, geometry: flag(p, "withGeometry", default: false))
    }

    /// Sentinel-2 (`s2`, with SCL histograms unless `scl=False`, scene references with
    /// `ref=True`), backscatter (`bs`), coherence (`c6`) or only the SCL histograms (`scl`).
    static func parcelTimeSeries(_ c: QueryContext, _ p: Parameters, maxRows: Int) throws -> String {
        let parcel = try parcel(c, p)
        let tstype = string(p, "tstype") ?? "s2"
        guard ["s2", "bs", "c6", "scl"].contains(tstype) else { throw APIError.badRequest("tstype is s2, bs, c6 or scl, not \(tstype)") }
        var filter = SeriesFilter()
        filter.harmonise = false   // the JRC tables hold the products' digital numbers
        if let band = string(p, "band") { filter.bands = [Bands.normalise(band)] }
        // One band asked for: that band only (the SCL histograms with tstype=scl or band=SCL).
        let sclAsked = filter.bands?.contains(Bands.scl) ?? false
        if sclAsked { filter.bands = [] }
        let withSCL = tstype == "scl" || sclAsked || (tstype == "s2" && filter.bands == nil && flag(p, "scl", default: true))
        let withRef = flag(p, "ref", default: false)
        let withBand = filter.bands == nil || tstype == "scl"
        let cards: Set<String> = tstype == "s2" || tstype == "scl" ? ["s2", "l1c"] : [tstype]
        // One row per scene and band (and one per scene for its SCL histogram); the columns are
        // written from the rows (no array per column: a series is a few thousand values). The
        // rows hold no references (band names by number), their statistics lie in one array
        // (NaN where a row has none: written as null).
        struct Row { let time: Double?; let band: Int; let observation: Int; let hist: Bool }
        var built: [Row] = [], values: [Float] = []
        var bandNames: [String] = ["SCL"]
        let observations = try c.series.read(pid: parcel.pid, filter: filter)
        built.reserveCapacity(observations.count * 9)
        values.reserveCapacity(observations.count * 9 * 8)
        func add(_ stats: SignatureStats?) {
            for k in 0..<8 { values.append(stats?[k] ?? .nan) }
        }
        for (n, o) in observations.enumerated() where cards.contains(o.card) {
            let time = epochSeconds(o.obstime)   // once per scene, not per band
            if tstype != "scl" {
                for b in o.bands {
                    let number = bandNames.firstIndex(of: b.band) ?? { bandNames.append(b.band); return bandNames.count - 1 }()
                    built.append(Row(time: time, band: number, observation: n, hist: false)); add(b.stats)
                }
            }
            if withSCL, o.scl != nil { built.append(Row(time: time, band: 0, observation: n, hist: true)); add(nil) }
            guard built.count <= maxRows else { throw APIError(status: 413, message: "more than \(maxRows) rows; ask for one band (band=…) or raise --max-rows") }
        }
        let rows = built, names = bandNames, stats = values
        var columns: [String: JSONColumn] = ["date_part": .doublesOf(count: rows.count) { rows[$0].time }]
        for (k, name) in SignatureStats.fieldNames.enumerated() { columns[name] = .floatsOf(count: rows.count) { stats[$0 &* 8 &+ k] } }
        if withBand { columns["band"] = .stringsOf(count: rows.count) { names[rows[$0].band] } }
        if withRef { columns["reference"] = .stringsOf(count: rows.count) { observations[rows[$0].observation].reference } }
        if withSCL { columns["hist"] = .countsOf(count: rows.count) { rows[$0].hist ? observations[rows[$0].observation].scl : nil } }
        return JSONText.columns(columns)
    }

    static func parcelPeers(_ c: QueryContext, _ p: Parameters, maxRows: Int) throws -> [String: JSONColumn] {
        let parcel = try parcel(c, p)
        var options = PeerOptions()
        options.distance = try number(p, "distance", default: 1000, range: 0.1...5000)
        options.max = Int(try number(p, "max", default: 10, range: 1...Double(min(maxRows, 100))))
        options.same = .crop
        let peers = try c.peers.peers(of: parcel, options)
        return ["pid": .identifiers(peers.map(\.parcel.parcelID)), "distance": .doubles(peers.map(\.distance))]
    }

    /// The JRC's polygon parameter: `lon_lat-lon_lat-…` (the cbm client's form; a '-' that starts
    /// a number is its sign), or WKT. Returns WKT in WGS 84.
    static func polygonWKT(_ text: String) throws -> String {
        if text.uppercased().hasPrefix("POLYGON") || text.uppercased().hasPrefix("MULTIPOLYGON") { return text }
        var numbers: [Double] = [], current = ""
        var previous: Character? = nil
        for ch in text {
            if ch == "_" || (ch == "-" && previous != nil && previous != "_" && previous != "-") {
                guard let v = Double(current) else { throw APIError.badRequest("polygon is lon_lat-lon_lat-… in degrees or WKT, not \(text.prefix(60))") }
                numbers.append(v); current = ""
            } else {
                current.append(ch)
            }
            previous = ch
        }
        guard let last = Double(current) else { throw APIError.badRequest("polygon is lon_lat-lon_lat-… in degrees or WKT, not \(text.prefix(60))") }
        numbers.append(last)
        guard numbers.count % 2 == 0, numbers.count >= 6 else { throw APIError.badRequest("polygon needs at least three lon_lat points") }
        var points = stride(from: 0, to: numbers.count, by: 2).map { (numbers[$0], numbers[$0 + 1]) }
        guard points.allSatisfy({ (-180...180).contains($0.0) && (-90...90).contains($0.1) }) else {
            throw APIError.badRequest("polygon points must be lon within −180…180 and lat within −90…90")
        }
        if points.first! != points.last! { points.append(points.first!) }
        return "POLYGON((" + points.map { "\($0.0) \($0.1)" }.joined(separator: ", ") + "))"
    }

    static func parcelsByPolygon(_ c: QueryContext, _ p: Parameters, maxRows: Int) throws -> [String: JSONColumn] {
        let wkt = try polygonWKT(try required(p, "polygon"))
        let limit = Int(try number(p, "max", default: Double(min(maxRows, 100_000)), range: 1...Double(maxRows)))
        let aoi = string(p, "aoi"), year = try year(p), ptype = string(p, "ptype")
        let found: [ParcelRecord]
        do { found = try c.peers.within(wkt: wkt, max: limit) } catch let error as SQLiteError { throw APIError.badRequest("polygon: \(error.message)") }
        let parcels = found.filter { (aoi == nil || $0.aoi == aoi) && (year == nil || $0.year == year) && (ptype == nil || $0.ptype == ptype) }
        if flag(p, "only_ids", default: false) {
            return ["ogc_fid": .integers(parcels.map(\.pid)), "pid": .identifiers(parcels.map(\.parcelID))]
        }
        var columns = try parcelColumns(c, parcels, geometry: flag(p, "withGeometry", default: false))
        columns["ogc_fid"] = .integers(parcels.map(\.pid))
        return columns
    }

    /// Parcels whose `stype` (mean, …) of `band` lies in `values` ("100-200" or one value) on
    /// some observation between start_date and end_date: the first such date per parcel.
    static func parcelStatsPeers(_ c: QueryContext, _ p: Parameters, maxRows: Int) throws -> [String: Any] {
        let band = Bands.normalise(try required(p, "band"))
        let stat = string(p, "stype") ?? "mean"
        let text = try required(p, "values")
        let bounds = text.split(separator: "-", maxSplits: 1).map { Double($0.trimmed()) }
        guard !bounds.isEmpty, bounds.allSatisfy({ $0 != nil && $0!.isFinite }), bounds.first!! <= bounds.last!! else {
            throw APIError.badRequest("values is a number or a range low-high, not \(text)")
        }
        for key in ["start_date", "end_date"] {
            if let d = string(p, key), !isCalendarDate(d) { throw APIError.badRequest("\(key) is a date YYYY-MM-DD, not \(d)") }
        }
        let limit = Int(try number(p, "max", default: 100, range: 1...Double(min(maxRows, 10_000))))
        do {
            let hits = try c.peers.statsPeers(band: band, stat: stat, range: bounds.first!!...bounds.last!!,
                                              from: string(p, "start_date"), to: string(p, "end_date"), max: limit)
            return ["pid": hits.map { idValue($0.parcel.parcelID) }, "date_part": hits.map { epochSeconds($0.date) as Any }, "value": hits.map(\.value)]
        } catch let error as LakeError {
            if case .notFound = error { throw APIError.notFound("\(error)") }
            throw APIError.badRequest("\(error)")
        }
    }

    static func options(_ c: QueryContext) throws -> [String: Any] {
        let sets = try c.lake.db.prepare("SELECT aoi, year, ptype, count(*) FROM parcels GROUP BY 1, 2, 3 ORDER BY 1, 2, 3").rows()
        var aois: [String: Any] = [:]
        for row in sets {
            let aoi = row[0].text ?? ""
            var years = aois[aoi] as? [String: Any] ?? [:]
            years[String(row[1].int ?? 0)] = ["ptype": row[2].text ?? "", "parcels": row[3].int ?? 0] as [String: Any]
            aois[aoi] = years
        }
        return ["aois": aois, "tstype": ["s2", "bs", "c6", "scl"], "srid": c.lake.srid]
    }
}
