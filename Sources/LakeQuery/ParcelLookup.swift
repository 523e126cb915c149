import LakeSQLite
import LakeStore

/// A parcel as the queries show it.
public struct ParcelRecord: Sendable {
    public let pid: Int64
    public let parcelID: String
    public let aoi: String
    public let year: Int
    public let ptype: String
    public let cropCode: String?
    public let cropName: String?
    public let areaM2: Double
    public let centroidLon: Double
    public let centroidLat: Double

    public var areaHa: Double { areaM2 / 10_000 }

    public var label: String {
        "\(parcelID) (pid \(pid), aoi \(aoi.isEmpty ? "-" : aoi), year \(year)\(ptype.isEmpty ? "" : ", ptype \(ptype)"))"
    }

    public var json: [String: Any] {
        var out: [String: Any] = [
            "pid": pid, "parcel_id": parcelID, "aoi": aoi, "year": year, "ptype": ptype,
            "area_m2": areaM2, "area_ha": areaHa, "centroid_lon": centroidLon, "centroid_lat": centroidLat,
        ]
        out["crop_code"] = cropCode
        out["crop_name"] = cropName
        return out
    }
}

/// Finds parcels by their source identifier or by a point.
public enum ParcelLookup {
    /// The columns of a `ParcelRecord`. From schema 7 on, the point on the surface in WGS 84
    /// is stored with the parcel; an older lake has it worked out through SpatiaLite and PROJ.
    static func columns(_ lake: Lake) throws -> String {
        if lake.schemaVersion >= 7 { return "pid, parcel_id, aoi, year, ptype, crop_code, crop_name, area, lon, lat" }
        try lake.db.loadSpatiaLite()
        return """
            pid, parcel_id, aoi, year, ptype, crop_code, crop_name, area,
            X(Transform(ST_PointOnSurface(geom), 4326)), Y(Transform(ST_PointOnSurface(geom), 4326))
            """
    }

    static func record(_ s: Statement) -> ParcelRecord {
        ParcelRecord(pid: s.int(0), parcelID: s.text(1) ?? "", aoi: s.text(2) ?? "", year: Int(s.int(3)),
                     ptype: s.text(4) ?? "", cropCode: s.text(5), cropName: s.text(6), areaM2: s.double(7),
                     centroidLon: s.double(8), centroidLat: s.double(9))
    }

