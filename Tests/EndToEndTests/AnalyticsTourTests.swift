import Foundation
import XCTest

/// The analytics commands on the committed fixtures, through the binary: markers with every
/// shipped option file, decisions shown and reported (GeoJSON read back by ogrinfo), peers,
/// heterogeneity, FOI, runs and SQL with lake's functions.
final class AnalyticsTourTests: BinaryTestCase {
    func load() throws {
        for args in [["init", "--srid", "32632"], ["ingest", "parcels", fixture("parcels.geojson"), "--aoi", "demo", "--year", "2024"],
                     ["ingest", "catalogue", fixture("scenes.stac.json")], ["ingest", "signatures", fixture("signatures.csv"), fixture("scl.csv")]] {
            let r = try run(["--db", db] + args)
            XCTAssertEqual(r.code, 0, r.err)
        }
    }

    func testEveryAnalyticsCommandOnTheFixtures() throws {
        try load()
        let options = Self.root.appendingPathComponent("options").path
        for name in ["mowing", "harvest", "bare-soil", "crop-phenology"] {
            let r = try run(["--db", db, "markers", "run", "\(options)/\(name).yaml", "--json"])
            XCTAssertEqual(r.code, 0, r.err)
            let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
            XCTAssertGreaterThan(summary["parcels"] as? Int ?? 0, 0, name)
        }
        // Grassland P000005 was mown on 2024-05-10 and 2024-06-25 (truth.csv), but the first
        // usable observation after the first cut is 11 days later and regrown (05-11 is a cloud
        // edge SCL missed, screened out as haze) and the second cut hides in a 50-day gap: no
        // cut can be seen, and the decision says why instead of turning red.
        let show = try run(["--db", db, "markers", "show", "P000005", "--run", "1"])
        XCTAssertEqual(show.code, 0, show.err)
        XCTAssertTrue(show.out.contains("mowing  YELLOW") && show.out.contains("an event could hide there"), show.out)
        XCTAssertTrue(show.out.contains("screened out beyond SCL"), show.out)
        let runs = try run(["--db", db, "runs", "--json"])
        let list = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(runs.out.utf8)) as? [[String: Any]])
        XCTAssertEqual(list.count, 4)
        XCTAssertEqual(list.map { $0["kind"] as? String }, Array(repeating: "markers", count: 4))

        let peers = try run(["--db", db, "query", "peers", "P000004", "--same", "any", "--distance", "2000", "--max", "3", "--csv"])
        XCTAssertEqual(peers.code, 0, peers.err)
        XCTAssertEqual(peers.out.split(separator: "\n").count, 1 + 3)
        let within = try run(["--db", db, "query", "within", "--bbox", "8.5,47.3,8.7,47.5", "--csv"])
        XCTAssertEqual(within.out.split(separator: "\n").count, 1 + 20)
        let het = try run(["--db", db, "heterogeneity", "--top", "5", "--json"])
        XCTAssertEqual(het.code, 0, het.err)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(het.out.utf8)) as? [Any])?.count, 5)
        let foi = try run(["--db", db, "foi", fixture("rasters/20240930/SCL.tif"), "--buffer", "0", "--all", "--csv"])
        XCTAssertEqual(foi.code, 0, foi.err)
        XCTAssertEqual(foi.out.split(separator: "\n").count, 1 + 20)

        let sql = try run(["--db", db, "sql", "SELECT round(median(area)), count(*) FROM parcels WHERE crop_name = 'grassland'", "--csv"])
        XCTAssertEqual(sql.code, 0, sql.err)
        XCTAssertTrue(sql.out.hasSuffix(",5\n"), sql.out)
        let write = try run(["--db", db, "sql", "DELETE FROM parcels"])
        XCTAssertEqual(write.code, 2, "read-only unless --write: \(write.err)")

        for kind in ["parcels", "decisions", "markers", "heterogeneity", "peers"] {
            let out = dir.appendingPathComponent("\(kind).geojson").path
            let r = try run(["--db", db, "report", kind, "--format", "geojson", "--out", out])
            XCTAssertEqual(r.code, 0, r.err)
            let text = try String(contentsOfFile: out, encoding: .utf8)
            XCTAssertFalse(text.contains("\"crs\""))
            if let ogrinfo = ["/usr/bin/ogrinfo"].first(where: FileManager.default.isExecutableFile) {
                let p = Process(); p.executableURL = URL(fileURLWithPath: ogrinfo); p.arguments = ["-ro", "-so", "-al", out]
                let pipe = Pipe(); p.standardOutput = pipe; p.standardError = Pipe()
                try p.run(); p.waitUntilExit()
                XCTAssertTrue(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).contains("Feature Count"), kind)
            }
        }
        let series = try run(["--db", db, "report", "timeseries"])
        XCTAssertEqual(series.out.split(separator: "\n").count, 1 + 20 * 36 * 8)
        // Statistics are float32: written as the shortest text that reads back to the same
        // float32, never as a noisy double (621.5103759765625).
        for line in series.out.split(separator: "\n").dropFirst().prefix(200) {
            for field in line.split(separator: ",", omittingEmptySubsequences: false)[5...12] where !field.isEmpty {
                let v = try XCTUnwrap(Float(field), String(field))
                XCTAssertLessThanOrEqual(field.count, "\(v)".count + 2, String(line))
                XCTAssertEqual(Float(String(field)), v)
            }
        }
        // The markers report's category: dated events, periods (a spell, a threshold over the
        // window), data gaps and rejected candidates, whatever the option file calls its detectors.
        var categories: [String: Set<String>] = [:]
        for runID in 1...3 {
            let report = try run(["--db", db, "report", "markers", "--run", String(runID)])
            XCTAssertEqual(report.code, 0, report.err)
            for line in report.out.split(separator: "\n").dropFirst() {
                let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                categories[f[7], default: []].insert(f[5])
            }
        }
        XCTAssertEqual(categories["gap"], ["data-gap"])
        XCTAssertEqual(categories["harvest"], ["event"], "\(categories)")
        XCTAssertEqual(categories["threshold"], ["period"], "\(categories)")
        let badRun = try run(["--db", db, "report", "markers", "--run", "99"])
        XCTAssertEqual(badRun.code, 5)

        // Screening, the crop check, one light per parcel: as a user runs them.
        let screen = try run(["--db", db, "screen", "\(options)/mowing.yaml", "--parcels", "P000005", "--csv"])
        XCTAssertEqual(screen.code, 0, screen.err)
        let verdicts = screen.out.split(separator: "\n").dropFirst().map { $0.split(separator: ",").last.map(String.init) ?? "" }
        XCTAssertEqual(verdicts.count, 36)
        XCTAssertTrue(verdicts.contains("scl") && verdicts.contains("clear"), "\(verdicts)")
        let check = try run(["--db", db, "check", "crops", "--json"])
        XCTAssertEqual(check.code, 0, check.err)
        let checked = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(check.out.utf8)) as? [String: Any])
        XCTAssertEqual((checked["decisions"] as? [String: Int])?["grey"], 20, "20 parcels: no crop has 20 peers")
        let decide = try run(["--db", db, "decide", "--json"])
        XCTAssertEqual(decide.code, 0, decide.err)
        let lights = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(decide.out.utf8)) as? [String: Any])
        XCTAssertEqual(lights["parcels"] as? Int, 20)
        let report = try run(["--db", db, "report", "decisions"])
        XCTAssertTrue(report.out.contains(",overall,"), report.out)
        let badOptions = dir.appendingPathComponent("bad.yaml").path
        try "name: x\ndetectors:\n  - {name: m, type: cut, min_dorp: 0.1}\n".write(toFile: badOptions, atomically: true, encoding: .utf8)
        let bad = try run(["--db", db, "markers", "run", badOptions])
        XCTAssertEqual(bad.code, 4)
        XCTAssertTrue(bad.err.contains("unknown key detectors[0].min_dorp"), bad.err)
    }
}

