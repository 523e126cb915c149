import Foundation
import LakeQuery
import LakeSQLite
import LakeStore

/// Which parcels count as peers.
public enum PeerMatch: String, Sendable, CaseIterable {
    case crop, group, any
}

public struct PeerOptions: Sendable {
    public var distance = 1_000.0     // metres
    public var max = 10
    public var minArea = 0.0          // m²
    public var same: PeerMatch = .crop
    public init() {}
}

public struct Peer: Sendable {
    public let parcel: ParcelRecord
    public let distance: Double       // metres, boundary to boundary
}

/// The JRC `parcelPeers`, `parcelsByPolygon` and `parcelStatsPeers` queries, through the spatial
/// index (never a scan of all parcels).
/// Keep one to ask many times: its statements are kept by the lake connection's cache.
public final class PeerQueries {
    let lake: Lake
    /// Whether the lake's SRID is geographic (degrees), as SpatiaLite's `spatial_ref_sys` says:
    /// distances are then measured on the ellipsoid.
    private lazy var geographic: Bool? = try? lake.db.scalar("SELECT SridIsGeographic(?)", .int(Int64(lake.srid)))?.int.map { $0 != 0 }
    public init(lake: Lake) { self.lake = lake }

    /// Parcels of the same crop (or crop group, or any) and year within `distance` of the
    /// parcel, nearest first, the parcel itself excluded.
    public func peers(of parcel: ParcelRecord, _ options: PeerOptions) throws -> [Peer] {
        try lake.db.loadSpatiaLite()
        let sameClause: String
        switch options.same {
        case .crop: sameClause = "AND p.crop_code IS t.crop_code"
        case .group: sameClause = "AND (SELECT group_code FROM parcel_groups WHERE pid = p.pid) IS (SELECT group_code FROM parcel_groups WHERE pid = t.pid)"
        case .any: sameClause = ""
        }
        guard let geographic else { throw LakeError.lakeFile(path: lake.path, reason: "EPSG:\(lake.srid), the lake's SRID, is not in its spatial_ref_sys") }
        // The search frame: the parcel's bounding box grown by the distance (in degrees for a
        // geographic lake: metres / 111,320 at the equator, generous towards the poles).
        let grow = geographic ? options.distance / 111_320 / max(0.2, cos(parcel.centroidLat * .pi / 180)) : options.distance
        // A projected lake's distances come from the two polygons read in place
        // (`SpatiaLiteBlob.Rings`: making both GEOS geometries for `ST_Distance` was most of the
        // query), SpatiaLite's only where that reader does not know a polygon; a geographic
        // lake's are SpatiaLite's, on the ellipsoid.
        var target: SpatiaLiteBlob.Rings?
        if !geographic {
            let own = try lake.db.cached("SELECT geom FROM parcels WHERE pid = ?1")
            try own.bind([.int(parcel.pid)])
            guard try own.step() else { return [] }
            target = own.withBlob(0) { SpatiaLiteBlob.Rings($0) }
        }
        // Candidates straight from the R*Tree of the parcels' boxes (SpatiaLite's own index
        // table; its SpatialIndex virtual table in front of it costs as much as the search).
        let statement = try lake.db.cached("""
            WITH t AS (SELECT pid, crop_code, year, geom, MbrMinX(geom) AS x0, MbrMinY(geom) AS y0,
                              MbrMaxX(geom) AS x1, MbrMaxY(geom) AS y1 FROM parcels WHERE pid = ?1)
            SELECT p.pid, p.geom, \(geographic ? "ST_Distance(p.geom, t.geom, 1)" : "NULL")
            FROM t, idx_parcels_geom r, parcels p
            WHERE r.xmin <= t.x1 + ?2 AND r.xmax >= t.x0 - ?2 AND r.ymin <= t.y1 + ?2 AND r.ymax >= t.y0 - ?2
              AND p.pid = r.pkid AND p.pid <> t.pid AND p.year = t.year AND p.area >= ?3 \(sameClause)
            """)
        try statement.bind([.int(parcel.pid), .double(grow), .double(options.minArea)])
        var found: [(pid: Int64, d: Double)] = []
        while try statement.step() {
            let pid = statement.int(0)
            let d = try geographic ? statement.double(2)
                : target.flatMap { t in statement.withBlob(1) { SpatiaLiteBlob.Rings($0) }?.distance(to: t) } ?? distance(parcel.pid, pid)
            if d <= options.distance { found.append((pid, d)) }
        }
        found.sort { ($0.d, $0.pid) < ($1.d, $1.pid) }
        let nearest = found.prefix(max(0, options.max))
        let records = try ParcelLookup.byPids(lake, pids: nearest.map(\.pid))
        return nearest.compactMap { f in records[f.pid].map { Peer(parcel: $0, distance: f.d) } }
    }