    /// The one parcel with identifier `id` (within `aoi`/`year`/`ptype` when given).
    /// Throws notFound, or ambiguous listing the candidates.
    public static func byID(_ lake: Lake, id: String, aoi: String? = nil, year: Int? = nil, ptype: String? = nil) throws -> ParcelRecord {
        let statement = try lake.db.cached("""
            SELECT \(try columns(lake)) FROM parcels
            WHERE parcel_id = ?1 AND (?2 IS NULL OR aoi = ?2) AND (?3 IS NULL OR year = ?3) AND (?4 IS NULL OR ptype = ?4)
            ORDER BY aoi, year, ptype LIMIT 51
            """)
        try statement.bind([.text(id), aoi.map(SQLValue.text) ?? .null, year.map { .int(Int64($0)) } ?? .null,
                            ptype.map(SQLValue.text) ?? .null])
        var found: [ParcelRecord] = []
        while try statement.step() { found.append(record(statement)) }
        if found.count == 1 { return found[0] }
        if found.isEmpty {
            var scope = [aoi.map { "aoi \($0)" }, year.map { "year \($0)" }, ptype.map { "ptype \($0)" }].compactMap { $0 }.joined(separator: ", ")
            if !scope.isEmpty { scope = " in " + scope }
            throw LakeError.notFound("no parcel \(id)\(scope)")
        }
        throw LakeError.ambiguous("parcel \(id) is in more than one declaration set; choose one with --aoi/--year/--ptype:",
                                  candidates: found.map { "aoi \($0.aoi.isEmpty ? "\"\"" : $0.aoi)  year \($0.year)  ptype \($0.ptype.isEmpty ? "\"\"" : $0.ptype)  (pid \($0.pid), crop \($0.cropName ?? $0.cropCode ?? "-"))" })
    }

    public static func byPid(_ lake: Lake, pid: Int64) throws -> ParcelRecord {
        let statement = try lake.db.cached("SELECT \(try columns(lake)) FROM parcels WHERE pid = ?")
        statement.bind(int: pid, at: 1)
        guard try statement.step() else { throw LakeError.notFound("no parcel with pid \(pid)") }
        return record(statement)
    }

    /// Several parcels by pid, in one query.
    public static func byPids(_ lake: Lake, pids: [Int64]) throws -> [Int64: ParcelRecord] {
        guard !pids.isEmpty else { return [:] }
        // Kept for the next call with as many pids (peers asks for ten at a time, a server often).
        let sql = "SELECT \(try columns(lake)) FROM parcels WHERE pid IN (\(pids.map { _ in "?" }.joined(separator: ",")))"
        let statement = try pids.count <= 64 ? lake.db.cached(sql) : lake.db.prepare(sql)
        try statement.bind(pids.map { .int($0) })
        var out: [Int64: ParcelRecord] = [:]
        while try statement.step() { let r = record(statement); out[r.pid] = r }
        return out
    }

    /// The parcels whose polygon contains the point (WGS 84 lon/lat) or has it on its boundary,
    /// through the spatial index.
    public static func at(_ lake: Lake, lon: Double, lat: Double) throws -> [ParcelRecord] {
        // The point in the lake's CRS through PROJ with a kept transformation (see
        // `PointProjection`), else through SpatiaLite's `Transform()`.
        let x: Double, y: Double
        if let p = PointProjection.fromWGS84(to: lake.srid)?.forward(lon: lon, lat: lat) {
            (x, y) = p
        } else {
            try lake.db.loadSpatiaLite()
            let s = try lake.db.cached("SELECT X(g), Y(g) FROM (SELECT Transform(MakePoint(?1, ?2, 4326), \(lake.srid)) AS g)")
            try s.bind([.double(lon), .double(lat)])
            guard try s.step(), !s.isNull(0) else { return [] }
            (x, y) = (s.double(0), s.double(1))
        }
        // The candidates from the R*Tree of the polygons' boxes read directly (SQLite's rtree
        // module: SpatiaLite's `SpatialIndex` virtual table would prepare its own query on every
        // call, half of a served lookup's time), then each polygon read in place
        // (`SpatiaLiteBlob`: making it a GEOS geometry for `ST_Intersects` cost more than the rest
        // of the lookup), or by SpatiaLite where that reader does not know the blob. The
        // statement is kept for the next point (a server answers many).
        let statement = try lake.db.cached("""
            SELECT \(try columns(lake)), parcels.geom FROM idx_parcels_geom AS r JOIN parcels ON parcels.ROWID = r.pkid
            WHERE r.xmin <= ?1 AND r.xmax >= ?1 AND r.ymin <= ?2 AND r.ymax >= ?2
            """)
        try statement.bind([.double(x), .double(y)])
        var found: [ParcelRecord] = []
        while try statement.step() {
            let covered = try statement.withBlob(10) { SpatiaLiteBlob.covers($0, x: x, y: y) } ?? intersects(lake, pid: statement.int(0), x: x, y: y)
            if covered { found.append(record(statement)) }
        }
        // The latest declaration first.
        return found.sorted { ($1.year, $0.aoi, $0.ptype) < ($0.year, $1.aoi, $1.ptype) }
    }

    /// SpatiaLite's answer for a polygon `SpatiaLiteBlob` does not read.
    static func intersects(_ lake: Lake, pid: Int64, x: Double, y: Double) throws -> Bool {
        try lake.db.loadSpatiaLite()
        let s = try lake.db.cached("SELECT ST_Intersects(geom, MakePoint(?2, ?3, \(lake.srid))) FROM parcels WHERE pid = ?1")
        try s.bind([.int(pid), .double(x), .double(y)])
        return try s.step() && s.int(0) == 1
    }
}
