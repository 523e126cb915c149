import LakeSQLite
import LakeStore
import LakeSupport
import Foundation

/// What `lake push` sends.
public struct PushOptions: Sendable {
    /// The PostgreSQL schema of the parcel sets' tables (the JRC uses a country code).
    public var schema = "public"
    /// The parcel table's name; default `<aoi>_<year>` per parcel set.
    public var prefix: String?
    public var aoi: String?
    public var year: Int?
    /// Only scenes observed on or after this date (and their signatures and histograms).
    public var since: String?
    public init() {}
}

/// What one parcel set's push did, table by table.
public struct TransferCounts: Sendable {
    public var tables: JRCTables
    /// (table, rows written — inserted or changed, rows already there and equal).
    public var rows: [(table: String, written: Int, unchanged: Int)] = []
    public var seconds = 0.0
    public var written: Int { rows.reduce(0) { $0 + $1.written } }
    public var total: Int { rows.reduce(0) { $0 + $1.written + $1.unchanged } }

    public var json: [String: Any] {
        ["schema": tables.schema, "prefix": tables.prefix, "seconds": seconds,
         "tables": Dictionary(uniqueKeysWithValues: rows.map { ($0.table, ["written": $0.written, "unchanged": $0.unchanged]) })]
    }
}

/// `lake push`: the lake's parcels, scenes, signatures, SCL histograms and results into the JRC
/// CbM tables of a PostgreSQL/PostGIS database, one transaction per parcel set, with COPY.
/// Idempotent: rows already there with the same values are left alone, changed ones replaced,
/// so a second push of the same lake writes nothing.
///
/// Stages, in order: scenes (dias_catalogue, keyed by reference) → parcels (keyed by id and
/// ptype) → signatures per card → histograms → runs and their rows → the push record.
public final class Push {
    let lake: Lake
    let pg: PostgreSQL
    let db: Connection

    public init(lake: Lake, pg: PostgreSQL) {
        self.lake = lake; self.pg = pg; self.db = lake.db
    }

    public func run(_ options: PushOptions) throws -> [TransferCounts] {
        if let since = options.since, !isCalendarDate(since) { throw LakeError.usage("--since \(since): not a date (YYYY-MM-DD)") }
        let sets = try parcelSets(options)
        guard !sets.isEmpty else { throw LakeError.notFound("no parcels to push\(options.aoi.map { " in AOI \($0)" } ?? "")\(options.year.map { " for \($0)" } ?? "")") }
        if options.prefix != nil && sets.count > 1 {
            throw LakeError.usage("--prefix names one parcel set; the lake has \(sets.count) (\(sets.map { "\($0.aoi) \($0.year)" }.joined(separator: ", "))): add --aoi and --year")
        }
        var reports: [TransferCounts] = []
        for set in sets {
            let tables = try JRCTables(schema: options.schema, prefix: options.prefix ?? JRCTables.defaultPrefix(aoi: set.aoi, year: set.year))
            let started = Date()
            var counts = TransferCounts(tables: tables)
            try pg.transaction {
                try tables.create(on: pg, srid: lake.srid)
                let scenes = try pushScenes(since: options.since, counts: &counts)
                let parcels = try pushParcels(set, into: tables, counts: &counts)
                for card in JRCTables.cards where scenes.values.contains(where: { JRCNames.table(card: $0.card) == card }) {
                    try pushSignatures(card: card, parcels: parcels, scenes: scenes, into: tables, counts: &counts)
                }
                try pushHistograms(parcels: parcels, scenes: scenes, into: tables, counts: &counts)
                try pushResults(parcels: parcels, into: tables, counts: &counts)
                try tables.createIndexes(on: pg)
                if counts.written > 0 {   // fresh statistics: the planner then uses the indexes (pull, the JRC server)
                    try pg.execute("ANALYZE \(tables.parcels); ANALYZE \(tables.signatures("s2")); ANALYZE \(tables.signatures("bs")); ANALYZE \(tables.signatures("c6")); ANALYZE \(tables.hists); ANALYZE \(JRCTables.catalogue)")
                }
                if counts.written > 0 {
                    try pg.query("INSERT INTO \(tables.pushes) (lake, lake_version, counts) VALUES ($1, $2, $3)",
                                 [lake.path, LakeVersion.current, JSONText.render(counts.json)])
                }
            }
            counts.seconds = Date().timeIntervalSince(started)
            reports.append(counts)
        }
        return reports
    }

