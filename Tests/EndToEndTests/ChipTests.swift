import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LakeGDAL
import XCTest

/// `lake chip` and the API's chip queries on the small fixtures' band rasters: the pixels of a
/// chip are the band files' own values (read here straight from the files), the parcel is
/// outlined, cloud-free dates are those the SCL histograms say, and the server's raw chips are
/// GeoTIFFs of the same values.
final class ChipTests: BinaryTestCase {
    func loadLakeWithScenes() throws {
        XCTAssertEqual(try run(["--db", db, "ingest", "parcels", fixture("parcels.geojson"), "--aoi", "demo", "--year", "2024"]).code, 0)
        XCTAssertEqual(try run(["--db", db, "ingest", "catalogue", fixture("scenes.stac.json")]).code, 0)
        XCTAssertEqual(try run(["--db", db, "ingest", "signatures", fixture("signatures.csv"), fixture("scl.csv")]).code, 0)
        XCTAssertEqual(try run(["--db", db, "ingest", "scene", fixture("rasters/scenes.json"), "--update"]).code, 0)
    }

    /// A band file's DN at a map coordinate (EPSG:32632), read directly.
    func dn(_ band: String, date: String, x: Double, y: Double) throws -> Double {
        let raster = try RasterDataset(path: fixture("rasters/\(date)/\(band).tif"))
        let grid = try raster.grid()
        var value: [Double] = []
        try raster.band(1).read(col: Int(grid.col(x)), row: Int(grid.row(y)), width: 1, height: 1, into: &value)
        return value[0]
    }

    func testAChipHoldsTheBandFilesValuesAndOutlinesTheParcel() throws {
        try loadLakeWithScenes()
        let out = dir.appendingPathComponent("c.png").path
        // Absolute stretch 0–10,000 DN per band: each byte is DN × 255 / 10,000.
        let r = try run(["--db", db, "chip", "P000002", "--date", "2024-07-01", "--bands", "B08,B04,B11", "--lut", "0_10000_0_10000_0_10000", "--out", out])
        XCTAssertEqual(r.code, 0, r.err)
        let png = try RasterDataset(path: out)
        XCTAssertEqual(png.bandCount, 4)
        XCTAssertEqual(png.width, png.height)
        XCTAssertGreaterThanOrEqual(png.width, 128)
        var bytes: [[Double]] = []
        for b in 1...4 {
            var v: [Double] = []
            try png.band(b).read(col: 0, row: 0, width: png.width, height: png.height, into: &v)
            bytes.append(v)
        }
        // Where the chip is: the centre of the parcel's bounding box in the rasters' CRS (the lake
        // keeps EPSG:3035, the band files are UTM 32N), the chip's centre pixel.
        let wkt = try run(["--db", db, "sql", "SELECT AsText(geom), Srid(geom) FROM parcels WHERE parcel_id = 'P000002'", "--csv"])
        let row = try XCTUnwrap(wkt.out.split(separator: "\n").last)
        let srid = try XCTUnwrap(Int(try XCTUnwrap(row.split(separator: ",").last)))
        let polygon = try Geometry.fromWKT(String(row.dropFirst().prefix { $0 != "\"" }))
        try polygon.transform(try CoordinateTransform(from: try SpatialReference(epsg: srid), to: try SpatialReference(epsg: 32632)))
        let e = polygon.envelope
        let centre = [(e.minX + e.maxX) / 2, (e.minY + e.maxY) / 2]
        // 10 m pixels on the band's lattice, the window centred on the parcel within half a pixel.
        let k = png.width / 2
        var matched = 0
        for (dx, dy) in [(0, 0), (-1, 0), (0, -1), (-1, -1)] {
            let i = (k + dy) * png.width + k + dx
            let x = centre[0] + Double(dx) * 10 + 5, y = centre[1] - Double(dy) * 10 - 5
            let expected = try ["B08", "B04", "B11"].map { ((try dn($0, date: "20240701", x: x, y: y)) * 255 / 10_000).rounded() }
            if (0..<3).allSatisfy({ bytes[$0][i] == expected[$0] }) { matched += 1 }
        }
        XCTAssertGreaterThanOrEqual(matched, 1, "no centre pixel holds the band files' values")
        XCTAssertTrue(bytes[3].allSatisfy { $0 == 255 || $0 == 0 })
        // The outline: a ring of yellow pixels, at least the parcel's perimeter in 10 m steps / 2.
        let ring = try XCTUnwrap(polygon.rings().first)
        let metres = (1..<ring.x.count).reduce(0.0) { $0 + hypot(ring.x[$1] - ring.x[$1 - 1], ring.y[$1] - ring.y[$1 - 1]) }
        let yellow = (0..<(png.width * png.height)).filter { bytes[0][$0] == 255 && bytes[1][$0] == 230 && bytes[2][$0] == 0 }.count
        XCTAssertGreaterThan(Double(yellow), metres / 10 / 2)
        XCTAssertLessThan(Double(yellow), metres / 10 * 3)

        // NDVI, and a date without a scene (exit 5), and a file name lake cannot write (usage).
        XCTAssertEqual(try run(["--db", db, "chip", "P000002", "--date", "2024-07-01", "--ndvi", "--out", dir.appendingPathComponent("n.png").path]).code, 0)
        XCTAssertEqual(try run(["--db", db, "chip", "P000002", "--date", "2024-07-02", "--out", out]).code, 5)
        XCTAssertNotEqual(try run(["--db", db, "chip", "P000002", "--date", "2024-07-01", "--out", dir.appendingPathComponent("c.jpg").path]).code, 0)
    }

