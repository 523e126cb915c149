import Foundation
import LakeAnalytics
import LakeFOI
import LakeGDAL
import LakeIngest
import LakeStore
import LakeTestSupport
import XCTest

/// FOI assessment on a thematic raster built so that every figure is known.
final class FOITests: XCTestCase {
    /// Three 200 m squares on a 10 m grid: A all class 1; B west half class 1, east half class 2;
    /// C class 1 with two 5 × 5 px blobs of class 3 apart from each other.
    func scene() throws -> (Lake, String) {
        let lake = try temporaryLake(self, srid: 32632)
        let x0 = 500_000.0, y0 = 5_200_000.0
        func square(_ id: String, _ dx: Double) -> String {
            let a = x0 + dx, b = y0 - 200
            return "{\"type\": \"Feature\", \"properties\": {\"parcel_id\": \"\(id)\"}, \"geometry\": {\"type\": \"Polygon\", \"coordinates\": [[[\(a), \(b)], [\(a + 200), \(b)], [\(a + 200), \(y0)], [\(a), \(y0)], [\(a), \(b)]]]}}"
        }
        let geojson = "{\"type\": \"FeatureCollection\", \"crs\": {\"type\": \"name\", \"properties\": {\"name\": \"urn:ogc:def:crs:EPSG::32632\"}}, \"features\": [\(square("A", 0)), \(square("B", 300)), \(square("C", 600))]}"
        _ = try ParcelIngest(lake: lake).run(path: try write(geojson, "p.geojson"), options: ParcelIngestOptions())
        let width = 80, height = 20
        var values = [Double](repeating: 0, count: width * height)
        for r in 0..<height {
            for c in 0..<width {
                var v = 0.0
                if c < 20 { v = 1 }
                else if c >= 30 && c < 50 { v = c < 40 ? 1 : 2 }
                else if c >= 60 { v = 1; if (r >= 2 && r < 7 && c >= 62 && c < 67) || (r >= 12 && r < 17 && c >= 72 && c < 77) { v = 3 } }
                values[r * width + c] = v
            }
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("thematic-\(UUID().uuidString).tif").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        let writer = try RasterWriter(path: path, grid: PixelGrid(originX: x0, originY: y0, pixelWidth: 10, pixelHeight: 10, width: width, height: height),
                                      epsg: 32632, type: .uint8, nodata: 0)
        try writer.write(row: 0, rows: height, values: values)
        writer.close()
        return (lake, path)
    }

    func testSharesFlagsClustersAndPolygons() throws {
        let (lake, raster) = try scene()
        var options = FOIOptions(); options.buffer = nil
        let (run, parcels) = try FOIAssessment(lake: lake).run(raster: raster, options: options, optionsText: "test")
        let byID = Dictionary(uniqueKeysWithValues: parcels.map { ($0.parcelID, $0) })
        let a = try XCTUnwrap(byID["A"]), b = try XCTUnwrap(byID["B"]), c = try XCTUnwrap(byID["C"])
        XCTAssertEqual(a.pixels, 400); XCTAssertFalse(a.heterogeneous); XCTAssertFalse(a.cardinality)
        XCTAssertEqual(b.classes.map(\.share), [50, 50]); XCTAssertTrue(b.heterogeneous); XCTAssertTrue(b.cardinality)
        XCTAssertEqual(b.clusters.map(\.pixels), [200, 200])
        XCTAssertEqual(c.classes.map(\.value), [1, 3]); XCTAssertEqual(c.classes[1].pixels, 50)
        XCTAssertFalse(c.heterogeneous)                      // 87.5 % / 12.5 %
        XCTAssertEqual(c.clusters.map(\.pixels), [350, 25, 25])
        XCTAssertTrue(c.cardinality)                          // 350 and two 25-px clusters over 20 px
        // Polygons of the large clusters: B's two halves, 2 ha each.
        let area = try lake.db.scalar("""
            SELECT sum(ST_Area(f.geom)) FROM foi_clusters f JOIN parcels p USING (pid) WHERE f.run_id = ? AND p.parcel_id = 'B'
            """, .int(run))?.double
        XCTAssertEqual(area ?? 0, 40_000, accuracy: 1e-6)
        XCTAssertEqual(try lake.db.scalar("SELECT count(*) FROM foi_clusters WHERE run_id = ?", .int(run))?.int, 1 + 2 + 3)   // every cluster over 20 px
        // With −10 m the squares lose their edge pixels: 18 × 18.
        options.buffer = -10
        let shrunk = try FOIAssessment(lake: lake).run(raster: raster, options: options, optionsText: "test").parcels
        XCTAssertEqual(shrunk.first { $0.parcelID == "A" }?.pixels, 324)
        // A larger cluster threshold leaves C with one large cluster.
        options.buffer = nil; options.clusterPixels = 30
        let strict = try FOIAssessment(lake: lake).run(raster: raster, options: options, optionsText: "test").parcels
        XCTAssertFalse(strict.first { $0.parcelID == "C" }!.cardinality)
    }

    func testEightConnectivityJoinsDiagonals() {
        // Two class-1 pixels touching at a corner.
        let classes = [1, -1, -1, 1]
        let four = FOIAssessmentInternals.components(classes, width: 2, height: 2, eight: false)
        let eight = FOIAssessmentInternals.components(classes, width: 2, height: 2, eight: true)
        XCTAssertEqual(four, [1, 1]); XCTAssertEqual(eight, [2])
    }
}
