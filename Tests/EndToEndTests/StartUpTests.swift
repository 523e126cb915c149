import Foundation
import XCTest

/// `lake` answers the commands it can alone without loading GDAL, SpatiaLite or PROJ, hands the
/// whole-lake analyses to `lake-analytics` (no GDAL) and every other command line to
/// `lake-full`, and they print the same thing.
final class StartUpTests: BinaryTestCase {
    func loadSmallLake() throws {
        XCTAssertEqual(try run(["--db", db, "ingest", "parcels", fixture("parcels.geojson"), "--aoi", "demo", "--year", "2024"]).code, 0)
        XCTAssertEqual(try run(["--db", db, "ingest", "catalogue", fixture("scenes.stac.json")]).code, 0)
        XCTAssertEqual(try run(["--db", db, "ingest", "signatures", fixture("signatures.csv"), fixture("scl.csv")]).code, 0)
    }

    /// The shared libraries the dynamic loader opened for a command (glibc's LD_DEBUG=files).
    func librariesLoaded(_ args: [String]) throws -> String {
        let result = try run(args, env: ["LD_DEBUG": "files"])
        XCTAssertEqual(result.code, 0, result.err)
        return result.err.split(separator: "\n").filter { $0.contains("file=") }.joined(separator: "\n")
    }

    func testQueryParcelLoadsNeitherGDALNorSpatiaLiteNorPROJ() throws {
        try loadSmallLake()
        let query = try librariesLoaded(["--db", db, "query", "parcel", "P000004"])
        XCTAssertTrue(query.contains("libsqlite3"), "LD_DEBUG shows no loading at all:\n\(query)")
        for heavy in ["libgdal", "libspatialite", "libproj", "libgeos", "libFoundation.so"] {
            XCTAssertFalse(query.contains(heavy), "lake query parcel loaded \(heavy)")
        }
        let version = try librariesLoaded(["--version"])
        XCTAssertFalse(version.contains("libsqlite3") && version.contains("libgdal"))
        // A command lake cannot answer alone goes to lake-full, which has GDAL.
        let ingest = try librariesLoaded(["--db", db, "ingest", "catalogue", fixture("scenes.stac.json")])
        XCTAssertTrue(ingest.contains("libgdal"), ingest)
    }

    func testAnalysesLoadNeitherGDALNorSpatiaLiteNorPROJAndAnswerAsLakeFullDoes() throws {
        // 150 generated parcels: every colour among the lights.
        let data = dir.appendingPathComponent("gen").path
        XCTAssertEqual(try run(["--out", data, "--parcels", "150", "--scenes", "73", "--seed", "3"], tool: "lake-fixtures").code, 0)
        for args in [["ingest", "parcels", data + "/parcels.geojson", "--aoi", "demo", "--year", "2024"],
                     ["ingest", "catalogue", data + "/scenes.stac.json"], ["ingest", "signatures", data + "/signatures.csv", data + "/scl.csv"]] {
            XCTAssertEqual(try run(["--db", db] + args).code, 0)
        }
        let copy = dir.appendingPathComponent("full.sqlite").path
        try FileManager.default.copyItem(atPath: db, toPath: copy)
        let mowing = Self.root.appendingPathComponent("options/mowing.yaml").path
        for args in [["markers", "run", mowing], ["check", "crops"], ["heterogeneity", "--csv"], ["decide"]] {
            let loaded = try librariesLoaded(["--db", db] + args)
            XCTAssertTrue(loaded.contains("libsqlite3"), "LD_DEBUG shows no loading at all:\n\(loaded)")
            for heavy in ["libgdal", "libspatialite", "libproj", "libgeos"] {
                XCTAssertFalse(loaded.contains(heavy), "lake \(args.joined(separator: " ")) loaded \(heavy)")
            }
            XCTAssertEqual(try run(["--db", copy] + args, tool: "lake-full").code, 0)
        }
        // The same lights and reasons, row for row, from both binaries.
        let lights = ["sql", "SELECT r.kind, d.scheme, p.parcel_id, d.colour, d.reasons FROM decisions d JOIN runs r USING (run_id) JOIN parcels p USING (pid) ORDER BY 1, 2, 3", "--csv"]
        let fast = try run(["--db", db] + lights), full = try run(["--db", copy] + lights)
        XCTAssertEqual(fast.code, 0, fast.err)
        XCTAssertEqual(fast.out.split(separator: "\n").count, 1 + 21 + 150 + 150)
        for colour in ["green", "yellow", "red", "grey"] { XCTAssertTrue(fast.out.contains(",\(colour),"), colour) }
        XCTAssertEqual(fast.out, full.out)
        // The answers about them: the same bytes from both binaries, without GDAL.
        for args in [["markers", "show", "P000005"], ["markers", "show", "P000005", "--json"], ["runs", "--json"],
                     ["screen", mowing, "--parcels", "P000005", "--csv"], ["markers", "show", "NOPE"]] {
            let a = try run(["--db", db] + args), b = try run(["--db", db] + args, tool: "lake-full")
            XCTAssertEqual(a.code, b.code, args.joined(separator: " "))
            XCTAssertEqual(a.out, b.out, args.joined(separator: " "))
            XCTAssertEqual(a.err, b.err, args.joined(separator: " "))
            let loaded = try run(["--db", db] + args, env: ["LD_DEBUG": "files"]).err
            XCTAssertFalse(loaded.contains("libgdal") || loaded.contains("libspatialite"), args.joined(separator: " "))
        }
        // The peer queries need SpatiaLite (the spatial index, distances), not GDAL.
        for args in [["query", "peers", "P000005", "--csv"], ["query", "peers", "P000005", "--series", "--json"],
                     ["query", "statspeers", "--band", "B08", "--range", "0-3000", "--csv"]] {
            let a = try run(["--db", db] + args), b = try run(["--db", db] + args, tool: "lake-full")
            XCTAssertEqual(a.code, 0, a.err)
            XCTAssertEqual(a.out, b.out, args.joined(separator: " "))
            XCTAssertGreaterThan(a.out.split(separator: "\n").count, 2, args.joined(separator: " "))
            let loaded = try run(["--db", db] + args, env: ["LD_DEBUG": "files"]).err
            XCTAssertTrue(loaded.contains("libspatialite") || args[1] == "statspeers", args.joined(separator: " "))
            XCTAssertFalse(loaded.contains("libgdal"), args.joined(separator: " "))
        }
    }

