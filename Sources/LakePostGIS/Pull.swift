import Foundation
import LakeSQLite
import LakeStore
import LakeSupport
import LakeTransfer

/// What `lake pull` takes from the database.
public struct PullOptions: Sendable {
    public var schema = "public"
    public var prefix: String?
    /// The parcel set: its AOI and year in the lake (and, by default, its table `<aoi>_<year>`).
    public var aoi = ""
    public var year = 0
    /// Only parcels in a box, a polygon or a list (its aoi and year are not used: see above).
    public var selection = ParcelSelection()
    /// The parcel table's columns (the JRC server's pcolumns): id, crop code and crop name.
    public var idColumn = "id"
    public var codeColumn = "code"
    public var nameColumn = "name"
    /// Parcels per committed step: an interrupted pull starts again after the last one.
    public var chunk = 2_000
    public init() {}
}

/// `lake pull`: a parcel set of a JRC CbM database (one lake pushed, or the JRC's own) into the
/// lake — parcels, the scenes their signatures refer to, signatures of every card, SCL
/// histograms and lake's runs — streaming in binary COPY, a chunk of parcels per transaction.
/// Memory stays at one chunk's signatures. What was pulled is recorded in `ingest_log`
/// (kind `pull`); a pull stopped half way continues after its last committed chunk when run again.
public final class Pull {
    let lake: Lake
    let pg: PostgreSQL
    let db: Connection
    /// The histogram column is jsonb (its binary form starts with a version byte), not json or text.
    var histogramsAreJSONB = false

    public init(lake: Lake, pg: PostgreSQL) {
        self.lake = lake; self.pg = pg; self.db = lake.db
    }

    public struct Counts: Sendable {
        public var parcels = 0, parcelsNew = 0, scenes = 0, scenesNew = 0
        public var signatures = 0, histograms = 0, runs = 0, results = 0
        public var skipped = 0
        public var resumedAfter: Int?
        public var seconds = 0.0
        public var rows: Int { parcels + scenes + signatures + histograms + runs + results }
        public var json: [String: Any] {
            var j: [String: Any] = ["parcels": parcels, "parcels_new": parcelsNew, "scenes": scenes, "scenes_new": scenesNew,
                                    "signatures": signatures, "histograms": histograms, "runs": runs, "results": results,
                                    "skipped": skipped, "seconds": seconds]
            if let resumedAfter { j["resumed_after_ogc_fid"] = resumedAfter }
            return j
        }
    }

    /// The EPSG code of the parcel table's geometries (a new lake is made with it).
    public static func tableSRID(_ pg: PostgreSQL, _ options: PullOptions) throws -> Int {
        let tables = try JRCTables(schema: options.schema, prefix: options.prefix ?? JRCTables.defaultPrefix(aoi: options.aoi, year: options.year))
        guard try pg.query("SELECT to_regclass($1) IS NOT NULL", [tables.parcels]).first?.first??.description == "t" else {
            throw LakeError.notFound("\(pg.target) has no table \(tables.parcels)")
        }
        guard let srid = try pg.query("SELECT Find_SRID($1, $2, 'wkb_geometry')", [tables.schema, tables.prefix]).first?.first.flatMap({ $0 }).flatMap({ Int($0) }) else {
            throw LakeError.remote("\(tables.parcels).wkb_geometry is not a registered geometry column")
        }
        return srid
    }

