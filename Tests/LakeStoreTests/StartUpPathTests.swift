import Foundation
import XCTest
import LakeSQLite
import LakeSupport
import LakeTestSupport
@testable import LakeStore

/// What lets `lake` open a lake without SpatiaLite: the schema reference embedded at build
/// time, the parcel's stored point, SpatiaLite loaded on demand; and the JSON writer.
final class StartUpPathTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("lake-startup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// The embedded reference is what this process's SpatiaLite and migrations make, version by
    /// version (if the system's SpatiaLite changes after the build, the guard falls back to the
    /// live reference; this test then says so).
    func testEmbeddedSchemaReferenceEqualsTheLiveOneAtEveryVersion() throws {
        for version in 1...Lake.latestSchemaVersion {
            let embedded = SchemaGuard.embeddedReference(version: version)
            let live = try SchemaGuard.referenceObjects(srid: 3035, version: version)
            XCTAssertFalse(embedded.isEmpty)
            XCTAssertEqual(Set(embedded.keys), Set(live.keys), "schema version \(version)")
            for (key, object) in live { XCTAssertEqual(embedded[key]?.sql, object.sql, "\(key) at version \(version)") }
        }
        XCTAssertNotNil(SchemaGuard.embeddedReference(version: 7)["trigger parcels_point_on_insert"])
        XCTAssertNil(SchemaGuard.embeddedReference(version: 6)["trigger parcels_point_on_insert"])
        // The quick exact comparison every open makes: the live objects of each version match;
        // one SQL text changed, one object more, one less, one retyped: they do not.
        for version in [1, 7, Lake.latestSchemaVersion] {
            let live = Array(try SchemaGuard.referenceObjects(srid: 3035, version: version).values)
            XCTAssertTrue(SchemaGuard.matchesEmbedded(live, version: version), "version \(version)")
            XCTAssertFalse(SchemaGuard.matchesEmbedded(live, version: version == 1 ? 2 : 1))
            let k = live.firstIndex { $0.type == "trigger" }!
            var changed = live
            changed[k] = SchemaGuard.SchemaObject(type: live[k].type, name: live[k].name, table: live[k].table, sql: live[k].sql + " ")
            XCTAssertFalse(SchemaGuard.matchesEmbedded(changed, version: version))
            XCTAssertFalse(SchemaGuard.matchesEmbedded(live + [SchemaGuard.SchemaObject(type: "view", name: "extra", table: "extra", sql: "CREATE VIEW extra AS SELECT 1")], version: version))
            XCTAssertFalse(SchemaGuard.matchesEmbedded(Array(live.dropLast()), version: version))
            var retyped = live
            retyped[k] = SchemaGuard.SchemaObject(type: "view", name: live[k].name, table: live[k].table, sql: live[k].sql)
            XCTAssertFalse(SchemaGuard.matchesEmbedded(retyped, version: version))
        }
    }

    func testAConnectionLoadsSpatiaLiteOnlyWhenAsked() throws {
        let db = try Connection(path: ":memory:", mode: .create, spatial: false)
        XCTAssertFalse(db.hasSpatiaLite)
        XCTAssertThrowsError(try db.scalar("SELECT ST_Area(GeomFromText('POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))'))"))
        try db.loadSpatiaLite()
        try db.loadSpatiaLite()
        XCTAssertEqual(try db.scalar("SELECT ST_Area(GeomFromText('POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))'))")?.double, 4)
        // Strict security holds on a connection that loaded SpatiaLite late, too.
        XCTAssertThrowsError(try db.scalar("SELECT BlobToFile(x'00', '/tmp/lake-should-not-exist')"))
    }

    /// Schema 7 keeps each parcel's point on its surface in WGS 84, whatever writes the geometry,
    /// equal to SpatiaLite's own answer; an older lake opened for writing gets the points filled.
    func testParcelPointIsStoredOnInsertUpdateAndMigration() throws {
        let path = dir.appendingPathComponent("p.sqlite").path
        let lake = try Lake.create(path: path)
        let square = "MULTIPOLYGON(((4321000 3210000, 4321100 3210000, 4321100 3210100, 4321000 3210100, 4321000 3210000)))"
        try lake.db.run("""
            INSERT INTO parcels (parcel_id, area, source, geom) VALUES ('a', 10000, 't', MultiPolygonFromText(?, 3035))
            """, .text(square))
        func point() throws -> [SQLValue] {
            try lake.db.prepare("""
                SELECT lon, lat, X(Transform(ST_PointOnSurface(geom), 4326)), Y(Transform(ST_PointOnSurface(geom), 4326)) FROM parcels
                """).rows()[0]
        }
        var p = try point()
        XCTAssertEqual(try XCTUnwrap(p[0].double), try XCTUnwrap(p[2].double), accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(p[1].double), try XCTUnwrap(p[3].double), accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(p[0].double), 10.0, accuracy: 0.01)   // LAEA Europe's false origin is 10°E, 52°N
        let before = try XCTUnwrap(p[0].double)
        try lake.db.run("UPDATE parcels SET geom = ST_Translate(geom, 50000, 0, 0)")
        p = try point()
        XCTAssertEqual(try XCTUnwrap(p[0].double), try XCTUnwrap(p[2].double), accuracy: 1e-12)
        XCTAssertGreaterThan(try XCTUnwrap(p[0].double), before + 0.5)

        // parcel_points (schema 10) follows the geometry too.
        let moved = try lake.db.prepare("SELECT ST_Within(pt.geom, p.geom) FROM parcels p JOIN parcel_points pt USING (pid)").rows()
        XCTAssertEqual(moved, [[.int(1)]])
        try lake.db.run("DELETE FROM parcels")
        XCTAssertEqual(try lake.db.scalar("SELECT count(*) FROM parcel_points")?.int, 0)

        // A lake at schema 6 as an older lake wrote it (with a run, which has no uid there);
        // opening for writing migrates and fills.
        let oldPath = dir.appendingPathComponent("v6.sqlite").path
        do {
            let db = try Connection(path: oldPath, mode: .create)
            try Lake.configure(db)
            try db.execute("PRAGMA application_id = \(Lake.applicationID)")
            try Migrator.migrate(db, srid: 3035, path: oldPath, upTo: 6)
            try db.run("INSERT OR REPLACE INTO lake_meta (key, value) VALUES ('srid', '3035')")
            try db.run("INSERT INTO parcels (parcel_id, area, source, geom) VALUES ('a', 10000, 't', MultiPolygonFromText(?, 3035))", .text(square))
            try db.run("INSERT INTO runs (kind, started, lake_version) VALUES ('markers', '2024-01-01T00:00:00Z', '0.0.9')")
        }
        let old = try Lake.open(path: oldPath, spatial: false)
        XCTAssertEqual(old.schemaVersion, 6)
        XCTAssertFalse(old.db.hasSpatiaLite)
        let migrated = try Lake.open(path: oldPath, writable: true, spatial: false)
        XCTAssertEqual(migrated.schemaVersion, Lake.latestSchemaVersion)
        XCTAssertEqual(try migrated.db.scalar("SELECT count(*) FROM layer_styles WHERE useAsDefault")?.int, 7)
        let row = try migrated.db.prepare("""
            SELECT lon, X(Transform(ST_PointOnSurface(geom), 4326)), (SELECT ST_Within(pt.geom, parcels.geom) FROM parcel_points pt WHERE pt.pid = parcels.pid)
            FROM parcels
            """).rows()[0]
        XCTAssertEqual(try XCTUnwrap(row[0].double), try XCTUnwrap(row[1].double), accuracy: 1e-12)
        XCTAssertEqual(row[2], .int(1), "the migration gives every parcel its point")
        let uid = try XCTUnwrap(try migrated.db.scalar("SELECT uid FROM runs")?.text)
        XCTAssertEqual(uid.count, 32)
        XCTAssertTrue(uid.allSatisfy(\.isHexDigit))
    }

    /// A server's time limit: a statement past the deadline stops with SQLITE_INTERRUPT, soon;
    /// without a deadline the same statement runs to its end.
    func testADeadlineInterruptsALongStatement() throws {
        let db = try Connection(path: ":memory:", mode: .create, spatial: false)
        let long = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000000) SELECT count(*) FROM c"
        db.interrupt(after: 0.05)
        let started = Date()
        XCTAssertThrowsError(try db.scalar(long)) { XCTAssertEqual(($0 as? SQLiteError).map { $0.code & 0xff }, 9) }
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        db.interrupt(after: nil)
        XCTAssertEqual(try db.scalar("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000) SELECT count(*) FROM c")?.int, 100_000)
    }

    func testJSONTextMatchesWhatJSONSerializationReadsBack() throws {
        let nothing: Int? = nil
        let value: [String: Any] = [
            "b": 1.0, "a": 0.1, "c": [1, 2.5, Float(621.51), Int64(-3)], "d": nothing as Any, "e": "x/y\"\u{1}é\n\\",
            "f": true, "g": [String: Any](), "h": 1e-7, "i": Double.nan, "j": [[String: Int]](), "k": ["z": [false]],
            // Typed containers (matched as such, without converting them to [Any?]).
            "l": [1.5, Double.nan] as [Double], "m": ["a\"b"] as [String], "n": [3, -4] as [Int], "o": [nil, "q"] as [String?],
            "p": [["r": 1]] as [[String: Any]], "q": ["s": nil] as [String: Any?],
        ]
        let text = JSONText.render(value)
        let back = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertEqual(back["a"] as? Double, 0.1)
        XCTAssertEqual(back["b"] as? Double, 1)
        XCTAssertEqual(back["c"] as? [Double], [1, 2.5, 621.51, -3])
        XCTAssertTrue(back["d"] is NSNull)
        XCTAssertEqual(back["e"] as? String, "x/y\"\u{1}é\n\\")
        XCTAssertEqual(back["f"] as? Bool, true)
        XCTAssertEqual(back["h"] as? Double, 1e-7)
        XCTAssertTrue(back["i"] is NSNull)
        XCTAssertEqual((back["k"] as? [String: Any])?["z"] as? [Bool], [false])
        XCTAssertEqual((back["l"] as? [Any])?.first as? Double, 1.5); XCTAssertTrue((back["l"] as? [Any])?.last is NSNull)
        XCTAssertEqual(back["m"] as? [String], ["a\"b"]); XCTAssertEqual(back["n"] as? [Int], [3, -4])
        XCTAssertTrue((back["o"] as? [Any])?.first is NSNull); XCTAssertEqual((back["o"] as? [Any])?.last as? String, "q")
        XCTAssertEqual(((back["p"] as? [Any])?.first as? [String: Any])?["r"] as? Int, 1)
        XCTAssertTrue((back["q"] as? [String: Any])?["s"] is NSNull)
        XCTAssertEqual(JSONText.render(["b": 1, "a": [true, "s"]] as [String: Any]),
                       "{\n  \"a\" : [\n    true,\n    \"s\"\n  ],\n  \"b\" : 1\n}")
        XCTAssertEqual(JSONText.render(["x": [Int]()], pretty: false), "{\"x\":[]}")
        XCTAssertEqual(Format.double("%.4f", 1.41086), "1.4109")
        XCTAssertEqual(Format.ints("%d:%02d left", 3, 7), "3:07 left")
        XCTAssertEqual("  B04\t".trimmed(), "B04")
        XCTAssertEqual("B04".padded(to: 5) + "|", "B04  |")
    }

    /// The typed column writer answers the quick JRC queries (`parcelByID`, `parcelByLocation`,
    /// `parcelsByPolygon`); it must write what the generic writer wrote for the same values, byte
    /// for byte: identifiers as numbers where they are integers, nulls, integral doubles.
    func testTypedColumnsWriteWhatTheGenericWriterWrote() {
        let ids = ["P010000", "123", "-7", "00012", "1e3", "9223372036854775808", "a\"b"]
        let generic: [String: Any] = [
            "pid": ids.map { id -> Any in Int64(id).map { $0 as Any } ?? id },
            "cropname": [nil, "grass/land", "é\n"] as [String?],
            "srid": [32632, 4326] as [Int],
            "area": [14108.353140730535, 2.0, -0.5, 1e20, Double.nan],
            "ogc_fid": [Int64(1), Int64(-9_223_372_036_854_775_807)] as [Any],
        ]
        let typed: [String: JSONColumn] = [
            "pid": .identifiers(ids),
            "cropname": .strings([nil, "grass/land", "é\n"]),
            "srid": .integers([32632, 4326]),
            "area": .doubles([14108.353140730535, 2.0, -0.5, 1e20, Double.nan]),
            "ogc_fid": .integers([1, -9_223_372_036_854_775_807]),
        ]
        XCTAssertEqual(JSONText.columns(typed), JSONText.render(generic, pretty: false))
        XCTAssertEqual(JSONText.columns(["pid": .identifiers(["12", "x"]), "srid": .integers([nil])]), "{\"pid\":[12,\"x\"],\"srid\":[null]}")
    }

    /// The column writer writes numbers digit by digit into its own buffer: held to the generic
    /// writer (the standard library's `String(_:)` forms) on the edges of every digit count and
    /// on seeded random values of every magnitude, and the columns read from rows to the columns
    /// given as arrays.
    func testColumnWriterNumbersMatchTheGenericWriter() {
        var random = SeededRandom(seed: 2026_12_07)
        var integers: [Int64] = [0, -1, .max, .min, .min + 1]
        var power: Int64 = 1
        for _ in 0..<18 { power *= 10; integers += [power - 1, power, power + 1, -power, -(power - 1)] }
        for _ in 0..<3000 { integers.append(Int64(bitPattern: random.next()) >> Int64(random.next() % 64)) }
        var floats: [Float] = [0, -0.0, 1e7, -1e7, 9_999_999, 16_777_216, 8_388_609.5, .nan, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 0.1, 1533.8]
        var doubles: [Double] = [0, -0.0, 1e15, -1e15, 999_999_999_999_999, 1e15 + 1, .nan, .infinity, .leastNonzeroMagnitude, 0.1, 1_704_067_237]
        for _ in 0..<3000 {
            floats.append(Float(bitPattern: UInt32(truncatingIfNeeded: random.next())))
            doubles.append(Double(bitPattern: random.next()))
            // And the everyday ones: band statistics and epoch seconds, whole and not.
            floats.append(Float((random.unit() * 10_000).rounded() / Double(1 + random.next() % 100)))
            doubles.append((random.unit() * 2e9).rounded() / Double(1 + random.next() % 2))
        }
        func generic(_ values: [Any]) -> String { JSONText.render(["v": values], pretty: false) }
        XCTAssertEqual(JSONText.columns(["v": .integers(integers)]), generic(integers))
        XCTAssertEqual(JSONText.columns(["v": .floats(floats)]), generic(floats))
        XCTAssertEqual(JSONText.columns(["v": .doubles(doubles)]), generic(doubles))
        let strings: [String?] = ["B02", nil, "q\"uote", "back\\slash", "tab\t", "\u{1}", "é"]
        let hists: [[Int]?] = [[0, 0, 0, 0, 310, 0, 0, 0, 2, 0, 0, 0], nil, [Int](repeating: 0, count: 12)]
        let arrays: [String: JSONColumn] = ["f": .floats(floats.map { $0 }), "d": .doubles(doubles), "s": .strings(strings), "h": .counts(hists)]
        let fromRows: [String: JSONColumn] = [
            "f": .floatsOf(count: floats.count) { floats[$0] }, "d": .doublesOf(count: doubles.count) { doubles[$0] },
            "s": .stringsOf(count: strings.count) { strings[$0] }, "h": .countsOf(count: hists.count) { hists[$0] },
        ]
        XCTAssertEqual(JSONText.columns(fromRows), JSONText.columns(arrays))
        XCTAssertTrue(JSONText.columns(["h": .counts(hists)]).hasPrefix("{\"h\":[{\"4\":310,\"8\":2},null,{}]"))
        XCTAssertEqual(JSONText.columns(["v": .strings(strings)]), generic(strings.map { $0 as Any }))
    }
}
