import Foundation
import LakeAnalytics
import LakeIngest
import LakeQuery
import LakeSQLite
import LakeStore
@testable import LakeSupport
import LakeTestSupport
import XCTest

final class BuildingBlockTests: XCTestCase {
    func testDayNumbersRoundTrip() {
        XCTAssertEqual(Days.number("1970-01-01"), 0)
        XCTAssertEqual(Days.number("2024-03-01T10:30:21Z"), 19_783)
        XCTAssertEqual(Days.text(19_783), "2024-03-01")
        XCTAssertEqual(Days.dayOfYear(Days.number("2024-12-31")!), 366)
        XCTAssertNil(Days.number("2024-13-01")); XCTAssertNil(Days.number("24-01-01"))
        for n in stride(from: -300_000, to: 380_000, by: 997) { XCTAssertEqual(Days.number(Days.text(n)), n) }
        // Against Foundation's Gregorian calendar in UTC (1961–2079), and the day of the year as a
        // season's reader computes it (the year's bounds kept between calls, in and out of order).
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX"); f.timeZone = TimeZone(identifier: "UTC"); f.dateFormat = "yyyy-MM-dd"
        var year = Days.Year()
        for n in stride(from: -3_000, to: 40_000, by: 37) {
            XCTAssertEqual(Days.text(n), f.string(from: Date(timeIntervalSince1970: Double(n) * 86_400)))
            XCTAssertEqual(year.dayOfYear(n), Days.dayOfYear(n))
            XCTAssertEqual(year.dayOfYear(n / 2), Days.dayOfYear(n / 2))
        }
        XCTAssertEqual(Days.text(Days.number(year: 999, month: 12, day: 31)), "0999-12-31")
    }

    /// `Format.double`'s own `%.Nf` digits against Foundation's `String(format:)` (C's printf):
    /// numbers of every magnitude the tables print, exact halves of binary fractions (printf
    /// rounds them to even: 0.125 → "0.12"), values a hair either side of a half, negative
    /// numbers that round to zero ("-0.000"), −0, and what it leaves to printf (nan, infinity, 1e300).
    func testFixedPointFormatMatchesPrintf() {
        var rng = SystemRandomNumberGenerator()
        var values: [Double] = [0, -0.0, 0.125, 0.375, 2.5, 3.5, -2.5, 0.0005, -0.0004, 1e-7, 99.95, 100, 1234.5,
                                .nan, .infinity, -.infinity, 1e300, 99_999_999.999, 0.1 + 0.2, 1.005, 2.675, 1e-300]
        for e in -6...12 {
            for _ in 0..<400 {
                let v = Double.random(in: 1...10, using: &rng) * pow(10, Double(e))
                values.append(Bool.random(using: &rng) ? v : -v)
            }
        }
        for k in 0..<2000 { values.append(Double(k) / 8 + 1.0 / 16); values.append(Double(k) / 1000 + 0.0005) }
        for v in values.prefix(200) { values.append(v.nextUp); values.append(v.nextDown) }
        var fast = 0
        for v in values {
            for decimals in 0...9 {
                let format = "%.\(decimals)f"
                XCTAssertEqual(Format.double(format, v), String(format: format, v), "\(format) of \(v)")
                if Format.fixed(v, decimals: decimals) != nil { fast += 1 }
            }
        }
        XCTAssertGreaterThan(fast, values.count * 10 * 7 / 10, "most take the fast path (not: beyond 10¹¹ units, near halves)")
        XCTAssertNil(Format.fixed(0.125, decimals: 2))
        XCTAssertEqual(Format.fixed(-0.0004, decimals: 3), "-0.000")
        XCTAssertNil(Format.fixedDecimals("%.4f%%")); XCTAssertNil(Format.fixedDecimals("%5.2f")); XCTAssertEqual(Format.fixedDecimals("%.4f"), 4)
        XCTAssertEqual(Format.double("%3.0f%%", 42.4), " 42%")
    }

