import Foundation
import LakeSQLite
import LakeStore
import LakeSupport

/// `lake merge OTHER`: a colleague's lake (or a subset with results) brought into this one,
/// without duplicates. Things are matched by what identifies them, not by their row ids:
/// scenes by reference, parcels by (aoi, year, ptype, parcel id), signatures by (parcel, scene,
/// band), histograms by (parcel, scene), crop-map rows by (aoi, crop code), runs by uid.
/// What both lakes hold with equal values is left alone; what OTHER adds is added; what both
/// hold with different values is a conflict: the row is refused (this lake's value stays) and
/// reported, or with `strict` nothing at all is merged. One transaction.
public enum Merge {
    public struct Conflict: Sendable, CustomStringConvertible {
        public let what: String
        public let key: String
        public let reason: String
        public var description: String { "\(what) \(key): \(reason)" }
    }

    public struct Counts: Sendable {
        public var parcels = (added: 0, same: 0), scenes = (added: 0, same: 0)
        public var signatures = (added: 0, same: 0), histograms = (added: 0, same: 0)
        public var crops = (added: 0, same: 0), runs = (added: 0, same: 0), results = 0
        public var conflicts: [Conflict] = []
        public var json: [String: Any] {
            func pair(_ p: (added: Int, same: Int)) -> [String: Int] { ["added": p.added, "already": p.same] }
            return ["parcels": pair(parcels), "scenes": pair(scenes), "signatures": pair(signatures), "histograms": pair(histograms),
                    "crop_map": pair(crops), "runs": pair(runs), "results": results,
                    "conflicts": conflicts.count, "conflict_list": conflicts.prefix(1000).map(\.description)]
        }
    }

    public static func run(into lake: Lake, other: Lake, strict: Bool) throws -> Counts {
        guard other.srid == lake.srid else {
            throw LakeError.usage("\(other.path) keeps geometries in EPSG:\(other.srid), this lake in EPSG:\(lake.srid); merge needs one SRID")
        }
        let db = lake.db
        var counts = Counts()
        // This lake's pending signature rows merged first: every parcel's series is then one blob.
        try db.transaction { _ = try SignatureStore(db: db).mergePending() }
        try db.run("ATTACH DATABASE ? AS other", .text(other.path))
        defer { try? db.execute("DETACH DATABASE other") }
        try db.transaction {
            let bands = try mapBands(db)
            let scenes = try mergeScenes(db, counts: &counts)
            let parcels = try mergeParcels(db, srid: lake.srid, counts: &counts)
            try mergeSignatures(db, other: other, parcels: parcels, scenes: scenes, bands: bands, counts: &counts)
            try mergeHistograms(db, parcels: parcels, scenes: scenes, counts: &counts)
            try mergeCropMap(db, counts: &counts)
            try mergeRuns(db, parcels: parcels, counts: &counts)
            if strict && !counts.conflicts.isEmpty {
                throw MergeRefused(counts: counts)
            }
            _ = try SCLSummary.refresh(db)
            try db.run("""
                INSERT INTO ingest_log (kind, source, started, finished, options, read, inserted, skipped, rejected)
                VALUES ('merge', ?, ?, ?, '{}', ?, ?, ?, ?)
                """, .text(other.path), .text(isoTimestampNow()), .text(isoTimestampNow()),
                .int(Int64(counts.parcels.added + counts.parcels.same)), .int(Int64(counts.parcels.added)),
                .int(Int64(counts.parcels.same)), .int(Int64(counts.conflicts.count)))
        }
        return counts
    }

    /// Thrown by a strict merge that met conflicts (nothing was merged).
    public struct MergeRefused: Error { public let counts: Counts }

    /// OTHER's band ids → this lake's (by name; names this lake lacks are added).
    static func mapBands(_ db: Connection) throws -> [UInt8: UInt8] {
        let dictionary = try BandDictionary(db: db)
        var map: [UInt8: UInt8] = [:]
        for row in try db.prepare("SELECT band_id, name FROM other.bands").rows() {
            guard let id = row[0].int, let name = row[1].text else { continue }
            map[UInt8(truncatingIfNeeded: id)] = try dictionary.idAdding(name)
        }
        return map
    }