    public func run(_ options: PullOptions) throws -> Counts {
        let started = Date()
        let tables = try JRCTables(schema: options.schema, prefix: options.prefix ?? JRCTables.defaultPrefix(aoi: options.aoi, year: options.year))
        for column in [options.idColumn, options.codeColumn, options.nameColumn] where !JRCTables.isIdentifier(column) {
            throw LakeError.usage("column \(column): lower-case letters, digits and _ only")
        }
        guard try exists(tables.parcels) else { throw LakeError.notFound("\(pg.target) has no table \(tables.parcels)") }
        let columns = Set(try pg.query("""
            SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2
            """, [tables.schema, tables.prefix]).compactMap { $0[0] })
        for needed in ["ogc_fid", "wkb_geometry", options.idColumn] where !columns.contains(needed) {
            throw LakeError.remote("\(tables.parcels) has no column \(needed) (\(columns.sorted().joined(separator: ", ")))")
        }
        let sourceSRID = Int(try pg.query("SELECT Find_SRID($1, $2, 'wkb_geometry')", [tables.schema, tables.prefix]).first?.first??.description ?? "") ?? lake.srid

        let source = "postgresql://\(pg.target)/\(tables.schema).\(tables.prefix)"
        var request = options.selection.json
        request["aoi"] = options.aoi; request["year"] = options.year
        let requestText = JSONText.render(request, pretty: false)

        var counts = Counts()
        try pg.transaction {   // one snapshot of the database for the whole pull
            try pg.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            try select(options, tables: tables, srid: sourceSRID)
            // Resume: an unfinished pull of the same request continues after its last chunk.
            let log = try resumePoint(source: source, request: requestText)
            counts.resumedAfter = log.after
            // The set's tables the database has, looked up once.
            let candidates = JRCTables.cards.map { tables.signatures($0) } + [tables.hists, tables.runs, JRCTables.catalogueLake]
            let existing = Set(try candidates.filter { try exists($0) })
            let scenes = try pullScenes(tables: tables, existing: existing, everything: !options.selection.narrowed, counts: &counts)
            let selected = try pg.execute("SELECT ogc_fid FROM lake_pull WHERE ogc_fid > \(log.after ?? Int.min) ORDER BY ogc_fid")
                .compactMap { $0[0].flatMap { Int32($0) } }
            let progress = Progress("pull parcels", total: selected.count)
            let bands = try BandDictionary(db: db)
            histogramsAreJSONB = try pg.query("""
                SELECT data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name = 'hist'
                """, [tables.schema, tables.prefix + "_s2_hists"]).first?.first??.description == "jsonb"
            // PostgreSQL's COPY read and decoded on a thread of its own, a chunk ahead of the
            // writer: the server, the reader and SQLite each keep a core busy.
            let chunks = stride(from: 0, to: selected.count, by: options.chunk).map { Array(selected[$0..<min($0 + options.chunk, selected.count)]) }
            var done = 0
            try pipelined(batchSize: 1, depth: 1, produce: { emit in
                for chunk in chunks {
                    try emit(try self.fetch(chunk, options: options, tables: tables, existing: existing, columns: columns, srid: sourceSRID, scenes: scenes))
                }
            }, consume: { (data: Chunk) in
                try db.transaction {
                    let before = counts.parcelsNew
                    let pids = try storeParcels(data, options: options, source: source, counts: &counts)
                    try storeSignatures(data, pids: pids, bands: bands, counts: &counts)
                    try storeHistograms(data, pids: pids, counts: &counts)
                    _ = try SCLSummary.refresh(db)   // this chunk's parcels, while the reader fetches the next
                    try db.run("UPDATE ingest_log SET read = read + ?, inserted = inserted + ?, skipped = ? WHERE id = ?",
                               .int(Int64(data.ids.count)), .int(Int64(counts.parcelsNew - before)), .int(Int64(counts.skipped)), .int(log.id))
                    try db.run("INSERT OR REPLACE INTO lake_meta (key, value) VALUES (?, ?)", .text("pull:\(log.id)"), .text(String(data.ids.last!)))
                }
                done += data.ids.count
                progress.set(done)
            })
            progress.finish()
            try db.transaction {
                if existing.contains(tables.runs) { try pullResults(tables: tables, options: options, counts: &counts) }
                _ = try SCLSummary.refresh(db)
                try db.run("UPDATE ingest_log SET finished = ? WHERE id = ?", .text(isoTimestampNow()), .int(log.id))
                try db.run("DELETE FROM lake_meta WHERE key = ?", .text("pull:\(log.id)"))
            }
        }
        counts.seconds = Date().timeIntervalSince(started)
        return counts
    }

    func exists(_ table: String) throws -> Bool {
        try pg.query("SELECT to_regclass($1) IS NOT NULL", [table]).first?.first??.description == "t"
    }