    func testRobustStatistics() {
        XCTAssertEqual(RobustStatistics.median([3, 1, 2]), 2)
        XCTAssertEqual(RobustStatistics.percentile([1, 2, 3, 4], 25), 1.75)   // numpy
        XCTAssertEqual(RobustStatistics.mad([1, 1, 2, 2, 4, 6, 9]), 1)        // median 2, |d| = 1,1,0,0,2,4,7
        XCTAssertEqual(RobustStatistics.robustZ(5, median: 2, mad: 1)!, 3 / 1.4826, accuracy: 1e-12)
        XCTAssertNil(RobustStatistics.robustZ(5, median: 2, mad: 0))
    }

    func series(_ values: [Double], step: Int = 5, start: String = "2024-04-01") -> [IndexPoint] {
        let d0 = Days.number(start)!
        return values.enumerated().map { IndexPoint(day: d0 + $0.offset * step, value: $0.element, clear: true) }
    }

    func testDropDetectorFindsFallsThatLast() {
        // High grass, a cut between day 10 and 15 (from 0.8 to 0.4), regrowth over 3 weeks.
        let s = series([0.78, 0.8, 0.8, 0.4, 0.42, 0.5, 0.6, 0.7, 0.78, 0.8])
        let events = DropDetector(minDrop: 0.1, minDays: 10).detect(s)
        XCTAssertEqual(events.count, 1)
        let e = events[0]
        XCTAssertEqual(Days.text(e.start), "2024-04-11"); XCTAssertEqual(Days.text(e.end), "2024-04-16")
        XCTAssertEqual(Days.text(e.date), "2024-04-13")      // middle of the steepest step
        XCTAssertEqual(e.magnitude, 0.4, accuracy: 1e-12)
        // Too small, or not lasting: nothing.
        XCTAssertTrue(DropDetector(minDrop: 0.5, minDays: 10).detect(s).isEmpty)
        XCTAssertTrue(DropDetector(minDrop: 0.1, minDays: 60).detect(s).isEmpty)
        // From at least 0.85 (Sen4CAP's NDVI ≥ 0.5 rule, stricter here): nothing.
        XCTAssertTrue(DropDetector(minDrop: 0.1, minDays: 10, minStart: 0.85).detect(s).isEmpty)
        // Two cuts 20 days apart: a 30-day quiet period keeps only the first.
        let two = series([0.8, 0.8, 0.4, 0.7, 0.8, 0.4, 0.5, 0.6, 0.7], step: 5)
        XCTAssertEqual(DropDetector(minDrop: 0.2, minDays: 4).detect(two).count, 2)
        XCTAssertEqual(DropDetector(minDrop: 0.2, minDays: 4, quietDays: 30).detect(two).count, 1)
    }

    func testStateChangeDetectorFindsALastingStep() {
        // Bare soil at 0.2 until day 60, a crop at 0.7 after: one rise dated at the step.
        let d0 = Days.number("2024-03-01")!
        let daily = (0..<150).map { IndexPoint(day: d0 + $0, value: $0 < 60 ? 0.2 : 0.7, clear: true) }
        let events = StateChangeDetector(minChange: 0.3, days: 20).detect(daily)
        XCTAssertEqual(events.count, 1)
        XCTAssertLessThanOrEqual(abs(events[0].date - (d0 + 60)), 1)
        XCTAssertEqual(events[0].magnitude, 0.5, accuracy: 1e-12)
        XCTAssertTrue(StateChangeDetector(minChange: 0.6, days: 20).detect(daily).isEmpty)
        // A short dip is not a change of state.
        let dip = (0..<150).map { IndexPoint(day: d0 + $0, value: (70..<75).contains($0) ? 0.2 : 0.7, clear: true) }
        XCTAssertTrue(StateChangeDetector(minChange: 0.3, days: 20).detect(dip).isEmpty)
    }