/// lake's SQL functions loaded into another SQLite session (the sqlite3 shell) as an extension.
final class SQLExtensionTests: BinaryTestCase {
    func testTheSQLite3ShellLoadsLakesFunctions() throws {
        guard let shell = ["/usr/bin/sqlite3"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("sqlite3 shell not installed")
        }
        let library = try binary("liblake_functions.so")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: shell)
        process.arguments = [":memory:", ".load \(library.deletingPathExtension().path)",
                             "SELECT ndvi(3000, 1000), qskew(10, 15, 30), cloud_free('{\"4\": 3, \"9\": 1}'), median(x) FROM (SELECT 1 x UNION ALL SELECT 7 UNION ALL SELECT 3)"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out; process.standardError = err
        try process.run(); process.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(text, "0.5|0.5|0|3.0\n", String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }
}

/// Screening on real data against another tool's verdicts.
final class RealScreeningTests: BinaryTestCase {
    /// Real Sentinel-2 NDVI with another tool's verdicts: the eo-learn TestEOPatch of Slovenia
    /// (32 land-use polygons × 68 L1C dates of 2015-2017; s2cloudless's cloud mask), as
    /// `make accuracy` scores it (scripts/slovenia-series.py). With NDVI alone (no bands, no SCL)
    /// the temporal and regional context screen out 504 of the 655 observations s2cloudless
    /// finds more than half cloudy, and 95 of the 1,072 it finds clear (all on eight dates when
    /// every parcel of the area fell together). Without the regional context, far fewer.
    func testOnRealSlovenianNDVITheContextScreensWhatS2CloudlessCallsCloudy() throws {
        let data = Self.root.deletingLastPathComponent().appendingPathComponent("shared/realdata/eo-learn-testeopatch-slovenia")
        guard FileManager.default.fileExists(atPath: data.appendingPathComponent("geotiff").path) else {
            throw XCTSkip("../shared/realdata/eo-learn-testeopatch-slovenia is not present; real-data test skipped")
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gdal_rasterize"), FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else {
            throw XCTSkip("gdal-bin or python3 not installed")
        }
        let script = Self.root.appendingPathComponent("scripts/slovenia-series.py").path
        let out = dir.appendingPathComponent("slovenia")
        try shell("/usr/bin/python3", [script, "prepare", data.path, out.path])
        for args in [["init", "--srid", "32633"], ["ingest", "parcels", out.appendingPathComponent("parcels.geojson").path, "--aoi", "si"],
                     ["ingest", "signatures", out.appendingPathComponent("ndvi.csv").path, "--create-scenes"]] {
            let r = try run(["--db", db] + args)
            XCTAssertEqual(r.code, 0, r.err)
        }
        func screenedOut(_ optionFile: String) throws -> (cloudy: Double, clear: Double) {
            let r = try run(["--db", db, "screen", optionFile, "--all", "--csv"])
            XCTAssertEqual(r.code, 0, r.err)
            try r.out.write(to: out.appendingPathComponent("screen.csv"), atomically: true, encoding: .utf8)
            let score = try shell("/usr/bin/python3", [script, "score", out.path])
            // "cloudy (s2cloudless > 50 %) screened out 504 of 655 (0.769); clear screened out 95 of 1072 (0.089)"
            let shares = score.split(separator: "\n").last!.split(separator: "(").dropFirst().compactMap { Double($0.prefix(5)) }
            XCTAssertEqual(shares.count, 2, score)
            return (shares[0], shares[1])
        }
        let mowing = Self.root.appendingPathComponent("options/mowing.yaml").path
        let context = try screenedOut(mowing)
        XCTAssertGreaterThan(context.cloudy, 0.7)
        XCTAssertLessThan(context.clear, 0.12)
        // The same without the regional context: the dip rule alone.
        let local = dir.appendingPathComponent("local.yaml")
        try (try String(contentsOfFile: mowing, encoding: .utf8)).replacingOccurrences(of: "  regional: true", with: "  regional: false")
            .write(to: local, atomically: true, encoding: .utf8)
        let alone = try screenedOut(local.path)
        XCTAssertLessThan(alone.cloudy, context.cloudy - 0.3)
    }
}