    // MARK: Selection

    /// The parcels to pull, as temporary table lake_pull (ogc_fid).
    func select(_ options: PullOptions, tables: JRCTables, srid: Int) throws {
        var condition = "true"
        if let b = options.selection.bbox {
            condition = "ST_Intersects(p.wkb_geometry, ST_Transform(ST_MakeEnvelope(\(b[0]), \(b[1]), \(b[2]), \(b[3]), 4326), \(srid)))"
        } else if let file = options.selection.polygon {
            try pg.execute("CREATE TEMP TABLE lake_area (geom geometry) ON COMMIT DROP")
            do {
                switch try ParcelSelection.area(file) {
                case .wkt(let text):
                    try pg.query("INSERT INTO lake_area SELECT ST_Transform(ST_GeomFromText($1, 4326), \(srid))", [text])
                case .geojson(let parts):
                    for part in parts { try pg.query("INSERT INTO lake_area SELECT ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON($1), 4326), \(srid))", [part]) }
                }
                try pg.execute("CREATE TEMP TABLE lake_area_union ON COMMIT DROP AS SELECT ST_Union(geom) AS geom FROM lake_area")
            } catch let LakeError.remote(message) {
                throw LakeError.input(file: file, location: nil, reason: "not a polygon in WGS 84 (WKT or GeoJSON): \(message.split(separator: "\n").first ?? "")")
            }
            condition = "ST_Intersects(p.wkb_geometry, (SELECT geom FROM lake_area_union))"
        } else if let file = options.selection.parcels {
            let ids = try ParcelSelection.ids(file)
            try pg.execute("CREATE TEMP TABLE lake_ids (id text) ON COMMIT DROP")
            try pg.copyIn("COPY lake_ids FROM STDIN") { w in for id in ids { w.text(id); try w.endRow() } }
            condition = "p.\(options.idColumn)::text IN (SELECT id FROM lake_ids)"
        }
        try pg.execute("CREATE TEMP TABLE lake_pull ON COMMIT DROP AS SELECT p.ogc_fid FROM \(tables.parcels) p WHERE \(condition) ORDER BY p.ogc_fid")
        try pg.execute("CREATE INDEX ON lake_pull (ogc_fid); ANALYZE lake_pull")
    }

    /// This request's unfinished log entry (and the last ogc_fid it committed), or a new one.
    func resumePoint(source: String, request: String) throws -> (id: Int64, after: Int?) {
        let find = try db.prepare("""
            SELECT l.id, m.value FROM ingest_log l LEFT JOIN lake_meta m ON m.key = 'pull:' || l.id
            WHERE l.kind = 'pull' AND l.source = ? AND l.options = ? AND l.finished IS NULL ORDER BY l.id DESC LIMIT 1
            """)
        try find.bind([.text(source), .text(request)])
        if try find.step() { return (find.int(0), find.text(1).flatMap { Int($0) }) }
        let id = try db.transaction { () throws -> Int64 in
            try db.run("INSERT INTO ingest_log (kind, source, started, options) VALUES ('pull', ?, ?, ?)",
                       .text(source), .text(isoTimestampNow()), .text(request))
            return db.lastInsertRowID
        }
        return (id, nil)
    }

    // MARK: Scenes

