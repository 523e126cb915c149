import Foundation
import LakeSQLite
import LakeStore
import LakeSupport

/// `lake subset`: a smaller, complete lake for a colleague — the selected parcels, the scenes
/// their signatures and histograms refer to, those signatures (only the dates asked for) and
/// histograms, the crop maps, and the runs with rows about these parcels (with those rows).
/// Written to `OUT.part` and renamed when complete: a failed subset leaves no file behind.
public enum Subset {
    public struct Counts: Sendable {
        public var parcels = 0, scenes = 0, signatures = 0, histograms = 0, runs = 0, results = 0
        public var json: [String: Any] {
            ["parcels": parcels, "scenes": scenes, "signatures": signatures, "histograms": histograms, "runs": runs, "results": results]
        }
    }

    public static func run(source: Lake, out: String, selection: ParcelSelection, from: String?, to: String?) throws -> Counts {
        for date in [from, to].compactMap({ $0 }) where !isCalendarDate(date) { throw LakeError.usage("\(date): not a date (YYYY-MM-DD)") }
        guard !FileManager.default.fileExists(atPath: out) else { throw LakeError.usage("\(out) exists; lake subset writes a new file") }
        let part = out + ".part"
        try? FileManager.default.removeItem(atPath: part)
        var counts = Counts()
        do {
            counts = try create(part, from: source, selection: selection, from: from, to: to)
            try FileManager.default.moveItem(atPath: part, toPath: out)
        } catch {
            try? FileManager.default.removeItem(atPath: part)
            try? FileManager.default.removeItem(atPath: part + "-journal")
            throw error
        }
        return counts
    }

    /// The new lake is closed when this returns (before the rename).
    static func create(_ path: String, from source: Lake, selection: ParcelSelection, from: String?, to: String?) throws -> Counts {
        let target = try Lake.create(path: path, srid: source.srid)
        return try copy(from: source, into: target, selection: selection, from: from, to: to)
    }

    static func copy(from source: Lake, into target: Lake, selection: ParcelSelection, from: String?, to: String?) throws -> Counts {
        let db = target.db
        var counts = Counts()
        try db.run("ATTACH DATABASE ? AS src", .text(source.path))
        defer { try? db.execute("DETACH DATABASE src") }
        try db.transaction {
            try select(selection, in: db, srid: source.srid)
            counts.parcels = Int(try db.scalar("SELECT count(*) FROM temp.chosen")?.int ?? 0)
            guard counts.parcels > 0 else { throw LakeError.notFound("no parcel of \(source.path) matches the selection") }
            try db.execute("""
                INSERT INTO parcels (pid, parcel_id, aoi, year, ptype, crop_code, crop_name, area, source, attributes, geom)
                SELECT pid, parcel_id, aoi, year, ptype, crop_code, crop_name, area, source, attributes, geom
                FROM src.parcels WHERE pid IN (SELECT pid FROM temp.chosen)
                """)

            // Scenes: those in the date range that the chosen parcels' signatures or histograms use.
            try db.execute("""
                CREATE TEMP TABLE scenes_in_range AS SELECT obsid FROM src.catalogue
                WHERE (\(from == nil ? "1" : "substr(obstime, 1, 10) >= '\(from!)'") AND \(to == nil ? "1" : "substr(obstime, 1, 10) <= '\(to!)'"))
                """)
            try db.execute("CREATE TEMP TABLE scenes_used (obsid INTEGER PRIMARY KEY)")
            try db.execute("INSERT OR IGNORE INTO bands SELECT * FROM src.bands")
            let inRange = Set(try db.prepare("SELECT obsid FROM temp.scenes_in_range").rows().compactMap { $0[0].int })

            // Signatures: each chosen parcel's series (pending rows applied), cut to the dates.
            let store = SignatureStore(db: source.db)
            let written = SignatureStore(db: db)
            let chosen = try db.prepare("SELECT pid FROM temp.chosen ORDER BY pid").rows().compactMap { $0[0].int }
            var used = Set<Int64>()
            let progress = Progress("subset signatures", total: chosen.count)
            for (i, pid) in chosen.enumerated() {
                let rows = try store.series(pid: pid).filter { inRange.contains($0.obsid) }
                if i % 256 == 0 { progress.set(i) }
                guard !rows.isEmpty else { continue }
                for row in rows { used.insert(row.obsid) }
                try written.writePacked(pid: pid, rows: rows.sorted { ($0.bandID, $0.obsid) < ($1.bandID, $1.obsid) })
                counts.signatures += rows.count
            }
            progress.finish()
            let addUsed = try db.prepare("INSERT OR IGNORE INTO temp.scenes_used VALUES (?)")
            for obsid in used { addUsed.reset(); addUsed.bind(int: obsid, at: 1); try addUsed.step() }
            try db.execute("""
                INSERT OR IGNORE INTO temp.scenes_used SELECT DISTINCT h.obsid FROM src.scl_hist h
                WHERE h.pid IN (SELECT pid FROM temp.chosen) AND h.obsid IN (SELECT obsid FROM temp.scenes_in_range)
                """)
            try db.execute("""
                INSERT INTO catalogue (obsid, reference, obstime, platform, sensor, card, tile, relative_orbit, cloud_cover,
                    processing_baseline, radiometric_offset, status, assets, source, source_id, footprint)
                SELECT obsid, reference, obstime, platform, sensor, card, tile, relative_orbit, cloud_cover,
                    processing_baseline, radiometric_offset, status, assets, source, source_id, footprint
                FROM src.catalogue WHERE obsid IN (SELECT obsid FROM temp.scenes_used)
                """)
            counts.scenes = db.changes
            try db.execute("""
                INSERT INTO scl_hist SELECT * FROM src.scl_hist
                WHERE pid IN (SELECT pid FROM temp.chosen) AND obsid IN (SELECT obsid FROM temp.scenes_used)
                """)
            counts.histograms = db.changes
            try db.execute("INSERT INTO crop_map SELECT * FROM src.crop_map")
            try db.execute("INSERT OR REPLACE INTO lake_meta (key, value) SELECT key, value FROM src.lake_meta WHERE key = 'bands'")
            try copyRuns(db, counts: &counts)
            _ = try SCLSummary.refresh(db)
            try db.run("""
                INSERT INTO ingest_log (kind, source, started, finished, options, read, inserted)
                VALUES ('subset', ?, ?, ?, ?, ?, ?)
                """, .text(source.path), .text(isoTimestampNow()), .text(isoTimestampNow()),
                .text(JSONText.render(selection.json.merging(["from": from as Any, "to": to as Any].compactMapValues { $0 }) { a, _ in a }, pretty: false)),
                .int(Int64(counts.parcels)), .int(Int64(counts.parcels)))
        }
        return counts
    }