    struct ParcelSet { let aoi: String; let year: Int; let count: Int }

    func parcelSets(_ options: PushOptions) throws -> [ParcelSet] {
        let s = try db.prepare("""
            SELECT aoi, year, count(*) FROM parcels WHERE (?1 IS NULL OR aoi = ?1) AND (?2 IS NULL OR year = ?2)
            GROUP BY aoi, year ORDER BY aoi, year
            """)
        try s.bind([options.aoi.map(SQLValue.text) ?? .null, options.year.map { .int(Int64($0)) } ?? .null])
        var sets: [ParcelSet] = []
        while try s.step() { sets.append(ParcelSet(aoi: s.text(0) ?? "", year: Int(s.int(1)), count: Int(s.int(2)))) }
        return sets
    }

    // MARK: Scenes

    struct Scene { let id: Int32; let card: String }

    /// Scenes into dias_catalogue (new references inserted; a reference already there with
    /// another time or card is a conflict) and dias_catalogue_lake; lake obsid → database id.
    func pushScenes(since: String?, counts: inout TransferCounts) throws -> [Int64: Scene] {
        try pg.execute("""
            CREATE TEMP TABLE lake_scenes (obsid bigint, obstime timestamp, reference text, sensor text, card text,
                status text, footprint text, platform text, tile text, relative_orbit integer, cloud_cover real,
                processing_baseline text, radiometric_offset real, assets json, source text) ON COMMIT DROP
            """)
        let read = try db.prepare("""
            SELECT obsid, obstime, reference, sensor, card, status, hex(AsBinary(footprint)), platform, tile,
                   relative_orbit, cloud_cover, processing_baseline, radiometric_offset, assets, source
            FROM catalogue WHERE ?1 IS NULL OR obstime >= ?1 ORDER BY obsid
            """)
        try read.bind([since.map(SQLValue.text) ?? .null])
        try pg.copyIn("COPY lake_scenes FROM STDIN") { w in
            while try read.step() {
                for i in 0..<15 {
                    if i > 0 { w.tab() }
                    let value = read.isNull(Int32(i)) ? nil : read.text(Int32(i))
                    w.text(i == 4 ? value.map(JRCNames.card) : value)
                }
                try w.endRow()
            }
        }
        let clashes = try pg.execute("""
            SELECT s.reference, d.obstime, s.obstime, d.card, s.card FROM lake_scenes s JOIN \(JRCTables.catalogue) d USING (reference)
            WHERE d.obstime <> s.obstime OR d.card <> s.card LIMIT 5
            """)
        if let c = clashes.first {
            throw LakeError.remote("scene \(c[0] ?? "") is in dias_catalogue as \(c[3] ?? "") at \(c[1] ?? ""); the lake has \(c[4] ?? "") at \(c[2] ?? "") (\(clashes.count > 1 ? "and others; " : "")nothing was pushed)")
        }
        // New scenes keep lake's obsid as id where it is free (a lake pushed into an empty
        // database and pulled back has the same obsids); the id sequence then moves past them.
        let inserted = try pg.count("""
            WITH base AS (SELECT greatest((SELECT coalesce(max(id), 0) FROM \(JRCTables.catalogue)),
                                          (SELECT coalesce(max(obsid), 0) FROM lake_scenes)) AS b),
                 new AS (SELECT s.*, row_number() OVER (ORDER BY s.obsid) AS n FROM lake_scenes s
                         WHERE NOT EXISTS (SELECT 1 FROM \(JRCTables.catalogue) d WHERE d.reference = s.reference))
            INSERT INTO \(JRCTables.catalogue) (id, obstime, reference, sensor, card, status, footprint)
            SELECT CASE WHEN EXISTS (SELECT 1 FROM \(JRCTables.catalogue) q WHERE q.id = s.obsid) THEN base.b + s.n ELSE s.obsid END,
                   s.obstime, s.reference, s.sensor, s.card, left(s.status, 24),
                   CASE WHEN s.footprint IS NOT NULL THEN ST_GeometryN(ST_GeomFromWKB(decode(s.footprint, 'hex'), 4326), 1) END
            FROM new s, base ORDER BY s.obsid
            ON CONFLICT (reference) DO NOTHING
            """)
        if inserted > 0 {
            try pg.execute("SELECT setval(pg_get_serial_sequence('\(JRCTables.catalogue)', 'id'), (SELECT max(id) FROM \(JRCTables.catalogue)))")
        }
        let total = Int(try pg.execute("SELECT count(*) FROM lake_scenes").first?.first??.description ?? "0") ?? 0
        counts.rows.append(("dias_catalogue", inserted, total - inserted))
        let extra = try pg.count("""
            INSERT INTO \(JRCTables.catalogueLake) AS l (id, platform, tile, relative_orbit, cloud_cover, processing_baseline,
                radiometric_offset, assets, source, footprint)
            SELECT d.id, s.platform, s.tile, s.relative_orbit, s.cloud_cover, s.processing_baseline, s.radiometric_offset,
                   s.assets, s.source, CASE WHEN s.footprint IS NOT NULL THEN ST_Multi(ST_GeomFromWKB(decode(s.footprint, 'hex'), 4326)) END
            FROM lake_scenes s JOIN \(JRCTables.catalogue) d USING (reference)
            ON CONFLICT (id) DO UPDATE SET platform = excluded.platform, tile = excluded.tile, relative_orbit = excluded.relative_orbit,
                cloud_cover = excluded.cloud_cover, processing_baseline = excluded.processing_baseline,
                radiometric_offset = excluded.radiometric_offset, assets = excluded.assets, source = excluded.source,
                footprint = excluded.footprint
            WHERE (l.platform, l.tile, l.relative_orbit, l.cloud_cover, l.processing_baseline, l.radiometric_offset, l.assets::text, l.source)
                IS DISTINCT FROM (excluded.platform, excluded.tile, excluded.relative_orbit, excluded.cloud_cover,
                excluded.processing_baseline, excluded.radiometric_offset, excluded.assets::text, excluded.source)
                OR NOT ST_OrderingEquals(l.footprint, excluded.footprint)
            """)
        counts.rows.append(("dias_catalogue_lake", extra, total - extra))
        var map: [Int64: Scene] = [:]
        for row in try pg.execute("SELECT s.obsid, d.id, s.card FROM lake_scenes s JOIN \(JRCTables.catalogue) d USING (reference)") {
            guard let obsid = row[0].flatMap({ Int64($0) }), let id = row[1].flatMap({ Int32($0) }) else { continue }
            map[obsid] = Scene(id: id, card: JRCNames.lakeCard(row[2] ?? "s2"))
        }
        return map
    }