    func testBothBinariesPrintTheSame() throws {
        try loadSmallLake()
        for args in [["query", "parcel", "P000004"], ["query", "parcel", "P000004", "--json"],
                     ["query", "parcel", "P000004", "--csv", "--band", "B04", "--from", "2024-05-01"],
                     ["info"], ["info", "--json"], ["query", "parcel", "NOPE"], ["query", "parcel", "P000004", "--from", "2024-13-01"],
                     ["query", "parcel", "--help"],
                     // `lake`'s own reading of the plainest forms (ParcelQuery.plain) and what it leaves to ArgumentParser
                     ["query", "parcel", "P000004", "--csv"], ["query", "parcel", "--raw", "P000004", "--json"], ["query", "parcel", "P000004", "--raw"],
                     ["query", "parcel", "P000004", "--json", "--csv"], ["query", "parcel", "P000004", "P000005"], ["query", "parcel", "P000004", "--json", "--json"],
                     ["query", "parcel", "--", "P000004"], ["query", "parcel"]] {
            let fast = try run(["--db", db] + args), full = try run(["--db", db] + args, tool: "lake-full")
            XCTAssertEqual(fast.code, full.code, args.joined(separator: " "))
            XCTAssertEqual(fast.out, full.out, args.joined(separator: " "))
            XCTAssertEqual(fast.err, full.err, args.joined(separator: " "))
        }
        let missing = try run(["--db", db, "query", "parcel", "NOPE"])
        XCTAssertEqual(missing.code, 5)
        XCTAssertEqual(try run(["--db", db, "query", "parcel", "P000004", "--from", "2024-13-01"]).code, 64)
    }

    /// `lake` and these other binaries copied alone into a folder of their own: that `lake`.
    func installed(_ tools: [String]) throws -> URL {
        let bin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        for tool in ["lake"] + tools { try FileManager.default.copyItem(at: try binary(tool), to: bin.appendingPathComponent(tool)) }
        return bin.appendingPathComponent("lake")
    }

    /// lake and lake-full installed without lake-analytics: the analyses run in lake-full.
    func testWithoutLakeAnalyticsLakeFullRunsTheAnalyses() throws {
        try loadSmallLake()
        let result = try run(["--db", db, "markers", "run", Self.root.appendingPathComponent("options/mowing.yaml").path],
                             executable: try installed(["lake-full"]))
        XCTAssertEqual(result.code, 0)
        XCTAssertTrue(result.out.hasPrefix("markers run 1 (grassland-mowing)"), result.out)
    }

    func testLakeWithoutLakeFullSaysWhatIsMissing() throws {
        let result = try run(["--db", db, "ingest", "parcels", "x.geojson"], executable: try installed([]))
        XCTAssertEqual(result.code, 1)
        XCTAssertTrue(result.err.contains("lake-full"), result.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: db))
    }
}