    func testSQLFunctions() throws {
        let lake = try fixtureLake()
        try SQLFunctions.register(on: lake.db)
        func one(_ sql: String) throws -> SQLValue? { try lake.db.scalar(sql) }
        XCTAssertEqual(try one("SELECT ndvi(3000, 1000)")?.double, 0.5)
        XCTAssertEqual(try one("SELECT ndvi(0, 0)"), .null)
        XCTAssertEqual(try one("SELECT cloud_free('{\"4\": 186, \"5\": 1}')")?.int, 1)
        XCTAssertEqual(try one("SELECT cloud_free('{\"4\": 186, \"8\": 1}')")?.int, 0)
        XCTAssertEqual(try one("SELECT cloud_free('{\"4\": 186, \"8\": 1}', '3,9')")?.int, 1)
        XCTAssertEqual(try one("SELECT cloud_free(0,0,0,0,5,0,0,0,0,1,0,0)")?.int, 0)
        XCTAssertEqual(try one("SELECT cv(10, 200)")?.double, 0.05)
        XCTAssertEqual(try one("SELECT qdisp(10, 30)")?.double, 0.5)
        XCTAssertEqual(try one("SELECT qskew(10, 15, 30)")?.double, 0.5)   // (30 + 10 − 30) / 20
        XCTAssertEqual(try one("SELECT median(x) FROM (SELECT 1 x UNION ALL SELECT 5 UNION ALL SELECT 2)")?.double, 2)
        XCTAssertEqual(try one("SELECT percentile(x, 25) FROM (SELECT 1 x UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4)")?.double, 1.75)
        XCTAssertEqual(try one("SELECT median(area) FROM parcels WHERE 0"), .null)
        // SCL histograms of the fixtures: cloud_free over the table agrees with the query's flag.
        let clear = try one("SELECT sum(cloud_free(c0,c1,c2,c3,c4,c5,c6,c7,c8,c9,c10,c11)) FROM scl_hist")?.int ?? 0
        XCTAssertGreaterThan(clear, 100); XCTAssertLessThan(clear, 720)
        let drops = try one("""
            SELECT drops(d, v, 0.1, 10) FROM (SELECT '2024-05-01' d, 0.8 v UNION ALL SELECT '2024-05-06', 0.8
              UNION ALL SELECT '2024-05-11', 0.4 UNION ALL SELECT '2024-05-16', 0.45 UNION ALL SELECT '2024-05-21', 0.6
              UNION ALL SELECT '2024-05-26', 0.8)
            """)?.text ?? ""
        XCTAssertTrue(drops.contains("\"date\":\"2024-05-08\""), drops)
        XCTAssertThrowsError(try one("SELECT cloud_free('not json')"))
    }

    func testPeersThroughTheSpatialIndex() throws {
        let lake = try fixtureLake()
        let parcel = try ParcelLookup.byID(lake, id: "P000004")
        var options = PeerOptions(); options.distance = 2000; options.same = .any; options.max = 5
        let peers = try PeerQueries(lake: lake).peers(of: parcel, options)
        XCTAssertEqual(peers.count, 5)
        XCTAssertFalse(peers.contains { $0.parcel.pid == parcel.pid })
        XCTAssertEqual(peers.map(\.distance), peers.map(\.distance).sorted())
        // Distances agree with SpatiaLite's own.
        let d = try lake.db.scalar("SELECT ST_Distance(a.geom, b.geom) FROM parcels a, parcels b WHERE a.pid = ? AND b.pid = ?",
                                   .int(parcel.pid), .int(peers[0].parcel.pid))?.double
        XCTAssertEqual(peers[0].distance, d!, accuracy: 1e-6)
        options.same = .crop
        let sameCrop = try PeerQueries(lake: lake).peers(of: parcel, options)
        XCTAssertTrue(sameCrop.allSatisfy { $0.parcel.cropCode == parcel.cropCode })
        options.distance = 1
        XCTAssertTrue(try PeerQueries(lake: lake).peers(of: parcel, options).isEmpty)
        // Crop groups through crop_map: a group shared by two crops makes them peers.
        let map = try write("crop_code,group_code,group_name\n1510,33,root crops\n1610,33,root crops\n", "map.csv")
        _ = try CropMapIngest(lake: lake).run(path: map, options: CropMapOptions())
        options.distance = 5000; options.same = .group; options.max = 50
        let group = try PeerQueries(lake: lake).peers(of: parcel, options)   // P000004 is sugar beet (1510)
        XCTAssertEqual(Set(group.compactMap(\.parcel.cropCode)), ["1510", "1610"])
    }

