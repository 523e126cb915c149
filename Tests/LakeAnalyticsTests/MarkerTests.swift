import Foundation
@testable import LakeAnalytics
import LakeIngest
import LakeQuery
import LakeSQLite
import LakeStore
import LakeTestSupport
import XCTest

final class MarkerTests: XCTestCase {
    static let optionsFolder = Paths.root.appendingPathComponent("options")

    func testShippedOptionFilesParse() throws {
        for name in ["mowing", "harvest", "bare-soil", "crop-phenology"] {
            let (options, text) = try MarkerOptions.load(path: Self.optionsFolder.appendingPathComponent("\(name).yaml").path)
            XCTAssertFalse(text.isEmpty)
            XCTAssertNotNil(options.decision, name)
        }
    }

    func testBadOptionFilesNameTheProblem() throws {
        func load(_ yaml: String) -> String {
            let path = try! write(yaml, "o.yaml")
            do { _ = try MarkerOptions.load(path: path); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(load("signal: ndvi\n").contains("missing name"))
        XCTAssertTrue(load("name: x\ndetectors:\n  - {name: a, type: wobble}\n").contains("unknown type wobble"))
        XCTAssertTrue(load("name: x\ndetectors:\n  - {name: a, type: drop}\n").contains("needs min_drop"))
        XCTAssertTrue(load("name: x\ndetectors:\n  - {name: a, type: drop, min_drop: 0.1}\ndecision: {scheme: s, green: {detector: b}}\n").contains("no detector b"))
        XCTAssertTrue(load("name: x\nphenology:\n  rules:\n    - {crop: c, conditions: [\"ndvi_may < ndvi_juni\"]}\n").contains("unknown feature ndvi_juni"))
        XCTAssertTrue(load("name: x\nphenology:\n  rules:\n    - {crop: c, conditions: [\"ndvi_may < (ndvi_jun\"]}\n").contains("missing )"))
        XCTAssertTrue(load("name: [").contains("YAML") || load("name: [").contains("o.yaml"))
    }

    func testExpressions() throws {
        let f = ["ndvi_jul": 0.8, "ndvi_aug": 0.75, "ndvi_sep": 0.6, "b11_may": 900, "b08_may": 1000]
        XCTAssertEqual(try Expression("(ndvi_jul + ndvi_aug + ndvi_sep) / 3 > 0.7").evaluate(f), 1)
        XCTAssertEqual(try Expression("b11_may / b08_may > 0.8").evaluate(f), 1)
        XCTAssertEqual(try Expression("ndvi_sep >= ndvi_jul").evaluate(f), 0)
        XCTAssertEqual(try Expression("-ndvi_jul * 2 + 1").evaluate(f)!, -0.6, accuracy: 1e-12)
        XCTAssertNil(try Expression("ndvi_may < ndvi_jun").evaluate(f))   // no May, no June
        XCTAssertThrowsError(try Expression("ndvi_may <"))
    }

    func testMonthlyCompositesInterpolateOneMonthGaps() {
        // March and May known, April missing: filled; July alone with August–October missing: not filled past one month.
        let obs: [(day: Int, values: [Double?])] = [
            (Days.number("2024-03-10")!, [0.2, 1000, 2000]), (Days.number("2024-05-10")!, [0.4, 3000, 1500]),
            (Days.number("2024-05-20")!, [0.6, 3000, 1500]), (Days.number("2024-07-05")!, [1.3, 4000, 1200]),
            (Days.number("2023-07-05")!, [0.9, 4000, 1200]),
        ]
        let m = MonthlyFeatures.compute(obs, year: 2024, gapMonths: 1)
        XCTAssertEqual(m["ndvi_mar"], 0.2); XCTAssertEqual(m["ndvi_may"], 0.5)
        XCTAssertEqual(m["ndvi_apr"]!, 0.35, accuracy: 1e-12)
        XCTAssertEqual(m["ndvi_jun"]!, 0.9, accuracy: 1e-12)   // between May 0.5 and July 1.3: interpolated, then clipped (as the notebook)
        XCTAssertEqual(m["ndvi_jul"], 1)
        XCTAssertNil(m["ndvi_aug"]); XCTAssertNil(m["ndvi_feb"])
        XCTAssertEqual(m["b11_apr"]!, 1750, accuracy: 1e-9)
    }

    func testButterworthKeepsLevelsAndRemovesNoise() {
        let flat = [Double](repeating: 0.7, count: 100)
        for v in Butterworth.filtfilt(flat, cutoffPeriod: 10) { XCTAssertEqual(v, 0.7, accuracy: 1e-9) }
        let noisy = (0..<200).map { 0.5 + ($0 % 2 == 0 ? 0.1 : -0.1) }   // a 2-day oscillation
        let smooth = Butterworth.filtfilt(noisy, cutoffPeriod: 10)
        for v in smooth[20..<180] { XCTAssertEqual(v, 0.5, accuracy: 0.01) }
    }

    /// A grassland series cut twice, seen every 5 days with one cloud: the engine finds both cuts
    /// within a few days and decides green; without observations, yellow.
    func testEngineOnAMownMeadow() throws {
        let (options, _) = try MarkerOptions.load(path: Self.optionsFolder.appendingPathComponent("mowing.yaml").path)
        let engine = MarkerEngine(options: options)
        let cuts = [Days.number("2024-05-20")!, Days.number("2024-07-10")!]
        var observations: [Observed] = []
        var day = Days.number("2024-03-01")!
        while day < Days.number("2024-10-31")! {
            var ndvi = 0.8
            for c in cuts where day >= c { ndvi -= 0.45 * exp(-Double(day - c) / 12) }
            let red = 1000.0, nir = red * (1 + ndvi) / (1 - ndvi)
            let cloudy = day == Days.number("2024-06-09")!
            observations.append(Observed(day: day, clear: !cloudy, means: [500, red, nir, 1500, nil, nil]))
            day += 5
        }
        let (markers, decision) = engine.analyse(observations, year: 2024, crop: "6100", names: ["grassland"])
        let mowing = markers.filter { $0.detector == "mowing" }
        XCTAssertEqual(mowing.count, 2, "\(mowing.map { Days.text($0.event.date) })")
        for (m, c) in zip(mowing, cuts) { XCTAssertLessThanOrEqual(abs(m.event.date - c), 7, Days.text(m.event.date)) }
        XCTAssertEqual(decision?.colour, "green")
        XCTAssertEqual(decision?.scheme, "mowing")

        let none = engine.analyse(Array(observations.prefix(3)), year: 2024, crop: "6100", names: ["grassland"])
        XCTAssertEqual(none.decision?.colour, "yellow")
        XCTAssertTrue(none.decision!.reasons[0].contains("fewer than 6"), none.decision!.reasons[0])
        // Never mown: red.
        let flat = observations.map { Observed(day: $0.day, clear: true, means: [500, 1000, 9000, 1500, nil, nil]) }
        XCTAssertEqual(engine.analyse(flat, year: 2024, crop: "6100", names: ["grassland"]).decision?.colour, "red")
    }

    /// A parcel without a declared year whose series covers two seasons (a mowing data set's
    /// polygons with several years of field records): each season's cuts are found, and the
    /// decision is the best-observed season's with the other one's light among its reasons. Before,
    /// only the season with the most observations was analysed and the other's cuts were lost.
    func testParcelWithoutYearIsAnalysedSeasonBySeason() throws {
        let (options, _) = try MarkerOptions.load(path: Self.optionsFolder.appendingPathComponent("mowing.yaml").path)
        let engine = MarkerEngine(options: options)
        func season(_ year: Int, cuts: [String], every step: Int) -> [Observed] {
            let cutDays = cuts.map { Days.number("\(year)-\($0)")! }
            var out: [Observed] = []
            var day = Days.number(year: year, month: 3, day: 1)
            while day < Days.number(year: year, month: 10, day: 31) {
                var ndvi = 0.8
                for c in cutDays where day >= c { ndvi -= 0.45 * exp(-Double(day - c) / 12) }
                let red = 1000.0, nir = red * (1 + ndvi) / (1 - ndvi)
                out.append(Observed(day: day, clear: true, means: [500, red, nir, 1500, nil, nil]))
                day += step
            }
            return out
        }
        // The later season seen more often: the earlier one must not be dropped for it.
        let both = season(2023, cuts: ["06-01"], every: 6) + season(2024, cuts: ["05-20", "07-10"], every: 5)
        let (markers, decision) = engine.analyse(both, year: 0, crop: nil, names: ["", ""])
        let cuts = markers.filter { $0.detector == "mowing" }.map(\.event.date)
        XCTAssertEqual(cuts.count, 3, "\(cuts.map(Days.text))")
        for (found, truth) in zip(cuts, ["2023-06-01", "2024-05-20", "2024-07-10"]) {
            XCTAssertLessThanOrEqual(abs(found - Days.number(truth)!), 7, Days.text(found))
        }
        XCTAssertEqual(decision?.colour, "green")
        XCTAssertTrue(decision!.reasons[0].contains("season 2024"), "\(decision!.reasons)")
        XCTAssertTrue(decision!.reasons.contains { $0.hasPrefix("other seasons: 2023: green") }, "\(decision!.reasons)")
        // A declared year the series does not reach: yellow, and the reasons say which years it covers.
        let wrongYear = engine.analyse(both, year: 2022, crop: "6100", names: ["grassland"]).decision
        XCTAssertEqual(wrongYear?.colour, "yellow")
        XCTAssertTrue(wrongYear?.reasons.last?.contains("declared for 2022 but its optical observations are of 2023, 2024") ?? false, "\(wrongYear?.reasons ?? [])")
        // A declared year still means that year alone.
        XCTAssertEqual(engine.analyse(both, year: 2023, crop: "6100", names: ["grassland"]).markers.filter { $0.detector == "mowing" }.count, 1)
        // A few observations of the next January are no season.
        XCTAssertEqual(MarkerEngine.seasonYears(season(2024, cuts: [], every: 5) + [Observed(day: Days.number("2025-01-03")!, clear: true, means: [500, 1000, 5000, 1500, nil, nil])]), [2024])
    }

    func testRunsAreStoredAndReproducible() throws {
        let lake = try fixtureLake()
        let (options, text) = try MarkerOptions.load(path: Self.optionsFolder.appendingPathComponent("mowing.yaml").path)
        let a = try MarkerRun(lake: lake).run(options, text: text, scope: ParcelScope())
        let b = try MarkerRun(lake: lake).run(options, text: text, scope: ParcelScope())
        XCTAssertEqual(a.parcels, 5)   // the grassland parcels of the fixtures
        func rows(_ run: Int64) throws -> [[SQLValue]] {
            let s = try lake.db.prepare("SELECT pid, detector, date, magnitude FROM markers WHERE run_id = ? ORDER BY pid, date, detector")
            try s.bind([.int(run)])
            return try s.rows()
        }
        XCTAssertEqual(try rows(a.run), try rows(b.run))
        XCTAssertEqual(try lake.db.scalar("SELECT options FROM runs WHERE run_id = ?", .int(a.run))?.text, text)
        XCTAssertEqual(try lake.db.scalar("SELECT count(*) FROM decisions WHERE run_id = ?", .int(a.run))?.int, 5)
        var scope = ParcelScope(); scope.parcelIDs = ["P000002"]
        XCTAssertEqual(try MarkerRun(lake: lake).run(options, text: text, scope: scope).parcels, 1)
        scope.parcelIDs = ["NOPE"]
        XCTAssertThrowsError(try MarkerRun(lake: lake).run(options, text: text, scope: scope))
        // Grassland by its national names (Dutch BRP, German, French, Italian LPIS lists) is selected too.
        try lake.db.run("""
            UPDATE parcels SET crop_name = CASE parcel_id WHEN 'P000001' THEN 'Grasland, blijvend' WHEN 'P000003' THEN 'Dauergrünland'
              WHEN 'P000004' THEN 'Prairie permanente' WHEN 'P000006' THEN 'Prato polifita' ELSE crop_name END
            """)
        XCTAssertEqual(try MarkerRun(lake: lake).run(options, text: text, scope: ParcelScope()).parcels, 5 + 4)
        // --crops replaces the file's selection: by code, or by a part of the crop name.
        var byCrop = ParcelScope(); byCrop.crops = ["1110"]
        let maize = try lake.db.scalar("SELECT count(*) FROM parcels WHERE crop_code = '1110'")?.int ?? 0
        XCTAssertGreaterThan(maize, 0)
        XCTAssertEqual(try MarkerRun(lake: lake).run(options, text: text, scope: byCrop).parcels, Int(maize))
        byCrop.crops = ["prato", "PRAIRIE"]
        XCTAssertEqual(try MarkerRun(lake: lake).run(options, text: text, scope: byCrop).parcels, 2)
        // A selection that finds nothing is an error that names the crops the lake has.
        byCrop.crops = ["rice"]
        XCTAssertThrowsError(try MarkerRun(lake: lake).run(options, text: text, scope: byCrop)) { error in
            XCTAssertEqual((error as? LakeError)?.exitCode, 5)
            XCTAssertTrue("\(error)".contains("--crops rice") && "\(error)".contains("1110"), "\(error)")
        }
    }

    /// A lake whose signatures carry an NDVI band instead of red and NIR (extracted from NDVI
    /// rasters, or NDVI series given as they are, scaled by 10,000 or not) gets the markers the
    /// band form gives: the same cuts where both read SCL alone, and its series' NDVI.
    /// The fixtures' parcels, scenes and SCL histograms with `signatures` (CSV text) as the
    /// band statistics.
    func fixtureLake(signatures csv: String) throws -> Lake {
        let lake = try temporaryLake(self, srid: 32632)
        var parcels = ParcelIngestOptions(); parcels.aoi = "demo"; parcels.year = 2024
        _ = try ParcelIngest(lake: lake).run(path: Paths.fixture("parcels.geojson"), options: parcels)
        _ = try CatalogueIngest(lake: lake).run(path: Paths.fixture("scenes.stac.json"), options: CatalogueIngestOptions())
        _ = try SignatureIngest(lake: lake).run(path: Paths.fixture("scl.csv"), options: SignatureIngestOptions())
        _ = try SignatureIngest(lake: lake).run(path: try write(csv, "signatures.csv"), options: SignatureIngestOptions())
        return lake
    }

    func testAnNDVIBandStandsInForRedAndNIR() throws {
        let bands = try fixtureLake()
        let pids = try bands.db.prepare("SELECT pid, parcel_id FROM parcels ORDER BY pid").rows()
        let reader = try SeriesReader(bands)
        // The fixture's NDVI (offsets applied) as an NDVI band: ×10,000 in one lake, as is in another.
        var scaled = "parcel_id,reference,band,count,mean,std,min,max,p25,p50,p75\n", plain = scaled
        var expected: [String: [Double]] = [:]
        for row in pids {
            for o in try reader.read(pid: row[0].int!, filter: SeriesFilter()) {
                guard let v = o.ndvi else { continue }
                let id = row[1].text!
                let dn = Int((v * 10_000).rounded())
                scaled += "\(id),\(o.reference),NDVI,90,\(dn),0,\(dn),\(dn),\(dn),\(dn),\(dn)\n"
                plain += "\(id),\(o.reference),NDVI,90,\(v),0,\(v),\(v),\(v),\(v),\(v)\n"
                expected[id, default: []].append(v)
            }
        }
        func ndviLake(_ csv: String) throws -> Lake { try fixtureLake(signatures: csv) }
        // SCL alone screens in both forms: the same cuts, dated alike.
        let (shipped, text) = try MarkerOptions.load(path: Self.optionsFolder.appendingPathComponent("mowing.yaml").path)
        let sclOnly = try write(text.replacingOccurrences(of: "  regional: true", with: "  enabled: false"), "scl-only.yaml")
        let (options, sclText) = try MarkerOptions.load(path: sclOnly)
        func cuts(_ lake: Lake, _ options: MarkerOptions, _ text: String) throws -> [[SQLValue]] {
            let run = try MarkerRun(lake: lake).run(options, text: text, scope: ParcelScope()).run
            return try lake.db.prepare("""
                SELECT p.parcel_id, m.detector, m.date FROM markers m JOIN parcels p USING (pid) WHERE m.run_id = \(run) ORDER BY 1, 3, 2
                """).rows()
        }
        let reference = try cuts(bands, options, sclText)
        XCTAssertTrue(reference.contains { $0[1].text == "mowing" }, "the fixture meadows are mown")
        for csv in [scaled, plain] {
            let lake = try ndviLake(csv)
            XCTAssertEqual(try cuts(lake, options, sclText), reference)
            // The series reads the band as NDVI, whichever its scale.
            let pid = try lake.db.scalar("SELECT pid FROM parcels WHERE parcel_id = 'P000002'")!.int!
            let series = try SeriesReader(lake).read(pid: pid, filter: SeriesFilter()).compactMap(\.ndvi)
            XCTAssertEqual(series.count, expected["P000002"]!.count)
            for (a, b) in zip(series, expected["P000002"]!) { XCTAssertEqual(a, b, accuracy: 1e-4) }
            // With the shipped screening (its band tests skipped for want of bands) cuts are still found.
            XCTAssertTrue(try cuts(lake, shipped, text).contains { $0[1].text == "mowing" })
        }
    }

    /// Band statistics given as reflectance (0–1, offset already taken off, as openEO, Sentinel
    /// Hub or Earth Engine export them) for scenes of processing baseline 05.10, whose catalogue
    /// offset is −1,000 DN: the offset must not be applied to them. It was, and every value read
    /// −1,000: no marker, every parcel yellow.
    func testReflectanceStatisticsAreNotOffsetLikeDigitalNumbers() throws {
        let dn = try fixtureLake()
        let offsets = try dn.db.scalar("SELECT count(*) FROM catalogue WHERE radiometric_offset = -1000")?.int ?? 0
        XCTAssertGreaterThan(offsets, 0, "the fixture scenes carry the offset")
        // The fixture's signatures as reflectances: (DN − 1000) / 10,000, the std / 10,000.
        let lines = try String(contentsOfFile: Paths.fixture("signatures.csv"), encoding: .utf8).split(separator: "\n")
        var csv = String(lines[0]) + "\n"
        for line in lines.dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let stats = f[4...].enumerated().map { k, v -> String in
                let x = Double(v)!
                return String(format: "%.6f", k == 1 ? x / 10_000 : max(0, (x - 1_000) / 10_000))
            }
            csv += (f[..<4] + stats).joined(separator: ",") + "\n"
        }
        let lake = try fixtureLake(signatures: csv)
        // SCL screening (the 20 fixture parcels are too few for the area's context): the band
        // tests would see the same reflectances either way.
        let (_, shipped) = try MarkerOptions.load(path: Self.optionsFolder.appendingPathComponent("mowing.yaml").path)
        let (options, text) = try MarkerOptions.load(path: try write(shipped.replacingOccurrences(of: "  regional: true", with: "  enabled: false"), "scl-only.yaml"))
        func cuts(_ lake: Lake) throws -> [[SQLValue]] {
            let run = try MarkerRun(lake: lake).run(options, text: text, scope: ParcelScope()).run
            return try lake.db.prepare("""
                SELECT p.parcel_id, m.detector, m.date FROM markers m JOIN parcels p USING (pid) WHERE m.run_id = \(run) ORDER BY 1, 3, 2
                """).rows()
        }
        let reference = try cuts(dn)
        XCTAssertTrue(reference.contains { $0[1].text == "mowing" })
        XCTAssertEqual(try cuts(lake), reference)
        // The parcel's series reads the same reflectances either way (to rounding).
        for parcel in ["P000002", "P000007"] {
            func series(_ lake: Lake) throws -> [Double] {
                let pid = try lake.db.scalar("SELECT pid FROM parcels WHERE parcel_id = ?", .text(parcel))!.int!
                return try SeriesReader(lake).read(pid: pid, filter: SeriesFilter()).flatMap { $0.bands.filter { $0.0 == "B08" }.map { Double($0.1.mean) } }
            }
            let a = try series(dn), b = try series(lake)
            XCTAssertEqual(a.count, b.count)
            for (x, y) in zip(a, b) { XCTAssertEqual(x / 10_000, y, accuracy: 1e-4) }
        }
    }

    /// Parcels ingested without a year (no `--year`, a list without a year column) are analysed
    /// in the year of their observations: the same markers and decisions as with the year given.
    /// Before, a season with no usable observation from the window's start was not seen as a hole,
    /// and such parcels were red where the same parcels with a year were yellow.
    func testParcelsWithoutAYearAreDecidedAsInTheYearOfTheirObservations() throws {
        let (options, text) = try MarkerOptions.load(path: Self.optionsFolder.appendingPathComponent("mowing.yaml").path)
        func outcome(_ lake: Lake) throws -> [[SQLValue]] {
            let run = try MarkerRun(lake: lake).run(options, text: text, scope: ParcelScope()).run
            return try lake.db.prepare("""
                SELECT p.parcel_id, 'decision', d.colour, d.reasons FROM decisions d JOIN parcels p USING (pid) WHERE d.run_id = \(run)
                UNION ALL SELECT p.parcel_id, m.detector, m.date, m.kind FROM markers m JOIN parcels p USING (pid) WHERE m.run_id = \(run)
                ORDER BY 1, 2, 3, 4
                """).rows()
        }
        let dated = try fixtureLake()
        let reference = try outcome(dated)
        XCTAssertTrue(reference.contains { $0[1].text == "data-gap" || ($0[3].text ?? "").contains("no usable observation") },
                      "the fixtures must have a season hole for the test to mean something")
        let undated = try fixtureLake()
        try undated.db.execute("UPDATE parcels SET year = 0")
        XCTAssertEqual(try outcome(undated), reference)
        // The run says how parcels without a year are analysed.
        let notes = try MarkerRun(lake: undated).run(options, text: text, scope: ParcelScope()).notes
        XCTAssertTrue(notes.contains { $0.contains("declare no year: each is analysed in every season") }, "\(notes)")
    }

    /// The mowing file selects meadows by name in the languages of national LPIS lists, and not
    /// the arable crops beside them.
    func testTheMowingFileSelectsMeadowsByTheirNationalNames() throws {
        let (options, _) = try MarkerOptions.load(path: Self.optionsFolder.appendingPathComponent("mowing.yaml").path)
        func selected(_ name: String) -> Bool {
            ParcelScope.selects(code: nil, names: [name, ""], codes: options.parcels?.crops, groups: options.parcels?.groups)
        }
        for name in ["Dauergrünland", "Mähwiese", "Grasland, blijvend", "Prairie permanente", "Permanent græs", "Trvalý trávny porast",
                     "Pašnjak", "Ganyklos-pievos iki 5m.", "Pajişti naturale", "Slåtter och betesvall på åkermark", "Betesmark (ej åker)",
                     "Monivuotiset nurmet", "Ilggadīgie zālāji", "Festulolium", "Timothee", "PASTIZAL", "Prato polifita",
                     "PASTAGENS PERMANENTES", "Daugiametės žolės", "Trwałe użytki zielone", "Łąki trwałe",
                     "Pastwiska trwałe", "Állandó gyep", "Pajiști permanente", "Постоянни пасища", "Μόνιμοι βοσκότοποι", "Dactyle de 5 ans ou moins"] {
            XCTAssertTrue(selected(name), name)
        }
        for name in ["Silomais", "Winterweizen", "Kartoffeln", "Zuckerrüben", "Vårkorn", "Maïs grain", "Suikerbieten", "Ozimá pšenice",
                     "Alpendistel", "Milho;Azevem", "Pszenica ozima", "Őszi búza", "Porumb boabe", "Hutungen", "Almen und Alpen"] {
            XCTAssertFalse(selected(name), name)
        }
        // As a run selects (one answer kept per distinct crop): the same answers, asked twice
        // and interleaved, the code counting as well as the names.
        var selection = ParcelScope.Selection(codes: options.parcels?.crops, groups: options.parcels?.groups)
        for _ in 0..<2 {
            for name in ["Mähwiese", "Silomais", "PASTIZAL", "Kartoffeln"] {
                XCTAssertEqual(selection.selects(cached: nil, names: [name, ""]), selected(name), name)
            }
            XCTAssertTrue(selection.selects(cached: "3302000000", names: ["Silomais", ""]))
            XCTAssertFalse(selection.selects(cached: "1110", names: ["Silomais", ""]))
        }
        // On the EuroCrops mappings of the national lists (real names, HCAT3 grass classes):
        // most grass names selected, few others.
        let mappings = try Paths.requireRealdata("eurocrops-hcat/csvs/country_mappings")
        var grass = 0, grassSelected = 0, othersSelected = 0
        for file in try FileManager.default.contentsOfDirectory(atPath: mappings.path) where file.hasSuffix(".csv") {
            let rows = try String(contentsOf: mappings.appendingPathComponent(file), encoding: .utf8).split(whereSeparator: \.isNewline)
            guard let header = rows.first.map({ $0.split(separator: ",").map(String.init) }),
                  let nameColumn = header.firstIndex(where: { $0.hasPrefix("original_name") }), let codeColumn = header.firstIndex(of: "HCAT3_code") else { continue }
            for row in rows.dropFirst() {
                let fields = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                // Names holding commas are quoted: those rows are left out rather than misread.
                guard fields.count == header.count, !row.contains("\"") else { continue }
                let code = fields[codeColumn]
                let isGrass = code.hasPrefix("3302") || code.hasPrefix("33010901") || code.hasPrefix("33010902")
                let chosen = selected(fields[nameColumn])
                if isGrass { grass += 1; if chosen { grassSelected += 1 } } else if chosen { othersSelected += 1 }
            }
        }
        XCTAssertGreaterThan(grass, 200)
        XCTAssertGreaterThan(Double(grassSelected) / Double(grass), 0.55, "\(grassSelected) of \(grass)")
        XCTAssertLessThan(othersSelected, grassSelected / 2)
    }

    /// Statistics exported harmonised (the offset of baseline 04.00+ taken off already, as Earth
    /// Engine's S2_SR_HARMONIZED or openEO give them) under scene names that carry the offset:
    /// lake sees it in the visible bands (below zero with the offset applied) and does not take
    /// it off twice. The same parcel given raw and harmonised reads the same in markers and in
    /// `query parcel`. Before, the harmonised parcel's red read −500 and its NDVI was nonsense
    /// (the second generator's lake so exported: mowing F1 0.983 → 0.293).
    func testHarmonisedStatisticsAreNotOffsetTwice() throws {
        let lake = try parcelsOnlyLake()
        var csv = "parcel_id,reference,band,count,mean,std,min,max,p25,p50,p75\n"
        for (k, day) in ["0501", "0506", "0511", "0516", "0521", "0526", "0531", "0605"].enumerated() {
            let scene = "S2A_MSIL2A_2024\(day)T103021_N0509_R065_T32TMT_2024\(day)T120000"
            let reflectance: [(String, Double)] = [("B02", 400), ("B04", 500 + 40 * Double(k)), ("B08", 3000 - 100 * Double(k)), ("B11", 1800)]
            for (parcel, shift) in [("P000001", 1000.0), ("P000002", 0)] {
                for (band, v) in reflectance {
                    let m = v + shift
                    csv += "\(parcel),\(scene),\(band),50,\(m),10,\(m - 20),\(m + 20),\(m - 5),\(m),\(m + 5)\n"
                }
            }
        }
        var so = SignatureIngestOptions(); so.createScenes = true
        _ = try SignatureIngest(lake: lake).run(path: try write(csv, "harmonised.csv"), options: so)
        XCTAssertEqual(try lake.db.scalar("SELECT min(radiometric_offset) FROM catalogue")?.double, -1000)
        let (options, _) = try MarkerOptions.load(path: Self.optionsFolder.appendingPathComponent("mowing.yaml").path)
        var scope = ParcelScope(); scope.parcelIDs = ["P000001", "P000002"]
        let codes = try lake.db.scalar("SELECT group_concat(crop_code) FROM parcels WHERE parcel_id IN ('P000001', 'P000002')")?.text ?? ""
        scope.crops = codes.split(separator: ",").map(String.init)
        var ndvi: [String: [Double?]] = [:]
        try MarkerRun(lake: lake).screen(options, scope: scope) { ndvi[$0.parcelID, default: []].append($0.value) }
        XCTAssertEqual(ndvi["P000001"]?.count, 8)
        XCTAssertEqual(ndvi["P000001"]?.first ?? nil, 2500.0 / 3500, "raw digital numbers, offset applied")
        for (raw, harmonised) in zip(ndvi["P000001"]!, ndvi["P000002"]!) { XCTAssertEqual(try XCTUnwrap(raw), try XCTUnwrap(harmonised), accuracy: 1e-9) }
        func red(_ id: String) throws -> [Float] {
            try ParcelSeries.read(lake, pid: try ParcelLookup.byID(lake, id: id).pid, filter: SeriesFilter()).compactMap { $0.bands.first { $0.band == "B04" }?.stats.mean }
        }
        XCTAssertEqual(try red("P000001"), try red("P000002"))
        XCTAssertEqual(try red("P000002").first, 500)
        // Raw numbers of a dark parcel (water, deep shadow: a little above 1,000) stay raw.
        XCTAssertFalse(Bands.offsetsTakenOff(darkest: [(Float(1010), Float(-1000)), (1040, -1000), (990, -1000), (1100, -1000), (1200, -1000)]))
        XCTAssertTrue(Bands.offsetsTakenOff(darkest: [(Float(300), Float(-1000)), (420, -1000), (3900, -1000), (350, 0)]))
    }

    /// A parcel on the edge of two overlapping tiles comes in both products of each day, each
    /// with part of its pixels: one observation per day, each band the pixel-weighted mean of
    /// the parts — the same series as the parcel extracted whole from one product.
    func testOverlappingTilesOfOneDayAreOneObservation() throws {
        let lake = try parcelsOnlyLake()
        var csv = "parcel_id,reference,band,count,mean\n"
        for (k, day) in ["0501", "0506", "0511", "0516", "0521", "0526", "0531", "0605"].enumerated() {
            let tile = { (t: String) in "S2A_MSIL2A_2024\(day)T103021_N0509_R065_\(t)_2024\(day)T120000" }
            for (band, v) in [("B02", 1400.0), ("B04", 1500 + 40 * Double(k)), ("B08", 4000 - 100 * Double(k)), ("B11", 2800)] {
                csv += "P000002,\(tile("T32TMT")),\(band),40,\(v)\n"
                // 30 pixels in one tile, 10 in the other, the parts 10 below and 30 above the whole.
                csv += "P000001,\(tile("T32TMT")),\(band),30,\(v - 10)\nP000001,\(tile("T32TNT")),\(band),10,\(v + 30)\n"
                // Counts unknown: the parts weigh the same.
                csv += "P000003,\(tile("T32TMT")),\(band),,\(v - 10)\nP000003,\(tile("T32TNT")),\(band),,\(v + 10)\n"
            }
        }
        var so = SignatureIngestOptions(); so.createScenes = true
        _ = try SignatureIngest(lake: lake).run(path: try write(csv, "tiles.csv"), options: so)
        XCTAssertEqual(try lake.db.scalar("SELECT count(*) FROM catalogue")?.int, 16)
        let (options, _) = try MarkerOptions.load(path: Self.optionsFolder.appendingPathComponent("mowing.yaml").path)
        var scope = ParcelScope(); scope.parcelIDs = ["P000001", "P000002", "P000003"]
        scope.crops = (try lake.db.scalar("SELECT group_concat(crop_code) FROM parcels WHERE parcel_id IN ('P000001', 'P000002', 'P000003')")?.text ?? "")
            .split(separator: ",").map(String.init)
        var seen: [String: [(String, Double?)]] = [:]
        try MarkerRun(lake: lake).screen(options, scope: scope) { seen[$0.parcelID, default: []].append(($0.date, $0.value)) }
        XCTAssertEqual(seen["P000001"]?.count, 8)
        XCTAssertEqual(seen["P000001"]?.map(\.0), seen["P000002"]?.map(\.0))
        for (split, whole) in zip(seen["P000001"]!, seen["P000002"]!) {
            XCTAssertEqual(try XCTUnwrap(split.1), try XCTUnwrap(whole.1), accuracy: 1e-9)
        }
        XCTAssertEqual(try XCTUnwrap(seen["P000002"]?.first?.1), 2500.0 / 3500, accuracy: 1e-9, "digital numbers, offset applied")
        XCTAssertEqual(seen["P000003"]?.count, 8)
        for (split, whole) in zip(seen["P000003"]!, seen["P000002"]!) {
            XCTAssertEqual(try XCTUnwrap(split.1), try XCTUnwrap(whole.1), accuracy: 1e-9)
        }
        // A cloud over the part in one tile on the first day: the clear part alone is that day's
        // observation, and it is clear.
        let first = { (t: String) in "S2A_MSIL2A_20240501T103021_N0509_R065_\(t)_20240501T120000" }
        _ = try SignatureIngest(lake: lake).run(path: try write("""
            parcel_id,reference,hist
            P000001,\(first("T32TMT")),"{""4"": 30}"
            P000001,\(first("T32TNT")),"{""9"": 10}"
            """, "tiles-scl.csv"), options: .init())
        var again: [(String, Double?, String)] = []
        try MarkerRun(lake: lake).screen(options, scope: scope) { if $0.parcelID == "P000001" { again.append(($0.date, $0.value, $0.quality)) } }
        XCTAssertEqual(again.count, 8)
        XCTAssertEqual(again[0].0, "2024-05-01")
        XCTAssertEqual(again[0].2, "clear")
        XCTAssertEqual(try XCTUnwrap(again[0].1), (2990.0 - 490) / (2990 + 490), accuracy: 1e-9, "the T32TMT part's bands alone")
    }

    /// A temporary lake with the fixtures' parcels (aoi demo, 2024) and nothing else.
    func parcelsOnlyLake() throws -> Lake {
        let lake = try temporaryLake(self)
        var o = ParcelIngestOptions(); o.aoi = "demo"; o.year = 2024
        _ = try ParcelIngest(lake: lake).run(path: Paths.fixture("parcels.geojson"), options: o)
        return lake
    }

    /// Clear flags read from the per-parcel SCL summaries are those of the histograms, and the
    /// same when a parcel's summary is out of date and the scan reads scl_hist instead.
    func testClearFlagsFromSummariesMatchTheHistograms() throws {
        let lake = try fixtureLake()
        let screen = CloudScreen()
        func scan() throws -> [Int64: [String]] {
            var out: [Int64: [String]] = [:]
            try PackedScan.forEach(lake, screen: screen) { pid, _, clear in out[pid] = clear.map { "\($0.0):\($0.1)" } }
            return out
        }
        XCTAssertEqual(try lake.db.scalar("SELECT count(*) FROM scl_dirty")?.int, 0)
        let fromSummaries = try scan()
        var fromHistograms: [Int64: [String]] = [:]
        let s = try lake.db.prepare("SELECT pid, obsid, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11 FROM scl_hist ORDER BY pid, obsid")
        while try s.step() {
            fromHistograms[s.int(0), default: []].append("\(s.int(1)):\(screen.isClear((2..<14).map { Int(s.int(Int32($0))) }))")
        }
        XCTAssertFalse(fromHistograms.isEmpty)
        XCTAssertTrue(fromHistograms.values.contains { $0.contains { $0.hasSuffix("false") } }, "the fixtures have cloudy scenes")
        for (pid, flags) in fromHistograms { XCTAssertEqual(fromSummaries[pid], flags, "pid \(pid)") }
        try lake.db.execute("INSERT INTO scl_dirty (pid) SELECT DISTINCT pid FROM scl_hist")
        XCTAssertEqual(try scan(), fromSummaries)
    }

    /// Cut into many small chunks read and analysed by several threads, a run gives exactly
    /// the markers and decisions of one chunk.
    func testChunkingDoesNotChangeResults() throws {
        let lake = try fixtureLake()
        let (options, text) = try MarkerOptions.load(path: Self.optionsFolder.appendingPathComponent("mowing.yaml").path)
        var all = options; all.parcels = nil   // every parcel, not only grassland
        let saved = BatchPipeline.chunkSize
        defer { BatchPipeline.chunkSize = saved }
        BatchPipeline.chunkSize = 100_000
        let one = try MarkerRun(lake: lake).run(all, text: text, scope: ParcelScope())
        BatchPipeline.chunkSize = 3
        let many = try MarkerRun(lake: lake).run(all, text: text, scope: ParcelScope())
        XCTAssertGreaterThan(one.parcels, 9)
        XCTAssertEqual(one.parcels, many.parcels)
        func rows(_ sql: String, _ run: Int64) throws -> [[SQLValue]] {
            let s = try lake.db.prepare(sql)
            try s.bind([.int(run)])
            return try s.rows()
        }
        let markers = "SELECT pid, detector, kind, start_date, date, end_date, value_start, value_end, magnitude, confidence, details FROM markers WHERE run_id = ? ORDER BY rowid"
        let decisions = "SELECT pid, scheme, colour, clear_obs, reasons FROM decisions WHERE run_id = ? ORDER BY pid"
        XCTAssertEqual(try rows(markers, one.run), try rows(markers, many.run))
        XCTAssertEqual(try rows(decisions, one.run), try rows(decisions, many.run))
        XCTAssertGreaterThan(try rows(markers, one.run).count, 0)
    }

    /// Parcels that declare no crop at all (a field campaign's polygons, a mowing data set) are
    /// all analysed, with a note, rather than none selected by the option file's crop names; one
    /// declared crop in scope and the selection applies again (exit 5 when it finds nothing).
    func testParcelsWithoutADeclaredCropAreAllAnalysed() throws {
        let lake = try fixtureLake()
        let (options, text) = try MarkerOptions.load(path: Self.optionsFolder.appendingPathComponent("mowing.yaml").path)
        try lake.db.execute("UPDATE parcels SET crop_code = NULL, crop_name = NULL")
        let run = try MarkerRun(lake: lake).run(options, text: text, scope: ParcelScope())
        XCTAssertEqual(run.parcels, 20)
        XCTAssertTrue(run.notes.first?.contains("declares a crop") ?? false, "\(run.notes)")
        // Codes only, of a list the option file does not name, and no names to select by: all
        // of them too, and the note says which codes and how to select.
        try lake.db.execute("UPDATE parcels SET crop_code = CASE WHEN pid % 2 = 0 THEN 'PG' ELSE 'TA' END")
        let codesOnly = try MarkerRun(lake: lake).run(options, text: text, scope: ParcelScope())
        XCTAssertEqual(codesOnly.parcels, 20)
        XCTAssertTrue(codesOnly.notes.first?.contains("crop codes only (PG, TA)") ?? false, "\(codesOnly.notes)")
        var chosen = ParcelScope(); chosen.crops = ["PG"]
        XCTAssertEqual(try MarkerRun(lake: lake).run(options, text: text, scope: chosen).parcels, 10)
        // A code the file names selects as before (HCAT3's grassland).
        try lake.db.execute("UPDATE parcels SET crop_code = '3302000000' WHERE pid <= 3")
        XCTAssertEqual(try MarkerRun(lake: lake).run(options, text: text, scope: ParcelScope()).parcels, 3)
        // Named crops none of which the file selects: an error that names them.
        try lake.db.execute("UPDATE parcels SET crop_code = '1110', crop_name = 'maize'")
        XCTAssertThrowsError(try MarkerRun(lake: lake).run(options, text: text, scope: ParcelScope())) {
            XCTAssertEqual(($0 as? LakeError)?.exitCode, 5)
        }
    }

    /// A run whose written rows outgrow the writer's page cache while the reading threads are
    /// still at work (at country scale; here a 10-page cache and one parcel per chunk) keeps its
    /// pages in memory: spilling them into the file would take the exclusive lock and the
    /// readers' next statement would fail with "database is locked".
    func testARunLargerThanThePageCacheDoesNotLockOutItsReaders() throws {
        let lake = try fixtureLake()
        let (options, text) = try MarkerOptions.load(path: Self.optionsFolder.appendingPathComponent("mowing.yaml").path)
        var all = options; all.parcels = nil
        let saved = BatchPipeline.chunkSize
        defer { BatchPipeline.chunkSize = saved }
        BatchPipeline.chunkSize = 1
        try lake.db.execute("PRAGMA cache_size = 10")
        // The run's own record (its options text, here 400 kB) alone outgrows that cache before
        // the readers begin: once spilled, the writer holds the exclusive lock until it commits.
        let long = text + "\n# " + String(repeating: "x", count: 400_000) + "\n"
        let run = try MarkerRun(lake: lake).run(all, text: long, scope: ParcelScope())
        XCTAssertEqual(run.parcels, 20)
        var check = CropCheckOptions(); check.minPeers = 3; check.minBins = 4
        XCTAssertEqual(try CropCheck(lake: lake).run(check, scope: ParcelScope(), optionsText: "").parcels, 20)
    }
}
