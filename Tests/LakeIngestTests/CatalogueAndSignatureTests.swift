import Foundation
import LakeTestSupport
import XCTest
import LakeQuery
@testable import LakeIngest
import LakeStore
import LakeSupport

final class CatalogueAndSignatureTests: XCTestCase {
    func demoLake() throws -> Lake {
        let lake = try temporaryLake(self)
        var o = ParcelIngestOptions(); o.aoi = "demo"; o.year = 2024
        _ = try ParcelIngest(lake: lake).run(path: Paths.fixture("parcels.geojson"), options: o)
        _ = try CatalogueIngest(lake: lake).run(path: Paths.fixture("scenes.stac.json"), options: .init())
        return lake
    }

    func testProductNamesGiveSceneFacts() throws {
        let s2 = try XCTUnwrap(ProductName("S2B_MSIL2A_20220413T150759_N0400_R025_T33XWJ_20220414T082126.SAFE"))
        XCTAssertEqual([s2.reference, s2.card, s2.sensor, s2.obstime, s2.baseline, s2.tile],
                       ["S2B_MSIL2A_20220413T150759_N0400_R025_T33XWJ_20220414T082126", "s2", "2B", "2022-04-13T15:07:59Z", "04.00", "33XWJ"])
        XCTAssertEqual(s2.relativeOrbit, 25)
        let s1 = try XCTUnwrap(ProductName("S1A_IW_GRDH_1SDV_20210809T173953_20210809T174018_039156_049F13_8A2B"))
        XCTAssertEqual(s1.card, "bs")
        XCTAssertEqual(s1.relativeOrbit, 59)   // (39156 − 73) mod 175 + 1; the STAC item of this product says 59
        XCTAssertNil(ProductName("LC08_L2SP_033032_20231008_02_T1"))
        XCTAssertEqual(SceneRecord.defaultOffset(card: "s2", baseline: "02.12"), 0)
        XCTAssertEqual(SceneRecord.defaultOffset(card: "s2", baseline: "04.00"), -1000)
        XCTAssertEqual(SceneRecord.defaultOffset(card: "bs", baseline: nil), 0)
    }

    func testSTACFixtureLoadsAndDuplicatesAreRecognised() throws {
        let lake = try demoLake()
        XCTAssertEqual(try lake.db.scalar("SELECT count(*) FROM catalogue")?.int, 36)
        XCTAssertEqual(try lake.db.scalar("SELECT count(DISTINCT radiometric_offset) FROM catalogue")?.double, 1)
        XCTAssertEqual(try lake.db.scalar("SELECT radiometric_offset FROM catalogue LIMIT 1")?.double, -1000)
        let again = try CatalogueIngest(lake: lake).run(path: Paths.fixture("scenes.stac.json"), options: .init())
        XCTAssertEqual([again.inserted, again.skipped], [0, 36])
    }

    func testSignaturesAreStoredExactlyAndShownHarmonised() throws {
        let lake = try demoLake()
        let sig = try SignatureIngest(lake: lake).run(path: Paths.fixture("signatures.csv"), options: .init())
        XCTAssertEqual([sig.read, sig.inserted, sig.rejected.count], [20 * 36 * 8, 20 * 36 * 8, 0])
        let scl = try SignatureIngest(lake: lake).run(path: Paths.fixture("scl.csv"), options: .init())
        XCTAssertEqual(scl.inserted, 20 * 36)
        // Compare every statistic of one parcel with the CSV, as float32.
        let reader = try CSVReader(path: Paths.fixture("signatures.csv"))
        _ = try reader.next()
        var expected: [String: [Float]] = [:]
        while let f = try reader.next() {
            if f[0] == "P000005" { expected["\(f[1]) \(f[2])"] = f[3...].map { Float($0)! } }
        }
        let parcel = try ParcelLookup.byID(lake, id: "P000005")
        var filter = SeriesFilter(); filter.harmonise = false
        let series = try ParcelSeries.read(lake, pid: parcel.pid, filter: filter)
        XCTAssertEqual(series.count, 36)
        var compared = 0
        for o in series {
            XCTAssertNotNil(o.scl); XCTAssertNotNil(o.cloudFree)
            for b in o.bands {
                let values = try XCTUnwrap(expected["\(o.reference) \(b.band)"])
                XCTAssertEqual((0..<8).map { b.stats[$0] }, values)
                compared += 1
            }
        }
        XCTAssertEqual(compared, 36 * 8)
        // Harmonised view: the −1000 offset of baseline 05.10 applied to the mean, not the count.
        let harmonised = try ParcelSeries.read(lake, pid: parcel.pid, filter: SeriesFilter())
        XCTAssertEqual(harmonised[0].bands[0].stats.mean, series[0].bands[0].stats.mean - 1000)
        XCTAssertEqual(harmonised[0].bands[0].stats.count, series[0].bands[0].stats.count)
        // Loading the same file again changes nothing.
        let again = try SignatureIngest(lake: lake).run(path: Paths.fixture("signatures.csv"), options: .init())
        XCTAssertEqual([again.inserted, again.updated, again.skipped], [0, 0, 20 * 36 * 8])
    }