    // MARK: Parcels

    /// The set's parcels into `<prefix>`: new (id, ptype) inserted, keeping lake's pid as
    /// ogc_fid where it is free; changed ones updated. lake pid → ogc_fid, in pid order.
    func pushParcels(_ set: ParcelSet, into tables: JRCTables, counts: inout TransferCounts) throws -> [(pid: Int64, fid: Int32)] {
        try pg.execute("""
            CREATE TEMP TABLE lake_parcels (pid bigint, id text, ptype text, code text, name text, area double precision,
                attributes json, geom text) ON COMMIT DROP
            """)
        let read = try db.prepare("""
            SELECT pid, parcel_id, ptype, crop_code, crop_name, area, attributes, hex(AsBinary(geom))
            FROM parcels WHERE aoi = ? AND year = ? ORDER BY pid
            """)
        try read.bind([.text(set.aoi), .int(Int64(set.year))])
        try pg.copyIn("COPY lake_parcels FROM STDIN") { w in
            while try read.step() {
                for i in 0..<8 {
                    if i > 0 { w.tab() }
                    w.text(read.isNull(Int32(i)) ? nil : i == 5 ? Self.real(read.double(5)) : read.text(Int32(i)))
                }
                try w.endRow()
            }
        }
        // The table's SRID (another than the lake's when the table was there before).
        let srid = try pg.query("SELECT Find_SRID($1, $2, 'wkb_geometry')", [tables.schema, tables.prefix]).first?.first??.description ?? "\(lake.srid)"
        let geometry = srid == "\(lake.srid)" ? "ST_GeomFromWKB(decode(t.geom, 'hex'), \(srid))"
            : "ST_Transform(ST_GeomFromWKB(decode(t.geom, 'hex'), \(lake.srid)), \(srid))"
        let updated = try pg.count("""
            UPDATE \(tables.parcels) p SET code = t.code, name = t.name, area = t.area, attributes = t.attributes,
                wkb_geometry = \(geometry)
            FROM lake_parcels t WHERE p.id = t.id AND p.ptype = t.ptype
              AND ((p.code, p.name, p.area, p.attributes::text) IS DISTINCT FROM (t.code, t.name, t.area, t.attributes::text)
                   OR NOT ST_OrderingEquals(p.wkb_geometry, \(geometry)))
            """)
        let inserted = try pg.count("""
            WITH base AS (SELECT greatest((SELECT coalesce(max(ogc_fid), 0) FROM \(tables.parcels)),
                                          (SELECT coalesce(max(pid), 0) FROM lake_parcels)) AS b),
                 new AS (SELECT t.*, row_number() OVER (ORDER BY t.pid) AS n FROM lake_parcels t
                         WHERE NOT EXISTS (SELECT 1 FROM \(tables.parcels) p WHERE p.id = t.id AND p.ptype = t.ptype))
            INSERT INTO \(tables.parcels) (ogc_fid, id, ptype, code, name, area, attributes, wkb_geometry)
            SELECT CASE WHEN EXISTS (SELECT 1 FROM \(tables.parcels) q WHERE q.ogc_fid = t.pid) THEN base.b + t.n ELSE t.pid END,
                   t.id, t.ptype, t.code, t.name, t.area, t.attributes, \(geometry)
            FROM new t, base ORDER BY t.pid
            """)
        counts.rows.append((tables.prefix, inserted + updated, set.count - inserted - updated))
        return try pg.execute("SELECT t.pid, p.ogc_fid FROM lake_parcels t JOIN \(tables.parcels) p USING (id, ptype) ORDER BY t.pid")
            .compactMap { row in
                guard let pid = row[0].flatMap({ Int64($0) }), let fid = row[1].flatMap({ Int32($0) }) else { return nil }
                return (pid, fid)
            }
    }