    /// The chosen parcels of the attached `src`, as temp.chosen (pid).
    static func select(_ s: ParcelSelection, in db: Connection, srid: Int) throws {
        var conditions: [String] = []
        var values: [SQLValue] = []
        if let aoi = s.aoi { conditions.append("p.aoi = ?"); values.append(.text(aoi)) }
        if let year = s.year { conditions.append("p.year = ?"); values.append(.int(Int64(year))) }
        if let b = s.bbox {
            conditions.append("ST_Intersects(p.geom, Transform(BuildMbr(\(b[0]), \(b[1]), \(b[2]), \(b[3]), 4326), \(srid)))")
        } else if let file = s.polygon {
            try db.execute("CREATE TEMP TABLE area_parts (g BLOB)")
            let insert: Statement
            let parts: [String]
            switch try ParcelSelection.area(file) {
            case .wkt(let text): insert = try db.prepare("INSERT INTO temp.area_parts SELECT Transform(GeomFromText(?, 4326), \(srid))"); parts = [text]
            case .geojson(let list): insert = try db.prepare("INSERT INTO temp.area_parts SELECT Transform(SetSRID(GeomFromGeoJSON(?), 4326), \(srid))"); parts = list
            }
            for part in parts {
                insert.reset()
                try insert.bind([.text(part)])
                try insert.step()
            }
            guard try db.scalar("SELECT count(*) FROM temp.area_parts WHERE g IS NULL")?.int == 0 else {
                throw LakeError.input(file: file, location: nil, reason: "not a polygon SpatiaLite can read (WKT or GeoJSON in WGS 84)")
            }
            conditions.append("ST_Intersects(p.geom, (SELECT GUnion(g) FROM temp.area_parts))")
        } else if let file = s.parcels {
            try db.execute("CREATE TEMP TABLE wanted (id TEXT PRIMARY KEY) WITHOUT ROWID")
            let add = try db.prepare("INSERT OR IGNORE INTO temp.wanted VALUES (?)")
            for id in try ParcelSelection.ids(file) { add.reset(); try add.bind([.text(id)]); try add.step() }
            conditions.append("p.parcel_id IN (SELECT id FROM temp.wanted)")
        }
        let create = try db.prepare("CREATE TEMP TABLE chosen AS SELECT p.pid FROM src.parcels p WHERE \(conditions.isEmpty ? "1" : conditions.joined(separator: " AND "))")
        try create.bind(values)
        _ = try create.step()
    }

    /// Runs with rows about the chosen parcels, with those rows (run ids and uids kept).
    static func copyRuns(_ db: Connection, counts: inout Counts) throws {
        let tables = ["markers", "decisions", "heterogeneity", "foi_classes", "foi_parcels", "foi_clusters"]
        try db.execute("""
            CREATE TEMP TABLE runs_used AS SELECT run_id FROM src.runs r WHERE \(tables.map { "EXISTS (SELECT 1 FROM src.\($0) t WHERE t.run_id = r.run_id AND t.pid IN (SELECT pid FROM temp.chosen))" }.joined(separator: " OR "))
            """)
        try db.execute("""
            INSERT INTO runs (run_id, kind, started, finished, lake_version, options, inputs, summary, status, uid)
            SELECT run_id, kind, started, finished, lake_version, options, inputs, summary, status, uid
            FROM src.runs WHERE run_id IN (SELECT run_id FROM temp.runs_used)
            """)
        counts.runs = db.changes
        for table in tables {
            try db.execute("INSERT INTO \(table) SELECT * FROM src.\(table) WHERE run_id IN (SELECT run_id FROM temp.runs_used) AND pid IN (SELECT pid FROM temp.chosen)")
            counts.results += db.changes
        }
    }
}