    /// Parcel-ordered input into parcels without a series is written packed at once, skipping
    /// the pending log: the stored series equal those of the same rows loaded scene by scene
    /// (the pending path); a parcel met again later in the file goes to the log, and a repeat
    /// there with other statistics is still a conflict (nothing loaded), one as it was is not.
    func testParcelOrderedRowsAreWrittenPackedAndEqualTheLogsResult() throws {
        let rows = try String(contentsOfFile: Paths.fixture("signatures.csv"), encoding: .utf8).split(separator: "\n").map(String.init)
        let header = rows[0], body = rows.dropFirst().filter { !$0.isEmpty }
        func column(_ line: String, _ i: Int) -> String { String(line.split(separator: ",")[i]) }
        let byParcel = body.sorted { (column($0, 0), column($0, 1)) < (column($1, 0), column($1, 1)) }
        let byScene = body.sorted { (column($0, 1), column($0, 0)) < (column($1, 1), column($1, 0)) }
        func load(_ lines: [String], _ name: String) throws -> (Lake, IngestSummary) {
            let lake = try demoLake()
            let s = try SignatureIngest(lake: lake).run(path: try write(([header] + lines).joined(separator: "\n") + "\n", name), options: .init())
            return (lake, s)
        }
        let (packed, a) = try load(byParcel, "parcel-ordered.csv")
        let (sorted, b) = try load(byScene, "scene-ordered.csv")
        // The same, sorted in 64 KiB of memory (tens of run files merged), and through the
        // pending log (which takes over when the log holds rows at the start: one is put there).
        var small = SignatureIngestOptions(); small.sortMemoryBudget = 1 << 16
        let spilled = try demoLake()
        let c = try SignatureIngest(lake: spilled).run(path: try write(([header] + byScene).joined(separator: "\n") + "\n", "spilled.csv"), options: small)
        let logged = try demoLake()
        let store = SignatureStore(db: logged.db)
        let one = byScene[0].split(separator: ",").map(String.init)
        let pid = try XCTUnwrap(logged.db.scalar("SELECT pid FROM parcels WHERE parcel_id = ?", .text(one[0]))?.int)
        let obsid = try XCTUnwrap(logged.db.scalar("SELECT obsid FROM catalogue WHERE reference = ?", .text(one[1]))?.int)
        try store.append(pid: pid, obsid: obsid, bands: [(try BandDictionary(db: logged.db).idAdding(one[2]), { var st = SignatureStats.zero; for (k, v) in one[3...].enumerated() { st[k] = Float(v)! }; return st }())])
        let d = try SignatureIngest(lake: logged).run(path: try write(([header] + byScene).joined(separator: "\n") + "\n", "logged.csv"), options: .init())
        for s in [a, b, c] { XCTAssertEqual([s.inserted, s.updated, s.skipped], [body.count, 0, 0]) }
        // (The log's merge counts the row that waited there too: inserted, and the file's same row as a repeat.)
        XCTAssertEqual([d.inserted, d.updated, d.skipped], [body.count, 0, 1])
        let series = "SELECT group_concat(pid || ':' || nrows || ':' || hex(data), ',') FROM (SELECT * FROM signatures_packed ORDER BY pid)"
        for other in [sorted, spilled, logged] {
            XCTAssertEqual(try packed.db.scalar("SELECT value FROM lake_meta WHERE key = 'bands'")?.text,
                           try other.db.scalar("SELECT value FROM lake_meta WHERE key = 'bands'")?.text)
            XCTAssertEqual(try packed.db.scalar(series)?.text, try other.db.scalar(series)?.text)
            XCTAssertEqual(try other.db.scalar("SELECT count(*) FROM signatures_pending")?.int, 0)
        }
        let folder = URL(fileURLWithPath: spilled.path).deletingLastPathComponent().path
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(".lake-sort") }, [])
        // P000001 met again after P000002: a different mean for a row already given is a conflict.
        let first = byParcel.filter { column($0, 0) == "P000001" }, second = byParcel.filter { column($0, 0) == "P000002" }
        var changed = first[0].split(separator: ",").map(String.init); changed[5] = "1.5"   // another std
        let fresh = try temporaryLake(self)
        _ = try ParcelIngest(lake: fresh).run(path: Paths.fixture("parcels.geojson"), options: { var o = ParcelIngestOptions(); o.aoi = "demo"; o.year = 2024; return o }())
        _ = try CatalogueIngest(lake: fresh).run(path: Paths.fixture("scenes.stac.json"), options: .init())
        XCTAssertThrowsError(try SignatureIngest(lake: fresh).run(path: try write(([header] + first + second + [changed.joined(separator: ",")]).joined(separator: "\n") + "\n", "again.csv"), options: .init())) { error in
            XCTAssertEqual((error as? LakeError)?.exitCode, 4)
            XCTAssertTrue("\(error)".contains("P000001"), "\(error)")
        }
        XCTAssertEqual(try fresh.db.scalar("SELECT count(*) FROM signatures_packed")?.int, 0)
        let same = try SignatureIngest(lake: fresh).run(path: try write(([header] + first + second + [first[0]]).joined(separator: "\n") + "\n", "same.csv"), options: .init())
        XCTAssertEqual([same.inserted, same.skipped, same.rejected.count], [first.count + second.count, 1, 0])
        // Scene-ordered, spilled to runs: a repeat in another run is seen as one, a changed one
        // as a conflict, and no run file is left behind either way.
        let spilledAgain = try demoLake()
        XCTAssertThrowsError(try SignatureIngest(lake: spilledAgain).run(path: try write(([header] + byScene + [changed.joined(separator: ",")]).joined(separator: "\n") + "\n", "conflict.csv"), options: small)) { error in
            XCTAssertTrue("\(error)".contains("P000001"), "\(error)")
        }
        XCTAssertEqual(try spilledAgain.db.scalar("SELECT count(*) FROM signatures_packed")?.int, 0)
        let repeated = try SignatureIngest(lake: spilledAgain).run(path: try write(([header] + byScene + [first[0]]).joined(separator: "\n") + "\n", "repeat.csv"), options: small)
        XCTAssertEqual([repeated.inserted, repeated.skipped], [body.count, 1])
        let again = URL(fileURLWithPath: spilledAgain.path).deletingLastPathComponent().path
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: again).filter { $0.hasPrefix(".lake-sort") }, [])
    }

    /// SCL histograms are written in batches of 64 with RETURNING telling the new ones: a second
    /// load with some histograms changed, some new and the rest the same is counted row by row,
    /// and the stored values are the last given; the parse of the common form and of the JSON
    /// parser agree.
    func testHistogramBatchesCountNewChangedAndSameExactly() throws {
        let lake = try demoLake()
        let first = try SignatureIngest(lake: lake).run(path: Paths.fixture("scl.csv"), options: .init())
        XCTAssertEqual([first.read, first.inserted, first.updated, first.skipped], [720, 720, 0, 0])
        var lines = try String(contentsOfFile: Paths.fixture("scl.csv"), encoding: .utf8).split(separator: "\n").map(String.init)
        let header = lines.removeFirst()
        // Rows 100 and 500 changed (single quotes, as Python writes them), rows 0–2 removed
        // from the store first (so they are new again), the rest unchanged.
        for i in [100, 500] { lines[i] = lines[i].components(separatedBy: ",\"").first! + ",\"{'4': 7, '9': 3}\"" }
        let firstKeys = lines.prefix(3).map { line -> (String, String) in
            let f = line.split(separator: ","); return (String(f[0]), String(f[1]))
        }
        for (parcel, reference) in firstKeys {
            try lake.db.run("""
                DELETE FROM scl_hist WHERE pid = (SELECT pid FROM parcels WHERE parcel_id = ?)
                  AND obsid = (SELECT obsid FROM catalogue WHERE reference = ?)
                """, .text(parcel), .text(reference))
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("scl-\(UUID().uuidString).csv").path
        try ([header] + lines).joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let second = try SignatureIngest(lake: lake).run(path: path, options: .init())
        XCTAssertEqual([second.read, second.inserted, second.updated, second.skipped], [720, 3, 2, 715])
        XCTAssertEqual(try lake.db.scalar("SELECT count(*) FROM scl_hist WHERE c4 = 7 AND c9 = 3 AND c0 + c1 + c2 + c3 + c5 + c6 + c7 + c8 + c10 + c11 = 0")?.int, 2)
        XCTAssertEqual(try lake.db.scalar("SELECT count(*) FROM scl_hist")?.int, 720)
        XCTAssertEqual(try lake.db.scalar("PRAGMA foreign_keys")?.int, 1)
        for text in [#"{"5": 26, "7": 1}"#, "{'4': 186}", " { } ", #"{"11":0,"0":3}"#] {
            let data = Data(text.replacingOccurrences(of: "'", with: "\"").utf8)
            let dict = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
            XCTAssertEqual(SignatureSource.simpleHist(text), try SignatureSource.histFrom(dict), text)
        }
        for text in [#"{"5": 26, "5": 1}"#, #"{"12": 1}"#, #"{"5": -1}"#, #"{"5": 1.5}"#, #"{"5": 1"#, #"{"5": 1} x"#] {
            XCTAssertNil(SignatureSource.simpleHist(text), text)
        }
    }

    /// The parallel parse: results in job order whatever order the workers finish in; a job
    /// that fails ends the run after every earlier result; the consumer's error stops all.
    func testParallelWorkKeepsOrderAndStopsWhereASequentialLoopWould() {
        var got: [Int] = []
        XCTAssertNoThrow(try parallelOrdered(workers: 3, inFlight: 4, produce: { emit in for i in 0..<500 { try emit(i) } },
                                             work: { (i: Int) -> Int in if i % 7 == 0 { usleep(200) }; return i * i },
                                             consume: { got.append($0) }))
        XCTAssertEqual(got, (0..<500).map { $0 * $0 })
        struct Bad: Error { let job: Int }
        got = []
        XCTAssertThrowsError(try parallelOrdered(workers: 2, inFlight: 3, produce: { emit in for i in 0..<1_000 { try emit(i) } },
                                                 work: { (i: Int) -> Int in if i == 123 { throw Bad(job: i) }; return i },
                                                 consume: { got.append($0) })) { XCTAssertEqual(($0 as? Bad)?.job, 123) }
        XCTAssertEqual(got, Array(0..<123))
        got = []
        XCTAssertThrowsError(try parallelOrdered(workers: 2, inFlight: 3, produce: { emit in for i in 0..<1_000_000 { try emit(i) } },
                                                 work: { (i: Int) -> Int in i },
                                                 consume: { (i: Int) in got.append(i); if i == 40 { throw Bad(job: i) } })) { XCTAssertEqual(($0 as? Bad)?.job, 40) }
        XCTAssertEqual(got, Array(0...40))
    }

    /// `alongside` returns both results, runs the helper on another thread at the same time
    /// (each waits for the other to have started), has joined it when it returns, and rethrows
    /// the calling thread's error first, else the helper's.
    func testAlongsideRunsBothAndJoinsTheHelper() throws {
        struct Bad: Error { let side: String }
        let started = DispatchSemaphore(value: 0), answered = DispatchSemaphore(value: 0)
        let caller = Thread.current
        // Each side waits (at most 5 s) for the other: run one after the other, they would time out.
        let (a, b) = try alongside({ () -> (Bool, Int) in
            started.signal()
            let met = answered.wait(timeout: .now() + 5) == .success
            usleep(20_000)
            return (Thread.current != caller && met, 7)
        }, while: { () -> String in
            let met = started.wait(timeout: .now() + 5) == .success
            answered.signal()
            return met ? "plan" : "the helper had not started"
        })
        XCTAssertEqual(a, "plan")
        XCTAssertTrue(b.0, "the helper ran on another thread, at the same time")
        XCTAssertEqual(b.1, 7, "the helper's result, after its 20 ms")
        XCTAssertThrowsError(try alongside({ () -> Int in throw Bad(side: "helper") }, while: { () -> Int in throw Bad(side: "body") })) {
            XCTAssertEqual(($0 as? Bad)?.side, "body")
        }
        XCTAssertThrowsError(try alongside({ () -> Int in usleep(10_000); throw Bad(side: "helper") }, while: { 1 })) {
            XCTAssertEqual(($0 as? Bad)?.side, "helper")
        }
    }

    /// A CSV file cut into 200-byte pieces parsed on two threads loads as it does whole: the
    /// same series and histograms, the same rejections at the same line numbers (quoted fields
    /// with commas, doubled quotes and a newline inside among them), and a broken quote at the
    /// end is reported at its line.
    func testACSVFileCutIntoPiecesLoadsAsItDoesWhole() throws {
        var lines = try String(contentsOfFile: Paths.fixture("signatures.csv"), encoding: .utf8).split(separator: "\n").map(String.init)
        let scl = try String(contentsOfFile: Paths.fixture("scl.csv"), encoding: .utf8).split(separator: "\n").map(String.init)
        // One file with both: signature rows, then the SCL rows as extra columns of their own rows.
        lines[0] += ",hist"
        for i in 1..<lines.count where !lines[i].isEmpty { lines[i] += "," }
        let sclRows = scl.dropFirst().filter { !$0.isEmpty }.map { row -> String in
            let f = row.split(separator: ",", maxSplits: 2).map(String.init)
            return "\(f[0]),\(f[1]),,,,,,,,,,\(f[2])"
        }
        lines += sclRows
        lines.insert("P999999,S2A_x,B02,1,1,0,1,1,1,1,1,", at: 50)                      // unknown parcel
        lines.insert("\"P000001\",\"S2A, with a comma\",B02,1,1,0,1,1,1,1,1,", at: 300)  // unknown scene
        lines.insert("P000002,\"two\nlines \"\"quoted\"\"\",B03,1,1,0,1,1,1,1,1,", at: 301)
        lines.insert("P000003,S2A_y,B04,1,x,0,1,1,1,1,1,", at: 2_000)                  // not a number
        let text = lines.joined(separator: "\n") + "\n"
        func load(_ pieceBytes: Int, _ text: String) throws -> (Lake, IngestSummary) {
            let lake = try demoLake()
            var o = SignatureIngestOptions(); o.pieceBytes = pieceBytes
            return (lake, try SignatureIngest(lake: lake).run(path: try write(text, "pieces.csv"), options: o))
        }
        let (whole, a) = try load(1 << 30, text)
        let (cut, b) = try load(200, text)
        XCTAssertEqual(a.rejected.map(\.location), ["line 51", "line 301", "line 302", "line 2002"])
        XCTAssertEqual(b.rejected.map(\.location), a.rejected.map(\.location))
        XCTAssertEqual(b.rejected.map(\.reason), a.rejected.map(\.reason))
        XCTAssertEqual([b.read, b.inserted, b.skipped], [a.read, a.inserted, a.skipped])
        XCTAssertEqual(a.inserted, 20 * 36 * 8 + 20 * 36)
        let series = "SELECT group_concat(pid || ':' || hex(data), ',') FROM (SELECT * FROM signatures_packed ORDER BY pid)"
        let hists = "SELECT group_concat(pid || obsid || c4 || c8 || c9, ',') FROM (SELECT * FROM scl_hist ORDER BY pid, obsid)"
        XCTAssertEqual(try whole.db.scalar(series)?.text, try cut.db.scalar(series)?.text)
        XCTAssertEqual(try whole.db.scalar(hists)?.text, try cut.db.scalar(hists)?.text)
        // Records with a newline inside a quoted field every few lines: some piece boundary
        // falls near each kind of byte, and no cut lands inside a quote.
        var quoted = lines
        for i in stride(from: quoted.count - 1, to: 1, by: -7) {
            quoted.insert("P000002,\"S2A \"\"x\"\",\n\nend\",B03,1,1,0,1,1,1,1,1,", at: i)
        }
        let (_, c) = try load(1 << 30, quoted.joined(separator: "\n") + "\n")
        let (_, d) = try load(97, quoted.joined(separator: "\n") + "\n")
        XCTAssertGreaterThan(c.rejected.count, 900)
        XCTAssertEqual(d.rejected.map(\.location), c.rejected.map(\.location))
        XCTAssertEqual(d.rejected.map(\.reason), c.rejected.map(\.reason))
        XCTAssertEqual([d.read, d.inserted], [c.read, c.inserted])
        // An unterminated quote: the error names the line it starts on, cut or whole.
        let broken = text + "P000004,\"never closed,B02\n1,2\n"
        let expected = "line \(lines.count + 2)"   // the record with a newline inside takes two lines
        for size in [200, 1 << 30] {
            XCTAssertThrowsError(try load(size, broken)) { XCTAssertTrue("\($0)".contains(expected), "\(size): \($0)") }
        }
    }

    /// A histogram-only file (parsed on two threads since stop 29) cut into small pieces loads as
    /// it does whole: the same histograms and summaries, the same rejections at the same lines.
    func testAHistogramFileCutIntoPiecesLoadsAsItDoesWhole() throws {
        var lines = try String(contentsOfFile: Paths.fixture("scl.csv"), encoding: .utf8).split(separator: "\n").map(String.init)
        lines.insert("P999999,S2A_x,\"{\"\"4\"\": 3}\"", at: 40)                        // unknown parcel
        lines.insert("P000002,\"two\nlines\",\"{\"\"4\"\": 3}\"", at: 300)            // unknown scene, quoted newline
        lines.insert("P000003,\(lines[5].split(separator: ",")[1]),\"{\"\"4\"\": -3}\"", at: 600)   // a negative count
        let text = lines.joined(separator: "\n") + "\n"
        func load(_ pieceBytes: Int) throws -> (Lake, IngestSummary) {
            let lake = try demoLake()
            var o = SignatureIngestOptions(); o.pieceBytes = pieceBytes
            return (lake, try SignatureIngest(lake: lake).run(path: try write(text, "hists.csv"), options: o))
        }
        let (whole, a) = try load(1 << 30)
        let (cut, b) = try load(160)
        XCTAssertEqual(a.rejected.map(\.location), ["line 41", "line 301", "line 602"])
        XCTAssertEqual(b.rejected.map(\.location), a.rejected.map(\.location))
        XCTAssertEqual(b.rejected.map(\.reason), a.rejected.map(\.reason))
        XCTAssertEqual([b.read, b.inserted], [a.read, a.inserted])
        XCTAssertEqual(a.inserted, 720)
        for sql in ["SELECT group_concat(pid || ':' || obsid || ':' || c4 || c8 || c9, ',') FROM (SELECT * FROM scl_hist ORDER BY pid, obsid)",
                    "SELECT group_concat(pid || ':' || hex(data), ',') FROM (SELECT * FROM scl_summary ORDER BY pid)"] {
            XCTAssertEqual(try whole.db.scalar(sql)?.text, try cut.db.scalar(sql)?.text)
        }
    }

    /// A scene-ordered histogram file is sorted by parcel from its first row out of order (in
    /// memory, in chunks written on another thread while it is read, or here in 4 KiB: a
    /// hundred rows a run file, merged) and written in that order: the same histograms,
    /// summaries and counts as the file in parcel order. A histogram the
    /// file gives twice keeps the later one (counted as updated), and one given twice alike is
    /// counted as already there. No run file stays behind.
    func testAScenesOrderedHistogramFileLoadsAsTheParcelOrderedOne() throws {
        let lines = try String(contentsOfFile: Paths.fixture("scl.csv"), encoding: .utf8).split(separator: "\n").map(String.init)
        let header = lines[0], body = Array(lines.dropFirst().filter { !$0.isEmpty })
        func key(_ line: String) -> (String, String) { let f = line.split(separator: ","); return (String(f[0]), String(f[1])) }
        let byScene = body.sorted { (key($0).1, key($0).0) < (key($1).1, key($1).0) }
        XCTAssertNotEqual(byScene, body)
        let (p, r) = key(body[100])
        let repeats = ["\(p),\(r),\"{\"\"4\"\": 7, \"\"9\"\": 3}\"", body[200]]
        func load(_ rows: [String], budget: Int? = nil) throws -> (Lake, IngestSummary) {
            let lake = try demoLake()
            var o = SignatureIngestOptions()
            if let budget { o.sortMemoryBudget = budget }
            return (lake, try SignatureIngest(lake: lake).run(path: try write(([header] + rows + repeats).joined(separator: "\n") + "\n", "hists.csv"), options: o))
        }
        let (parcels, a) = try load(body)
        // In parcel order the histograms are written as they come; the two repeats after the
        // last parcel are out of order: one chunk of two.
        XCTAssertEqual(HistogramChunks.lastChunks, 1)
        // Out of order, in a lake of 20 parcels: sorted and written in one chunk at the end
        // (a quarter of 128 MiB holds all 722 rows), in chunks of 400 rows (20 scenes of each
        // parcel) written on another thread while the file is read, and with 64-row chunks
        // (3 scenes of each: too few) through the external sort's run files.
        let (scenes, b) = try load(byScene)
        XCTAssertEqual(HistogramChunks.lastChunks, 1)
        let (chunked, e) = try load(byScene, budget: 400 * 4 * 64)
        XCTAssertEqual(HistogramChunks.lastChunks, 2)
        let (small, c) = try load(byScene, budget: 1 << 14)
        XCTAssertEqual(HistogramChunks.lastChunks, 0)
        // A file that breaks after chunks were written: the writing thread is stopped before
        // the load's transaction rolls back, and nothing of the file stays.
        let broken = try demoLake()
        var o = SignatureIngestOptions(); o.sortMemoryBudget = 400 * 4 * 64
        let path = try write(([header] + byScene).joined(separator: "\n") + "\nP000001,\"unterminated\n", "broken.csv")
        XCTAssertThrowsError(try SignatureIngest(lake: broken).run(path: path, options: o)) { XCTAssertTrue("\($0)".contains("line \(byScene.count + 2)"), "\($0)") }
        XCTAssertEqual(try broken.db.scalar("SELECT count(*) FROM scl_hist")?.int, 0)
        // Parcel by parcel, each parcel's scenes last to first.
        let reversed = body.sorted { (key($0).0, key($1).1) < (key($1).0, key($0).1) }
        let (backwards, d) = try load(reversed)
        for s in [a, b, c, d, e] { XCTAssertEqual([s.read, s.inserted, s.updated, s.skipped], [body.count + 2, body.count, 1, 1]) }
        let sql = ["SELECT group_concat(pid || ':' || obsid || ':' || c0 || c3 || c4 || c5 || c8 || c9 || c10, ',') FROM (SELECT * FROM scl_hist ORDER BY pid, obsid)",
                   "SELECT group_concat(pid || ':' || hex(data), ',') FROM (SELECT * FROM scl_summary ORDER BY pid)"]
        for q in sql {
            let expected = try parcels.db.scalar(q)?.text
            XCTAssertNotNil(expected)
            XCTAssertEqual(try scenes.db.scalar(q)?.text, expected)
            XCTAssertEqual(try small.db.scalar(q)?.text, expected)
            XCTAssertEqual(try backwards.db.scalar(q)?.text, expected)
            XCTAssertEqual(try chunked.db.scalar(q)?.text, expected)
        }
        let changed = "SELECT c4 || ',' || c9 FROM scl_hist WHERE pid = (SELECT pid FROM parcels WHERE parcel_id = ?) AND obsid = (SELECT obsid FROM catalogue WHERE reference = ?)"
        for lake in [parcels, scenes, small, backwards, chunked] { XCTAssertEqual(try lake.db.scalar(changed, .text(p), .text(r))?.text, "7,3") }
        XCTAssertEqual(try small.db.scalar("SELECT count(*) FROM scl_dirty")?.int, 0)
        let folder = URL(fileURLWithPath: small.path).deletingLastPathComponent().path
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(".lake-sort") }, [])
        // The bytes a sorted histogram is kept as: twelve varints, back as they were.
        var bytes: [UInt8] = []
        let counts = [0, 1, 127, 128, 16_383, 16_384, 1 << 40, 0, 5, 0, 0, 999_999_999_999]
        SCLHistogramBytes.append(counts, to: &bytes)
        XCTAssertEqual(bytes.withUnsafeBytes { SCLHistogramBytes.decode($0) }, counts)
        XCTAssertNil(bytes.dropLast().withUnsafeBytes { SCLHistogramBytes.decode($0) })
        XCTAssertNil((bytes + [0]).withUnsafeBytes { SCLHistogramBytes.decode($0) })
        // And as a chunk holds them: 32-bit counts, a histogram with a larger one kept whole.
        var chunk = HistogramChunks.Chunk()
        let usual = [0, 0, 0, 3, 120, 7, 0, 0, 2, 1, 0, 0]
        chunk.append(pid: 1, obsid: 2, histogram: usual)
        chunk.append(pid: 1, obsid: 3, histogram: counts)
        XCTAssertEqual([chunk.histogram(0), chunk.histogram(1)], [usual, counts])
        XCTAssertEqual(chunk.whole.count, 1)
    }

    func testAFailureOnEitherSideOfThePipelineStopsBoth() {
        struct Stop: Error {}
        var consumed = 0
        XCTAssertThrowsError(try pipelined(batchSize: 10, depth: 2, produce: { emit in
            for i in 0..<1_000_000 { try emit(i) }
        }, consume: { (i: Int) in consumed += 1; if i == 55 { throw Stop() } })) { XCTAssertTrue($0 is Stop) }
        XCTAssertEqual(consumed, 56)
        var seen: [Int] = []
        XCTAssertThrowsError(try pipelined(batchSize: 7, produce: { emit in
            for i in 0..<30 { try emit(i) }
            throw LakeError.input(file: "f", location: "line 31", reason: "bad")
        }, consume: { (i: Int) in seen.append(i) })) { XCTAssertTrue("\($0)".contains("line 31")) }
        XCTAssertEqual(seen, Array(0..<28))   // whole batches that were handed over, in order
        var all: [Int] = []
        XCTAssertNoThrow(try pipelined(batchSize: 3, produce: { emit in for i in 0..<100 { try emit(i) } }, consume: { (i: Int) in all.append(i) }))
        XCTAssertEqual(all, Array(0..<100))
    }

    func testUnknownParcelsAndScenesAreRejectedByLine() throws {
        let lake = try demoLake()
        let reference = try XCTUnwrap(lake.db.scalar("SELECT reference FROM catalogue ORDER BY obsid LIMIT 1")?.text)
        let csv = """
            pid,reference,band,count,mean,std,min,max,p25,p50,p75
            P000001,\(reference),B4,10,1500.5,20,1400,1600,1490,1500,1510
            NOPE,\(reference),B4,10,1,1,1,1,1,1,1
            P000001,S2A_MSIL2A_20240301T103021_N0510_R065_T32TMT_20240301T999999,B8,10,1,1,1,1,1,1,1
            P000001,\(reference),B8,10,abc,1,1,1,1,1,1
            """
        let summary = try SignatureIngest(lake: lake).run(path: try write(csv, "sig.csv"), options: .init())
        XCTAssertEqual(summary.inserted, 1)
        XCTAssertEqual(summary.rejected.map(\.location), ["line 3", "line 4", "line 5"])
        XCTAssertTrue(summary.rejected[0].reason.contains("unknown parcel NOPE"))
        XCTAssertTrue(summary.rejected[1].reason.contains("unknown scene"))
        XCTAssertTrue(summary.rejected[2].reason.contains("mean is not a number"))
        let series = try SignatureStore(db: lake.db).series(pid: try ParcelLookup.byID(lake, id: "P000001").pid)
        XCTAssertEqual(series.map(\.bandID), [4])   // B4 normalised to B04 (id 4)
    }

    /// One parcel list loaded for two years (the same ids in both): each signature row goes to
    /// the declaration of its scene's year, a row of a third year is rejected naming the years,
    /// and an id in two AOIs stays ambiguous (its rows need --aoi). Before, every row of such a
    /// lake was rejected.
    func testRowsOfAParcelDeclaredInSeveralYearsGoToTheirScenesYear() throws {
        let lake = try temporaryLake(self)
        for (aoi, year) in [("demo", 2024), ("demo", 2025), ("other", 2024)] {
            var o = ParcelIngestOptions(); o.aoi = aoi; o.year = year
            _ = try ParcelIngest(lake: lake).run(path: Paths.fixture("parcels.geojson"), options: o)
        }
        // P000001 and P000002 of "other" are removed: only demo's two years remain for them.
        try lake.db.execute("DELETE FROM parcels WHERE aoi = 'other' AND parcel_id IN ('P000001', 'P000002')")
        func scene(_ date: String) -> String { "S2A_MSIL2A_\(date)T103021_N0510_R065_T32TMT_\(date)T120000" }
        let csv = """
            parcel_id,reference,band,count,mean,std,min,max,p25,p50,p75
            P000001,\(scene("20240601")),B04,10,1500,20,1400,1600,1490,1500,1510
            P000001,\(scene("20250601")),B04,10,2500,20,2400,2600,2490,2500,2510
            P000002,\(scene("20250601")),B04,10,3500,20,3400,3600,3490,3500,3510
            P000001,\(scene("20230601")),B04,10,900,20,800,1000,890,900,910
            P000003,\(scene("20240601")),B04,10,1,1,1,1,1,1,1
            """
        var options = SignatureIngestOptions(); options.createScenes = true
        let summary = try SignatureIngest(lake: lake).run(path: try write(csv, "years.csv"), options: options)
        XCTAssertEqual(summary.inserted, 3)
        XCTAssertEqual(summary.rejected.map(\.location), ["line 5", "line 6"])
        XCTAssertTrue(summary.rejected[0].reason.contains("declared for 2024, 2025, not for the year of this row's scene (2023)"), summary.rejected[0].reason)
        XCTAssertTrue(summary.rejected[1].reason.contains("more than one declaration set"), summary.rejected[1].reason)
        func means(_ id: String, _ year: Int) throws -> [Double] {
            let pid = try XCTUnwrap(lake.db.scalar("SELECT pid FROM parcels WHERE parcel_id = ? AND aoi = 'demo' AND year = ?", .text(id), .int(Int64(year)))?.int)
            return try SignatureStore(db: lake.db).series(pid: pid).map { Double($0.stats.mean) }
        }
        XCTAssertEqual(try means("P000001", 2024), [1500])
        XCTAssertEqual(try means("P000001", 2025), [2500])
        XCTAssertEqual(try means("P000002", 2024), [])
        XCTAssertEqual(try means("P000002", 2025), [3500])
    }

    /// A table of parcel means by date with a column per band, as most tools write one
    /// (`B04_mean`, `mean_B08`, `NDVI`, a `field_id`), missing values written NA: each value is a
    /// band mean of the scene of that date; a header with neither statistics nor band columns
    /// is still refused.
    func testATableOfBandMeansByDateLoads() throws {
        let lake = try demoLake()
        let date = try XCTUnwrap(lake.db.scalar("SELECT substr(obstime, 1, 10) FROM catalogue ORDER BY obsid LIMIT 1")?.text)
        let csv = """
            field_id,date,B04_mean,mean_B08,NDVI,cloud
            P000001,\(date),1512.5,4100,0.71,0
            P000002,\(date),NA,2900,NA,1
            """
        let summary = try SignatureIngest(lake: lake).run(path: try write(csv, "table.csv"), options: .init())
        XCTAssertEqual(summary.rejected.count, 0, "\(summary.rejected)")
        XCTAssertEqual(summary.inserted, 4 + 2, "four band values and two SCL histograms from the cloud column")
        let one = try ParcelSeries.read(lake, pid: try ParcelLookup.byID(lake, id: "P000001").pid, filter: SeriesFilter())
        let bands = Dictionary(uniqueKeysWithValues: try XCTUnwrap(one.first).bands.map { ($0.band, $0.stats.mean) })
        // Shown harmonised: the scene's radiometric offset added to the stored digital numbers.
        let offset = try XCTUnwrap(lake.db.scalar("SELECT radiometric_offset FROM catalogue ORDER BY obsid LIMIT 1")?.double)
        XCTAssertEqual(Double(try XCTUnwrap(bands["B04"])), 1512.5 + offset, accuracy: 1e-3)
        XCTAssertEqual(Double(try XCTUnwrap(bands["B08"])), 4100 + offset, accuracy: 1e-3)
        XCTAssertEqual(try XCTUnwrap(bands["NDVI"]), 0.71, accuracy: 1e-6)
        let two = try ParcelSeries.read(lake, pid: try ParcelLookup.byID(lake, id: "P000002").pid, filter: SeriesFilter())
        XCTAssertEqual(try XCTUnwrap(two.first).bands.map(\.band), ["B08"])
        XCTAssertThrowsError(try SignatureIngest(lake: lake).run(path: try write("field_id,date,cloud\nP000001,\(date),0\n", "none.csv"), options: .init())) {
            XCTAssertTrue("\($0)".contains("no band columns"), "\($0)")
        }
    }

    /// A table by date with several statistics per band, as Earth Engine's combined reducers
    /// name them (`B4_mean`, `B4_stdDev`, `B4_count`, `B2_median`): each band's row carries them
    /// (what heterogeneity and the edge screening read), unknown ones stay unknown, a band given
    /// by its median alone stands in by it, and a bad statistic rejects the row naming it.
    func testAWideTableWithStatisticsPerBand() throws {
        let lake = try demoLake()
        let date = try XCTUnwrap(lake.db.scalar("SELECT substr(obstime, 1, 10) FROM catalogue ORDER BY obsid LIMIT 1")?.text)
        let summary = try SignatureIngest(lake: lake).run(path: try write("""
            field_id,date,B4_mean,B4_stdDev,B4_count,B8_mean,B8_stdDev,B8_count,B2_median,B2_p25
            P000001,\(date),1500,40,50,4100,120,50,1300,1250
            P000002,\(date),1500,x,50,4100,120,50,1300,1250
            P000003,\(date),1500,-3,50,4100,120,NA,,
            """, "reducers.csv"), options: .init())
        XCTAssertEqual(summary.rejected.map(\.reason), ["B04 std is not a number: x", "B04: std is negative: -3.0"])
        XCTAssertEqual(summary.inserted, 3 + 2 + 1)
        let pid = try ParcelLookup.byID(lake, id: "P000001").pid
        let rows = try SignatureStore(db: lake.db).series(pid: pid)
        func stats(_ band: String) throws -> SignatureStats {
            let id = UInt8(try XCTUnwrap(lake.db.scalar("SELECT band_id FROM bands WHERE name = ?", .text(band))?.int))
            return try XCTUnwrap(rows.first { $0.bandID == id }).stats
        }
        XCTAssertEqual([try stats("B04").count, try stats("B04").mean, try stats("B04").std], [50, 1500, 40])
        XCTAssertTrue(try stats("B04").p50.isNaN, "not in the table: unknown")
        XCTAssertEqual([try stats("B02").mean, try stats("B02").p50, try stats("B02").p25], [1300, 1300, 1250])
        XCTAssertTrue(try stats("B02").std.isNaN)
        let three = try SignatureStore(db: lake.db).series(pid: try ParcelLookup.byID(lake, id: "P000003").pid)
        XCTAssertEqual(three.count, 1, "B08 alone: B04 was rejected, B02 blank")
        XCTAssertTrue(try XCTUnwrap(three.first).stats.count.isNaN)
    }

    /// Exports write every date of a parcel, also those whose pixels were all masked: a count of
    /// 0 (or none) and no statistic is no observation — skipped, not an error; a count of pixels
    /// without a mean still is one.
    func testRowsWithoutPixelsAreNoObservation() throws {
        let lake = try demoLake()
        let reference = try XCTUnwrap(lake.db.scalar("SELECT reference FROM catalogue ORDER BY obsid LIMIT 1")?.text)
        let summary = try SignatureIngest(lake: lake).run(path: try write("""
            parcel_id,reference,band,count,mean,std,min,max,p25,p50,p75
            P000001,\(reference),B04,0,,,,,,,
            P000001,\(reference),B08,,,,,,,,
            P000001,\(reference),B02,120,1400,20,1300,1500,1390,1400,1410
            P000001,\(reference),B03,12,,,,,,,
            """, "masked.csv"), options: .init())
        XCTAssertEqual(summary.skipped, 2)
        XCTAssertEqual(summary.inserted, 1)
        XCTAssertEqual(summary.rejected.map(\.reason), ["mean is missing (or NaN)"])
    }

    /// Numeric parcel identifiers as tables rewrite them — 124.0 (an integer column with a gap,
    /// through pandas) or 0124 (zero-padded) — find their parcel by value, with a note; where
    /// two parcels share a value (0123 and 123) the row is rejected as before.
    func testNumericParcelIdentifiersMatchByValue() throws {
        let lake = try temporaryLake(self, srid: 32632)
        func square(_ id: String, _ dx: Double) -> String {
            "{\"type\": \"Feature\", \"properties\": {\"fid\": \(id)}, \"geometry\": {\"type\": \"Polygon\", \"coordinates\": [[[\(500000 + dx), 5200000], [\(500100 + dx), 5200000], [\(500100 + dx), 5200100], [\(500000 + dx), 5200100], [\(500000 + dx), 5200000]]]}}"
        }
        let geojson = "{\"type\": \"FeatureCollection\", \"crs\": {\"type\": \"name\", \"properties\": {\"name\": \"urn:ogc:def:crs:EPSG::32632\"}}, \"features\": [\(square("124", 0)), \(square("\"0123\"", 200)), \(square("123", 400)), \(square("\"0007\"", 600))]}"
        var o = ParcelIngestOptions(); o.aoi = "t"; o.year = 2024
        _ = try ParcelIngest(lake: lake).run(path: try write(geojson, "numeric.geojson"), options: o)
        var so = SignatureIngestOptions(); so.createScenes = true
        let summary = try SignatureIngest(lake: lake).run(path: try write("""
            field_id,date,ndvi
            124,2024-05-01,0.5
            124.0,2024-05-06,0.6
            0124,2024-05-11,0.7
            7,2024-05-01,0.4
            7.00,2024-05-06,0.4
            123.0,2024-05-01,0.3
            12.5,2024-05-01,0.3
            """, "numeric.csv"), options: so)
        XCTAssertEqual(summary.inserted, 5)
        XCTAssertEqual(summary.rejected.map(\.reason), ["unknown parcel 123.0", "unknown parcel 12.5"])
        XCTAssertTrue(summary.notes.contains { $0.hasPrefix("4 rows named their parcel by the same number") }, "\(summary.notes)")
        XCTAssertEqual(try lake.db.scalar("SELECT count(*) FROM signatures_packed s JOIN parcels p USING (pid) WHERE p.parcel_id = '124' AND s.nrows = 3")?.int, 1)
        XCTAssertEqual(Resolver.number("0007"), "7")
        XCTAssertEqual(Resolver.number("0"), "0")
        XCTAssertNil(Resolver.number("P7"))
        XCTAssertNil(Resolver.number("7.5"))
    }

    /// Tables without SCL histograms often say how cloudy the parcel was: a flag, a fraction, a
    /// percentage, or how clear it was. Each becomes the observation's histogram (that share of
    /// 100 pixels in class 9, the rest in class 4), so the option file's cloud rule applies; a
    /// scene's cloud cover is not read, and a value that is none of these is rejected.
    func testACloudColumnBecomesTheObservationsSCLHistogram() throws {
        let lake = try demoLake()
        let scenes = try lake.db.prepare("SELECT substr(obstime, 1, 10) FROM catalogue WHERE card = 's2' ORDER BY obstime LIMIT 3")
        var dates: [String] = []
        while try scenes.step() { dates.append(scenes.text(0) ?? "") }
        func hist(_ id: String, _ date: String) throws -> [Int64] {
            let s = try lake.db.prepare("""
                SELECT h.c4, h.c9, h.c0 + h.c1 + h.c2 + h.c3 + h.c5 + h.c6 + h.c7 + h.c8 + h.c10 + h.c11
                FROM scl_hist h JOIN catalogue c USING (obsid) JOIN parcels p USING (pid)
                WHERE p.parcel_id = ? AND substr(c.obstime, 1, 10) = ?
                """)
            try s.bind([.text(id), .text(date)])
            guard try s.step() else { return [] }
            XCTAssertEqual(s.int(2), 0, "only classes 4 and 9")
            return [s.int(0), s.int(1)]
        }
        for (header, values, expected) in [("cloud", ["0", "1", "true"], [[100, 0], [0, 100], [0, 100]]),
                                           ("cloud_fraction", ["0.25", "0", "1"], [[75, 25], [100, 0], [0, 100]]),
                                           ("cloud_pct", ["40", "0.5", "100"], [[60, 40], [99, 1], [0, 100]]),
                                           ("clear", ["1", "0.8", "no"], [[100, 0], [80, 20], [0, 100]])] {
            var csv = "field_id,date,ndvi,\(header),cloud_cover\n"
            for (date, v) in zip(dates, values) { csv += "P000003,\(date),0.7,\(v),55\n" }
            let summary = try SignatureIngest(lake: lake).run(path: try write(csv, "\(header).csv"), options: .init())
            XCTAssertEqual(summary.rejected.count, 0, "\(header): \(summary.rejected)")
            for (date, e) in zip(dates, expected) { XCTAssertEqual(try hist("P000003", date), e.map(Int64.init), "\(header) \(date)") }
        }
        let bad = try SignatureIngest(lake: lake).run(path: try write("field_id,date,ndvi,cloud\nP000003,\(dates[0]),0.7,maybe\n", "bad.csv"), options: .init())
        XCTAssertEqual(bad.rejected.count, 1)
        XCTAssertTrue(bad.rejected.first?.reason.contains("cloud column") ?? false, "\(bad.rejected)")
        // A scene's cloud cover alone is no parcel's cloud: no histogram.
        _ = try SignatureIngest(lake: lake).run(path: try write("field_id,date,ndvi,cloud_cover\nP000004,\(dates[0]),0.7,90\n", "scene.csv"), options: .init())
        XCTAssertEqual(try hist("P000004", dates[0]), [])
    }

    /// A parcel on the edge of two tiles is exported once per tile: the same parcel, date and
    /// band twice with different statistics. Rows keyed by date name no product, so that is one
    /// acquisition seen twice: the row with more pixels is kept whichever comes first, in every
    /// merge path (a parcel's rows together, rows scattered over the file, rows meeting a series
    /// already in the lake), and the load says so. Rows naming a product still refuse two
    /// different rows for one key.
    func testOverlappingTilesOfOneDateKeepTheRowWithMorePixels() throws {
        let lake = try demoLake()
        let scenes = try lake.db.prepare("SELECT obsid, reference, substr(obstime, 1, 10) FROM catalogue WHERE card = 's2' ORDER BY obstime LIMIT 2")
        var found: [(obsid: Int64, reference: String, date: String)] = []
        while try scenes.step() { found.append((scenes.int(0), scenes.text(1) ?? "", scenes.text(2) ?? "")) }
        let (d1, d2) = (found[0].date, found[1].date)
        XCTAssertNotEqual(d1, d2)
        let b04 = UInt8(try XCTUnwrap(lake.db.scalar("SELECT band_id FROM bands WHERE name = 'B04'")?.int))
        func mean(_ id: String, _ obsid: Int64) throws -> Float? {
            let pid = try ParcelLookup.byID(lake, id: id).pid
            return try SignatureStore(db: lake.db).series(pid: pid).first { $0.obsid == obsid && $0.bandID == b04 }?.stats.mean
        }
        // P000001's rows together (the smaller first on d1, second on d2); P000002's scattered.
        let first = try SignatureIngest(lake: lake).run(path: try write("""
            field_id,date,band,count,mean
            P000001,\(d1),B04,50,1000
            P000001,\(d1),B04,80,1100
            P000001,\(d2),B04,80,1200
            P000001,\(d2),B04,20,1300
            P000002,\(d1),B04,10,900
            P000003,\(d1),B04,60,700
            P000002,\(d1),B04,90,950
            """, "tiles.csv"), options: .init())
        XCTAssertEqual(first.rejected.count, 0, "\(first.rejected)")
        XCTAssertEqual(first.inserted, 4)
        XCTAssertTrue(first.notes.contains { $0.hasPrefix("3 (parcel, date, band) rows came twice") }, "\(first.notes)")
        XCTAssertEqual(try mean("P000001", found[0].obsid), 1100)
        XCTAssertEqual(try mean("P000001", found[1].obsid), 1200)
        XCTAssertEqual(try mean("P000002", found[0].obsid), 950)
        // A later load replaces what the lake holds; within it, the larger of two rows wins.
        let second = try SignatureIngest(lake: lake).run(path: try write("""
            field_id,date,band,count,mean
            P000001,\(d1),B04,30,500
            P000001,\(d2),B04,40,600
            P000001,\(d2),B04,70,700
            """, "again.csv"), options: .init())
        XCTAssertEqual(second.updated, 2)
        XCTAssertEqual(try mean("P000001", found[0].obsid), 500)
        XCTAssertEqual(try mean("P000001", found[1].obsid), 700)
        // The same repeat naming its product is a contradiction: nothing of that file is kept.
        XCTAssertThrowsError(try SignatureIngest(lake: lake).run(path: try write("""
            parcel_id,reference,band,count,mean
            P000004,\(found[0].reference),B04,50,1000
            P000004,\(found[0].reference),B04,80,1100
            """, "products.csv"), options: .init())) { XCTAssertTrue("\($0)".contains("given more than once"), "\($0)") }
        XCTAssertNil(try mean("P000004", found[0].obsid))
    }

    /// Dates as tables write them: 2024/06/16, 15.06.2024 (day first), 17/06/2024 and
    /// 06/18/2024 (the number above 12 says which is the day); 03/04/2024 says nothing and is
    /// rejected naming the date. Colour names are bands (red → B04, nir → B08).
    func testDatesAndColourNamesOfExportedTables() throws {
        let lake = try demoLake()
        let csv = """
            id,date,red,nir
            P000001,2024/06/16,500,3000
            P000001,15.06.2024,510,3010
            P000001,17/06/2024,520,3020
            P000001,06/18/2024,530,3030
            P000001,03/04/2024,540,3040
            """
        var options = SignatureIngestOptions(); options.createScenes = true
        let summary = try SignatureIngest(lake: lake).run(path: try write(csv, "dates.csv"), options: options)
        XCTAssertEqual(summary.inserted, 8)
        XCTAssertEqual(summary.rejected.map(\.location), ["line 6"])
        XCTAssertTrue(summary.rejected[0].reason.contains("date 03/04/2024 not understood"), summary.rejected[0].reason)
        let series = try ParcelSeries.read(lake, pid: try ParcelLookup.byID(lake, id: "P000001").pid, filter: { var f = SeriesFilter(); f.harmonise = false; return f }())
            .filter { $0.obstime.hasPrefix("2024-06-1") }
        XCTAssertEqual(series.map { String($0.obstime.prefix(10)) }, ["2024-06-15", "2024-06-16", "2024-06-17", "2024-06-18"])
        XCTAssertEqual(series.map { $0.bands.map(\.band) }, Array(repeating: ["B04", "B08"], count: 4))
        XCTAssertEqual(series.map { $0.bands[0].stats.mean }, [510, 500, 520, 530])
        // Whole colour names only: a red-edge band is not red.
        XCTAssertEqual(Bands.normalise("nir"), "B08")
        XCTAssertNotEqual(Bands.normalise("RED_EDGE_1"), "B04")
    }

    /// The long form under the names other tools give its columns (plot_id, acquisition_date,
    /// band_name, avg, stdev, pixels, median): read as the JRC names.
    func testOtherNamesOfTheSignatureColumns() throws {
        let lake = try demoLake()
        let csv = """
            plot_id,acquisition_date,band_name,pixels,avg,stdev,median
            P000003,2024-06-20,nir,40,4100,120,4090
            """
        var options = SignatureIngestOptions(); options.createScenes = true
        let summary = try SignatureIngest(lake: lake).run(path: try write(csv, "other.csv"), options: options)
        XCTAssertEqual(summary.rejected.count, 0, "\(summary.rejected)")
        let series = try ParcelSeries.read(lake, pid: try ParcelLookup.byID(lake, id: "P000003").pid, filter: { var f = SeriesFilter(); f.harmonise = false; return f }())
        let row = try XCTUnwrap(series.first { $0.obstime.hasPrefix("2024-06-20") }?.bands.first)
        XCTAssertEqual(row.band, "B08")
        XCTAssertEqual(row.stats.count, 40); XCTAssertEqual(row.stats.mean, 4100); XCTAssertEqual(row.stats.std, 120); XCTAssertEqual(row.stats.p50, 4090)
    }

    /// JRC Sentinel-1 band names by date: VVc/VHc go to the coherence scene (card c6) and VVb to
    /// the backscatter scene of that day, never to the Sentinel-2 scene of the same date; the
    /// bands are stored as VV and VH.
    func testSentinel1BandNamesFindTheirSceneByDate() throws {
        let lake = try demoLake()
        let s2 = try XCTUnwrap(lake.db.scalar("SELECT substr(obstime, 1, 10) FROM catalogue ORDER BY obsid LIMIT 1")?.text)
        let compact = s2.replacingOccurrences(of: "-", with: "")
        let catalogue = """
            reference,obstime,card
            S1A_IW_SLC__1SDV_\(compact)T172520_\(compact)T172547_051007_0572B9_4E3D,\(s2)T17:25:20Z,c6
            S1A_IW_GRDH_1SDV_\(compact)T172520_\(compact)T172547_051007_0572B9_1A2B,\(s2)T17:25:20Z,bs
            """
        _ = try CatalogueIngest(lake: lake).run(path: try write(catalogue, "s1.csv"), options: .init())
        XCTAssertEqual(try lake.db.scalar("SELECT group_concat(card, ',') FROM (SELECT card FROM catalogue WHERE sensor LIKE '1%' ORDER BY card)")?.text, "bs,c6")
        let csv = """
            parcel_id,date,band,count,mean,std,min,max,p25,p50,p75
            P000001,\(s2),VVc,20,0.41,0.1,0.1,0.8,0.35,0.41,0.47
            P000001,\(s2),VHc,20,0.33,0.1,0.1,0.7,0.27,0.33,0.39
            P000001,\(s2),VVb,20,-9.5,1,-12,-7,-10,-9.5,-9
            """
        let summary = try SignatureIngest(lake: lake).run(path: try write(csv, "s1sig.csv"), options: .init())
        XCTAssertEqual(summary.rejected.count, 0, "\(summary.rejected)")
        let series = try ParcelSeries.read(lake, pid: try ParcelLookup.byID(lake, id: "P000001").pid, filter: SeriesFilter())
        let coherence = try XCTUnwrap(series.first { $0.reference.contains("_SLC_") })
        XCTAssertEqual(coherence.bands.map(\.band).sorted(), ["VH", "VV"])
        XCTAssertEqual(try XCTUnwrap(coherence.bands.first { $0.band == "VV" }?.stats.mean), 0.41, accuracy: 1e-6)
        let backscatter = try XCTUnwrap(series.first { $0.reference.contains("_GRDH_") })
        XCTAssertEqual(backscatter.bands.map(\.band), ["VV"])
        XCTAssertEqual(series.filter { $0.reference.hasPrefix("S2") }.count, 0)
        XCTAssertEqual(Bands.normalise("VVc"), "VV")
        XCTAssertEqual(Bands.radarProduct("vhb"), "bs")
        XCTAssertNil(Bands.radarProduct("VV"))
    }

    /// Garbage at the signature door: each bad row rejected with its line and what is wrong,
    /// good rows kept; a key given twice with different statistics rejects the whole file and
    /// leaves the lake as it was.
    func testImpossibleStatisticsAndHistogramsAreRejectedByLine() throws {
        let lake = try demoLake()
        let ref = try XCTUnwrap(lake.db.scalar("SELECT reference FROM catalogue ORDER BY obsid LIMIT 1")?.text)
        let rows: [(String, String?)] = [
            ("B04,10,1500,20,1400,1600,1490,1500,1510", nil),
            ("B05,10,1500,20,1400", "fields where the header has 11"),
            ("B06,10,,20,1400,1600,1490,1500,1510", "mean is missing"),
            ("B07,10,NaN,20,1400,1600,1490,1500,1510", "mean is missing"),
            ("B08,10,inf,20,1400,1600,1490,1500,1510", "not a finite number"),
            ("B09,10,1e400,20,1400,1600,1490,1500,1510", "not a finite number"),
            ("B8A,-5,1500,20,1400,1600,1490,1500,1510", "count is not a whole number"),
            ("B11,1.5,1500,20,1400,1600,1490,1500,1510", "count is not a whole number"),
            ("B12,10,1500,-20,1400,1600,1490,1500,1510", "std is negative"),
            ("B01,10,1500,20,1600,1400,1490,1500,1510", "min 1600.0 is above p25"),
            ("B02,10,1700,20,1400,1600,1490,1500,1510", "mean 1700.0 is above max"),
            ("B03,10,1500,20,1400,1600,1495,1490,1510", "p25 1495.0 is above p50"),
        ]
        let csv = "parcel_id,reference,band,count,mean,std,min,max,p25,p50,p75\n" + rows.map { "P000001,\(ref),\($0.0)" }.joined(separator: "\n")
        let summary = try SignatureIngest(lake: lake).run(path: try write(csv, "bad.csv"), options: .init())
        XCTAssertEqual(summary.inserted, 1)
        XCTAssertEqual(summary.rejected.count, rows.count - 1)
        for (i, (_, reason)) in rows.enumerated() where reason != nil {
            let r = summary.rejected.first { $0.location == "line \(i + 2)" }
            XCTAssertTrue(r?.reason.contains(reason!) == true, "line \(i + 2): \(r?.reason ?? "accepted")")
        }
        let hist = """
            parcel_id,reference,hist
            P000001,\(ref),"{""4"": 20}"
            P000001,\(ref),"{""3"": 5"
            P000001,\(ref),"{""99"": 5}"
            P000001,\(ref),"{""3"": ""x""}"
            P000001,\(ref),"{""3"": -5}"
            """
        let h = try SignatureIngest(lake: lake).run(path: try write(hist, "hist.csv"), options: .init())
        XCTAssertEqual(h.rejected.map(\.location), ["line 3", "line 4", "line 5", "line 6"])
        XCTAssertEqual(try lake.db.scalar("SELECT c4 FROM scl_hist WHERE pid = 1")?.int, 20)    // the good one stays
        // The same key twice with different statistics: which is right cannot be told.
        let before = try lake.db.scalar("SELECT count(*) || ':' || sum(length(data)) FROM signatures_packed")?.text
        let twice = "parcel_id,reference,band,count,mean,std,min,max,p25,p50,p75\n"
            + "P000002,\(ref),B04,10,1500,20,1400,1600,1490,1500,1510\nP000002,\(ref),B08,10,2500,20,2400,2600,2490,2500,2510\n"
            + "P000002,\(ref),B04,10,1501,20,1400,1600,1490,1500,1510\n"
        XCTAssertThrowsError(try SignatureIngest(lake: lake).run(path: try write(twice, "twice.csv"), options: .init())) { error in
            XCTAssertEqual((error as? LakeError)?.exitCode, 4)
            XCTAssertTrue("\(error)".contains("P000002") && "\(error)".contains("B04"), "\(error)")
        }
        XCTAssertEqual(try lake.db.scalar("SELECT count(*) || ':' || sum(length(data)) FROM signatures_packed")?.text, before)
        // The same row repeated as it was is no conflict.
        let same = "parcel_id,reference,band,count,mean,std,min,max,p25,p50,p75\n"
            + "P000002,\(ref),B04,10,1500,20,1400,1600,1490,1500,1510\nP000002,\(ref),B08,10,2500,20,2400,2600,2490,2500,2510\n"
            + "P000002,\(ref),B04,10,1500,20,1400,1600,1490,1500,1510\n"
        XCTAssertEqual(try SignatureIngest(lake: lake).run(path: try write(same, "same.csv"), options: .init()).rejected.count, 0)
    }

    /// Catalogue garbage: a truncated Atom feed is an error (exit 4, nothing loaded), not zero
    /// entries; footprints outside lon/lat or not geometries reject their scene.
    func testTruncatedFeedsAndImpossibleFootprintsAreRefused() throws {
        let lake = try temporaryLake(self)
        let atom = """
            <?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry>
            <title>S2A_MSIL2A_20240101T103021_N0510_R065_T32TMT_20240101T123000</title>
            """
        XCTAssertThrowsError(try CatalogueIngest(lake: lake).run(path: try write(atom, "cut.xml"), options: .init())) { error in
            XCTAssertEqual((error as? LakeError)?.exitCode, 4)
            XCTAssertTrue("\(error)".contains("not all elements have been closed"), "\(error)")
        }
        let stac = """
            {"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": "S2A_MSIL2A_20240101T103021_N0510_R065_T32TMT_20240101T123000", "properties": {"datetime": "2024-01-01T10:30:21Z"},
             "geometry": {"type": "Polygon", "coordinates": [[[700, 95], [701, 95], [701, 96], [700, 96], [700, 95]]]}},
            {"type": "Feature", "id": "S2B_MSIL2A_20240106T103021_N0510_R065_T32TMT_20240106T123000", "properties": {"datetime": "2024-01-06T10:30:21Z"},
             "geometry": {"type": "Polygon", "coordinates": "garbage"}},
            {"type": "Feature", "id": "S2A_MSIL2A_20240111T103021_N0510_R065_T32TMT_20240111T123000", "properties": {"datetime": "2024-01-11T10:30:21Z"},
             "geometry": {"type": "Polygon", "coordinates": [[[8, 47], [9, 47], [9, 48], [8, 48], [8, 47]]]}}]}
            """
        // Foundation's XML parser trapped on these (found by make fuzz): invalid UTF-8 in a name,
        // a processing instruction without data. They are errors now.
        var bytes = Array("<?xml version='1.0' encoding='UTF-8'?>\n<feed xmlns:x".utf8) + [0xFF] + Array("si=\"a\"><entry/></feed>".utf8)
        XCTAssertThrowsError(try CatalogueIngest(lake: lake).run(path: try write(String(decoding: bytes, as: UTF8.self), "bad.xml"), options: .init()))
        bytes = Array("<?xml-7.?>\n<feed {\n  \"typ0.,/0es".utf8)
        let pi = scratchFolder.appendingPathComponent("pi-\(UUID().uuidString).xml")
        try Data(bytes).write(to: pi)
        XCTAssertThrowsError(try CatalogueIngest(lake: lake).run(path: pi.path, options: .init())) { XCTAssertEqual(($0 as? LakeError)?.exitCode, 4) }
        let invalid = scratchFolder.appendingPathComponent("utf-\(UUID().uuidString).xml")
        try Data(Array("<?xml version='1.0'?>\n<feed xmlns:x".utf8) + [0xFF] + Array("si=\"a\"><entry/></feed>".utf8)).write(to: invalid)
        XCTAssertThrowsError(try CatalogueIngest(lake: lake).run(path: invalid.path, options: .init())) { error in
            XCTAssertTrue("\(error)".contains("not UTF-8"), "\(error)")
        }
        let summary = try CatalogueIngest(lake: lake).run(path: try write(stac, "stac.json"), options: .init())
        XCTAssertEqual(summary.inserted, 1)
        XCTAssertEqual(summary.rejected.count, 2)
        XCTAssertTrue(summary.rejected[0].reason.contains("outside longitude"), summary.rejected[0].reason)
        XCTAssertTrue(summary.rejected[1].reason.contains("not a GeoJSON or WKT"), summary.rejected[1].reason)
        XCTAssertEqual(try lake.db.scalar("SELECT count(*) FROM catalogue WHERE footprint IS NOT NULL")?.int, 1)
    }

    /// Long work shows a bar with the percentage and the time left when the total is known
    /// (an input file's bytes), a count and a rate otherwise.
    func testProgressShowsPercentAndTimeLeft() {
        let half = Progress.line(label: "signatures a.csv", done: 50 << 20, total: 100 << 20, unit: .bytes, elapsed: 10)
        XCTAssertTrue(half.contains(" 50% "), half)
        XCTAssertTrue(half.contains("50.0 MiB/100.0 MiB"), half)
        XCTAssertTrue(half.contains("0:10 left"), half)
        let long = Progress.line(label: "x", done: 1, total: 10_000, unit: .items, elapsed: 10)
        XCTAssertTrue(long.contains("27h46m left"), long)
        let count = Progress.line(label: "markers", done: 500, total: nil, unit: .items, elapsed: 2)
        XCTAssertTrue(count.hasSuffix("500  250/s"), count)
    }

    /// JRC signature tables name scenes by the dias_catalogue id (obsid): a dias_catalogue CSV
    /// with its `id` column lets them find their scene; an id the catalogue does not have is
    /// rejected naming it.
    func testJRCObsidsReferToTheDiasCatalogueIds() throws {
        let lake = try temporaryLake(self)
        var o = ParcelIngestOptions(); o.aoi = "demo"; o.year = 2024
        _ = try ParcelIngest(lake: lake).run(path: Paths.fixture("parcels.geojson"), options: o)
        let catalogue = """
            id,obstime,reference,sensor,card,status
            1001,2024-05-01 10:30:21,S2A_MSIL2A_20240501T103021_N0510_R065_T32TMT_20240501T123000,2A,s2,ingested
            1002,2024-05-06 10:30:21,S2B_MSIL2A_20240506T103021_N0510_R065_T32TMT_20240506T123000,2B,s2,ingested
            """
        _ = try CatalogueIngest(lake: lake).run(path: try write(catalogue, "dias_catalogue.csv"), options: .init())
        let signatures = """
            pid,obsid,band,count,mean,std,min,max,p25,p50,p75
            P000001,1002,B04,10,1500,20,1400,1600,1490,1500,1510
            P000001,1001,B08,10,3500,20,3400,3600,3490,3500,3510
            P000001,77,B08,10,3500,20,3400,3600,3490,3500,3510
            """
        let summary = try SignatureIngest(lake: lake).run(path: try write(signatures, "sigs.csv"), options: .init())
        XCTAssertEqual(summary.inserted, 2)
        XCTAssertEqual(summary.rejected.map(\.location), ["line 4"])
        XCTAssertTrue(summary.rejected[0].reason.contains("unknown scene obsid 77"), summary.rejected[0].reason)
        let series = try ParcelSeries.read(lake, pid: try ParcelLookup.byID(lake, id: "P000001").pid, filter: SeriesFilter())
        XCTAssertEqual(series.map(\.reference), ["S2A_MSIL2A_20240501T103021_N0510_R065_T32TMT_20240501T123000",
                                                 "S2B_MSIL2A_20240506T103021_N0510_R065_T32TMT_20240506T123000"])
        XCTAssertEqual(series[1].bands.map(\.band), ["B04"])
    }

    func testParcelTimeSeriesJSONWithHistogramsAndEpochDates() throws {
        let lake = try demoLake()
        let row = try lake.db.prepare("SELECT reference, strftime('%s', obstime) FROM catalogue ORDER BY obsid LIMIT 1").rows()[0]
        let epoch = Int(row[1].text!)!
        let json = """
            {"date_part": [\(epoch), \(epoch), \(epoch)], "band": ["B4", "B8", "SC"],
             "count": [100, 100, 25], "mean": [1200.5, 3400.25, null], "std": [10, 20, null], "min": [1100, 3300, null],
             "max": [1300, 3500, null], "p25": [1190, 3390, null], "p50": [1200, 3400, null], "p75": [1210, 3410, null],
             "hist": [null, null, {"4": 24, "9": 1}]}
            """
        var o = SignatureIngestOptions(); o.parcel = "P000002"
        let summary = try SignatureIngest(lake: lake).run(path: try write(json, "ts.json"), options: o)
        XCTAssertEqual(summary.rejected.count, 0, "\(summary.rejected)")
        let p = try ParcelLookup.byID(lake, id: "P000002")
        let series = try ParcelSeries.read(lake, pid: p.pid, filter: SeriesFilter())
        XCTAssertEqual(series.count, 1)
        XCTAssertEqual(series[0].reference, row[0].text)
        XCTAssertEqual(series[0].bands.map(\.band), ["B04", "B08"])
        XCTAssertEqual(series[0].scl?[9], 1)
        XCTAssertEqual(series[0].cloudFree, false)
        XCTAssertEqual(try XCTUnwrap(series[0].ndvi), Double((2400.25 - 200.5) / (2400.25 + 200.5)), accuracy: 1e-6)
    }

    func testRealCatalogueDocumentsIngestWithBaselineOffsets() throws {
        let dir = try Paths.requireRealdata("stac-items")
        let lake = try temporaryLake(self)
        let safe = dir.appendingPathComponent("stactools-sentinel2-safe-metadata")
        for name in try FileManager.default.contentsOfDirectory(atPath: safe.path) where name.hasSuffix(".SAFE") {
            let summary = try CatalogueIngest(lake: lake).run(path: safe.appendingPathComponent(name).path, options: .init())
            XCTAssertEqual(summary.inserted, 1, name)
        }
        let offsets = try lake.db.prepare("SELECT processing_baseline, radiometric_offset FROM catalogue ORDER BY 1").rows()
        XCTAssertEqual(offsets, [[.text("02.12"), .double(0)], [.text("04.00"), .double(-1000)], [.text("05.09"), .double(-1000)]])
        let pc = try CatalogueIngest(lake: lake).run(path: dir.appendingPathComponent("pystac-client-planetary-computer/pc_sentinel-2-l2a_search_2019-01-01.json").path, options: .init())
        XCTAssertEqual([pc.read, pc.inserted + pc.updated + pc.skipped], [33, 33])
        let mixed = try CatalogueIngest(lake: lake).run(path: dir.appendingPathComponent("pystac-client-earthsearch-v1/earthsearch_multiple_collections_search_page0.json").path, options: .init())
        XCTAssertEqual(mixed.rejected.count, 1)
        XCTAssertTrue(mixed.rejected[0].reason.contains("not a Sentinel"))
        XCTAssertEqual(try lake.db.scalar("SELECT count(*) FROM catalogue WHERE footprint IS NULL")?.int, 0)
    }

    /// WorldCereal's long form with one column per band (65535 = no observation): point samples
    /// kept as 10 m circles, composites created as scenes, values as single-pixel signatures.
    func testWorldCerealWideFormWithPointSamples() throws {
        let folder = try Paths.requireRealdata("worldcereal-parcel-timeseries/monthly_flanders_2021")
        let csv = folder.appendingPathComponent("2021_BEL_LPIS-Flanders_POLY_110.csv").path
        let lake = try temporaryLake(self)
        var parcels = ParcelIngestOptions()
        parcels.idField = "sample_id"; parcels.cropCodeField = "ewoc_code"; parcels.pointBuffer = 10; parcels.year = 2021
        let p = try ParcelIngest(lake: lake).run(path: csv, options: parcels)
        XCTAssertEqual(p.inserted, 100); XCTAssertEqual(p.skipped, 1500); XCTAssertTrue(p.rejected.isEmpty)
        XCTAssertEqual(try lake.db.scalar("SELECT avg(area) FROM parcels")?.double ?? 0, 312.1, accuracy: 1)   // a 32-gon of radius 10 m: 312.1 m² (π·10² = 314.2)
        var signatures = SignatureIngestOptions(); signatures.createScenes = true
        let s = try SignatureIngest(lake: lake).run(path: csv, options: signatures)
        // 15,636 band values that are neither blank nor 65535 (counted with Python's csv module).
        XCTAssertEqual(s.inserted, 15_636); XCTAssertTrue(s.rejected.isEmpty)
        XCTAssertEqual(try lake.db.scalar("SELECT count(*) FROM catalogue WHERE card = 's2'")?.int, 16)
        XCTAssertEqual(try lake.db.scalar("SELECT count(*) FROM catalogue WHERE card = 'bs'")?.int, 16)
        let parcel = try ParcelLookup.byID(lake, id: "2021_BE_Flanders_full_1319425423_526")
        XCTAssertEqual(parcel.cropCode, "1101060000")
        let rows = try SignatureStore(db: lake.db).series(pid: parcel.pid)
        let b04 = try XCTUnwrap(BandDictionary(db: lake.db).id("B04"))
        let first = try XCTUnwrap(rows.first { $0.bandID == b04 })
        XCTAssertEqual(first.stats.mean, 733); XCTAssertEqual(first.stats.count, 1)   // 2020-08-01 row of the CSV
    }
}
