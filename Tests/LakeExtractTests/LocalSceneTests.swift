import Foundation
import LakeExtract
import LakeGDAL
import LakeIngest
import LakeStore
import LakeTestSupport
import XCTest

/// `lake ingest scene` on the layouts analysts have on disk.
final class LocalSceneTests: XCTestCase {
    func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lake-scenes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func raster(_ path: String, size: Double, epsg: Int = 32632, originX: Double = 470_000, originY: Double = 5_250_000) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let grid = PixelGrid(originX: originX, originY: originY, pixelWidth: size, pixelHeight: size, width: 20, height: 20)
        let writer = try RasterWriter(path: path, grid: grid, epsg: epsg, type: .uint16, nodata: 0)
        try writer.write(row: 0, rows: 20, values: [Double](repeating: 1234, count: 400))
        writer.close()
    }

    /// A .SAFE with the real N0400 metadata: bands from R10m win over R20m, SCL from R20m, the
    /// baseline's offset (−1000) kept; rasters that lie elsewhere than the MTD footprint make that
    /// scene fail with a clear reason at extraction.
    /// lake works offline: a band behind any network handler of GDAL, even inside a local
    /// archive handler, is remote and not read.
    func testEveryNetworkPathIsRemote() {
        for path in ["https://example.org/B04.tif", "/vsicurl/https://x/B04.tif", "/vsis3/bucket/B04.tif", "/vsigs/bucket/B04.tif",
                     "/vsiaz/container/B04.tif", "/vsiadls/fs/B04.tif", "/vsiwebhdfs/http://x/B04.tif", "/vsihdfs/x/B04.tif",
                     "/vsicurl_streaming/http://x", "/vsizip//vsicurl/https://x/a.zip/B04.tif", "/vsimem/B04.tif", "/VSIGS/b/B04.tif"] {
            XCTAssertTrue(SceneBands.isRemote(path), path)
        }
        for path in ["/data/S2/B04.tif", "B04.jp2", "/vsizip//data/scene.zip/B04.jp2", "/vsitar//data/s.tar/B04.tif"] {
            XCTAssertFalse(SceneBands.isRemote(path), path)
        }
        let (bands, problem) = SceneBands.resolve(assets: ["B04": "/vsigs/bucket/B04.tif"], source: nil, wanted: nil)
        XCTAssertTrue(bands.isEmpty)
        XCTAssertTrue(problem?.contains("remote") == true, problem ?? "")
    }

    func testSAFEFolderFinestBandsAndFootprintCheck() throws {
        let real = try Paths.requireRealdata("stac-items/stactools-sentinel2-safe-metadata")
        let name = "S2B_MSIL2A_20220413T150759_N0400_R025_T33XWJ_20220414T082126.SAFE"
        let safe = try folder().appendingPathComponent(name)
        try FileManager.default.createDirectory(at: safe, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: real.appendingPathComponent(name).appendingPathComponent("MTD_MSIL2A.xml"),
                                         to: safe.appendingPathComponent("MTD_MSIL2A.xml"))
        let img = safe.appendingPathComponent("GRANULE/L2A_T33XWJ_A026654_20220413T150802/IMG_DATA").path
        // GDAL identifies files by content: GeoTIFFs named .jp2 stand in for the JPEG2000 bands.
        try raster(img + "/R10m/T33XWJ_20220413T150759_B04_10m.jp2", size: 10)
        try raster(img + "/R20m/T33XWJ_20220413T150759_B04_20m.jp2", size: 20)
        try raster(img + "/R20m/T33XWJ_20220413T150759_SCL_20m.jp2", size: 20)
        try raster(img + "/R60m/T33XWJ_20220413T150759_B01_60m.jp2", size: 60)
        try raster(img + "/R20m/T33XWJ_20220413T150759_B01_20m.jp2", size: 20)

        let lake = try temporaryLake(self)
        let summary = try LocalSceneIngest(lake: lake).run(path: safe.path, options: LocalSceneOptions())
        XCTAssertEqual(summary.inserted, 1)
        let row = try lake.db.prepare("SELECT reference, radiometric_offset, processing_baseline, assets FROM catalogue")
        XCTAssertTrue(try row.step())
        XCTAssertEqual(row.text(0), String(name.dropLast(5)))
        XCTAssertEqual(row.double(1), -1000)
        XCTAssertEqual(row.text(2), "04.00")
        let assets = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(row.text(3)!.utf8)) as? [String: String])
        XCTAssertTrue(assets["B04"]!.hasSuffix("R10m/T33XWJ_20220413T150759_B04_10m.jp2"))
        XCTAssertTrue(assets["B01"]!.hasSuffix("R20m/T33XWJ_20220413T150759_B01_20m.jp2"))
        XCTAssertTrue(assets["SCL"]!.hasSuffix("R20m/T33XWJ_20220413T150759_SCL_20m.jp2"))

        let result = try Extraction(lake: lake).run(ExtractOptions())
        XCTAssertEqual(result.scenesFailed.count, 1)
        XCTAssertTrue(result.scenesFailed[0].reason.contains("footprint does not overlap"), result.scenesFailed[0].reason)
    }

    func testFolderOfBandFilesAndClearErrors() throws {
        let root = try folder().appendingPathComponent("tile")
        try raster(root.path + "/20240417/B04.tif", size: 10)
        try raster(root.path + "/20240417/B08.tif", size: 10)
        try raster(root.path + "/20240422/B04.tif", size: 10)
        let lake = try temporaryLake(self)
        var options = LocalSceneOptions(); options.offset = -1000
        let summary = try LocalSceneIngest(lake: lake).run(path: root.path, options: options)
        XCTAssertEqual(summary.inserted, 2)
        XCTAssertEqual(try lake.db.scalar("SELECT group_concat(reference, ' ') FROM (SELECT reference FROM catalogue ORDER BY 1)")?.text,
                       "tile_20240417 tile_20240422")
        XCTAssertEqual(try lake.db.scalar("SELECT radiometric_offset FROM catalogue LIMIT 1")?.double, -1000)
        XCTAssertEqual(try lake.db.scalar("SELECT obstime FROM catalogue ORDER BY 1 LIMIT 1")?.text, "2024-04-17T00:00:00Z")
        // Idempotent.
        XCTAssertEqual(try LocalSceneIngest(lake: lake).run(path: root.path, options: options).skipped, 2)

        let empty = try folder()
        try "x".write(to: empty.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try LocalSceneIngest(lake: lake).run(path: empty.path, options: options)) { error in
            XCTAssertTrue("\(error)".contains("no raster files named by date and band"), "\(error)")
        }
    }
}