    /// Every scene the selected parcels' signatures and histograms refer to, into the catalogue
    /// (matched by reference; new ones keep the database id as obsid where it is free).
    /// Database id → lake obsid.
    func pullScenes(tables: JRCTables, existing: Set<String>, everything: Bool, counts: inout Counts) throws -> [Int32: Int64] {
        // With every parcel wanted, a scene is used when any row names it: one probe of the
        // tables' obsid index per catalogue row, not a pass over every signature.
        var used: [String] = []
        var tablesWithRows: [String] = JRCTables.cards.map { tables.signatures($0) }
        tablesWithRows.append(tables.hists)
        for table in tablesWithRows where existing.contains(table) {
            used.append(everything ? "EXISTS (SELECT 1 FROM \(table) s WHERE s.obsid = d.id)"
                        : "d.id IN (SELECT s.obsid FROM \(table) s JOIN lake_pull l ON l.ogc_fid = s.pid)")
        }
        guard !used.isEmpty else { return [:] }
        let side = existing.contains(JRCTables.catalogueLake)
        let extra = side
            ? "x.platform, x.tile, x.relative_orbit, x.cloud_cover, x.processing_baseline, x.radiometric_offset, x.assets::text, x.source, encode(ST_AsBinary(coalesce(x.footprint, ST_Multi(d.footprint))), 'hex')"
            : "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, encode(ST_AsBinary(ST_Multi(d.footprint)), 'hex')"
        let rows = try pg.execute("""
            SELECT d.id, to_char(d.obstime, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), d.reference, d.sensor, d.card, d.status, \(extra)
            FROM \(JRCTables.catalogue) d \(side ? "LEFT JOIN \(JRCTables.catalogueLake) x ON x.id = d.id" : "")
            WHERE \(used.joined(separator: " OR "))
            ORDER BY d.id
            """)
        let find = try db.prepare("SELECT obsid, obstime, card FROM catalogue WHERE reference = ?")
        let free = try db.prepare("SELECT NOT EXISTS (SELECT 1 FROM catalogue WHERE obsid = ?)")
        let insert = try db.prepare("""
            INSERT INTO catalogue (obsid, reference, obstime, platform, sensor, card, tile, relative_orbit, cloud_cover,
                processing_baseline, radiometric_offset, status, assets, source, source_id, footprint)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CastToMultiPolygon(GeomFromWKB(?, 4326)))
            """)
        var map: [Int32: Int64] = [:]
        try db.transaction {
            for r in rows {
                guard let id = r[0].flatMap({ Int32($0) }), let obstime = r[1], let reference = r[2] else { continue }
                let card = JRCNames.lakeCard(r[4] ?? "s2")
                find.reset()
                try find.bind([.text(reference)])
                if try find.step() {
                    guard find.text(1) == obstime, find.text(2) == card else {
                        throw LakeError.remote("scene \(reference) is in the lake as \(find.text(2) ?? "") at \(find.text(1) ?? ""), in the database as \(card) at \(obstime); nothing was pulled")
                    }
                    map[id] = find.int(0)
                    counts.scenes += 1
                    continue
                }
                free.reset()
                try free.bind([.int(Int64(id))])
                let keep = try free.step() && free.int(0) == 1
                var status = r[5] ?? "ingested"
                if !["ingested", "inprogress", "extracted"].contains(status) && !status.hasPrefix("failed:") { status = "ingested" }
                let sensor = (r[3] ?? "").trimmed()
                let platform = r[6] ?? (sensor.count == 2 ? "sentinel-\(sensor.lowercased())" : nil)
                insert.reset()
                try insert.bind([
                    keep ? .int(Int64(id)) : .null, .text(reference), .text(obstime), platform.map(SQLValue.text) ?? .null,
                    .text(sensor), .text(card), r[7].map(SQLValue.text) ?? .null, r[8].flatMap { Int64($0) }.map(SQLValue.int) ?? .null,
                    r[9].flatMap { Double($0) }.map(SQLValue.double) ?? .null, r[10].map(SQLValue.text) ?? .null,
                    .double(r[11].flatMap { Double($0) } ?? 0), .text(status), .text(r[12] ?? "{}"),
                    .text(r[13] ?? "postgresql://\(pg.target)"), .int(Int64(id)),
                    r[14].map { .blob(Self.bytes(hex: $0)) } ?? .null,
                ])
                try insert.step()
                map[id] = db.lastInsertRowID
                counts.scenes += 1; counts.scenesNew += 1
            }
        }
        return map
    }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8?
        for c in hex.utf8 {
            let v: UInt8 = c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        return out
    }

    // MARK: One chunk: fetched from PostgreSQL (reader thread), stored in the lake (writer)

