import Foundation
import XCTest

/// The viewer page of `lake serve` in a real browser (headless Chromium from Debian, installed
/// by `make test`): the parcels drawn and coloured by their latest light, a click on a parcel
/// brings its plot and chips, the filters count what they show; a screenshot is kept in
/// `.build/test-artefacts/viewer.png`.
final class ViewerTests: BinaryTestCase {
    func chromium() throws -> String {
        for path in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"] where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        throw XCTSkip("no Chromium (make test installs Debian's chromium)")
    }

    /// The page after its scripts ran (Chromium's --dump-dom), or a screenshot of it.
    func browse(_ url: String, screenshot: String? = nil) throws -> String {
        var args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                    "--user-data-dir=" + dir.appendingPathComponent("chromium").path, "--window-size=1400,800", "--virtual-time-budget=20000"]
        args += screenshot.map { ["--screenshot=" + $0, url] } ?? ["--dump-dom", url]
        return try shell(try chromium(), args)
    }

    func testAClickOnAParcelShowsItsPlotAndChipsAndTheFiltersCount() throws {
        _ = try chromium()
        XCTAssertEqual(try run(["--db", db, "ingest", "parcels", fixture("parcels.geojson"), "--aoi", "demo", "--year", "2024"]).code, 0)
        XCTAssertEqual(try run(["--db", db, "ingest", "catalogue", fixture("scenes.stac.json")]).code, 0)
        XCTAssertEqual(try run(["--db", db, "ingest", "signatures", fixture("signatures.csv"), fixture("scl.csv")]).code, 0)
        XCTAssertEqual(try run(["--db", db, "ingest", "scene", fixture("rasters/scenes.json"), "--update"]).code, 0)
        XCTAssertEqual(try run(["--db", db, "markers", "run", Self.root.appendingPathComponent("options/mowing.yaml").path]).code, 0)
        XCTAssertEqual(try run(["--db", db, "check", "crops", "--min-peers", "3"]).code, 0)
        XCTAssertEqual(try run(["--db", db, "decide"]).code, 0)
        func count(_ sql: String) throws -> Int {
            Int(try run(["--db", db, "sql", sql, "--csv"]).out.split(separator: "\n").last.map(String.init) ?? "") ?? -1
        }
        let parcels = try count("SELECT count(*) FROM parcels")
        let red = try count("SELECT count(*) FROM decisions WHERE scheme = 'overall' AND colour = 'red' AND run_id = (SELECT max(run_id) FROM decisions)")
        XCTAssertGreaterThan(parcels, 10)

        let (server, port) = try startServer()
        defer { server.terminate(); server.waitUntilExit() }
        let page = try browse("http://127.0.0.1:\(port)/?select=P000002")
        // Every parcel drawn, coloured by its light; the clicked one selected.
        XCTAssertEqual(page.components(separatedBy: "<path ").count - 1, parcels)
        XCTAssertTrue(page.contains("\(parcels) of \(parcels) parcels"), "filter count missing")
        XCTAssertNotNil(page.range(of: #"<path [^>]*class="[a-z]+ selected"[^>]*data-id="P000002""#, options: .regularExpression)
                        ?? page.range(of: #"<path [^>]*data-id="P000002"[^>]*class="[a-z]+ selected""#, options: .regularExpression), "P000002 not selected")
        // Its plot (lake's SVG, with the parcel's title) and its chips (NDVI: these scenes have no B02/B03).
        XCTAssertTrue(page.contains("data-parcel=\"P000002\""), "the plot did not arrive")
        XCTAssertTrue(page.contains("P000002 · "), "the plot's title is missing")
        let chips = page.components(separatedBy: "<img src=\"/dump/").count - 1
        XCTAssertGreaterThan(chips, 0, "no chips")
        XCTAssertTrue(page.contains("· NDVI"))
        // The light filter from the address: only the red parcels count.
        let filtered = try browse("http://127.0.0.1:\(port)/?light=red")
        XCTAssertTrue(filtered.contains("\(red) of \(parcels) parcels"), "red filter: expected \(red)")

        let artefacts = Self.root.appendingPathComponent(".build/test-artefacts")
        try FileManager.default.createDirectory(at: artefacts, withIntermediateDirectories: true)
        let shot = artefacts.appendingPathComponent("viewer.png").path
        try? FileManager.default.removeItem(atPath: shot)
        _ = try browse("http://127.0.0.1:\(port)/?select=P000002", screenshot: shot)
        let png = [UInt8](try Data(contentsOf: URL(fileURLWithPath: shot)).prefix(4))
        XCTAssertEqual(png, [0x89, 0x50, 0x4E, 0x47])
    }

    /// A lake in longitude/latitude: the parcels keep their shapes (not rounded to a kilometre)
    /// and the map is fitted to them.
    func testAGeographicLakeIsDrawnFittedAndInShape() throws {
        _ = try chromium()
        XCTAssertEqual(try run(["--db", db, "init", "--srid", "4326"]).code, 0)
        XCTAssertEqual(try run(["--db", db, "ingest", "parcels", fixture("parcels.geojson"), "--aoi", "demo", "--year", "2024"]).code, 0)
        let (server, port) = try startServer()
        defer { server.terminate(); server.waitUntilExit() }
        let page = try browse("http://127.0.0.1:\(port)/")
        let shapes = page.components(separatedBy: " d=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        XCTAssertEqual(shapes.count, 20)
        XCTAssertEqual(Set(shapes).count, 20, "parcels collapsed onto each other")
        let box = try XCTUnwrap(page.range(of: #"viewBox="[^"]+""#, options: .regularExpression).map { page[$0].dropFirst(9).dropLast() })
        let v = box.split(separator: " ").compactMap { Double($0) }
        XCTAssertEqual(v.count, 4)
        XCTAssertGreaterThan(v[2], 0)
        XCTAssertLessThan(v[2], 0.1, "the map is not fitted to parcels a few hundred metres across: \(box)")
    }
}