    /// OTHER's obsid → this lake's.
    static func mergeScenes(_ db: Connection, counts: inout Counts) throws -> [Int64: Int64] {
        var map: [Int64: Int64] = [:]
        for row in try db.prepare("""
            SELECT o.obsid, m.obsid, m.obstime = o.obstime AND m.card = o.card, o.reference, o.obstime, m.obstime
            FROM other.catalogue o LEFT JOIN main.catalogue m ON m.reference = o.reference
            """).rows() {
            guard let obsid = row[0].int else { continue }
            if let mine = row[1].int {
                if row[2].int == 1 { map[obsid] = mine; counts.scenes.same += 1 }
                else { counts.conflicts.append(Conflict(what: "scene", key: row[3].text ?? "", reason: "observed at \(row[4].text ?? "") there, \(row[5].text ?? "") here")) }
                continue
            }
            let free = try db.scalar("SELECT NOT EXISTS (SELECT 1 FROM main.catalogue WHERE obsid = ?)", .int(obsid))?.int == 1
            try db.run("""
                INSERT INTO main.catalogue (obsid, reference, obstime, platform, sensor, card, tile, relative_orbit, cloud_cover,
                    processing_baseline, radiometric_offset, status, assets, source, source_id, footprint)
                SELECT ?, reference, obstime, platform, sensor, card, tile, relative_orbit, cloud_cover, processing_baseline,
                    radiometric_offset, status, assets, source, source_id, footprint FROM other.catalogue WHERE obsid = ?
                """, free ? .int(obsid) : .null, .int(obsid))
            map[obsid] = db.lastInsertRowID
            counts.scenes.added += 1
        }
        return map
    }

    /// OTHER's pid → this lake's; a parcel with the same key but another geometry or crop is a
    /// conflict and none of its data is merged.
    static func mergeParcels(_ db: Connection, srid: Int, counts: inout Counts) throws -> [Int64: Int64] {
        var map: [Int64: Int64] = [:]
        for row in try db.prepare("""
            SELECT o.pid, m.pid, o.aoi, o.year, o.ptype, o.parcel_id,
                   m.crop_code IS o.crop_code AND m.crop_name IS o.crop_name, AsBinary(m.geom) = AsBinary(o.geom)
            FROM other.parcels o LEFT JOIN main.parcels m
              ON m.aoi = o.aoi AND m.year = o.year AND m.ptype = o.ptype AND m.parcel_id = o.parcel_id
            ORDER BY o.pid
            """).rows() {
            guard let pid = row[0].int else { continue }
            let key = "\(row[5].text ?? "") (\(row[2].text ?? "") \(row[3].int ?? 0)\(row[4].text.map { $0.isEmpty ? "" : " " + $0 } ?? ""))"
            if let mine = row[1].int {
                if row[6].int != 1 { counts.conflicts.append(Conflict(what: "parcel", key: key, reason: "another declared crop")); continue }
                if row[7].int != 1 { counts.conflicts.append(Conflict(what: "parcel", key: key, reason: "another geometry")); continue }
                map[pid] = mine
                counts.parcels.same += 1
                continue
            }
            let free = try db.scalar("SELECT NOT EXISTS (SELECT 1 FROM main.parcels WHERE pid = ?)", .int(pid))?.int == 1
            try db.run("""
                INSERT INTO main.parcels (pid, parcel_id, aoi, year, ptype, crop_code, crop_name, area, source, attributes, geom)
                SELECT ?, parcel_id, aoi, year, ptype, crop_code, crop_name, area, source, attributes, geom FROM other.parcels WHERE pid = ?
                """, free ? .int(pid) : .null, .int(pid))
            map[pid] = db.lastInsertRowID
            counts.parcels.added += 1
        }
        return map
    }