    /// In a lake of longitudes and latitudes (EPSG:4326) peers are measured in metres on the
    /// ellipsoid, whether the SRID is geographic as SpatiaLite's spatial_ref_sys says.
    func testPeersOfAGeographicLakeInMetres() throws {
        let lake = try temporaryLake(self, srid: 4326)
        // Three 0.001° squares at 50° N, their west edges 0.003° and 0.006° of longitude apart:
        // gaps of 0.002° and 0.005° = 143.4 m and 358.5 m (111,320 m × cos 50° per degree).
        func square(_ id: String, _ x: Double) -> String {
            "{\"type\": \"Feature\", \"properties\": {\"parcel_id\": \"\(id)\", \"crop_code\": \"G\"}, \"geometry\": {\"type\": \"Polygon\", \"coordinates\": [[[\(x), 50.0], [\(x + 0.001), 50.0], [\(x + 0.001), 50.001], [\(x), 50.001], [\(x), 50.0]]]}}"
        }
        let geojson = "{\"type\": \"FeatureCollection\", \"features\": [\(square("A", 5.0)), \(square("B", 5.003)), \(square("C", 5.006))]}"
        var o = ParcelIngestOptions(); o.aoi = "geo"; o.year = 2024
        _ = try ParcelIngest(lake: lake).run(path: try write(geojson, "geo.geojson"), options: o)
        var options = PeerOptions(); options.distance = 300; options.same = .any
        let peers = try PeerQueries(lake: lake).peers(of: try ParcelLookup.byID(lake, id: "A"), options)
        XCTAssertEqual(peers.map(\.parcel.parcelID), ["B"])
        XCTAssertEqual(peers[0].distance, 143.4, accuracy: 1.0)
        options.distance = 400
        let both = try PeerQueries(lake: lake).peers(of: try ParcelLookup.byID(lake, id: "A"), options)
        XCTAssertEqual(both.map(\.parcel.parcelID), ["B", "C"])
        XCTAssertEqual(both[1].distance, 358.5, accuracy: 2.0)
    }

    func testHeterogeneityRunIsRecordedAndReproducible() throws {
        let lake = try fixtureLake()
        let first = try Heterogeneity(lake: lake).run(HeterogeneityOptions(), optionsText: "band: B08\n")
        let second = try Heterogeneity(lake: lake).run(HeterogeneityOptions(), optionsText: "band: B08\n")
        XCTAssertEqual(second.run, first.run + 1)
        XCTAssertEqual(first.rows.map(\.pid), second.rows.map(\.pid))
        XCTAssertEqual(first.rows.map(\.score), second.rows.map(\.score))
        XCTAssertEqual(first.rows.map(\.rank), Array(1...first.rows.count))
        XCTAssertEqual(try lake.db.scalar("SELECT count(*) FROM heterogeneity WHERE run_id = ?", .int(first.run))?.int, Int64(first.rows.count))
        XCTAssertEqual(try lake.db.scalar("SELECT options FROM runs WHERE run_id = ?", .int(first.run))?.text, "band: B08\n")
        // The measures are the medians over clear in-window observations of the stored statistics.
        let top = first.rows[0]
        XCTAssertNotNil(top.cv); XCTAssertGreaterThan(top.observations, 0)
    }
}