    /// A chunk of parcels as read from the database, nothing of the lake touched yet.
    struct Chunk {
        var ids: [Int32]
        var parcels: [(fid: Int32, id: String, ptype: String, code: String?, name: String?, area: Double, attributes: String, wkb: [UInt8])] = []
        /// Per parcel, its signature rows; band ids index `bandNames` until the writer maps them.
        var series: [(fid: Int32, rows: [SignatureRow])] = []
        var bandNames: [String] = []
        var hists: [(fid: Int32, obsid: Int64, counts: [Int])] = []
        var skipped = 0
    }

    func fetch(_ chunk: [Int32], options: PullOptions, tables: JRCTables, existing: Set<String>, columns: Set<String>, srid: Int,
               scenes: [Int32: Int64]) throws -> Chunk {
        var data = Chunk(ids: chunk)
        // With no selection every pid in the range is wanted: no semi-join with lake_pull
        // (a sixth of the server's time); rows of pids that are not parcels are dropped here.
        let everything = !options.selection.narrowed
        let range = "BETWEEN \(chunk.first!) AND \(chunk.last!)" + (everything ? "" : " AND %@ IN (SELECT ogc_fid FROM lake_pull)")
        func within(_ column: String) -> String { range.replacingOccurrences(of: "%@", with: column) }

        // Parcels (geometry in the lake's SRID, area on the ellipsoid where the table has none).
        func column(_ name: String, _ fallback: String) -> String { columns.contains(name) ? "p.\(name)::text" : fallback }
        let geometry = srid == lake.srid ? "p.wkb_geometry" : "ST_Transform(p.wkb_geometry, \(lake.srid))"
        let area = columns.contains("area") ? "coalesce(p.area, ST_Area(geography(ST_Transform(p.wkb_geometry, 4326))))::float8"
            : "ST_Area(geography(ST_Transform(p.wkb_geometry, 4326)))::float8"
        var first = true
        try pg.copyOut("""
            COPY (SELECT p.ogc_fid::int4, p.\(options.idColumn)::text, \(column("ptype", "''")), \(column(options.codeColumn, "NULL")),
                  \(column(options.nameColumn, "NULL")), \(area), \(column("attributes", "'{}'")), ST_AsBinary(ST_Multi(\(geometry)))
                  FROM \(tables.parcels) p WHERE p.ogc_fid \(within("p.ogc_fid")) ORDER BY p.ogc_fid) TO STDOUT (FORMAT binary)
            """) { message in
            var row = try BinaryCopyRow(message, first: first)
            first = false
            guard !row.isTrailer, let fid = try row.int32(), let id = try row.text() else { return }
            let ptype = try row.text() ?? "", code = try row.text(), name = try row.text()
            let areaValue = try row.float64()
            let attributes = try row.text() ?? "{}"
            guard let wkb = try row.fieldBytes() else { data.skipped += 1; printWarning("parcel \(id) (ogc_fid \(fid)) has no geometry: skipped"); return }
            data.parcels.append((fid, id, ptype, code, name, areaValue, attributes, wkb))
        }
        let present = Set(data.parcels.map(\.fid))

        // Signatures of every card. Rows of one parcel arrive together (the tables are kept in
        // pid order): its slot is looked up only when the pid changes.
        var slots: [Int32: Int] = [:]
        var bandIndex: [String: UInt8] = [:]
        for card in JRCTables.cards where existing.contains(tables.signatures(card)) {
            first = true
            var lastFid: Int32 = -1, slot = -1
            try pg.copyOut("""
                COPY (SELECT s.pid, s.obsid, s.band, s.count, s.mean, s.std, s.min, s.max, s.p25, s.p50, s.p75
                      FROM \(tables.signatures(card)) s WHERE s.pid \(within("s.pid"))) TO STDOUT (FORMAT binary)
                """) { message in
                var row = try BinaryCopyRow(message, first: first)
                first = false
                guard !row.isTrailer else { return }
                guard let fid = try row.int32(), let obs = try row.int32(), let band = try row.text(),
                      present.contains(fid), let obsid = scenes[obs] else { data.skipped += 1; return }
                if fid != lastFid {
                    if let known = slots[fid] { slot = known } else { slot = data.series.count; slots[fid] = slot; data.series.append((fid, [])) }
                    lastFid = fid
                }
                let index: UInt8
                if let known = bandIndex[band] { index = known } else {
                    guard data.bandNames.count < 255 else { throw LakeError.remote("more than 255 band names in \(tables.signatures(card))") }
                    index = UInt8(data.bandNames.count); bandIndex[band] = index; data.bandNames.append(band)
                }
                var stats = SignatureStats.zero
                for k in 0..<8 { stats[k] = try row.float32() }
                data.series[slot].rows.append(SignatureRow(obsid: obsid, bandID: index, stats: stats))
            }
        }

        // SCL histograms: the JSON text read as `lake ingest` reads it (SCLHistogramText);
        // PostgreSQL parsing it twelve times a row cost more than the rest of the pull.
        guard existing.contains(tables.hists) else { return data }
        first = true
        var warned = 0
        try pg.copyOut("""
            COPY (SELECT h.pid, h.obsid, h.hist FROM \(tables.hists) h WHERE h.pid \(within("h.pid"))) TO STDOUT (FORMAT binary)
            """) { message in
            var row = try BinaryCopyRow(message, first: first)
            first = false
            guard !row.isTrailer else { return }
            guard let fid = try row.int32(), let obs = try row.int32(), var text = try row.next(),
                  present.contains(fid), let obsid = scenes[obs] else { data.skipped += 1; return }
            if histogramsAreJSONB, text.first == 1 { text = UnsafeRawBufferPointer(rebasing: text.dropFirst()) }
            guard let hist = text.withMemoryRebound(to: UInt8.self, { SCLHistogramText.parse(bytes: $0) }) else {
                data.skipped += 1
                warned += 1
                if warned <= 10 { printWarning("histogram of ogc_fid \(fid), scene \(obs) is not {\"class\": pixels, …} with classes 0–11: skipped: \(String(decoding: text.prefix(60), as: UTF8.self))") }
                return
            }
            data.hists.append((fid, obsid, hist))
        }
        return data
    }

