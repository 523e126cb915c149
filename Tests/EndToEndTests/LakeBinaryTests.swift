import Foundation
import XCTest

/// The command tour on the committed fixtures: outputs, exit codes, GDAL's view of the file.
final class LakeBinaryTests: BinaryTestCase {
    func loadFixtures() throws {
        XCTAssertEqual(try run(["--db", db, "init", "--srid", "3035"]).code, 0)
        let parcels = try run(["--db", db, "ingest", "parcels", fixture("parcels.geojson"), "--aoi", "demo", "--year", "2024"])
        XCTAssertEqual(parcels.code, 0, parcels.err)
        XCTAssertTrue(parcels.out.contains("inserted 20"), parcels.out)
        XCTAssertTrue(parcels.err.contains("identifier field: parcel_id"), parcels.err)
        XCTAssertEqual(try run(["--db", db, "ingest", "catalogue", fixture("scenes.stac.json")]).code, 0)
        let sig = try run(["--db", db, "ingest", "signatures", fixture("signatures.csv"), fixture("scl.csv")])
        XCTAssertEqual(sig.code, 0, sig.err)
        XCTAssertTrue(sig.out.contains("inserted 5760"), sig.out)
    }

    func testTourOfTheCommands() throws {
        try loadFixtures()
        let info = try run(["info", "--json"], env: ["LAKE_DB": db])
        XCTAssertEqual(info.code, 0, info.err)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(info.out.utf8)) as? [String: Any])
        XCTAssertEqual(json["parcels"] as? Int, 20)
        XCTAssertEqual(json["signature_rows"] as? Int, 5760)
        XCTAssertEqual(json["scl_histograms"] as? Int, 720)
        XCTAssertEqual(json["bands"] as? [String], ["B02", "B03", "B04", "B05", "B08", "B8A", "B11", "B12"])
        XCTAssertEqual(json["srid"] as? Int, 3035)

        let text = try run(["--db", db, "query", "parcel", "P000004"])
        XCTAssertEqual(text.code, 0, text.err)
        XCTAssertTrue(text.out.contains("parcel P000004"))
        XCTAssertTrue(text.out.contains("36 observations"))
        XCTAssertEqual(text.err, "")

        let csv = try run(["--db", db, "query", "parcel", "P000004", "--csv", "--band", "B04", "B08", "--from", "2024-06-01", "--to", "2024-06-30"])
        let lines = csv.out.split(separator: "\n")
        XCTAssertEqual(lines.first.map(String.init), "parcel_id,pid,obsid,date,obstime,reference,band,count,mean,std,min,max,p25,p50,p75,cloud_free")
        XCTAssertEqual(lines.count - 1, 3 * 2)   // three June scenes (10-day revisit in this set) × two bands
        XCTAssertTrue(lines.dropFirst().allSatisfy { $0.contains(",2024-06-") })

        let parcelJSON = try run(["--db", db, "query", "parcel", "P000004", "--json"])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(parcelJSON.out.utf8)) as? [String: Any])
        let parcel = try XCTUnwrap(object["parcel"] as? [String: Any])
        XCTAssertEqual((object["signatures"] as? [Any])?.count, 36 * 8)
        let lon = try XCTUnwrap(parcel["centroid_lon"] as? Double), lat = try XCTUnwrap(parcel["centroid_lat"] as? Double)

        let at = try run(["--db", db, "query", "at", String(lon), String(lat), "--json"])
        XCTAssertEqual(at.code, 0, at.err)
        XCTAssertTrue(at.out.contains("\"parcel_id\" : \"P000004\""), at.out)
    }

    /// `lake export signatures` writes the JRC table form with the stored values: row for row and
    /// value for value the `signatures` relation (float32 exactly: shortest round-trip text).
    func testExportSignaturesIsTheJRCTableOfTheStoredValues() throws {
        try loadFixtures()
        let out = dir.appendingPathComponent("sig.csv").path
        let export = try run(["--db", db, "export", "signatures", "--out", out])
        XCTAssertEqual(export.code, 0, export.err)
        XCTAssertTrue(export.err.contains("5760 rows"), export.err)
        let exported = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(exported.first, "pid,obsid,band,count,mean,std,min,max,p25,p50,p75")
        let sql = try run(["--db", db, "sql", "SELECT * FROM signatures", "--csv"])
        let stored = sql.out.split(separator: "\n").map(String.init)
        XCTAssertEqual(exported.count, 5761)
        XCTAssertEqual(stored.count, exported.count)
        for (a, b) in zip(exported.dropFirst(), stored.dropFirst()) {
            let x = a.split(separator: ","), y = b.split(separator: ",")
            XCTAssertEqual(x[0...2], y[0...2])
            for k in 3..<11 { XCTAssertEqual(Float(String(x[k])), Float(String(y[k])).map { Float($0) }, "\(a) vs \(b)") }
        }
        XCTAssertEqual(try run(["--db", db, "export", "parcels"]).code, 64)
    }

    func testExitCodesAndMessages() throws {
        try loadFixtures()
        let missing = try run(["--db", db, "query", "parcel", "NOPE"])
        XCTAssertEqual(missing.code, 5); XCTAssertTrue(missing.err.contains("no parcel NOPE"))
        XCTAssertEqual(missing.out, "")
        // The same parcel again under another AOI makes the identifier ambiguous.
        XCTAssertEqual(try run(["--db", db, "ingest", "parcels", fixture("parcels.geojson"), "--aoi", "other", "--year", "2024"]).code, 0)
        let ambiguous = try run(["--db", db, "query", "parcel", "P000001"])
        XCTAssertEqual(ambiguous.code, 6)
        XCTAssertTrue(ambiguous.err.contains("aoi demo") && ambiguous.err.contains("aoi other"), ambiguous.err)
        XCTAssertEqual(try run(["--db", db, "query", "parcel", "P000001", "--aoi", "demo"]).code, 0)
        let noLake = try run(["--db", dir.appendingPathComponent("none.sqlite").path, "info"])
        XCTAssertEqual(noLake.code, 3)
        let badInput = try run(["--db", db, "ingest", "catalogue", fixture("signatures.csv")])
        XCTAssertEqual(badInput.code, 4, badInput.err)
        let rejected = try run(["--db", db, "ingest", "signatures", try writeCSV()])
        XCTAssertEqual(rejected.code, 7, rejected.err)
        XCTAssertTrue(rejected.err.contains("line 2: unknown parcel ZZZ"), rejected.err)
        let usage = try run(["--db", db, "query", "parcel", "P1", "--from", "June"])
        XCTAssertEqual(usage.code, 64)   // ArgumentParser's validation exit code
    }

    func writeCSV() throws -> String {
        let path = dir.appendingPathComponent("bad.csv").path
        try "parcel_id,reference,band,count,mean,std,min,max,p25,p50,p75\nZZZ,X,B04,1,1,1,1,1,1,1,1\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testGDALSeesTheLayersInTheirSRS() throws {
        try loadFixtures()
        guard let ogrinfo = ["/usr/bin/ogrinfo", "/usr/local/bin/ogrinfo"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("ogrinfo (gdal-bin) not installed")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ogrinfo)
        process.arguments = ["-so", "-ro", db, "parcels"]
        let out = Pipe(); process.standardOutput = out; process.standardError = Pipe()
        try process.run(); process.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(text.contains("Feature Count: 20"), text)
        XCTAssertTrue(text.contains("ETRS89-extended / LAEA Europe") || text.contains("EPSG\",3035"), text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: db + "-wal"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: db + "-journal"))
    }

    func testCommittedFixturesEqualTheGeneratorsOutput() throws {
        let out = dir.appendingPathComponent("regen").path
        let result = try run(["--out", out, "--parcels", "20", "--scenes", "36", "--seed", "7", "--raster-scenes", "4"], tool: "lake-fixtures")
        XCTAssertEqual(result.code, 0, result.err)
        let rasters = ["20240101", "20240401", "20240701", "20240930"].flatMap { d in ["B04", "B08", "B11", "SCL"].map { "rasters/\(d)/\($0).tif" } }
        for name in ["parcels.geojson", "scenes.stac.json", "signatures.csv", "scl.csv", "truth.csv", "rasters/scenes.json"] + rasters {
            let a = try Data(contentsOf: URL(fileURLWithPath: fixture(name)))
            let b = try Data(contentsOf: URL(fileURLWithPath: out).appendingPathComponent(name))
            XCTAssertEqual(a, b, "fixtures/small/\(name) differs from the generator's output: run make fixtures-small")
        }
    }
}
