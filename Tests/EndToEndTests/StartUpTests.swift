import Foundation
import XCTest

/// `lake` answers the commands it can alone without loading GDAL, SpatiaLite or PROJ, hands
/// every other command line to `lake-full`, and both print the same thing.
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

    func testBothBinariesPrintTheSame() throws {
        try loadSmallLake()
        for args in [["query", "parcel", "P000004"], ["query", "parcel", "P000004", "--json"],
                     ["query", "parcel", "P000004", "--csv", "--band", "B04", "--from", "2024-05-01"],
                     ["info"], ["info", "--json"], ["query", "parcel", "NOPE"], ["query", "parcel", "P000004", "--from", "2024-13-01"],
                     ["query", "parcel", "--help"]] {
            let fast = try run(["--db", db] + args), full = try run(["--db", db] + args, tool: "lake-full")
            XCTAssertEqual(fast.code, full.code, args.joined(separator: " "))
            XCTAssertEqual(fast.out, full.out, args.joined(separator: " "))
            XCTAssertEqual(fast.err, full.err, args.joined(separator: " "))
        }
        let missing = try run(["--db", db, "query", "parcel", "NOPE"])
        XCTAssertEqual(missing.code, 5)
        XCTAssertEqual(try run(["--db", db, "query", "parcel", "P000004", "--from", "2024-13-01"]).code, 64)
    }

    func testLakeWithoutLakeFullSaysWhatIsMissing() throws {
        let bin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let alone = bin.appendingPathComponent("lake")
        try FileManager.default.copyItem(at: try binary("lake"), to: alone)
        let process = Process()
        process.executableURL = alone
        process.arguments = ["--db", db, "ingest", "parcels", "x.geojson"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 1)
        XCTAssertTrue(text.contains("lake-full"), text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: db))
    }
}