    /// SpatiaLite's distance between two parcels' polygons.
    private func distance(_ a: Int64, _ b: Int64) throws -> Double {
        let s = try lake.db.cached("SELECT ST_Distance(a.geom, b.geom) FROM parcels a, parcels b WHERE a.pid = ?1 AND b.pid = ?2")
        try s.bind([.int(a), .int(b)])
        return try s.step() ? s.double(0) : .infinity
    }

    /// Parcels intersecting a WGS 84 box or polygon (WKT in lon/lat), through the spatial index.
    public func within(wkt: String, max: Int) throws -> [ParcelRecord] {
        try lake.db.loadSpatiaLite()
        // The R*Tree read directly, as `ParcelLookup.at` does.
        let statement = try lake.db.cached("""
            WITH a(g, x0, y0, x1, y1) AS (SELECT g, MbrMinX(g), MbrMinY(g), MbrMaxX(g), MbrMaxY(g)
                                          FROM (SELECT Transform(GeomFromText(?1, 4326), \(lake.srid)) AS g))
            SELECT p.pid FROM parcels p, a
            WHERE p.ROWID IN (SELECT pkid FROM idx_parcels_geom WHERE xmin <= a.x1 AND xmax >= a.x0 AND ymin <= a.y1 AND ymax >= a.y0)
              AND ST_Intersects(p.geom, a.g) = 1
            ORDER BY p.pid LIMIT ?2
            """)
        try statement.bind([.text(wkt), .int(Int64(max))])
        var pids: [Int64] = []
        while try statement.step() { pids.append(statement.int(0)) }
        return try pids.map { try ParcelLookup.byPid(lake, pid: $0) }
    }

    public struct StatsPeer: Sendable {
        public let parcel: ParcelRecord
        public let date: String
        public let value: Double
    }

    /// Parcels whose statistic of `band` lies in `range` on some observation between the dates
    /// (the first such observation per parcel), up to `max`.
    public func statsPeers(band: String, stat: String, range: ClosedRange<Double>, from: String?, to: String?, max: Int) throws -> [StatsPeer] {
        guard let k = SignatureStats.fieldNames.firstIndex(of: stat) else {
            throw LakeError.usage("--stat must be one of \(SignatureStats.fieldNames.joined(separator: ", "))")
        }
        guard let bandID = try BandDictionary(db: lake.db).id(band) else { throw LakeError.notFound("no signatures of band \(band)") }
        let scanner = try SeriesScanner(lake: lake)
        scanner.from = from.flatMap(Days.number); scanner.to = to.flatMap(Days.number)
        var hits: [(Int64, Int, Double)] = []
        struct Enough: Error {}
        do {
            try scanner.forEachParcel { pid, rows, _ in
                var best: (Int, Double)?
                for row in rows where row.bandID == bandID {
                    guard let day = scanner.calendar.day(row.obsid) else { continue }
                    if let f = scanner.from, day < f { continue }
                    if let t = scanner.to, day > t { continue }
                    let v = Double(row.stats[k])
                    if range.contains(v), best == nil || day < best!.0 { best = (day, v) }
                }
                if let best { hits.append((pid, best.0, best.1)) }
                if hits.count >= max { throw Enough() }
            }
        } catch is Enough {}
        return try hits.map { StatsPeer(parcel: try ParcelLookup.byPid(lake, pid: $0.0), date: Days.text($0.1), value: $0.2) }
    }

    public struct Comparison: Sendable {
        public let date: String
        public let value: Double?
        public let peers: Int
        public let median: Double?, p10: Double?, p90: Double?
    }

    /// The parcel's clear NDVI series against its peers' median and p10–p90 on the same dates.
    public func compare(_ parcel: ParcelRecord, with peers: [Peer], signal: Signal = .ndvi) throws -> [Comparison] {
        let scanner = try SeriesScanner(lake: lake)
        scanner.pids = Set(peers.map(\.parcel.pid) + [parcel.pid])
        var own: [Int: Double] = [:]
        var others: [Int: [Double]] = [:]
        try scanner.forEachSeries(signal) { pid, points in
            for p in points where p.clear != false {
                if pid == parcel.pid { own[p.day] = p.value } else { others[p.day, default: []].append(p.value) }
            }
        }
        return Set(own.keys).union(others.keys).sorted().map { day in
            let values = others[day] ?? []
            return Comparison(date: Days.text(day), value: own[day], peers: values.count,
                              median: RobustStatistics.median(values), p10: RobustStatistics.percentile(values, 10),
                              p90: RobustStatistics.percentile(values, 90))
        }
    }
}