    /// The chunk's parcels: new ones inserted (keeping ogc_fid as pid where it is free), known
    /// ones (same AOI, year, ptype and id) updated when they differ. ogc_fid → (pid, new).
    func storeParcels(_ data: Chunk, options: PullOptions, source: String, counts: inout Counts) throws -> [Int32: (pid: Int64, new: Bool)] {
        counts.skipped += data.skipped
        let find = try db.prepare("SELECT pid, crop_code IS ?1 AND crop_name IS ?2 AND attributes = ?3 AND ST_Equals(geom, GeomFromWKB(?4, \(lake.srid))) FROM parcels WHERE aoi = ?5 AND year = ?6 AND ptype = ?7 AND parcel_id = ?8")
        let update = try db.prepare("UPDATE parcels SET crop_code = ?, crop_name = ?, attributes = ?, area = ?, geom = CastToMultiPolygon(GeomFromWKB(?, \(lake.srid))) WHERE pid = ?")
        let free = try db.prepare("SELECT NOT EXISTS (SELECT 1 FROM parcels WHERE pid = ?)")
        let insert = try db.prepare("""
            INSERT INTO parcels (pid, parcel_id, aoi, year, ptype, crop_code, crop_name, area, source, attributes, geom)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CastToMultiPolygon(GeomFromWKB(?, \(lake.srid))))
            """)
        let text: (String?) -> SQLValue = { $0.map(SQLValue.text) ?? .null }
        var out: [Int32: (pid: Int64, new: Bool)] = [:]
        for p in data.parcels {
            counts.parcels += 1
            var attributes = p.attributes
            if (try? JSONSerialization.jsonObject(with: Data(attributes.utf8))) as? [String: Any] == nil { attributes = "{}" }
            find.reset()
            try find.bind([text(p.code), text(p.name), .text(attributes), .blob(p.wkb), .text(options.aoi), .int(Int64(options.year)), .text(p.ptype), .text(p.id)])
            if try find.step() {
                let pid = find.int(0)
                if find.int(1) != 1 {
                    update.reset()
                    try update.bind([text(p.code), text(p.name), .text(attributes), .double(p.area), .blob(p.wkb), .int(pid)])
                    try update.step()
                }
                out[p.fid] = (pid, false)
                continue
            }
            free.reset()
            try free.bind([.int(Int64(p.fid))])
            let keep = try free.step() && free.int(0) == 1
            insert.reset()
            try insert.bind([keep ? .int(Int64(p.fid)) : .null, .text(p.id), .text(options.aoi), .int(Int64(options.year)), .text(p.ptype),
                             text(p.code), text(p.name), .double(p.area), .text(source), .text(attributes), .blob(p.wkb)])
            try insert.step()
            out[p.fid] = (db.lastInsertRowID, true)
            counts.parcelsNew += 1
        }
        return out
    }