    func testAllClearChipsAreTheCloudFreeDates() throws {
        try loadLakeWithScenes()
        let folder = dir.appendingPathComponent("chips").path
        let r = try run(["--db", db, "chip", "P000003", "--all-clear", "--ndvi", "--out", folder])
        XCTAssertEqual(r.code, 0, r.err)
        let written = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        // The raster dates on which the parcel's SCL histogram is clear, as `lake query` says.
        let series = try run(["--db", db, "query", "parcel", "P000003", "--band", "B04", "--csv"])
        let rasterDates: Set<String> = ["2024-01-01", "2024-04-01", "2024-07-01", "2024-09-30"]
        let clear = series.out.split(separator: "\n").dropFirst().filter { $0.hasSuffix(",1") }
            .compactMap { line in rasterDates.first { line.contains($0) } }
        XCTAssertEqual(written, Set(clear).sorted().map { "P000003_" + $0.replacingOccurrences(of: "-", with: "") + ".png" })
        // A contact sheet: one embedded PNG per date.
        let sheet = dir.appendingPathComponent("sheet.svg").path
        XCTAssertEqual(try run(["--db", db, "chip", "P000003", "--all-clear", "--bands", "B08,B04,B11", "--out", sheet]).code, 0)
        // The default true colour needs B02 and B03, which these scenes lack: nothing to cut (exit 5).
        XCTAssertEqual(try run(["--db", db, "chip", "P000003", "--all-clear", "--out", dir.appendingPathComponent("tc.svg").path]).code, 5)
        let svg = try String(contentsOfFile: sheet, encoding: .utf8)
        XCTAssertEqual(svg.components(separatedBy: "data:image/png;base64,").count - 1, written.count)
    }

    func testTheServersRawChipsAreGeoTIFFsOfTheBandValues() throws {
        try loadLakeWithScenes()
        let (server, port) = try startServer()
        defer { server.terminate(); server.waitUntilExit() }
        func get(_ path: String) throws -> (Int, Data) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.timeoutInterval = 30
            final class Box: @unchecked Sendable { var value: (Int, Data) = (0, Data()) }
            let result = Box()
            let done = DispatchSemaphore(value: 0)
            URLSession.shared.dataTask(with: request) { data, response, _ in
                result.value = ((response as? HTTPURLResponse)?.statusCode ?? 0, data ?? Data()); done.signal()
            }.resume()
            done.wait()
            return result.value
        }
        let (status, body) = try get("/query/rawChipByParcelID?pid=P000002&start_date=2024-06-01&end_date=2024-07-31&band=B08&chipsize=320")
        XCTAssertEqual(status, 200, String(decoding: body, as: UTF8.self))
        let answer = try XCTUnwrap(try JSONSerialization.jsonObject(with: body) as? [String: [String]])
        XCTAssertEqual(answer["dates"], ["20240701T103021"])
        let chip = try XCTUnwrap(answer["chips"]?.first)
        let (s2, tif) = try get(chip)
        XCTAssertEqual(s2, 200)
        let file = dir.appendingPathComponent("raw.tif").path
        try tif.write(to: URL(fileURLWithPath: file))
        let raster = try RasterDataset(path: file)
        let grid = try raster.grid()
        XCTAssertEqual(raster.width, 32)
        XCTAssertEqual(grid.pixelWidth, 10)
        var values: [Double] = []
        try raster.band(1).read(col: 0, row: 0, width: raster.width, height: raster.height, into: &values)
        for (col, row) in [(0, 0), (16, 16), (31, 5)] {
            let x = grid.originX + (Double(col) + 0.5) * 10, y = grid.originY - (Double(row) + 0.5) * 10
            XCTAssertEqual(values[row * raster.width + col], try dn("B08", date: "20240701", x: x, y: y))
        }
        // The composite page: one chip per scene, each a PNG; bad requests are 400 with JSON.
        let (s3, html) = try get("/query/chipByLocation?lon=8.6&lat=47.4&start_date=2024-01-01&end_date=2024-12-31&bands=B08_B04_B11")
        XCTAssertEqual(s3, 200)
        let page = String(decoding: html, as: UTF8.self)
        let images = page.components(separatedBy: "<img src=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        XCTAssertEqual(images.count, 4)
        let (s4, png) = try get(images[0])
        XCTAssertEqual(s4, 200)
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        XCTAssertEqual(try get("/query/rawChipByLocation?lon=8.6&lat=47.4&start_date=2024-07-01&band=B08").0, 400)
        XCTAssertEqual(try get("/dump/..%2F..%2Fetc%2Fpasswd").0, 404)
    }
}