    /// Row by row: OTHER's (scene, band) rows a parcel here lacks are added, equal ones left,
    /// different ones refused.
    static func mergeSignatures(_ db: Connection, other: Lake, parcels: [Int64: Int64], scenes: [Int64: Int64], bands: [UInt8: UInt8],
                                counts: inout Counts) throws {
        let theirs = SignatureStore(db: other.db)
        let ours = SignatureStore(db: db)
        let reference = try db.prepare("SELECT reference FROM main.catalogue WHERE obsid = ?")
        let progress = Progress("merge signatures", total: parcels.count)
        for (i, (otherPid, pid)) in parcels.sorted(by: { $0.key < $1.key }).enumerated() {
            if i % 256 == 0 { progress.set(i) }
            let incoming = try theirs.series(pid: otherPid)
            guard !incoming.isEmpty else { continue }
            var series: [Key: SignatureStats] = [:]
            for row in try ours.series(pid: pid) { series[Key(band: row.bandID, obsid: row.obsid)] = row.stats }
            var changed = false
            for row in incoming {
                guard let obsid = scenes[row.obsid], let band = bands[row.bandID] else { continue }   // its scene was refused
                let key = Key(band: band, obsid: obsid)
                if let mine = series[key] {
                    if mine.identical(to: row.stats) { counts.signatures.same += 1; continue }
                    reference.reset()
                    reference.bind(int: obsid, at: 1)
                    let scene = try reference.step() ? reference.text(0) ?? "\(obsid)" : "\(obsid)"
                    counts.conflicts.append(Conflict(what: "signature", key: "pid \(pid), \(scene), band \(band)",
                                                     reason: "mean \(row.stats.mean) there, \(mine.mean) here"))
                    continue
                }
                series[key] = row.stats
                counts.signatures.added += 1
                changed = true
            }
            guard changed else { continue }
            try ours.writePacked(pid: pid, rows: series.sorted { ($0.key.band, $0.key.obsid) < ($1.key.band, $1.key.obsid) }
                .map { SignatureRow(obsid: $0.key.obsid, bandID: $0.key.band, stats: $0.value) })
        }
        progress.finish()
        // The bands now in packed series.
        let names = try db.scalar("SELECT value FROM main.lake_meta WHERE key = 'bands'")?.text ?? ""
        let theirNames = try db.scalar("SELECT value FROM other.lake_meta WHERE key = 'bands'")?.text ?? ""
        var ids = Set(names.split(separator: ",").compactMap { UInt8($0) })
        for id in theirNames.split(separator: ",").compactMap({ UInt8($0) }) { if let mapped = bands[id] { ids.insert(mapped) } }
        try db.run("INSERT OR REPLACE INTO main.lake_meta (key, value) VALUES ('bands', ?)", .text(ids.sorted().map(String.init).joined(separator: ",")))
    }

    struct Key: Hashable { let band: UInt8; let obsid: Int64 }

    static func mergeHistograms(_ db: Connection, parcels: [Int64: Int64], scenes: [Int64: Int64], counts: inout Counts) throws {
        let columns = (0..<12).map { "c\($0)" }
        let find = try db.prepare("SELECT \(columns.joined(separator: ", ")) FROM main.scl_hist WHERE pid = ? AND obsid = ?")
        let insert = try db.prepare("INSERT INTO main.scl_hist (pid, obsid, \(columns.joined(separator: ", "))) VALUES (?, ?, \(columns.map { _ in "?" }.joined(separator: ", ")))")
        let read = try db.prepare("SELECT pid, obsid, \(columns.joined(separator: ", ")) FROM other.scl_hist ORDER BY pid, obsid")
        while try read.step() {
            guard let pid = parcels[read.int(0)], let obsid = scenes[read.int(1)] else { continue }
            let hist = (0..<12).map { read.int(Int32(2 + $0)) }
            find.reset()
            find.bind(int: pid, at: 1); find.bind(int: obsid, at: 2)
            if try find.step() {
                let mine = (0..<12).map { find.int(Int32($0)) }
                if mine == hist { counts.histograms.same += 1 }
                else { counts.conflicts.append(Conflict(what: "SCL histogram", key: "pid \(pid), obsid \(obsid)", reason: "\(hist) there, \(mine) here")) }
                continue
            }
            insert.reset()
            insert.bind(int: pid, at: 1); insert.bind(int: obsid, at: 2)
            for (k, v) in hist.enumerated() { insert.bind(int: v, at: Int32(3 + k)) }
            try insert.step()
            counts.histograms.added += 1
        }
    }

