import Foundation
import XCTest

/// Lake files from someone else, made hostile with SQLite's own shell and SpatiaLite's file
/// functions: every object that would run on lake's reads and writes calls BlobToFile on a
/// canary path. With SPATIALITE_SECURITY=relaxed in the user's environment (which would make
/// BlobToFile exist), every lake command must refuse the file (exit 3, naming the object), no
/// canary may appear, and the file must be unchanged.
final class HostileLakeTests: BinaryTestCase {
    func sqlite3(_ file: String, _ sql: String) throws {
        guard let shell = ["/usr/bin/sqlite3"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("the sqlite3 shell is not installed")
        }
        let library = ["/usr/lib/x86_64-linux-gnu/libspatialite.so.7", "/usr/lib/aarch64-linux-gnu/libspatialite.so.7"]
            .first(where: FileManager.default.fileExists) ?? "libspatialite.so.7"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: shell)
        p.arguments = [file, ".load \(library) spatialite_init_ex", sql]
        var environment = ProcessInfo.processInfo.environment
        environment["SPATIALITE_SECURITY"] = "relaxed"
        p.environment = environment
        let err = Pipe(); p.standardError = err; p.standardOutput = Pipe()
        try p.run(); p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) + " in: " + sql)
    }

    func testHostileSchemaObjectsNeverRun() throws {
        // A lake with parcels, scenes and signatures, as a colleague would send it.
        XCTAssertEqual(try run(["--db", db, "ingest", "parcels", fixture("parcels.geojson"), "--aoi", "demo", "--year", "2024"]).code, 0)
        XCTAssertEqual(try run(["--db", db, "ingest", "catalogue", fixture("scenes.stac.json")]).code, 0)
        XCTAssertEqual(try run(["--db", db, "ingest", "signatures", fixture("signatures.csv"), fixture("scl.csv")]).code, 0)
        let canary = dir.appendingPathComponent("canary.txt").path
        let write = "BlobToFile(x'4c414b45', '\(canary)')"
        let hostile: [(String, String)] = [
            ("ALTER TABLE lake_meta ADD COLUMN g TEXT GENERATED ALWAYS AS (\(write)) VIRTUAL", "lake_meta"),
            ("ALTER TABLE catalogue ADD COLUMN g TEXT GENERATED ALWAYS AS (\(write)) VIRTUAL", "catalogue"),
            ("CREATE TRIGGER spy_catalogue AFTER INSERT ON catalogue BEGIN SELECT \(write); END", "spy_catalogue"),
            ("CREATE TRIGGER spy_runs AFTER INSERT ON runs BEGIN SELECT \(write); END", "spy_runs"),
            ("CREATE TRIGGER spy_log BEFORE INSERT ON ingest_log BEGIN SELECT \(write); END", "spy_log"),
            ("CREATE TRIGGER spy_packed AFTER UPDATE ON signatures_packed BEGIN SELECT \(write); END", "spy_packed"),
            ("DROP VIEW parcel_groups; CREATE VIEW parcel_groups AS SELECT pid, parcel_id, year, crop_code, crop_name, '' AS group_name, aoi, \(write) AS x FROM parcels", "parcel_groups"),
            ("CREATE INDEX spy_ix ON parcels (\(write))", "spy_ix"),
            ("PRAGMA foreign_keys = OFF; ALTER TABLE ingest_log RENAME TO il; CREATE TABLE ingest_log (id INTEGER PRIMARY KEY, kind TEXT, source TEXT, started TEXT, finished TEXT, summary TEXT DEFAULT (\(write)), options TEXT, CHECK (\(write) IS NOT NULL)); DROP TABLE il", "ingest_log"),
            ("DROP TABLE scl_hist; CREATE VIRTUAL TABLE scl_hist USING VirtualText('/etc/passwd', 'UTF-8', 0, POINT, DOUBLEQUOTE, ',')", "scl_hist"),
        ]
        let commands: [[String]] = [
            ["info"], ["query", "parcel", "P000001"], ["sql", "SELECT count(*) FROM parcels"],
            ["markers", "run", Self.root.appendingPathComponent("options/mowing.yaml").path],
            ["ingest", "catalogue", fixture("scenes.stac.json")], ["report", "parcels"], ["check"],
        ]
        var runs = 0
        for (i, (sql, object)) in hostile.enumerated() {
            let file = dir.appendingPathComponent("hostile\(i).sqlite").path
            try FileManager.default.copyItem(atPath: db, toPath: file)
            try sqlite3(file, sql)
            try? FileManager.default.removeItem(atPath: canary)     // creating an index evaluates it once
            let before = try Data(contentsOf: URL(fileURLWithPath: file))
            for command in commands {
                let result = try run(["--db", file] + command, env: ["SPATIALITE_SECURITY": "relaxed"])
                XCTAssertEqual(result.code, 3, "\(sql) / \(command): \(result.err)")
                XCTAssertTrue(result.err.contains(object) || result.out.contains(object), "\(command) should name \(object): \(result.err)")
                XCTAssertFalse(FileManager.default.fileExists(atPath: canary), "\(sql) / \(command) ran foreign code")
                runs += 1
            }
            XCTAssertEqual(before, try Data(contentsOf: URL(fileURLWithPath: file)), "\(sql): the file changed")
        }
        XCTAssertEqual(runs, hostile.count * commands.count)
    }
}
