import Foundation
import XCTest

/// Bad input at every door, as a user would give it: each case names the exit code and a part
/// of the message, and the lake file is byte for byte what it was before.
final class BadInputCorpusTests: BinaryTestCase {
    func file(_ name: String, _ text: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func bytes(_ name: String, _ data: [UInt8]) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try Data(data).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testEveryDoorRefusesGarbageAndLeavesTheLakeAsItWas() throws {
        XCTAssertEqual(try run(["--db", db, "ingest", "parcels", fixture("parcels.geojson"), "--aoi", "demo", "--year", "2024"]).code, 0)
        XCTAssertEqual(try run(["--db", db, "ingest", "catalogue", fixture("scenes.stac.json")]).code, 0)
        XCTAssertEqual(try run(["--db", db, "ingest", "signatures", fixture("signatures.csv"), fixture("scl.csv")]).code, 0)
        let reference = try String(contentsOfFile: fixture("signatures.csv"), encoding: .utf8).split(separator: "\n")[1].split(separator: ",")[1]
        let row = "P000001,\(reference),B04,10,1500,20,1400,1600,1490,1500,1510"
        let header = "parcel_id,reference,band,count,mean,std,min,max,p25,p50,p75"
        let options = Self.root.appendingPathComponent("options").path
        let cases: [(args: [String], code: Int32, message: String)] = [
            (["ingest", "signatures", try file("empty.csv", "")], 4, "empty file"),
            (["ingest", "signatures", try file("nostats.csv", "parcel_id,reference,band\nP000001,x,B04\n")], 4, "not a signature file"),
            (["ingest", "signatures", try file("twice.csv", "\(header)\n\(row)\n\(row.replacingOccurrences(of: ",1500,20,", with: ",1501,20,"))\n")], 4, "more than once"),
            (["ingest", "signatures", dir.appendingPathComponent("missing.csv").path], 4, "no such file"),
            (["ingest", "catalogue", try file("cut.xml", "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><title>x")], 4, "not all elements have been closed"),
            (["ingest", "catalogue", try bytes("latin.xml", Array("<?xml version='1.0'?><feed><entry><title>".utf8) + [0xE9] + Array("</title></entry></feed>".utf8))], 4, "not UTF-8"),
            (["ingest", "catalogue", try file("other.json", "{\"hello\": 1}")], 4, "JSON without features"),
            (["ingest", "catalogue", try file("collection.json", "{\"type\": \"Collection\", \"id\": \"sentinel-2-l2a\", \"stac_version\": \"1.0.0\", \"links\": []}")], 4, "Collection"),
            (["ingest", "catalogue", try file("sigs-as-catalogue.csv", "\(header)\n\(row)\n")], 4, "signature table"),
            (["ingest", "catalogue", try file("noref.csv", "obstime,card\n2024-01-01,s2\n")], 4, "no reference column"),
            (["ingest", "catalogue", try bytes("noise.json", (0..<512).map { UInt8(($0 * 97 + 13) % 256) })], 4, "noise.json"),
            (["ingest", "parcels", dir.appendingPathComponent("nothere.gpkg").path], 4, "no such file"),
            (["ingest", "parcels", try file("notvector.geojson", "this is not GeoJSON")], 4, "GDAL cannot open"),
            (["ingest", "parcels", fixture("parcels.geojson"), "--id", "no_such_field"], 2, "has no field no_such_field"),
            (["ingest", "scene", dir.appendingPathComponent("nowhere.SAFE").path], 4, "nowhere.SAFE"),
            (["markers", "run", try file("typo.yaml", "name: x\ndetectors:\n  - {name: m, type: cut, min_dorp: 0.1}\n")], 4, "unknown key detectors[0].min_dorp"),
            (["markers", "run", try file("scl99.yaml", "name: x\nobservations: {cloud_classes: [99]}\ndetectors:\n  - {name: m, type: cut}\n")], 4, "not an SCL class"),
            (["markers", "run", try file("range.yaml", "name: x\ndetectors:\n  - {name: m, type: gap, min_days: -5}\n")], 4, "min_days: -5 is outside"),
            (["markers", "run", "\(options)/no-such-options.yaml"], 4, "cannot read"),
            (["query", "parcel", "NOPE"], 5, "NOPE"),
            (["query", "at", "--", "-170", "-80"], 5, "no parcel at"),
            (["sql", "DELETE FROM parcels"], 2, "readonly"),
            (["report", "markers", "--run", "99"], 5, "99"),
            (["check", "crops", "--min-peers", "1"], 64, "--min-peers"),
            (["init"], 3, "already exists"),
        ]
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        for c in cases {
            let result = try run(["--db", db] + c.args)
            XCTAssertEqual(result.code, c.code, "\(c.args): \(result.err)")
            XCTAssertTrue(result.err.contains(c.message), "\(c.args) should say \(c.message): \(result.err)")
            XCTAssertEqual(result.out, "", "\(c.args): results on stdout for a refused input")
            XCTAssertEqual(before, try Data(contentsOf: URL(fileURLWithPath: db)), "\(c.args) changed the lake")
        }
        // Not a lake at all.
        let text = try file("text.sqlite", "hello")
        let notLake = try run(["--db", text, "info"])
        XCTAssertEqual(notLake.code, 3)
        XCTAssertTrue(notLake.err.contains("not a database") || notLake.err.contains("not a SQLite database"), notLake.err)
    }
}