    /// The chunk's signatures. A new parcel's series is packed straight away; a parcel the lake
    /// had goes through the pending log and the usual merge.
    func storeSignatures(_ data: Chunk, pids: [Int32: (pid: Int64, new: Bool)], bands: BandDictionary, counts: inout Counts) throws {
        let ids = try data.bandNames.map { try bands.idAdding($0) }
        let store = SignatureStore(db: db)
        var pending = false
        for (fid, rows) in data.series {
            guard let parcel = pids[fid] else { counts.skipped += rows.count; continue }
            counts.signatures += rows.count
            // In (band, obsid) order; of rows with the same key the last one read stays.
            let sorted = rows.enumerated().map { (SignatureRow(obsid: $0.element.obsid, bandID: ids[Int($0.element.bandID)], stats: $0.element.stats), $0.offset) }
                .sorted { ($0.0.bandID, $0.0.obsid, $0.1) < ($1.0.bandID, $1.0.obsid, $1.1) }
            var unique: [SignatureRow] = []
            unique.reserveCapacity(sorted.count)
            for (row, _) in sorted {
                if let last = unique.last, last.bandID == row.bandID, last.obsid == row.obsid { unique[unique.count - 1] = row } else { unique.append(row) }
            }
            if parcel.new {
                try store.writePacked(pid: parcel.pid, rows: unique)
            } else {
                let byScene = unique.sorted { ($0.obsid, $0.bandID) < ($1.obsid, $1.bandID) }
                var at = 0
                while at < byScene.count {
                    var end = at
                    while end < byScene.count, byScene[end].obsid == byScene[at].obsid { end += 1 }
                    try store.append(pid: parcel.pid, obsid: byScene[at].obsid, bands: byScene[at..<end].map { ($0.bandID, $0.stats) })
                    at = end
                }
                pending = true
            }
        }
        if pending || !data.series.isEmpty { try store.mergePending() }   // also records the bands seen
    }

    func storeHistograms(_ data: Chunk, pids: [Int32: (pid: Int64, new: Bool)], counts: inout Counts) throws {
        let store = try SCLStore(db: db)
        var batch: [(pid: Int64, obsid: Int64, counts: [Int])] = []
        for h in data.hists {
            guard let parcel = pids[h.fid] else { counts.skipped += 1; continue }
            batch.append((parcel.pid, h.obsid, h.counts))
            if batch.count == SCLStore.batchSize { _ = try store.upsert(batch: batch); batch.removeAll(keepingCapacity: true) }
            counts.histograms += 1
        }
        if !batch.isEmpty { _ = try store.upsert(batch: batch) }
    }

    // MARK: Results