    static func mergeCropMap(_ db: Connection, counts: inout Counts) throws {
        for row in try db.prepare("""
            SELECT o.aoi, o.crop_code, m.crop_code IS NOT NULL, m.group_code IS o.group_code AND m.group_name IS o.group_name,
                   o.group_code, m.group_code
            FROM other.crop_map o LEFT JOIN main.crop_map m ON m.aoi = o.aoi AND m.crop_code = o.crop_code
            """).rows() {
            if row[2].int == 1 {
                if row[3].int == 1 { counts.crops.same += 1 }
                else { counts.conflicts.append(Conflict(what: "crop map", key: "\(row[0].text ?? "") \(row[1].text ?? "")", reason: "group \(row[4].text ?? "") there, \(row[5].text ?? "") here")) }
                continue
            }
            try db.run("INSERT INTO main.crop_map SELECT * FROM other.crop_map WHERE aoi = ? AND crop_code = ?", row[0], row[1])
            counts.crops.added += 1
        }
    }

    /// Runs this lake does not have (by uid), with their rows about merged parcels; a run both
    /// have gets OTHER's rows of the parcels it has no rows for (two subsets of one run).
    static func mergeRuns(_ db: Connection, parcels: [Int64: Int64], counts: inout Counts) throws {
        let runs = try db.prepare("""
            SELECT o.run_id, o.uid, (SELECT m.run_id FROM main.runs m WHERE m.uid = o.uid) FROM other.runs o
            WHERE o.status = 'done' ORDER BY o.run_id
            """).rows()
        try db.execute("CREATE TEMP TABLE IF NOT EXISTS merge_pids (other INTEGER PRIMARY KEY, mine INTEGER NOT NULL)")
        try db.execute("DELETE FROM temp.merge_pids")
        let add = try db.prepare("INSERT INTO temp.merge_pids VALUES (?, ?)")
        for (o, m) in parcels { add.reset(); add.bind(int: o, at: 1); add.bind(int: m, at: 2); try add.step() }
        let copies: [(table: String, columns: String)] = [
            ("markers", "signal, detector, kind, start_date, date, end_date, value_start, value_end, magnitude, confidence, details"),
            ("decisions", "scheme, colour, clear_obs, reasons"),
            ("heterogeneity", "crop_group, n_obs, cv, qd, qskew, score, rank, flag, split_dates"),
            ("foi_classes", "class, pixels, share"),
            ("foi_parcels", "pixels, heterogeneous, cardinality, clusters"),
            ("foi_clusters", "class, pixels, geom"),
        ]
        try db.execute("CREATE TEMP TABLE IF NOT EXISTS merge_had (pid INTEGER PRIMARY KEY)")
        for run in runs {
            guard let otherRun = run[0].int else { continue }
            let mine: Int64
            if let existing = run[2].int {
                // The same run (a subset of it, say): it gets the rows of parcels it has none for.
                mine = existing
                counts.runs.same += 1
                try db.execute("DELETE FROM temp.merge_had")
                for copy in copies { try db.run("INSERT OR IGNORE INTO temp.merge_had SELECT pid FROM main.\(copy.table) WHERE run_id = ?", .int(mine)) }
            } else {
                try db.run("""
                    INSERT INTO main.runs (kind, started, finished, lake_version, options, inputs, summary, status, uid)
                    SELECT kind, started, finished, lake_version, options, inputs, summary, status, uid FROM other.runs WHERE run_id = ?
                    """, .int(otherRun))
                mine = db.lastInsertRowID
                counts.runs.added += 1
                try db.execute("DELETE FROM temp.merge_had")
            }
            for copy in copies {
                try db.run("""
                    INSERT INTO main.\(copy.table) (run_id, pid, \(copy.columns))
                    SELECT ?, p.mine, \(copy.columns.split(separator: ",").map { "t." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", "))
                    FROM other.\(copy.table) t JOIN temp.merge_pids p ON p.other = t.pid
                    WHERE t.run_id = ? AND p.mine NOT IN (SELECT pid FROM temp.merge_had)
                    """, .int(mine), .int(otherRun))
                counts.results += db.changes
            }
        }
    }
}