    /// A REAL as text that reads back as the same double.
    static func real(_ value: Double) -> String { "\(value)" }

    // MARK: Signatures

    /// One card's signature rows, in binary COPY: straight into the table when it is empty,
    /// else through a staging table (rows already there and equal stay untouched).
    func pushSignatures(card: String, parcels: [(pid: Int64, fid: Int32)], scenes: [Int64: Scene],
                        into tables: JRCTables, counts: inout TransferCounts) throws {
        let table = tables.signatures(card)
        let empty = try pg.execute("SELECT NOT EXISTS (SELECT 1 FROM \(table))").first?.first??.description == "t"
        if !empty { try pg.execute("CREATE TEMP TABLE lake_stage (LIKE \(table)) ON COMMIT DROP") }
        let store = SignatureStore(db: db)
        let bands = try BandDictionary(db: db)
        var names: [UInt8: String] = [:]
        func name(_ band: UInt8, _ sceneCard: String) throws -> String {
            if let n = names[band] { return JRCNames.band(n, card: sceneCard) }
            let n = bands.name(band)
            guard JRCNames.band(n, card: card).utf8.count <= 3 else {
                throw LakeError.usage("band \(n) does not fit the JRC's band column (character(3)); push leaves no part behind")
            }
            names[band] = n
            return JRCNames.band(n, card: sceneCard)
        }
        let progress = Progress("push \(card) signatures", total: parcels.count)
        var rows = 0
        let loaded = try pg.copyIn("COPY \(empty ? table : "lake_stage") FROM STDIN (FORMAT binary)") { w in
            w.binaryHeader()
            for (i, parcel) in parcels.enumerated() {
                for row in try store.series(pid: parcel.pid) {
                    guard let scene = scenes[row.obsid], JRCNames.table(card: scene.card) == card else { continue }
                    try w.beginRow(fields: 11)
                    w.int32Field(parcel.fid)
                    w.int32Field(scene.id)
                    w.textField(try name(row.bandID, scene.card))
                    for k in 0..<8 { w.float32Field(row.stats[k]) }
                    rows += 1
                }
                if i % 256 == 0 { progress.set(i) }
            }
            w.binaryTrailer()
        }
        progress.finish()
        let short = "\(tables.prefix)_\(card)_signatures"
        guard !empty else { counts.rows.append((short, loaded, 0)); return }
        try pg.execute("CREATE INDEX ON lake_stage (pid, obsid, band); ANALYZE lake_stage")
        let key = "t.pid = s.pid AND t.obsid = s.obsid AND t.band = s.band"
        try pg.count("""
            DELETE FROM \(table) t USING lake_stage s WHERE \(key)
              AND (t.count, t.mean, t.std, t.min, t.max, t.p25, t.p50, t.p75) IS DISTINCT FROM
                  (s.count, s.mean, s.std, s.min, s.max, s.p25, s.p50, s.p75)
            """)
        let inserted = try pg.count("INSERT INTO \(table) SELECT s.* FROM lake_stage s WHERE NOT EXISTS (SELECT 1 FROM \(table) t WHERE \(key))")
        try pg.execute("DROP TABLE lake_stage")
        counts.rows.append((short, inserted, rows - inserted))
    }