    /// lake's runs in the database (if it has them) that concern the selected parcels: runs the
    /// lake does not have (by uid) with their rows of those parcels.
    func pullResults(tables: JRCTables, options: PullOptions, counts: inout Counts) throws {
        // ogc_fid → lake pid for every selected parcel (this pull's or an earlier one's).
        var pids: [Int32: Int64] = [:]
        let find = try db.prepare("SELECT pid FROM parcels WHERE aoi = ? AND year = ? AND ptype = ? AND parcel_id = ?")
        let ptype = try pg.query("SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name = 'ptype'",
                                 [tables.schema, tables.prefix]).isEmpty ? "''" : "p.ptype"
        for r in try pg.execute("SELECT p.ogc_fid, p.\(options.idColumn)::text, \(ptype) FROM \(tables.parcels) p JOIN lake_pull USING (ogc_fid)") {
            guard let fid = r[0].flatMap({ Int32($0) }), let id = r[1] else { continue }
            find.reset()
            try find.bind([.text(options.aoi), .int(Int64(options.year)), .text(r[2] ?? ""), .text(id)])
            if try find.step() { pids[fid] = find.int(0) }
        }
        let known = try db.prepare("SELECT 1 FROM runs WHERE uid = ?")
        let insertRun = try db.prepare("""
            INSERT INTO runs (kind, started, finished, lake_version, options, inputs, summary, status, uid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        var runIDs: [String: Int64] = [:]
        for r in try pg.execute("""
            SELECT uid, kind, started, finished, lake_version, options, inputs::text, summary::text, status FROM \(tables.runs) r
            WHERE EXISTS (SELECT 1 FROM \(tables.markers) m JOIN lake_pull l ON l.ogc_fid = m.pid WHERE m.run_uid = r.uid)
               OR EXISTS (SELECT 1 FROM \(tables.decisions) m JOIN lake_pull l ON l.ogc_fid = m.pid WHERE m.run_uid = r.uid)
               OR EXISTS (SELECT 1 FROM \(tables.heterogeneity) m JOIN lake_pull l ON l.ogc_fid = m.pid WHERE m.run_uid = r.uid)
            ORDER BY started, uid
            """) {
            guard let uid = r[0] else { continue }
            known.reset()
            try known.bind([.text(uid)])
            if try known.step() { continue }
            insertRun.reset()
            try insertRun.bind(r[1...].map { $0.map(SQLValue.text) ?? .null } + [.text(uid)])
            try insertRun.step()
            runIDs[uid] = db.lastInsertRowID
            counts.runs += 1
        }
        guard !runIDs.isEmpty else { return }
        let uids = runIDs.keys.map { "'\($0.replacingOccurrences(of: "'", with: "''"))'" }.joined(separator: ",")
        func copy(_ select: String, from table: String, into insert: String) throws {
            let statement = try db.prepare(insert)
            for r in try pg.execute("SELECT m.run_uid, m.pid, \(select) FROM \(table) m JOIN lake_pull l ON l.ogc_fid = m.pid WHERE m.run_uid IN (\(uids))") {
                guard let uid = r[0], let run = runIDs[uid], let fid = r[1].flatMap({ Int32($0) }), let pid = pids[fid] else { continue }
                statement.reset()
                try statement.bind([.int(run), .int(pid)] + r[2...].map { $0.map(SQLValue.text) ?? .null })
                try statement.step()
                counts.results += 1
            }
        }
        try copy("signal, detector, kind, start_date::text, date::text, end_date::text, value_start::float8::text, value_end::float8::text, magnitude::float8::text, confidence::float8::text, details::text",
                 from: tables.markers, into: """
                 INSERT INTO markers (run_id, pid, signal, detector, kind, start_date, date, end_date, value_start, value_end, magnitude, confidence, details)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS REAL), CAST(? AS REAL), CAST(? AS REAL), CAST(? AS REAL), ?)
                 """)
        try copy("scheme, colour, clear_obs::text, reasons::text", from: tables.decisions, into: """
                 INSERT INTO decisions (run_id, pid, scheme, colour, clear_obs, reasons) VALUES (?, ?, ?, ?, CAST(? AS INTEGER), ?)
                 """)
        try copy("crop_group, n_obs::text, cv::float8::text, qd::float8::text, qskew::float8::text, score::float8::text, rank::text, flag::text, split_dates::text",
                 from: tables.heterogeneity, into: """
                 INSERT INTO heterogeneity (run_id, pid, crop_group, n_obs, cv, qd, qskew, score, rank, flag, split_dates)
                 VALUES (?, ?, ?, CAST(? AS INTEGER), CAST(? AS REAL), CAST(? AS REAL), CAST(? AS REAL), CAST(? AS REAL), CAST(? AS INTEGER), CAST(? AS INTEGER), CAST(? AS INTEGER))
                 """)
    }
}

func printWarning(_ text: String) { writeStandardError("lake: warning: \(text)\n") }
