import Foundation
import XCTest

/// `lake push`/`lake pull` against a real PostgreSQL + PostGIS (a throw-away cluster started by
/// scripts/pg.sh on 127.0.0.1; the test fails, not skips, when it cannot start), and the
/// `lake subset` → `lake merge` round trip.
final class TransferTests: BinaryTestCase {
    nonisolated(unsafe) static var server: (port: String, user: String, dir: String)?
    nonisolated(unsafe) static var serverError: String?

    override class func setUp() {
        super.setUp()
        // Output through files: the server started in the background keeps inherited pipes open.
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("lake-pg-start-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(atPath: out.path); try? FileManager.default.removeItem(atPath: out.path + ".err") }
        // (system(3), not Process: Foundation's waitUntilExit hangs here once the daemon has forked.)
        let status = system("bash '\(root.appendingPathComponent("scripts/pg.sh").path)' start > '\(out.path)' 2> '\(out.path).err' < /dev/null")
        let o = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        let e = (try? String(contentsOfFile: out.path + ".err", encoding: .utf8)) ?? ""
        let fields = o.split(whereSeparator: \.isWhitespace).map(String.init)
        if status == 0, fields.count == 3 { server = (fields[0], fields[1], fields[2]) }
        else { serverError = "scripts/pg.sh start failed (\(status)): \(e.suffix(1500))" }
    }

    override class func tearDown() {
        if let server { _ = system("bash '\(root.appendingPathComponent("scripts/pg.sh").path)' stop '\(server.dir)' > /dev/null 2>&1") }
        super.tearDown()
    }

    func url() throws -> String {
        guard let server = Self.server else { XCTFail("PostgreSQL did not start: \(Self.serverError ?? "")"); throw XCTSkip("no server") }
        return "postgresql://\(server.user)@127.0.0.1:\(server.port)/lake"
    }

    /// psql's unaligned, tuples-only answer.
    @discardableResult func psql(_ sql: String) throws -> String {
        guard let server = Self.server else { throw XCTSkip("no server") }
        return try shell("/usr/bin/env", ["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", server.port,
                                          "-U", server.user, "-d", "lake", "-c", sql]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A lake with parcels, scenes, signatures, histograms and three runs (markers, crop check, decide).
    func loadLake(_ path: String) throws {
        XCTAssertEqual(try run(["--db", path, "ingest", "parcels", fixture("parcels.geojson"), "--aoi", "demo", "--year", "2024"]).code, 0)
        XCTAssertEqual(try run(["--db", path, "ingest", "catalogue", fixture("scenes.stac.json")]).code, 0)
        XCTAssertEqual(try run(["--db", path, "ingest", "signatures", fixture("signatures.csv"), fixture("scl.csv")]).code, 0)
        XCTAssertEqual(try run(["--db", path, "markers", "run", Self.root.appendingPathComponent("options/mowing.yaml").path]).code, 0)
        XCTAssertEqual(try run(["--db", path, "decide", "--schemes", "mowing"]).code, 0)
    }

    func sql(_ path: String, _ query: String) throws -> String {
        let r = try run(["--db", path, "sql", query, "--csv"])
        XCTAssertEqual(r.code, 0, r.err)
        return r.out
    }

    /// Everything a lake holds, in a form two lakes can be compared by (row ids included).
    func contents(_ path: String) throws -> [String: String] {
        [
            "parcels": try sql(path, "SELECT pid, parcel_id, aoi, year, ptype, crop_code, crop_name, round(area, 6), attributes, hex(AsBinary(geom)) FROM parcels ORDER BY pid"),
            "catalogue": try sql(path, "SELECT obsid, reference, obstime, platform, sensor, card, tile, relative_orbit, cloud_cover, processing_baseline, radiometric_offset, status, assets, hex(AsBinary(footprint)) FROM catalogue ORDER BY obsid"),
            "signatures": try run(["--db", path, "export", "signatures"]).out,
            "scl": try sql(path, "SELECT * FROM scl_hist ORDER BY pid, obsid"),
            "runs": try sql(path, "SELECT uid, kind, started, options, status FROM runs ORDER BY uid"),
            "decisions": try sql(path, "SELECT r.uid, d.pid, d.scheme, d.colour, d.clear_obs, d.reasons FROM decisions d JOIN runs r USING (run_id) ORDER BY 1, 2, 3"),
            "markers": try sql(path, "SELECT r.uid, m.pid, m.detector, m.kind, m.date, round(m.magnitude, 5), m.details FROM markers m JOIN runs r USING (run_id) ORDER BY 1, 2, 3, 5"),
        ]
    }

    func testPushWritesTheJRCTablesOnceAndPullGivesTheSameLakeBack() throws {
        let url = try url()
        let lake = dir.appendingPathComponent("laptop.sqlite").path
        try loadLake(lake)
        try psql("DROP SCHEMA IF EXISTS nl CASCADE; DROP TABLE IF EXISTS public.dias_catalogue_lake, public.dias_catalogue CASCADE")

        let first = try run(["--db", lake, "push", url, "--schema", "nl", "--json"])
        XCTAssertEqual(first.code, 0, first.err)
        XCTAssertTrue(first.err.contains("rows/s"), first.err)

        // Row counts in the JRC tables are the lake's.
        let sigRows = try run(["--db", lake, "export", "signatures"]).out.split(separator: "\n").count - 1
        XCTAssertEqual(try psql("SELECT count(*) FROM nl.demo_2024"), try sql(lake, "SELECT count(*) FROM parcels").split(separator: "\n").last.map(String.init))
        XCTAssertEqual(Int(try psql("SELECT count(*) FROM nl.demo_2024_s2_signatures")), sigRows)
        XCTAssertEqual(try psql("SELECT count(*) FROM nl.demo_2024_s2_hists"), try sql(lake, "SELECT count(*) FROM scl_hist").split(separator: "\n").last.map(String.init))
        XCTAssertEqual(try psql("SELECT count(*) FROM public.dias_catalogue"), try sql(lake, "SELECT count(*) FROM catalogue").split(separator: "\n").last.map(String.init))
        XCTAssertEqual(try psql("SELECT count(*) FROM nl.demo_2024_lake_runs"), try sql(lake, "SELECT count(*) FROM runs WHERE status = 'done'").split(separator: "\n").last.map(String.init))
        XCTAssertEqual(try psql("SELECT count(*) FROM nl.demo_2024_lake_decisions"), try sql(lake, "SELECT count(*) FROM decisions").split(separator: "\n").last.map(String.init))

        // One parcel's time series in PostgreSQL equals `lake query parcel` (digital numbers, B08).
        let query = try run(["--db", lake, "query", "parcel", "P000007", "--band", "B08", "--csv"])
        XCTAssertEqual(query.code, 0, query.err)
        let lakeMeans = query.out.split(separator: "\n").dropFirst().map { line -> String in
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            return "\(f[4])|\(f[8])"   // obstime, mean
        }
        XCTAssertGreaterThan(lakeMeans.count, 10)
        let offset = try sql(lake, "SELECT DISTINCT radiometric_offset FROM catalogue WHERE card = 's2'").split(separator: "\n").last.flatMap { Double($0) } ?? 0
        let pgMeans = try psql("""
            SELECT to_char(d.obstime, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '|' || (s.mean + \(offset))::real FROM nl.demo_2024_s2_signatures s
            JOIN public.dias_catalogue d ON d.id = s.obsid JOIN nl.demo_2024 p ON p.ogc_fid = s.pid
            WHERE p.id = 'P000007' AND s.band = 'B08' ORDER BY d.obstime
            """).split(separator: "\n").map(String.init)
        XCTAssertEqual(pgMeans.count, lakeMeans.count)
        for (a, b) in zip(lakeMeans, pgMeans) {
            let (x, y) = (a.split(separator: "|"), b.split(separator: "|"))
            XCTAssertEqual(x[0], y[0])
            XCTAssertEqual(Double(x[1])!, Double(y[1])!, accuracy: 1e-3, "\(a) vs \(b)")
        }

        // Geometries equal within 1 mm (lake's own WKB compared in PostGIS).
        let wkb = try sql(lake, "SELECT parcel_id || ' ' || hex(AsBinary(geom)) FROM parcels").split(separator: "\n").dropFirst()
        let values = wkb.map { line -> String in
            let f = line.split(separator: " ")
            return "('\(f[0])', '\(f[1])')"
        }.joined(separator: ", ")
        let worst = try psql("""
            SELECT max(ST_HausdorffDistance(p.wkb_geometry, ST_GeomFromWKB(decode(v.hex, 'hex'), ST_SRID(p.wkb_geometry))))
            FROM (VALUES \(values)) v (id, hex) JOIN nl.demo_2024 p ON p.id = v.id
            """)
        XCTAssertLessThan(Double(worst) ?? 1, 0.001)
        XCTAssertEqual(try psql("SELECT count(*) FROM nl.demo_2024 WHERE NOT ST_IsValid(wkb_geometry)"), "0")

        // Idempotent: the second push writes nothing and the tables do not change.
        let before = try psql("SELECT count(*), sum(mean) FROM nl.demo_2024_s2_signatures")
        let second = try run(["--db", lake, "push", url, "--schema", "nl", "--json"])
        XCTAssertEqual(second.code, 0, second.err)
        let summary = try JSONSerialization.jsonObject(with: Data(second.out.utf8)) as? [String: Any]
        let tables = ((summary?["sets"] as? [[String: Any]])?.first?["tables"] as? [String: [String: Int]]) ?? [:]
        XCTAssertFalse(tables.isEmpty, second.out)
        for (table, counts) in tables { XCTAssertEqual(counts["written"], 0, "second push wrote to \(table)") }
        XCTAssertEqual(try psql("SELECT count(*), sum(mean) FROM nl.demo_2024_s2_signatures"), before)
        XCTAssertEqual(try psql("SELECT count(*) FROM nl.demo_2024_lake_pushes"), "1")

        // Pull builds a new lake equal to the first, row for row.
        let pulled = dir.appendingPathComponent("pulled.sqlite").path
        let pull = try run(["--db", pulled, "pull", url, "--schema", "nl", "--aoi", "demo", "--year", "2024"])
        XCTAssertEqual(pull.code, 0, pull.err)
        let (a, b) = (try contents(lake), try contents(pulled))
        for key in a.keys.sorted() { XCTAssertEqual(a[key], b[key], "\(key) differs after push and pull") }
        XCTAssertEqual(try run(["--db", pulled, "check"]).code, 0)
        // Pulling again changes nothing.
        XCTAssertEqual(try run(["--db", pulled, "pull", url, "--schema", "nl", "--aoi", "demo", "--year", "2024"]).code, 0)
        XCTAssertEqual(try contents(pulled), b)

        // Resumable: a pull stopped after a chunk (its log entry unfinished, its last ogc_fid
        // recorded) continues from there and ends with the same lake.
        let cut = try sql(pulled, "SELECT pid FROM parcels ORDER BY pid LIMIT 1 OFFSET 10").split(separator: "\n").last.map(String.init) ?? "0"
        // (lake sql takes one statement: a second is refused, not dropped.)
        let two = try run(["--db", pulled, "sql", "--write", "DELETE FROM parcels; DELETE FROM catalogue"])
        XCTAssertEqual(two.code, 2, two.err)
        XCTAssertTrue(two.err.contains("one statement at a time"), two.err)
        XCTAssertEqual(try contents(pulled)["parcels"], b["parcels"])
        for statement in [
            "UPDATE ingest_log SET finished = NULL WHERE id = (SELECT max(id) FROM ingest_log WHERE kind = 'pull')",
            "DELETE FROM parcels WHERE pid > \(cut)",
            "INSERT INTO lake_meta (key, value) SELECT 'pull:' || max(id), '\(cut)' FROM ingest_log WHERE kind = 'pull'",
        ] {
            let stopped = try run(["--db", pulled, "sql", "--write", statement])
            XCTAssertEqual(stopped.code, 0, stopped.err)
        }
        let resumed = try run(["--db", pulled, "pull", url, "--schema", "nl", "--aoi", "demo", "--year", "2024"])
        XCTAssertEqual(resumed.code, 0, resumed.err)
        XCTAssertTrue(resumed.err.contains("resumed after ogc_fid \(cut)"), resumed.err)
        XCTAssertEqual(try contents(pulled)["signatures"], b["signatures"])
        XCTAssertEqual(try contents(pulled)["parcels"], b["parcels"])

        // A part: the parcels in a list.
        let ids = dir.appendingPathComponent("ids.txt")
        try "P000003\nP000011\n".write(to: ids, atomically: true, encoding: .utf8)
        let part = dir.appendingPathComponent("part.sqlite").path
        XCTAssertEqual(try run(["--db", part, "pull", url, "--schema", "nl", "--aoi", "demo", "--year", "2024", "--parcels", ids.path]).code, 0)
        XCTAssertEqual(try sql(part, "SELECT parcel_id FROM parcels ORDER BY 1"), "parcel_id\nP000003\nP000011\n")
        XCTAssertEqual(try run(["--db", part, "query", "parcel", "P000011", "--csv"]).out, try run(["--db", lake, "query", "parcel", "P000011", "--csv"]).out)
    }

    func testPushRefusesAPasswordAndNamesAnUnreachableServer() throws {
        let lake = dir.appendingPathComponent("l.sqlite").path
        try loadLake(lake)
        let password = try run(["--db", lake, "push", "postgresql://someone:secret@127.0.0.1:1/lake"])
        XCTAssertEqual(password.code, 2)
        XCTAssertTrue(password.err.contains("PGPASSWORD"), password.err)
        XCTAssertFalse(password.err.contains("secret"), password.err)
        let unreachable = try run(["--db", lake, "push", "host=127.0.0.1 port=1 user=someone dbname=lake connect_timeout=3"])
        XCTAssertEqual(unreachable.code, 11, unreachable.err)
        XCTAssertTrue(unreachable.err.contains("someone@127.0.0.1:1/lake"), unreachable.err)
    }

    func testSubsetsMergeBackIntoTheWholeAndConflictsAreRefused() throws {
        let lake = dir.appendingPathComponent("whole.sqlite").path
        try loadLake(lake)
        let ids = try sql(lake, "SELECT parcel_id FROM parcels ORDER BY pid").split(separator: "\n").dropFirst().map(String.init)
        let half = ids.count / 2
        let first = dir.appendingPathComponent("first.txt"), second = dir.appendingPathComponent("second.txt")
        try ids[..<half].joined(separator: "\n").write(to: first, atomically: true, encoding: .utf8)
        try ids[half...].joined(separator: "\n").write(to: second, atomically: true, encoding: .utf8)
        let a = dir.appendingPathComponent("a.sqlite").path, b = dir.appendingPathComponent("b.sqlite").path
        XCTAssertEqual(try run(["--db", lake, "subset", "--out", a, "--parcels", first.path]).code, 0)
        XCTAssertEqual(try run(["--db", lake, "subset", "--out", b, "--parcels", second.path]).code, 0)
        XCTAssertEqual(try run(["--db", a, "check"]).code, 0)
        XCTAssertEqual(try sql(a, "SELECT count(*) FROM parcels"), "count(*)\n\(half)\n")
        // A subset is refused over an existing file.
        XCTAssertEqual(try run(["--db", lake, "subset", "--out", a]).code, 2)

        let whole = dir.appendingPathComponent("merged.sqlite").path
        XCTAssertEqual(try run(["--db", whole, "init"]).code, 0)
        XCTAssertEqual(try run(["--db", whole, "merge", a]).code, 0)
        XCTAssertEqual(try run(["--db", whole, "merge", b]).code, 0)
        let again = try run(["--db", whole, "merge", b, "--json"])
        XCTAssertEqual(again.code, 0, again.err)
        let counts = try JSONSerialization.jsonObject(with: Data(again.out.utf8)) as? [String: Any]
        XCTAssertEqual((counts?["signatures"] as? [String: Int])?["added"], 0)
        XCTAssertEqual((counts?["parcels"] as? [String: Int])?["added"], 0)
        let (x, y) = (try contents(lake), try contents(whole))
        for key in x.keys.sorted() { XCTAssertEqual(x[key], y[key], "\(key) differs after subset and merge") }

        // A colleague's lake that declares another crop for one parcel: that parcel is refused
        // (exit 7, named) and this lake keeps its own; with --strict nothing is merged.
        let theirs = dir.appendingPathComponent("theirs.sqlite").path
        XCTAssertEqual(try run(["--db", lake, "subset", "--out", theirs, "--parcels", first.path]).code, 0)
        XCTAssertEqual(try run(["--db", theirs, "sql", "--write", "UPDATE parcels SET crop_code = 'X' WHERE parcel_id = '\(ids[0])'"]).code, 0)
        let mine = dir.appendingPathComponent("mine.sqlite").path
        XCTAssertEqual(try run(["--db", lake, "subset", "--out", mine, "--parcels", second.path]).code, 0)
        XCTAssertEqual(try run(["--db", mine, "merge", a]).code, 0)   // mine: the whole lake again
        let strict = try run(["--db", mine, "merge", theirs, "--strict"])
        XCTAssertEqual(strict.code, 7)
        XCTAssertTrue(strict.err.contains("parcel \(ids[0])"), strict.err)
        XCTAssertTrue(strict.err.contains("nothing was merged"), strict.err)
        let lenient = try run(["--db", mine, "merge", theirs])
        XCTAssertEqual(lenient.code, 7)
        XCTAssertTrue(lenient.err.contains("parcel \(ids[0]) (demo 2024): another declared crop"), lenient.err)
        XCTAssertNotEqual(try sql(mine, "SELECT crop_code FROM parcels WHERE parcel_id = '\(ids[0])'"), "crop_code\nX\n")
        XCTAssertEqual(try sql(mine, "SELECT count(*) FROM parcels"), "count(*)\n\(ids.count)\n")
    }
}