    // MARK: Histograms

    func pushHistograms(parcels: [(pid: Int64, fid: Int32)], scenes: [Int64: Scene],
                        into tables: JRCTables, counts: inout TransferCounts) throws {
        let fids = Dictionary(uniqueKeysWithValues: parcels.map { ($0.pid, $0.fid) })
        let table = tables.hists
        let empty = try pg.execute("SELECT NOT EXISTS (SELECT 1 FROM \(table))").first?.first??.description == "t"
        if !empty { try pg.execute("CREATE TEMP TABLE lake_stage (LIKE \(table)) ON COMMIT DROP") }
        let read = try db.prepare("SELECT pid, obsid, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11 FROM scl_hist ORDER BY pid, obsid")
        var rows = 0
        let loaded = try pg.copyIn("COPY \(empty ? table : "lake_stage") FROM STDIN") { w in
            while try read.step() {
                guard let fid = fids[read.int(0)], let scene = scenes[read.int(1)] else { continue }
                var json = "{"
                for c in 0..<12 where read.int(Int32(2 + c)) != 0 {
                    if json.count > 1 { json += ", " }
                    json += "\"\(c)\": \(read.int(Int32(2 + c)))"
                }
                w.text(String(fid)); w.tab(); w.text(String(scene.id)); w.tab(); w.text(json + "}")
                try w.endRow()
                rows += 1
            }
        }
        let short = "\(tables.prefix)_s2_hists"
        guard !empty else { counts.rows.append((short, loaded, 0)); return }
        let key = "t.pid = s.pid AND t.obsid = s.obsid"
        try pg.count("DELETE FROM \(table) t USING lake_stage s WHERE \(key) AND t.hist::jsonb IS DISTINCT FROM s.hist::jsonb")
        let inserted = try pg.count("INSERT INTO \(table) SELECT s.* FROM lake_stage s WHERE NOT EXISTS (SELECT 1 FROM \(table) t WHERE \(key))")
        try pg.execute("DROP TABLE lake_stage")
        counts.rows.append((short, inserted, rows - inserted))
    }

