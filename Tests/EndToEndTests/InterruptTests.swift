import Foundation
import LakeSQLite
import XCTest

/// Killing lake (SIGKILL: no clean-up runs) in the middle of an ingest leaves a lake that passes
/// `PRAGMA integrity_check` and holds either all or none of that input; re-running completes it.
final class InterruptTests: BinaryTestCase {
    func testKilledSignatureIngestIsAllOrNothingAndRerunCompletes() throws {
        let data = dir.appendingPathComponent("data").path
        // Scene-ordered, and sorted in 1 MiB: the kills also land while sort runs are on disk.
        let generated = try run(["--out", data, "--parcels", "250", "--scenes", "73", "--seed", "11", "--scene-order"], tool: "lake-fixtures")
        XCTAssertEqual(generated.code, 0, generated.err)
        let signatures = data + "/signatures.csv"
        let total = 250 * 73 * 8
        XCTAssertEqual(try run(["--db", db, "ingest", "parcels", data + "/parcels.geojson"]).code, 0)
        XCTAssertEqual(try run(["--db", db, "ingest", "catalogue", data + "/scenes.stac.json"]).code, 0)

        // How long a clean ingest takes here, on a copy, to aim the kills at its phases
        // (reading, merging, committing).
        let copy = dir.appendingPathComponent("timing.sqlite").path
        try FileManager.default.copyItem(atPath: db, toPath: copy)
        let t0 = Date()
        let clean = try run(["--db", copy, "ingest", "signatures", signatures], env: ["LAKE_SORT_MEMORY_MB": "1"])
        let duration = Date().timeIntervalSince(t0)
        XCTAssertEqual(clean.code, 0, clean.err)
        XCTAssertEqual(try info(copy)["signature_rows"] as? Int, total)

        for fraction in [0.1, 0.5, 0.85, 0.95] {
            let process = try start(["--db", db, "ingest", "signatures", signatures], env: ["LAKE_SORT_MEMORY_MB": "1"])
            Thread.sleep(forTimeInterval: duration * fraction)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()

            // A reader sees the state before the ingest (SQLite rolls the hot journal back).
            let rows = try info(db)["signature_rows"] as? Int
            XCTAssertTrue(rows == 0 || rows == total, "killed at \(fraction): \(rows ?? -1) rows")
            let check = try Connection(path: db, mode: .readWrite)
            XCTAssertEqual(try check.scalar("PRAGMA integrity_check")?.text, "ok", "killed at \(fraction)")
            XCTAssertEqual(try check.scalar("SELECT count(*) FROM signatures_pending")?.int, 0)
            // Sort runs are unlinked as soon as they are made: a kill leaves none behind.
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".lake-sort") }, [])
            print("killed at \(fraction) of \(duration) s: \(rows ?? -1) rows")
            if rows == total { break }   // the kill came after the commit: nothing more to test
        }
        let rerun = try run(["--db", db, "ingest", "signatures", signatures])
        XCTAssertEqual(rerun.code, 0, rerun.err)
        XCTAssertEqual(try info(db)["signature_rows"] as? Int, total)
        XCTAssertFalse(FileManager.default.fileExists(atPath: db + "-journal"))
    }
}

