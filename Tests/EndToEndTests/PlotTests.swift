import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// `lake plot parcel`: a well-formed SVG that draws every observation of the parcel, its
/// latest markers and the latest light of each scheme, as the lake holds them.
final class PlotTests: BinaryTestCase {
    func testAParcelPlotDrawsWhatTheLakeHolds() throws {
        XCTAssertEqual(try run(["--db", db, "ingest", "parcels", fixture("parcels.geojson"), "--aoi", "demo", "--year", "2024"]).code, 0)
        XCTAssertEqual(try run(["--db", db, "ingest", "catalogue", fixture("scenes.stac.json")]).code, 0)
        XCTAssertEqual(try run(["--db", db, "ingest", "signatures", fixture("signatures.csv"), fixture("scl.csv")]).code, 0)
        XCTAssertEqual(try run(["--db", db, "markers", "run", Self.root.appendingPathComponent("options/mowing.yaml").path]).code, 0)
        XCTAssertEqual(try run(["--db", db, "decide", "--schemes", "mowing"]).code, 0)
        // The grassland parcel with the most markers.
        let pick = try run(["--db", db, "sql", "SELECT p.parcel_id, p.pid FROM markers m JOIN parcels p USING (pid) GROUP BY p.pid ORDER BY count(*) DESC, p.pid LIMIT 1", "--csv"])
        let fields = try XCTUnwrap(pick.out.split(separator: "\n").last).split(separator: ",").map(String.init)
        let (id, pid) = (fields[0], fields[1])

        let out = dir.appendingPathComponent("p.svg").path
        let plot = try run(["--db", db, "plot", "parcel", id, "--out", out])
        XCTAssertEqual(plot.code, 0, plot.err)
        let svg = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertTrue(XMLParser(data: Data(svg.utf8)).parse(), "not well-formed XML")

        // One point per observation with NDVI: clear ones filled, screened ones hollow.
        let series = try run(["--db", db, "query", "parcel", id, "--band", "B04", "--csv"])
        let observations = series.out.split(separator: "\n").dropFirst()
        let clear = observations.filter { $0.hasSuffix(",1") }.count
        XCTAssertGreaterThan(observations.count, 10)
        XCTAssertEqual(svg.components(separatedBy: "<circle class=\"clear\"").count - 1, clear)
        XCTAssertEqual(svg.components(separatedBy: "<circle class=\"screened\"").count - 1, observations.count - clear)

        // The latest run's events as lines and its gaps as spans; every scheme's latest light.
        func count(_ sql: String) throws -> Int {
            Int(try run(["--db", db, "sql", sql, "--csv"]).out.split(separator: "\n").last.map(String.init) ?? "") ?? -1
        }
        let latest = "run_id = (SELECT max(run_id) FROM markers WHERE pid = \(pid))"
        XCTAssertEqual(svg.components(separatedBy: "class=\"marker\"").count - 1, try count("SELECT count(*) FROM markers WHERE pid = \(pid) AND \(latest) AND kind <> 'gap'"))
        XCTAssertEqual(svg.components(separatedBy: "class=\"gap\"").count - 1, try count("SELECT count(*) FROM markers WHERE pid = \(pid) AND \(latest) AND kind = 'gap'"))
        let lights = try run(["--db", db, "sql", "SELECT scheme || '=' || colour FROM decisions d WHERE pid = \(pid) AND run_id = (SELECT max(run_id) FROM decisions e WHERE e.pid = d.pid AND e.scheme = d.scheme) ORDER BY 1", "--csv"])
        let expected = lights.out.split(separator: "\n").dropFirst().map(String.init)
        XCTAssertFalse(expected.isEmpty)
        for light in expected {
            let parts = light.split(separator: "=")
            XCTAssertTrue(svg.contains("data-scheme=\"\(parts[0])\" data-colour=\"\(parts[1])\""), light)
        }
        XCTAssertTrue(svg.contains("class=\"envelope\""), "no peer envelope")

        // The same drawing as PNG (librsvg), at twice the SVG's size or as asked; an unknown parcel is exit 5.
        for (scale, width, height) in [("2", 1920, 1040), ("1", 960, 520)] {
            let png = dir.appendingPathComponent("p\(scale).png").path
            let r = try run(["--db", db, "plot", "parcel", id, "--out", png, "--scale", scale])
            XCTAssertEqual(r.code, 0, r.err)
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: png)))
            XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            func int(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
            XCTAssertEqual([int(16), int(20)], [width, height])
        }
        XCTAssertNotEqual(try run(["--db", db, "plot", "parcel", id, "--out", dir.appendingPathComponent("p.gif").path]).code, 0)
        XCTAssertEqual(try run(["--db", db, "plot", "parcel", "NOPE", "--out", out]).code, 5)
    }

    /// `lake plot run` and `lake plot heterogeneity`: the bars hold the lake's counts.
    func testRunAndHeterogeneityPlotsHoldTheLakesCounts() throws {
        XCTAssertEqual(try run(["--db", db, "ingest", "parcels", fixture("parcels.geojson"), "--aoi", "demo", "--year", "2024"]).code, 0)
        XCTAssertEqual(try run(["--db", db, "ingest", "catalogue", fixture("scenes.stac.json")]).code, 0)
        XCTAssertEqual(try run(["--db", db, "ingest", "signatures", fixture("signatures.csv"), fixture("scl.csv")]).code, 0)
        XCTAssertEqual(try run(["--db", db, "plot", "run", "--out", dir.appendingPathComponent("r.svg").path]).code, 5)
        XCTAssertEqual(try run(["--db", db, "markers", "run", Self.root.appendingPathComponent("options/mowing.yaml").path]).code, 0)
        XCTAssertEqual(try run(["--db", db, "markers", "run", Self.root.appendingPathComponent("options/harvest.yaml").path]).code, 0)
        XCTAssertEqual(try run(["--db", db, "heterogeneity"]).code, 0)
        func rows(_ sql: String) throws -> [String] {
            try run(["--db", db, "sql", sql, "--csv"]).out.split(separator: "\n").dropFirst().map(String.init)
        }
        let out = dir.appendingPathComponent("r.svg").path
        let r = try run(["--db", db, "plot", "run", "2", "--out", out])
        XCTAssertEqual(r.code, 0, r.err)
        let svg = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertTrue(XMLParser(data: Data(svg.utf8)).parse(), "not well-formed XML")
        XCTAssertFalse(try rows("SELECT 1 FROM decisions WHERE run_id = 2").isEmpty)
        for row in try rows("SELECT scheme, colour, count(*) FROM decisions WHERE run_id = 2 GROUP BY 1, 2") {
            let f = row.split(separator: ",")
            XCTAssertTrue(svg.contains("data-scheme=\"\(f[0])\" data-colour=\"\(f[1])\" data-count=\"\(f[2])\""), row)
        }
        let events = try rows("SELECT detector, CAST(substr(date, 6, 2) AS INTEGER), count(*) FROM markers WHERE run_id = 2 AND kind <> 'gap' GROUP BY 1, 2")
        XCTAssertFalse(events.isEmpty)
        XCTAssertEqual(svg.components(separatedBy: "class=\"events\"").count - 1, events.count)
        for row in events {
            let f = row.split(separator: ",")
            XCTAssertTrue(svg.contains("data-detector=\"\(f[0])\" data-month=\"\(f[1])\" data-count=\"\(f[2])\""), row)
        }
        let het = dir.appendingPathComponent("h.png").path
        let h = try run(["--db", db, "plot", "heterogeneity", "--out", het])
        XCTAssertEqual(h.code, 0, h.err)
        XCTAssertTrue(h.err.contains("\(try rows("SELECT count(*) FROM heterogeneity WHERE score IS NOT NULL").first ?? "?") parcels"), h.err)
        let svgHet = dir.appendingPathComponent("h.svg").path
        XCTAssertEqual(try run(["--db", db, "plot", "heterogeneity", "--out", svgHet]).code, 0)
        let bins = try String(contentsOfFile: svgHet, encoding: .utf8).components(separatedBy: "class=\"bin\" data-count=\"").dropFirst()
            .map { Int($0.prefix { $0.isNumber })! }
        XCTAssertEqual(bins.reduce(0, +), Int(try rows("SELECT count(*) FROM heterogeneity WHERE score IS NOT NULL").first ?? "") ?? -1)
    }
}