    // MARK: Results

    /// Finished runs the database does not have yet, with their markers, decisions and
    /// heterogeneity rows of this set's parcels. A run is never changed once pushed.
    func pushResults(parcels: [(pid: Int64, fid: Int32)], into tables: JRCTables, counts: inout TransferCounts) throws {
        let fids = Dictionary(uniqueKeysWithValues: parcels.map { ($0.pid, $0.fid) })
        let known = Set(try pg.execute("SELECT uid FROM \(tables.runs)").compactMap { $0[0] })
        var runs: [(id: Int64, uid: String)] = []
        let list = try db.prepare("SELECT run_id, uid FROM runs WHERE status = 'done' AND uid IS NOT NULL ORDER BY run_id")
        while try list.step() { if let uid = list.text(1), !known.contains(uid) { runs.append((list.int(0), uid)) } }
        let total = try db.scalar("SELECT count(*) FROM runs WHERE status = 'done'")?.int ?? 0
        counts.rows.append(("\(tables.prefix)_lake_runs", runs.count, Int(total) - runs.count))
        guard !runs.isEmpty else { return }
        let ids = runs.map { String($0.id) }.joined(separator: ",")
        let uids = Dictionary(uniqueKeysWithValues: runs.map { ($0.id, $0.uid) })

        /// Copies `sql`'s rows (run_id first, pid second, then the table's other columns) with
        /// the run's uid and the parcel's ogc_fid in their place.
        func copy(_ sql: String, into table: String, columns: String, perParcel: Bool = true) throws -> Int {
            let read = try db.prepare(sql)
            return try pg.copyIn("COPY \(table) (\(columns)) FROM STDIN") { w in
                while try read.step() {
                    guard let uid = uids[read.int(0)] else { continue }
                    w.text(uid)
                    var first = 1
                    if perParcel {
                        guard let fid = fids[read.int(1)] else { continue }
                        w.tab(); w.text(String(fid)); first = 2
                    }
                    for i in first..<Int(read.columnCount) {
                        w.tab()
                        if read.isNull(Int32(i)) { w.text(nil) }
                        else if case .double(let d) = read.value(Int32(i)) { w.text(Self.real(d)) }
                        else { w.text(read.text(Int32(i))) }
                    }
                    try w.endRow()
                }
            }
        }
        _ = try copy("SELECT run_id, kind, started, finished, lake_version, options, inputs, summary, status FROM runs WHERE run_id IN (\(ids))",
                         into: tables.runs, columns: "uid, kind, started, finished, lake_version, options, inputs, summary, status", perParcel: false)
        let m = try copy("""
            SELECT run_id, pid, signal, detector, kind, start_date, date, end_date, value_start, value_end, magnitude, confidence, details
            FROM markers WHERE run_id IN (\(ids)) ORDER BY run_id, pid
            """, into: tables.markers, columns: "run_uid, pid, signal, detector, kind, start_date, date, end_date, value_start, value_end, magnitude, confidence, details")
        counts.rows.append(("\(tables.prefix)_lake_markers", m, 0))
        let d = try copy("SELECT run_id, pid, scheme, colour, clear_obs, reasons FROM decisions WHERE run_id IN (\(ids)) ORDER BY run_id, pid",
                         into: tables.decisions, columns: "run_uid, pid, scheme, colour, clear_obs, reasons")
        counts.rows.append(("\(tables.prefix)_lake_decisions", d, 0))
        let h = try copy("""
            SELECT run_id, pid, crop_group, n_obs, cv, qd, qskew, score, rank, flag, split_dates
            FROM heterogeneity WHERE run_id IN (\(ids)) ORDER BY run_id, pid
            """, into: tables.heterogeneity, columns: "run_uid, pid, crop_group, n_obs, cv, qd, qskew, score, rank, flag, split_dates")
        counts.rows.append(("\(tables.prefix)_lake_heterogeneity", h, 0))
    }
}
