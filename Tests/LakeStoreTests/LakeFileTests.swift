import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
import LakeSQLite
@testable import LakeStore

final class LakeFileTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("lake-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func testCreateRecordsSchemaSRIDAndGeometryColumns() throws {
        let lake = try Lake.create(path: path("a.sqlite"), srid: 32632)
        XCTAssertEqual(lake.schemaVersion, Lake.latestSchemaVersion)
        XCTAssertEqual(try lake.meta("srid"), "32632")
        XCTAssertEqual(try lake.meta("schema_version"), String(Lake.latestSchemaVersion))
        XCTAssertEqual(try lake.meta("lake_version"), LakeVersion.current)
        let columns = try lake.db.prepare("SELECT f_table_name, srid FROM geometry_columns ORDER BY 1").rows()
        XCTAssertEqual(columns, [[.text("catalogue"), .int(4326)], [.text("foi_clusters"), .int(32632)], [.text("parcel_points"), .int(32632)],
                                 [.text("parcels"), .int(32632)]])
        XCTAssertEqual(try lake.db.scalar("PRAGMA application_id")?.int, Int64(Lake.applicationID))
    }

    /// QGIS draws the traffic light on opening: every map view has a default style in
    /// `layer_styles`, well-formed QML whose categories are the colours decisions can hold; a
    /// style the user saved as the default before the migration stays the default.
    func testMapViewsHaveDefaultQGISStylesAndUsersKeepTheirs() throws {
        let lake = try Lake.create(path: path("s.sqlite"), srid: 32632)
        let views = try lake.db.prepare("SELECT view_name FROM views_geometry_columns ORDER BY 1").rows().compactMap { $0[0].text }
        XCTAssertEqual(views, ["decisions_all_runs", "events", "events_all_runs", "foi_latest", "heterogeneity_latest", "lights", "mowing_events"])
        let styles = try lake.db.prepare("SELECT f_table_name, f_geometry_column, styleQML, styleSLD FROM layer_styles WHERE useAsDefault ORDER BY 1").rows()
        XCTAssertEqual(styles.compactMap { $0[0].text }, views)
        for row in styles {
            XCTAssertEqual(row[1].text, "geom")
            let qml = try XCTUnwrap(row[2].text)
            XCTAssertTrue(XMLParser(data: Data(qml.utf8)).parse(), "QML of \(row[0]) is not well-formed")
            if let sld = row[3].text, !sld.isEmpty { XCTAssertTrue(XMLParser(data: Data(sld.utf8)).parse()) }
        }
        let lights = try XCTUnwrap(styles.first { $0[0].text == "lights" }?[2].text)
        let perRun = try XCTUnwrap(styles.first { $0[0].text == "decisions_all_runs" }?[2].text)
        XCTAssertTrue(lights.contains("type=\"categorizedSymbol\" attr=\"light\""))
        let schema = try XCTUnwrap(try lake.db.scalar("SELECT sql FROM sqlite_master WHERE name = 'decisions'")?.text)
        for colour in ["green", "yellow", "red", "grey"] {
            XCTAssertTrue(schema.contains("'\(colour)'"), colour)
            XCTAssertTrue(lights.contains("value=\"\(colour)\""), colour)
            XCTAssertTrue(perRun.contains("value=\"\(colour)\""), colour)
        }
        // A lake at version 8 whose user saved a default style for lights keeps it at version 9.
        let old = path("v8.sqlite")
        let db = try Connection(path: old, mode: .create)
        try Lake.configure(db)
        try Migrator.migrate(db, srid: 32632, path: old, upTo: 8)
        try db.execute("""
            CREATE TABLE layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT, f_table_schema TEXT, f_table_name TEXT,
              f_geometry_column TEXT, styleName TEXT, styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT,
              ui TEXT, update_time DATETIME DEFAULT CURRENT_TIMESTAMP);
            INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, styleQML, useAsDefault)
            VALUES ('', '', 'lights', 'geom', 'mine', '<qgis/>', 1);
            """)
        try Migrator.migrate(db, srid: 32632, path: old)
        let kept = try db.prepare("SELECT f_table_name, styleName FROM layer_styles WHERE useAsDefault ORDER BY 1").rows()
        XCTAssertEqual(kept.filter { ["lights", "mowing_events"].contains($0[0].text) },
                       [[.text("lights"), .text("mine")], [.text("mowing_events"), .text("lake mowing events")]])
    }

    /// A lake written by a newer lake (a later schema, with objects this one does not know)
    /// is named as such, not as foreign code.
    func testANewerLakeSaysUpgradeLake() throws {
        let file = path("newer.sqlite")
        let lake = try Lake.create(path: file)
        try lake.db.execute("ALTER TABLE runs ADD COLUMN from_the_future TEXT; PRAGMA user_version = 99")
        for writable in [false, true] {
            XCTAssertThrowsError(try Lake.open(path: file, writable: writable)) { error in
                XCTAssertEqual((error as? LakeError)?.exitCode, 3)
                XCTAssertTrue("\(error)".contains("schema version 99 is newer"), "\(error)")
            }
        }
    }

    func testUnknownSRIDIsAUsageErrorAndLeavesNoFile() {
        XCTAssertThrowsError(try Lake.create(path: path("b.sqlite"), srid: 999_999)) { error in
            XCTAssertEqual((error as? LakeError)?.exitCode, 2)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("b.sqlite")))
    }

    func testOpeningSomethingElseFailsWithALakeFileError() throws {
        try "hello".write(toFile: path("text.sqlite"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Lake.open(path: path("text.sqlite"))) { XCTAssertEqual(($0 as? LakeError)?.exitCode, 3) }
        let other = try Connection(path: path("other.sqlite"), mode: .create)
        try other.execute("CREATE TABLE t(x)")
        XCTAssertThrowsError(try Lake.open(path: path("other.sqlite"))) { error in
            XCTAssertTrue("\(error)".contains("not a lake file"), "\(error)")
        }
        XCTAssertThrowsError(try Lake.open(path: path("missing.sqlite"))) { XCTAssertEqual(($0 as? LakeError)?.exitCode, 3) }
    }

    func testFileWithAForeignTriggerIsRefused() throws {
        _ = try Lake.create(path: path("c.sqlite"))
        let raw = try Connection(path: path("c.sqlite"))
        try raw.execute("CREATE TRIGGER evil AFTER INSERT ON parcels BEGIN DELETE FROM catalogue; END")
        XCTAssertThrowsError(try Lake.open(path: path("c.sqlite"))) { error in
            XCTAssertTrue("\(error)".contains("trigger evil"), "\(error)")
        }
    }

    /// Schema code that would run on lake's own reads and writes is refused, naming the object;
    /// what users and GIS tools add beside lake's tables is tolerated and listed.
    func testForeignObjectsAreRefusedOrToleratedByWhereTheyCouldRun() throws {
        let hostile: [(String, String)] = [
            ("ALTER TABLE lake_meta ADD COLUMN g TEXT GENERATED ALWAYS AS (upper(value)) VIRTUAL", "table lake_meta"),
            ("DROP TABLE ingest_log; CREATE TABLE ingest_log (id INTEGER PRIMARY KEY, x TEXT DEFAULT (upper('a')) CHECK (length(x) > 0))", "table ingest_log"),
            ("DROP TABLE scl_hist; CREATE VIRTUAL TABLE scl_hist USING rtree(id, a, b)", "table scl_hist"),
            ("CREATE INDEX evil_ix ON parcels (upper(crop_name))", "index evil_ix"),
            ("CREATE INDEX partial_ix ON catalogue (obstime) WHERE length(reference) > 0", "index partial_ix"),
            ("CREATE TRIGGER spy AFTER UPDATE ON runs BEGIN SELECT 1; END", "trigger spy"),
            ("DROP TRIGGER scl_hist_inserted", "trigger scl_hist_inserted"),
            ("DROP VIEW parcel_groups; CREATE VIEW parcel_groups AS SELECT 1 AS pid", "view parcel_groups"),
        ]
        for (i, (sql, object)) in hostile.enumerated() {
            let file = path("hostile\(i).sqlite")
            _ = try Lake.create(path: file)
            try Connection(path: file).execute(sql)
            XCTAssertThrowsError(try Lake.open(path: file), sql) { error in
                XCTAssertEqual((error as? LakeError)?.exitCode, 3, sql)
                XCTAssertTrue("\(error)".contains(object), "\(sql): \(error)")
            }
            XCTAssertThrowsError(try Lake.open(path: file, writable: true), sql)
            // lake check --fix: a clean copy that opens, with lake's data kept.
            let fixed = path("fixed\(i).sqlite")
            let done = try LakeCheck.fix(path: file, out: fixed)
            XCTAssertFalse(done.isEmpty, sql)
            XCTAssertTrue(try LakeCheck.run(path: fixed).sound, "\(sql): \(done)")
            XCTAssertEqual(try Lake.open(path: fixed).srid, Lake.defaultSRID, sql)
        }
        // The same table written with other comments and line breaks (an older lake's migration
        // text) is lake's own; a string that looks like a comment is not stripped.
        let reworded = path("reworded.sqlite")
        _ = try Lake.create(path: reworded)
        do {
            let raw = try Connection(path: reworded)
            let sql = try XCTUnwrap(raw.scalar("SELECT sql FROM sqlite_schema WHERE name = 'ingest_log'")?.text)
            try raw.execute("DROP TABLE ingest_log")
            try raw.execute(sql.replacingOccurrences(of: "(", with: "( /* reworded */ ", options: [], range: sql.range(of: "("))
                               .replacingOccurrences(of: ",", with: ",\n   -- a comment of another lake version\n  "))
        }
        XCTAssertNoThrow(try Lake.open(path: reworded))
        XCTAssertEqual(SchemaGuard.normalized("a  '--x'  -- c\n b /* d */ c"), "a '--x' b c")
        let honest = path("honest.sqlite")
        _ = try Lake.create(path: honest)
        try Connection(path: honest).execute("""
            CREATE VIEW meadows AS SELECT pid, parcel_id, geom FROM parcels WHERE crop_code = '6100';
            CREATE TABLE qgis_projects (name TEXT PRIMARY KEY, metadata BLOB, content BLOB);
            INSERT INTO layer_styles (f_table_name, f_geometry_column, styleName, styleQML, useAsDefault) VALUES ('meadows', 'geom', 'mine', '<qgis/>', 1);
            CREATE TABLE fields (id INTEGER PRIMARY KEY, name TEXT);
            SELECT AddGeometryColumn('fields', 'geom', 3035, 'POLYGON', 'XY');
            SELECT CreateSpatialIndex('fields', 'geom');
            CREATE TRIGGER fields_touched AFTER INSERT ON fields BEGIN SELECT 1; END;
            CREATE INDEX parcels_by_crop ON parcels (crop_code, year);
            """)
        let lake = try Lake.open(path: honest, writable: true)
        let findings = try SchemaGuard.inspect(lake.db, srid: lake.srid)
        XCTAssertEqual(findings.filter(\.refused).map(\.name), [])
        for name in ["meadows", "qgis_projects", "fields", "fields_touched", "parcels_by_crop", "idx_fields_geom"] {
            XCTAssertTrue(findings.contains { $0.name == name && !$0.refused }, name)
        }
    }

    /// Whatever the user's environment says, no SpatiaLite function that writes files exists.
    func testSpatiaLiteFileFunctionsStayOffEvenWhenTheEnvironmentRelaxesThem() throws {
        let canary = path("canary.txt")
        setenv("SPATIALITE_SECURITY", "relaxed", 1)
        let db = try Connection(path: ":memory:", mode: .create)
        XCTAssertThrowsError(try db.execute("SELECT BlobToFile(x'41', '\(canary)')"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: canary))
    }

    /// `lake check`: a sound lake passes; a damaged series, statistics out of range and a
    /// refused object each fail, naming what and where; the file is not changed.
    func testLakeCheckNamesWhatIsWrong() throws {
        let file = path("check.sqlite")
        do {
            let lake = try Lake.create(path: file)
            try lake.db.execute("""
                INSERT INTO parcels (pid, parcel_id, area, source, geom) VALUES
                  (1, 'a', 1, 't', CastToMultiPolygon(GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))', 3035))),
                  (2, 'b', 1, 't', CastToMultiPolygon(GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))', 3035)));
                INSERT INTO catalogue (obsid, reference, obstime, sensor, card, source) VALUES (1, 'r1', '2024-01-01T00:00:00Z', '2A', 's2', 't');
                """)
            let s = SignatureStats(count: 10, mean: 1, std: 0.5, min: 0, max: 2, p25: 1, p50: 1, p75: 1)
            let store = SignatureStore(db: lake.db)
            try store.append(pid: 1, obsid: 1, bands: [(4, s)])
            try store.append(pid: 2, obsid: 1, bands: [(4, s)])
            _ = try store.mergePending()
        }
        XCTAssertTrue(try LakeCheck.run(path: file).sound)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        do {
            let raw = try Connection(path: file)
            let bad = SignatureStats(count: -5, mean: 1, std: -1, min: 3, max: 2, p25: 1, p50: 1, p75: 1)
            try raw.run("UPDATE signatures_packed SET data = ? WHERE pid = 1", .blob(SeriesCodec.encode([SignatureRow(obsid: 1, bandID: 4, stats: bad)])))
            try raw.run("UPDATE signatures_packed SET data = ? WHERE pid = 2", .blob([9, 9, 9, 9]))
        }
        let damaged = try LakeCheck.run(path: file)
        XCTAssertTrue(damaged.safe)
        XCTAssertFalse(damaged.sound)
        let series = try XCTUnwrap(damaged.items.first { $0.check == "series" })
        XCTAssertFalse(series.ok); XCTAssertTrue(series.detail.contains("pid 2"), series.detail)
        let values = try XCTUnwrap(damaged.items.first { $0.check == "values" })
        XCTAssertFalse(values.ok)
        for what in ["count not a whole number", "negative std", "min above max"] { XCTAssertTrue(values.detail.contains(what), values.detail) }
        try Connection(path: file).execute("CREATE TRIGGER spy AFTER INSERT ON catalogue BEGIN SELECT 1; END")
        let hostile = try LakeCheck.run(path: file)
        XCTAssertFalse(hostile.safe)
        XCTAssertEqual(hostile.objects.filter(\.refused).map(\.name), ["spy"])
        XCTAssertNil(hostile.items.first { $0.check == "series" })     // nothing read through a refused file
        XCTAssertNotEqual(bytes, try Data(contentsOf: URL(fileURLWithPath: file)))
        let before = try Data(contentsOf: URL(fileURLWithPath: file))
        _ = try LakeCheck.run(path: file)
        XCTAssertEqual(before, try Data(contentsOf: URL(fileURLWithPath: file)))    // checking changes nothing
    }

    /// A lake another tool switched to WAL mode opens (read-only too) and is one file again.
    func testAWALModeLakeOpensAndIsOneFileAgain() throws {
        let file = path("wal.sqlite")
        _ = try Lake.create(path: file)
        do {
            let raw = try Connection(path: file)
            try raw.execute("PRAGMA journal_mode = WAL; INSERT INTO lake_meta (key, value) VALUES ('note', 'written in WAL mode')")
        }
        XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))[18], 2)
        let lake = try Lake.open(path: file)
        XCTAssertEqual(try lake.meta("note"), "written in WAL mode")
        XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))[18], 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: file + "-wal"))
    }

    /// The packed series as rows for SQL: `signatures` gives every stored statistic of every
    /// parcel, pending rows applied, the same values as the store reads; `pid = ?` reads one.
    func testSignaturesAreRowsForSQL() throws {
        let lake = try Lake.create(path: path("rows.sqlite"))
        try lake.db.execute("""
            INSERT INTO parcels (pid, parcel_id, area, source, geom) VALUES
              (1, 'a', 1, 't', CastToMultiPolygon(GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))', 3035))),
              (2, 'b', 1, 't', CastToMultiPolygon(GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))', 3035)));
            INSERT INTO catalogue (obsid, reference, obstime, sensor, card, source) VALUES
              (1, 'r1', '2024-01-01T00:00:00Z', '2A', 's2', 't'), (2, 'r2', '2024-01-06T00:00:00Z', '2B', 's2', 't');
            """)
        let store = SignatureStore(db: lake.db)
        let s = SignatureStats(count: 10, mean: 1234.5, std: 12.25, min: 1200, max: 1300, p25: 1220, p50: 1235, p75: 1250)
        try store.append(pid: 1, obsid: 1, bands: [(4, s), (8, s)])
        try store.append(pid: 2, obsid: 2, bands: [(4, s)])
        _ = try store.mergePending()
        try store.append(pid: 1, obsid: 2, bands: [(4, SignatureStats(count: 5, mean: 99, std: .nan, min: 90, max: 110, p25: .nan, p50: .nan, p75: .nan))])
        try SignaturesTable.register(on: lake.db)
        XCTAssertEqual(try lake.db.scalar("SELECT count(*) FROM signatures")?.int, 4)
        let rows = try lake.db.prepare("SELECT pid, obsid, band, count, mean, std, p75 FROM signatures WHERE pid = 1").rows()
        XCTAssertEqual(rows.count, 3)
        XCTAssertEqual(rows[0][0].int, 1); XCTAssertEqual(rows[0][1].int, 1); XCTAssertEqual(rows[0][2].text, "B04")
        XCTAssertEqual(rows[0][3].double, 10); XCTAssertEqual(rows[0][4].double, 1234.5); XCTAssertEqual(rows[0][5].double, 12.25)
        XCTAssertEqual(rows[0][6].double, 1250)
        XCTAssertEqual(rows[2][2].text, "B04"); XCTAssertEqual(rows[2][4].double, 99)     // the pending row
        XCTAssertNil(rows[2][5].double)                                                    // a statistic not given is NULL
        XCTAssertEqual(try lake.db.scalar("SELECT group_concat(band) FROM signatures WHERE pid = 2")?.text, "B04")
        XCTAssertEqual(try lake.db.scalar("SELECT sum(count) FROM signatures")?.double, 35)
    }

    func testNoJournalFilesAreLeftBehind() throws {
        do {
            let lake = try Lake.create(path: path("d.sqlite"))
            try lake.db.transaction { try lake.db.run("INSERT INTO lake_meta VALUES ('x', 'y')") }
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0 != "d.sqlite" }
        XCTAssertEqual(leftovers, [])
    }

    func testSignatureStoreMergesPendingAndReplacesRepeats() throws {
        let lake = try Lake.create(path: path("e.sqlite"))
        try lake.db.execute("""
            INSERT INTO parcels (pid, parcel_id, area, source, geom) VALUES
              (1, 'a', 1, 't', CastToMultiPolygon(GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))', 3035)));
            INSERT INTO catalogue (obsid, reference, obstime, sensor, card, source) VALUES
              (1, 'r1', '2024-01-01T00:00:00Z', '2A', 's2', 't'), (2, 'r2', '2024-01-06T00:00:00Z', '2B', 's2', 't');
            """)
        let store = SignatureStore(db: lake.db)
        let s1 = SignatureStats(count: 10, mean: 1, std: 0, min: 1, max: 1, p25: 1, p50: 1, p75: 1)
        let s2 = SignatureStats(count: 10, mean: 2, std: 0, min: 2, max: 2, p25: 2, p50: 2, p75: 2)
        try store.append(pid: 1, obsid: 2, bands: [(4, s1), (8, s1)])
        try store.append(pid: 1, obsid: 1, bands: [(4, s1)])
        var counts = try store.mergePending()
        XCTAssertEqual(counts.inserted, 3)
        XCTAssertEqual(try store.pendingCount(), 0)
        try store.append(pid: 1, obsid: 1, bands: [(4, s1), (8, s2)])   // one repeat, one new
        try store.append(pid: 1, obsid: 2, bands: [(4, s2)])            // one change
        // Readers see pending rows before they are merged.
        XCTAssertEqual(try store.series(pid: 1).map(\.stats.mean), [1, 2, 2, 1])
        counts = try store.mergePending()
        XCTAssertEqual([counts.inserted, counts.updated, counts.unchanged], [1, 1, 1])
        let series = try store.series(pid: 1)
        XCTAssertEqual(series.map(\.obsid), [1, 1, 2, 2])
        XCTAssertEqual(series.map(\.bandID), [4, 8, 4, 8])
        XCTAssertEqual(series.map(\.stats.mean), [1, 2, 2, 1])
        XCTAssertEqual(try store.rowCount(), 4)
        XCTAssertEqual(try store.bandNames(), ["B04", "B08"])
    }

    /// A writer killed mid-transaction leaves a hot journal; opening the lake read-only (as every
    /// query does) rolls it back instead of failing, and shows the state before the write.
    func testReadOnlyOpenRollsBackAHotJournal() throws {
        let a = path("hot.sqlite"), b = path("copy.sqlite")
        _ = try Lake.create(path: a, srid: 3035)
        let writer = try Connection(path: a, mode: .readWrite)
        try writer.execute("PRAGMA cache_size = 2; BEGIN IMMEDIATE")
        for k in 0..<3000 {   // enough changed pages to spill to the file, saving the originals in the journal
            try writer.run("INSERT INTO lake_meta (key, value) VALUES (?, ?)", .text("k\(k)"), .text(String(repeating: "x", count: 200)))
        }
        XCTAssertGreaterThan((try FileManager.default.attributesOfItem(atPath: a + "-journal")[.size] as? Int) ?? 0, 0)
        // The file as a killed process leaves it: database and journal, no lock.
        try FileManager.default.copyItem(atPath: a, toPath: b)
        try FileManager.default.copyItem(atPath: a + "-journal", toPath: b + "-journal")
        try writer.execute("ROLLBACK")
        let lake = try Lake.open(path: b)
        XCTAssertEqual(try lake.db.scalar("SELECT count(*) FROM lake_meta WHERE key LIKE 'k%'")?.int, 0)
        XCTAssertEqual(try lake.db.scalar("PRAGMA integrity_check")?.text, "ok")
        XCTAssertFalse(FileManager.default.fileExists(atPath: b + "-journal") && ((try? FileManager.default.attributesOfItem(atPath: b + "-journal")[.size] as? Int) ?? 0) > 0)
    }
}