/// A write killed after SQLite began changing the file leaves a hot journal. Made here without a
/// race: the file and its journal copied in the middle of a transaction that has spilled pages
/// to the file. `lake info` (the fast front-end, which opens read-only) rolls it back first and
/// sees the lake as it was; `lake check` reads it with the journal, not as an immutable file.
final class HotJournalTests: BinaryTestCase {
    func testReadsAfterAKilledWriteSeeTheLakeAsItWas() throws {
        XCTAssertEqual(try run(["--db", db, "ingest", "parcels", fixture("parcels.geojson")]).code, 0)
        let parcels = try info(db)["parcels"] as? Int
        XCTAssertEqual(parcels, 20)
        let hot = dir.appendingPathComponent("hot.sqlite").path
        let writer = try Connection(path: db, mode: .readWrite, spatial: false)
        try writer.execute("PRAGMA cache_size = 1; PRAGMA cache_spill = 1")
        try writer.execute("BEGIN IMMEDIATE")
        try writer.execute("DELETE FROM parcel_points; UPDATE lake_meta SET value = value")
        try writer.execute("CREATE TABLE filler (x BLOB); INSERT INTO filler SELECT randomblob(4000) FROM parcels, parcels")
        let journal = try XCTUnwrap(FileManager.default.contents(atPath: db + "-journal"))
        XCTAssertGreaterThan(journal.count, 0)
        try FileManager.default.copyItem(atPath: db, toPath: hot)
        XCTAssertTrue(FileManager.default.createFile(atPath: hot + "-journal", contents: journal))
        try writer.execute("ROLLBACK")
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: hot)), try Data(contentsOf: URL(fileURLWithPath: db)), "the copy holds spilled pages")

        // check writes nothing: it says what it found and leaves the journal.
        let check = try run(["check", hot, "--json"])
        XCTAssertTrue(check.out.contains("an interrupted write left") && check.out.contains("half-written"), check.out + check.err)
        XCTAssertTrue(FileManager.default.fileExists(atPath: hot + "-journal"))
        XCTAssertEqual(try info(hot)["parcels"] as? Int, parcels)
        XCTAssertFalse(FileManager.default.fileExists(atPath: hot + "-journal"))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: hot)), try Data(contentsOf: URL(fileURLWithPath: db)))
    }
}

/// Killing `lake extract` and re-running it ends with exactly the rows of a clean run.
final class ExtractInterruptTests: BinaryTestCase {
    func testKilledExtractionRerunEqualsCleanRun() throws {
        let data = dir.appendingPathComponent("data").path
        let generated = try run(["--out", data, "--parcels", "300", "--scenes", "24", "--seed", "5", "--raster-scenes", "24"], tool: "lake-fixtures")
        XCTAssertEqual(generated.code, 0, generated.err)
        for (args) in [["ingest", "parcels", data + "/parcels.geojson"], ["ingest", "catalogue", data + "/scenes.stac.json"],
                       ["ingest", "scene", data + "/rasters/scenes.json"]] {
            let r = try run(["--db", db] + args)
            XCTAssertEqual(r.code, 0, r.err)
        }
        let clean = dir.appendingPathComponent("clean.sqlite").path
        try FileManager.default.copyItem(atPath: db, toPath: clean)
        let t0 = Date()
        XCTAssertEqual(try run(["--db", clean, "extract", "--jobs", "2"]).code, 0)
        let duration = Date().timeIntervalSince(t0)

        for fraction in [0.3, 0.6, 0.9] {
            let process = try start(["--db", db, "extract", "--jobs", "2"])
            Thread.sleep(forTimeInterval: duration * fraction)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let check = try Connection(path: db, mode: .readWrite)
            XCTAssertEqual(try check.scalar("PRAGMA integrity_check")?.text, "ok")
            // No scene has rows without being marked extracted: pending rows only for extracted scenes.
            XCTAssertEqual(try check.scalar("""
                SELECT count(*) FROM signatures_pending p JOIN catalogue c USING (obsid) WHERE c.status != 'extracted'
                """)?.int, 0)
        }
        let rerun = try run(["--db", db, "extract"])
        XCTAssertEqual(rerun.code, 0, rerun.err)
        XCTAssertEqual(try info(db)["signature_rows"] as? Int, try info(clean)["signature_rows"] as? Int)
        XCTAssertEqual(try info(db)["scl_histograms"] as? Int, try info(clean)["scl_histograms"] as? Int)
        for id in ["P000001", "P000150", "P000300"] {
            let a = try run(["--db", db, "query", "parcel", id, "--csv"]), b = try run(["--db", clean, "query", "parcel", id, "--csv"])
            XCTAssertEqual(a.out, b.out, id)
            XCTAssertFalse(a.out.isEmpty)
        }
    }
}
