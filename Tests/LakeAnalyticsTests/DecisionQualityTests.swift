import Foundation
@testable import LakeAnalytics
import LakeGDAL
import LakeQuery
import LakeSQLite
import LakeStore
import LakeTestSupport
import XCTest

/// The parts behind decisions: screening, cuts, the crop check, heterogeneity and the overall
/// light, each on a case that a naive detector gets wrong.
final class DecisionQualityTests: XCTestCase {
    /// Reflectances (DN) of a canopy of a given NDVI, as a clear sky shows it.
    func observation(_ day: Int, ndvi: Double, clear: Bool? = true, haze: Double = 0, shade: Double = 1, blueStd: Double = 40) -> Observed {
        let red = 1300 - 1000 * ndvi, nir = red * (1 + ndvi) / (1 - ndvi)
        let blue = 600 - 200 * ndvi, swir = 2800 - 1200 * ndvi
        return Observed(day: day, clear: clear, means: [blue * shade + haze, red * shade + 0.65 * haze, nir * shade * 0.9 + 0.35 * haze + (shade < 1 ? 0 : nir * 0.1),
                                                     swir * shade + 0.15 * haze, nil, nil, blueStd])
    }

    /// Usable observations from (MM-DD, value) pairs of one year.
    func usable(_ series: [(String, Double)], year: Int) -> [IndexPoint] {
        series.map { IndexPoint(day: Days.number("\(year)-" + $0.0)!, value: $0.1, clear: true) }
    }

    func meadow(cuts: [Int], every step: Int = 5, from: String = "2024-03-01", to: String = "2024-10-31") -> [(Int, Double)] {
        var out: [(Int, Double)] = []
        var day = Days.number(from)!
        while day < Days.number(to)! {
            var v = 0.78
            for c in cuts where day >= c { v -= 0.38 * exp(-Double(day - c) / 12) }
            out.append((day, v))
            day += step
        }
        return out
    }

    func testScreeningNamesHazeShadowEdgeAndDipsButKeepsARealCut() throws {
        let cut = Days.number("2024-06-12")!
        var obs = meadow(cuts: [cut]).map { observation($0.0, ndvi: $0.1) }
        func at(_ date: String) -> Int { obs.indices.min { abs(obs[$0].day - Days.number(date)!) < abs(obs[$1].day - Days.number(date)!) }! }
        let hazy = at("2024-05-01")
        obs[hazy] = observation(obs[hazy].day, ndvi: 0.78, haze: 400)              // unflagged haze
        let shaded = at("2024-08-05")
        obs[shaded] = observation(obs[shaded].day, ndvi: 0.75, shade: 0.5)         // unflagged shadow
        let edge = at("2024-09-04")
        obs[edge] = observation(obs[edge].day, ndvi: 0.74, blueStd: 900)          // cloud edge
        let dip = at("2024-09-24")
        obs[dip] = observation(obs[dip].day, ndvi: 0.55)                           // back 5 days later
        obs[3] = observation(obs[3].day, ndvi: 0.5, clear: false, haze: 2500, blueStd: 1500)   // a cloud SCL saw
        let verdicts = ObservationScreen().screen(obs)
        XCTAssertEqual(verdicts[hazy], .haze)
        XCTAssertEqual(verdicts[shaded], .shadow)
        XCTAssertEqual(verdicts[edge], .edge)
        XCTAssertEqual(verdicts[dip], .dip)
        XCTAssertEqual(verdicts[3], .scl)
        // The observations right after the cut are low and regrowing: kept.
        let after = obs.indices.filter { obs[$0].day > cut && obs[$0].day <= cut + 15 }
        XCTAssertFalse(after.isEmpty)
        for i in after { XCTAssertEqual(verdicts[i], .clear, Days.text(obs[i].day)) }
        let others = verdicts.indices.filter { ![hazy, shaded, edge, dip, 3].contains($0) }
        XCTAssertEqual(others.filter { verdicts[$0] != .clear }.count, 0, "\(others.map { verdicts[$0] })")
        // The same observations as reflectances (0–1) instead of digital numbers: the same verdicts.
        let reflectances = obs.map { o in
            Observed(day: o.day, clear: o.clear, means: (0..<7).map { k in o.means[k].map { $0 / 10_000 } }, kind: o.kind)
        }
        XCTAssertEqual(ObservationScreen().screen(reflectances), verdicts)
    }

    /// An NDVI series alone (a table of parcel NDVI with clouds masked, no bands, no SCL): a
    /// cloud the mask missed, at 0.14 between 0.79s, is a dip even when the next observation
    /// is 15 days later — it is back at 0.043 a day, faster than any sward regrows; a cut seen
    /// at 0.40 and regrowing to 0.62 in the same 15 days (0.015 a day) is kept.
    func testADipBackFasterThanASwardRegrowsIsNoCut() {
        func ndvi(_ date: String, _ v: Double) -> Observed {
            var means = BandMeans(); means[BandMeans.ndvi] = v
            return Observed(day: Days.number("2024-" + date)!, clear: nil, means: means)
        }
        let obs = [ndvi("04-26", 0.78), ndvi("05-01", 0.78), ndvi("05-06", 0.79), ndvi("05-11", 0.14), ndvi("05-26", 0.79), ndvi("06-05", 0.8),
                   ndvi("06-20", 0.79), ndvi("07-01", 0.78), ndvi("07-06", 0.40), ndvi("07-21", 0.62), ndvi("07-31", 0.72), ndvi("08-10", 0.77)]
        var screen = ObservationScreen(); screen.requireSCL = false
        let verdicts = screen.screen(obs)
        XCTAssertEqual(verdicts[3], .dip)
        XCTAssertEqual(verdicts[8], .clear)
        XCTAssertEqual(verdicts.filter { $0 != .clear }.count, 1, "\(verdicts)")
        // Back as high but 23 days later (0.028 a day, which a sward can): kept.
        var late = obs; late[4] = ndvi("06-03", 0.79)
        XCTAssertEqual(screen.screen(late)[3], .clear)
    }

    /// A lake without a blue band (B04, B08, B11 only) cannot draw the haze line. Haze still
    /// adds light to NIR as it lowers NDVI; a cut lowers both. A haze that stays low two
    /// observations running (not a dip) is told apart from the cut by NIR.
    func testWithoutBlueHazeIsToldFromACutByNIR() {
        let cut = Days.number("2024-06-12")!
        var obs = meadow(cuts: [cut]).map { observation($0.0, ndvi: $0.1) }
        func at(_ date: String) -> Int { obs.indices.min { abs(obs[$0].day - Days.number(date)!) < abs(obs[$1].day - Days.number(date)!) }! }
        let hazy = [at("2024-05-01"), at("2024-05-06")]
        for i in hazy { obs[i] = observation(obs[i].day, ndvi: 0.78, haze: 500) }
        obs = obs.map { o in var means = o.means; means[0] = nil; return Observed(day: o.day, clear: o.clear, means: means, kind: o.kind) }   // no blue
        XCTAssertGreaterThan(obs[hazy[0]].value(.ndvi)!, 0, "the hazy observations keep an NDVI")
        XCTAssertLessThan(obs[hazy[0]].value(.ndvi)!, 0.78 - 0.08, "haze lowers NDVI as much as a cut needs")
        let verdicts = ObservationScreen().screen(obs)
        XCTAssertEqual(hazy.map { verdicts[$0] }, [.haze, .haze])
        // The cut's low observations stay.
        let after = obs.indices.filter { obs[$0].day > cut && obs[$0].day <= cut + 15 }
        XCTAssertFalse(after.isEmpty)
        for i in after { XCTAssertEqual(verdicts[i], .clear, Days.text(obs[i].day)) }
        XCTAssertEqual(verdicts.indices.filter { !hazy.contains($0) && verdicts[$0] != .clear }, [])
        // And the cut is found, the haze is not.
        let usable = obs.indices.filter { verdicts[$0] == .clear }.map { IndexPoint(day: obs[$0].day, value: obs[$0].value(.ndvi)!, clear: true) }
        let cuts = CutDetector().detect(usable).filter { $0.kind == .cut }.map(\.event.date)
        XCTAssertEqual(cuts.count, 1)
        XCTAssertTrue((cut - 3...cut + 15).contains(cuts[0]), Days.text(cuts[0]))
    }

    func testCutsAreConfirmedByRegrowthDatedAfterTheHighAndNotBlockedByRejectedOnes() {
        let cuts = [Days.number("2024-05-20")!, Days.number("2024-07-04")!]
        var points = meadow(cuts: cuts).map { IndexPoint(day: $0.0, value: $0.1, clear: true) }
        // A cloudy spell of 25 days over the second cut: the first observation after it is
        // still low enough.
        points.removeAll { $0.day > cuts[1] - 12 && $0.day < cuts[1] + 9 }
        let found = CutDetector().detect(points).filter { $0.kind == .cut }
        XCTAssertEqual(found.count, 2, "\(found.map { Days.text($0.event.date) })")
        for (f, c) in zip(found, cuts) {
            XCTAssertGreaterThanOrEqual(f.event.date - c, -3, Days.text(f.event.date))
            XCTAssertLessThanOrEqual(f.event.date - c, 15, Days.text(f.event.date))
            XCTAssertGreaterThan(f.event.date, f.event.start)      // after the last high observation
        }
        XCTAssertGreaterThan(found[1].uncertainty, 20)
    }

    /// A meadow left standing dries from July: NDVI 0.85 → 0.60 over seven weeks, five days
    /// apart, with noise upticks (0.015) and a rebound after rain. Gathered step by step, the fall
    /// is as deep as a cut and rebounds by more than its share: before `fall_days`, it was taken
    /// for a cut. The same depth in one step, and a fall across a 25-day cloudy gap,
    /// stay cuts.
    func testASlowDeclineOverWeeksIsNoCutButTheSameDepthInOneStepIs() {
        let start = Days.number("2024-06-20")!
        func series(_ values: [Double]) -> [IndexPoint] {
            values.enumerated().map { IndexPoint(day: start + 5 * $0.offset, value: $0.element, clear: true) }
        }
        let decline = [0.85, 0.86, 0.84, 0.82, 0.835, 0.80, 0.78, 0.795, 0.76, 0.74, 0.755, 0.72, 0.70, 0.71, 0.67, 0.65, 0.66, 0.62, 0.60, 0.64, 0.67, 0.66]
        let points = series(decline)
        XCTAssertGreaterThan(points[0].value - points.map(\.value).min()!, 0.2)
        XCTAssertEqual(CutDetector().detect(points).filter { $0.kind == .cut }.count, 0,
                       "\(CutDetector().detect(points).map { (Days.text($0.event.date), $0.event.magnitude) })")
        // Old behaviour, kept reachable: a fall of any duration.
        var patient = CutDetector(); patient.fallDays = 366
        XCTAssertGreaterThan(patient.detect(points).filter { $0.kind == .cut }.count, 0, "the series must be one a duration-blind detector takes for a cut")

        let cut = [0.85, 0.86, 0.84, 0.85, 0.62, 0.60, 0.64, 0.69, 0.74, 0.78, 0.81, 0.83]
        let found = CutDetector().detect(series(cut)).filter { $0.kind == .cut }
        XCTAssertEqual(found.map { Days.text($0.event.date) }, [Days.text(start + 17)])
        // The first low observation 25 days after the last high one (clouds in between).
        let gap = [(-10, 0.85), (-5, 0.86), (20, 0.60), (25, 0.64), (30, 0.69), (35, 0.74), (40, 0.78), (45, 0.81)]
            .map { IndexPoint(day: start + $0.0, value: $0.1, clear: true) }
        XCTAssertEqual(CutDetector().detect(gap).filter { $0.kind == .cut }.count, 1)
    }

    /// Haze over two acquisitions in a row (two relative orbits overlap: a field is seen two or
    /// three times in five days) that the screening missed: a fall of two observations back at
    /// the next one. No sward regrows that fast; a real cut regrows over weeks.
    func testAFallBackWithinAWeekIsNoCutButAFallThatRegrowsOverWeeksIs() {
        let start = Days.number("2024-05-10")!
        func series(_ values: [(Int, Double)]) -> [IndexPoint] { values.map { IndexPoint(day: start + $0.0, value: $0.1, clear: true) } }
        let haze = series([(0, 0.82), (2, 0.83), (5, 0.735), (7, 0.717), (10, 0.80), (12, 0.82), (15, 0.83), (17, 0.82), (20, 0.83)])
        XCTAssertEqual(CutDetector().detect(haze).filter { $0.kind == .cut }.count, 0)
        var patient = CutDetector(); patient.transientDays = 0; patient.quickDays = 0
        XCTAssertEqual(patient.detect(haze).filter { $0.kind == .cut }.count, 1, "without the rule the haze is a cut")
        let cut = series([(0, 0.82), (2, 0.83), (5, 0.55), (7, 0.57), (10, 0.60), (12, 0.65), (15, 0.70), (20, 0.75), (25, 0.80)])
        XCTAssertEqual(CutDetector().detect(cut).filter { $0.kind == .cut }.map { Days.text($0.event.date) }, [Days.text(start + 3)])
    }

    /// Where two orbits overlap a meadow is seen every 2–3 days. An unmown meadow's usable
    /// observations as the second generator's seed 7 with overlap has them: one acquisition 0.08
    /// lower and most of that back at the next, 3 days later — then the summer's decline goes
    /// on, so the fall is not back by three quarters within 8 days. A mown sward lies low while
    /// the hay dries and is taken: the cut beside it is back by a sixth in 3 days.
    func testAFallHalfBackAtTheNextAcquisitionDaysLaterIsNoCut() {
        let unmown = usable([("06-28", 0.725), ("07-01", 0.718), ("07-03", 0.722), ("07-06", 0.715), ("07-11", 0.719), ("07-16", 0.712),
                             ("07-18", 0.630), ("07-21", 0.690), ("07-23", 0.672), ("07-26", 0.668), ("07-28", 0.671), ("07-31", 0.655),
                             ("08-02", 0.651), ("08-05", 0.655), ("08-10", 0.643), ("08-12", 0.647), ("08-15", 0.642), ("08-17", 0.637),
                             ("08-20", 0.640), ("08-25", 0.635), ("08-30", 0.628), ("09-01", 0.631), ("09-04", 0.628)], year: 2023)
        XCTAssertEqual(CutDetector().detect(unmown).filter { $0.kind == .cut }.map { Days.text($0.event.date) }, [])
        var slow = CutDetector(); slow.quickDays = 0
        XCTAssertEqual(slow.detect(unmown).filter { $0.kind == .cut }.map { Days.text($0.event.date) }, ["2023-07-17"],
                       "without the rule the acquisition of 07-18 is a cut")
        let mown = usable([("06-28", 0.765), ("07-01", 0.741), ("07-03", 0.734), ("07-06", 0.745), ("07-11", 0.739), ("07-16", 0.742),
                           ("07-18", 0.44), ("07-21", 0.49), ("07-23", 0.52), ("07-26", 0.56), ("07-28", 0.60), ("07-31", 0.63),
                           ("08-02", 0.66), ("08-05", 0.69), ("08-10", 0.72), ("08-12", 0.73), ("08-15", 0.735), ("08-17", 0.74)], year: 2023)
        XCTAssertEqual(CutDetector().detect(mown).filter { $0.kind == .cut }.map { Days.text($0.event.date) }, ["2023-07-17"])
    }

    /// A mown meadow seen every 2–3 days (the second generator's seed 7 with overlap, parcel
    /// F00002): the cut leaves a green swath, the hay is taken days later, and an acquisition
    /// between lies a little higher. That is one cut in two steps, not two cuts; a second cut
    /// after the sward has grown back is a cut of its own.
    func testASwathTakenDaysAfterTheCutIsTheSameCut() {
        let cut = usable([("07-06", 0.850), ("07-11", 0.883), ("07-16", 0.877), ("07-18", 0.399), ("07-21", 0.458), ("07-23", 0.343),
                          ("07-26", 0.354), ("07-28", 0.370), ("07-31", 0.363), ("08-02", 0.391), ("08-05", 0.533), ("08-08", 0.60),
                          ("08-10", 0.66), ("08-13", 0.71), ("08-16", 0.75), ("08-18", 0.78), ("08-21", 0.80)], year: 2023)
        let found = CutDetector().detect(cut).filter { $0.kind == .cut }
        XCTAssertEqual(found.map { Days.text($0.event.date) }, ["2023-07-17"])
        XCTAssertEqual(found.first?.event.end, Days.number("2023-07-23"), "the cut's low is the hay's")
        XCTAssertEqual(found.first?.event.magnitude ?? 0, 0.883 - 0.343, accuracy: 1e-9)
        var split = CutDetector(); split.hayDays = 0
        XCTAssertEqual(split.detect(cut).filter { $0.kind == .cut }.count, 2, "without the rule the hay taken is a second cut")
        let again = cut + usable([("08-24", 0.81), ("08-26", 0.45), ("08-29", 0.47), ("08-31", 0.50), ("09-03", 0.56), ("09-06", 0.62),
                                  ("09-09", 0.68), ("09-12", 0.72)], year: 2023)
        XCTAssertEqual(CutDetector().detect(again).filter { $0.kind == .cut }.map { Days.text($0.event.date) }, ["2023-07-17", "2023-08-25"])
    }

    /// The haze line of a parcel whose SCL-clear observations are partly hazy (haze thicker on
    /// the brighter days) with three clouds SCL missed: fitted once, those points tilt and widen
    /// it; fitted again without the points more than two spreads above it, the line is closer
    /// to the clear ground's (blue = 0.7 red + 120) and a haze of 120 DN in blue stands further
    /// out of the spread.
    func testTheHazeLineIsRefittedWithoutTheHazyObservations() {
        var points: [(x: Double, y: Double)] = []
        for k in 0..<36 {
            let red = 300 + Double(k) * 20
            points.append((red, 0.7 * red + 120 + Double((k * 7) % 11 - 5) * 3))
        }
        for k in 0..<14 {
            let red = 500 + Double(k) * 40, lift = 40 + Double(k) * 15
            points.append((red + 0.62 * lift, 0.7 * red + 120 + lift))
        }
        for k in 0..<3 { points.append((2500 + Double(k) * 40, 2650 + Double(k) * 30)) }
        let once = ClearLine.fit(points)!, line = ClearLine(points)!
        XCTAssertLessThan(abs(line.slope - 0.7), abs(once.slope - 0.7) / 2)
        XCTAssertLessThan(abs(line.intercept - 120), abs(once.intercept - 120) / 2)
        XCTAssertLessThan(line.spread, once.spread)
        let hazy = (x: 400 + 0.62 * 120, y: 0.7 * 400 + 120 + 120)
        XCTAssertGreaterThan(line.residual(x: hazy.x, y: hazy.y) / line.spread, 1.15 * once.residual(x: hazy.x, y: hazy.y) / once.spread)
    }

    /// A sparse series (cloudy spring and summer: observations 5 to 30 days apart) of a meadow
    /// cut on 2024-08-17 (a generated fixture parcel's usable observations). Differences across
    /// long gaps hold green-up and earlier cuts; counted as noise they raised the depth a cut needs
    /// above this one's 0.17. The noise of close triples is the observations' own.
    func testASparseSeriesDoesNotLookNoisyAndKeepsItsCut() {
        let series: [(String, Double)] = [
            ("01-11", 0.377), ("01-16", 0.414), ("01-21", 0.428), ("01-26", 0.433), ("01-31", 0.386), ("02-15", 0.452),
            ("02-25", 0.435), ("03-06", 0.421), ("03-16", 0.459), ("03-21", 0.403), ("03-26", 0.524), ("03-31", 0.532),
            ("04-15", 0.616), ("04-25", 0.641), ("05-10", 0.732), ("06-09", 0.663), ("06-19", 0.703), ("06-24", 0.673),
            ("07-24", 0.629), ("08-03", 0.678), ("08-18", 0.507), ("08-23", 0.531), ("09-12", 0.653), ("09-17", 0.713),
            ("10-02", 0.684), ("10-17", 0.691), ("11-06", 0.646), ("11-11", 0.616), ("11-16", 0.583), ("11-21", 0.525),
            ("11-26", 0.495), ("12-11", 0.448), ("12-16", 0.351), ("12-26", 0.417)]
        let points = usable(series, year: 2024)
        XCTAssertLessThan(CutDetector.noise(points), 0.035)
        let cut = Days.number("2024-08-17")!
        let found = CutDetector().detect(points).filter { $0.kind == .cut && ($0.event.date - cut >= -3) && ($0.event.date - cut <= 15) }
        XCTAssertEqual(found.count, 1, "\(CutDetector().detect(points).map { Days.text($0.event.date) })")
        // Too few close triples to tell: only the least depth holds.
        XCTAssertEqual(CutDetector.noise(Array(points[12...17])), 0)
    }

    /// A cloudy season's usable observations (the second generator's cloudy variant, meadow cut
    /// on 4 August): of its 5 close triples, three hold the cut and its regrowth, so their spread
    /// made the parcel look noisy (0.13) and the depth a cut needs (4×) exceeded the cut's 0.51.
    /// Too few triples to tell noise from events: only `min_drop` holds, and the cut is found.
    func testTheFewCloseTriplesOfACloudySeasonDoNotMakeItsCutsNoise() {
        let series: [(String, Double)] = [
            ("03-18", 0.762), ("04-17", 0.794), ("05-17", 0.870), ("06-06", 0.871), ("06-26", 0.629), ("07-21", 0.881),
            ("07-31", 0.894), ("08-10", 0.384), ("08-20", 0.534), ("08-30", 0.744), ("09-04", 0.731), ("09-09", 0.880),
            ("10-29", 0.606), ("11-18", 0.632), ("11-23", 0.620), ("12-23", 0.601), ("12-28", 0.520)]
        let points = usable(series, year: 2023)
        XCTAssertEqual(CutDetector.noise(points), 0)
        let cut = Days.number("2023-08-04")!
        let found = CutDetector().detect(points).filter { $0.kind == .cut && (-3...15).contains($0.event.date - cut) }
        XCTAssertEqual(found.count, 1, "\(CutDetector().detect(points).map { Days.text($0.event.date) })")
    }

    /// One satellite, every 10 days (Sentinel-2 in 2022–2024): a meadow cut on 8 June, 1 August
    /// and 18 September, as lake read it from the second generator's `--one-satellite` lake, with
    /// an unflagged haze on 22 May left in. At this revisit every cut touches three of the
    /// parcel's 16 close triples (its low, and the low at either end of the next ones): their
    /// spread made the noise 0.175, so a cut needed a fall of 0.70 and all three were lost (the
    /// meadow red). Triples explained by an event's low leave the noise estimate.
    func testAtATenDayRevisitTheCutsThemselvesAreNotNoise() {
        let series: [(String, Double)] = [
            ("01-02", 0.518), ("02-01", 0.483), ("03-23", 0.677), ("04-12", 0.808), ("04-22", 0.818), ("05-12", 0.836),
            ("05-22", 0.592), ("06-01", 0.815), ("06-11", 0.486), ("06-21", 0.569), ("07-01", 0.785), ("07-11", 0.833),
            ("07-21", 0.831), ("08-10", 0.407), ("08-20", 0.573), ("08-30", 0.771), ("09-09", 0.834), ("09-19", 0.463),
            ("09-29", 0.51), ("10-19", 0.669), ("11-08", 0.661)]
        let points = usable(series, year: 2023)
        XCTAssertLessThan(CutDetector.noise(points), 0.03)
        let found = CutDetector().detect(points).filter { $0.kind == .cut }.map(\.event.date)
        for date in ["2023-06-08", "2023-08-01", "2023-09-18"] {
            let cut = Days.number(date)!
            XCTAssertTrue(found.contains { (-3...15).contains($0 - cut) }, "\(date): \(found.map(Days.text))")
        }
        // A noisy parcel stays noisy: a year of a meadow cut twice, every 10 days, with ±0.05 on
        // every observation; its dips are back at once, so they count as noise.
        let cuts = [Days.number("2024-06-01")!, Days.number("2024-08-01")!]
        let noisy = meadow(cuts: cuts, every: 10, from: "2024-01-01", to: "2024-12-31").enumerated().map {
            IndexPoint(day: $0.element.0, value: $0.element.1 + ($0.offset % 2 == 0 ? 0.05 : -0.05), clear: true)
        }
        XCTAssertGreaterThan(CutDetector.noise(noisy), 0.04)
    }

    /// Sen2Cor takes bright bare soil and drying hay for cloud: SCL flags the low right after a
    /// cut. Its bands say otherwise (blue on the parcel's clear line, as uniform as usual, NIR
    /// and SWIR not dark), so the observation is clear again; a real cloud (bright blue, patchy),
    /// a shadow (dark NIR and SWIR) and a flagged observation without a blue band stay out.
    func testSCLsFalseCloudOnACutIsOverruledByTheBands() {
        let cut = Days.number("2024-06-12")!
        var obs = meadow(cuts: [cut]).map { observation($0.0, ndvi: $0.1) }
        let low = obs.firstIndex { $0.day > cut }!
        obs[low] = observation(obs[low].day, ndvi: obs[low].value(.ndvi)!, clear: false)
        let cloud = low + 8, shade = low + 12
        obs[cloud] = observation(obs[cloud].day, ndvi: 0.4, clear: false, haze: 2500, blueStd: 1500)
        obs[shade] = observation(obs[shade].day, ndvi: 0.7, clear: false, shade: 0.5)
        var verdicts = ObservationScreen().screen(obs)
        XCTAssertEqual(verdicts[low], .clear)
        XCTAssertEqual(verdicts[cloud], .scl)
        XCTAssertEqual(verdicts[shade], .scl)
        var screen = ObservationScreen()
        screen.overruleSCL = false
        XCTAssertEqual(screen.screen(obs)[low], .scl)
        // Without blue there is no line to judge by: SCL stands.
        let noBlue = obs.map { o in var means = o.means; means[0] = nil; return Observed(day: o.day, clear: o.clear, means: means, kind: o.kind) }
        verdicts = ObservationScreen().screen(noBlue)
        XCTAssertEqual(verdicts[low], .scl)
    }

    /// A lake of red and NIR alone (the JRC API's NDVI bands): no blue for the haze line, no
    /// SWIR for the shadow test. A shadow darkens red with NIR; a cut bares brighter ground in
    /// red as it takes NIR away. Between its neighbours, the shadow is told from the cut by red.
    func testWithRedAndNIROnlyAShadowIsToldFromACutByRed() {
        let cut = Days.number("2024-06-12")!
        var obs = meadow(cuts: [cut], every: 10).map { observation($0.0, ndvi: $0.1) }
        let shaded = obs.firstIndex { $0.day > cut + 40 }!
        obs[shaded] = observation(obs[shaded].day, ndvi: obs[shaded].value(.ndvi)!, shade: 0.5)
        // Half as lit in red, a third in NIR: NDVI falls as much as a cut's.
        var means = obs[shaded].means
        means[2] = means[2].map { $0 * 0.65 }
        obs[shaded] = Observed(day: obs[shaded].day, clear: true, means: means, kind: .optical)
        obs = obs.map { o in var m = o.means; m[0] = nil; m[3] = nil; return Observed(day: o.day, clear: o.clear, means: m, kind: o.kind) }
        XCTAssertLessThan(obs[shaded].value(.ndvi)!, obs[shaded - 1].value(.ndvi)! - 0.08)
        let verdicts = ObservationScreen().screen(obs)
        XCTAssertEqual(verdicts[shaded], .shadow)
        let low = obs.firstIndex { $0.day > cut }!
        XCTAssertEqual(verdicts[low], .clear, "the cut's low")
        XCTAssertEqual(verdicts.filter { $0 != .clear }.count, 1)
    }

    /// A Mediterranean meadow (the second generator's `--dry-summer` lake, left standing) dries
    /// from June to August, 0.85 → 0.29, 0.20 of it within ten days, and greens again after the
    /// autumn rains. The fast part passed `fall_days` and the autumn regrowth "confirmed" it: a
    /// cut on 23 June. The fast part must be 60 % of the fall (`fastShare`). A real cut in the same curve stays.
    func testAMeadowDryingForWeeksIsNotCut() {
        let series: [(String, Double)] = [
            ("05-17", 0.860), ("05-22", 0.841), ("05-27", 0.846), ("06-01", 0.843), ("06-16", 0.747), ("06-21", 0.693),
            ("06-26", 0.561), ("07-01", 0.495), ("07-06", 0.453), ("07-11", 0.367), ("07-16", 0.349), ("07-21", 0.325),
            ("07-26", 0.309), ("07-31", 0.319), ("08-05", 0.306), ("08-10", 0.286), ("08-15", 0.291), ("08-20", 0.317),
            ("08-25", 0.310), ("09-04", 0.304), ("09-09", 0.323), ("09-14", 0.347), ("09-19", 0.382), ("09-24", 0.430),
            ("09-29", 0.489), ("10-04", 0.566), ("10-09", 0.625), ("10-29", 0.699), ("11-03", 0.763)]
        let points = usable(series, year: 2023)
        XCTAssertEqual(CutDetector().detect(points).filter { $0.kind == .cut }.map { Days.text($0.event.date) }, [])
        var any = CutDetector()
        any.fastShare = 0
        XCTAssertEqual(any.detect(points).filter { $0.kind == .cut }.count, 1, "without the share, the drying is a cut")
        // Mown on 20 May: the cut's fall is one step.
        var mown = points
        for k in mown.indices where (Days.number("2023-05-22")!...Days.number("2023-06-01")!).contains(mown[k].day) {
            mown[k] = IndexPoint(day: mown[k].day, value: mown[k].value - 0.4 + 0.1 * Double(k - 1), clear: true)
        }
        let cut = Days.number("2023-05-20")!
        XCTAssertEqual(CutDetector().detect(mown).filter { $0.kind == .cut && (-3...15).contains($0.event.date - cut) }.count, 1)
    }

    /// A Mediterranean meadow's last cut, on 15 June, just before the summer: it stays low with
    /// the area's meadows until the autumn rains. Alone, that looks like a harvest (a fall that
    /// stays low while observations continue); with the area's season dormant, it is a cut.
    func testACutBeforeTheDrySummerIsNotAHarvest() {
        var points: [IndexPoint] = [], season: [Int: Double] = [:]
        let cut = Days.number("2023-06-15")!
        for day in stride(from: Days.number("2023-04-02")!, through: Days.number("2023-09-20")!, by: 5) {
            let v = day < cut ? 0.82 : 0.33 + 0.02 * Double((day / 5) % 2)
            points.append(IndexPoint(day: day, value: v, clear: true))
            season[day] = day < cut + 10 ? 0.8 - 0.3 * Double(max(0, day - cut + 20)) / 30 : 0.32
        }
        let alone = CutDetector().detect(points)
        XCTAssertEqual(alone.filter { $0.kind == .cut }.count, 0)
        XCTAssertEqual(alone.filter { $0.kind == .harvest }.count, 1)
        let found = CutDetector().detect(points, season: SeasonLevels(season)).filter { $0.kind == .cut }
        XCTAssertEqual(found.count, 1)
        XCTAssertTrue((-3...15).contains(found[0].event.date - cut), Days.text(found[0].event.date))
    }

    /// An area's season is the median of its sampled parcels of the selection per day, where at
    /// least `minParcels` saw the day; a parcel of another area does not see it.
    func testTheSeasonIsTheMedianOfTheAreasSelectedParcels() {
        var regional = RegionalContext()
        let day = Days.number("2023-07-15")!, other = Days.number("2023-07-20")!
        for pid in Int64(1)...7 { regional.areaForTesting(pid: pid, area: 1) }
        regional.areaForTesting(pid: 99, area: 2)
        let samples: [(pid: Int64, values: [(Int, Double)])] = (Int64(1)...7).map { pid in
            (pid, [(day, 0.25 + 0.01 * Double(pid))] + (pid <= 5 ? [(other, 0.8)] : []))
        }
        regional.learnSeason(samples)
        XCTAssertEqual(regional.season(for: 3)[day]!, 0.29, accuracy: 1e-12)
        XCTAssertNil(regional.season(for: 3)[other], "5 parcels are too few")
        XCTAssertTrue(regional.season(for: 99).isEmpty)
        XCTAssertEqual(regional.seasonDays, 1)
        XCTAssertTrue(RegionalContext.below([day: 0.29, other: 0.3], 0.45, from: day - 1, to: other))
        XCTAssertFalse(RegionalContext.below([day: 0.29, other: 0.8, other + 5: 0.8], 0.45, from: day, to: other + 5))
    }

    /// The regional learning's grouping by area and day (a counting sort) gives what a plain
    /// table of (area, day) → values gives: every list with at least `minParcels` values, each
    /// in the samples' order, parcels of no area left out, days of several years apart kept apart.
    func testTheAreaDayGroupingMatchesATableOfLists() {
        var regional = RegionalContext()
        var seed: UInt64 = 0x5EED
        func next(_ n: Int) -> Int { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return Int((seed >> 33) % UInt64(n)) }
        for pid in Int64(1)...300 where pid % 37 != 0 { regional.areaForTesting(pid: pid, area: Int64(next(5)) * 1_000_003 - 7) }
        let base = Days.number("2022-03-01")!
        let samples: [(pid: Int64, values: [(Int, Double)])] = (Int64(1)...300).map { pid in
            (pid, (0..<next(30)).map { _ in (base + (next(2) == 0 ? next(40) : 730 + next(40)), Double(next(1000)) / 1000) })
        }
        var table: [String: [Double]] = [:]
        for (pid, values) in samples where pid % 37 != 0 {
            for (day, v) in values { table["\(regional.areaForTesting(pid: pid)!)/\(day)", default: []].append(v) }
        }
        let expected = table.filter { $0.value.count >= regional.minParcels }
        let lists = regional.byAreaAndDay(samples)
        XCTAssertEqual(lists.count, expected.count)
        XCTAssertGreaterThan(lists.count, 100)
        XCTAssertLessThan(expected.count, table.count, "some lists are below minParcels")
        for list in lists { XCTAssertEqual(list.values, expected["\(list.area)/\(list.day)"], "\(list.area)/\(list.day)") }
        XCTAssertTrue(regional.byAreaAndDay([(pid: 37, values: [(base, 0.5)])]).isEmpty)
        XCTAssertTrue(regional.byAreaAndDay([]).isEmpty)
    }

    /// A meadow ploughed on 10 June and resown: down to bare soil (0.18), green again within
    /// 50 days, so its fall "regrew" like a cut's. A mower leaves stubble; a fall to below
    /// `soilLevel` is ploughing. The same fall to 0.35 is a cut.
    func testAFallToBareSoilIsPloughingNotACut() {
        func series(low: Double) -> [IndexPoint] {
            stride(from: Days.number("2023-04-02")!, through: Days.number("2023-10-20")!, by: 5).map { day in
                let plough = Days.number("2023-06-10")!
                let v = day < plough ? 0.84 : low + (0.84 - low) * min(1, Double(day - plough) / 60)
                return IndexPoint(day: day, value: v, clear: true)
            }
        }
        let ploughed = CutDetector().detect(series(low: 0.18))
        XCTAssertEqual(ploughed.filter { $0.kind == .cut }.count, 0)
        XCTAssertEqual(ploughed.filter { $0.kind == .harvest }.count, 1)
        XCTAssertEqual(CutDetector().detect(series(low: 0.35)).filter { $0.kind == .cut }.count, 1)
        var off = CutDetector()
        off.soilLevel = 0
        XCTAssertEqual(off.detect(series(low: 0.18)).filter { $0.kind == .cut }.count, 1)
    }

    /// A meadow "bare" (NDVI below 0.35) from July to September is an arable curve where the
    /// area's meadows were green, and the season's where they were as dry.
    func testABareSpellSharedByTheAreasMeadowsIsTheSeasons() {
        let start = Days.number("2023-07-05")!, end = Days.number("2023-09-10")!
        let spell = Event(start: start, date: (start + end) / 2, end: end, valueStart: 0.3, valueEnd: 0.3, magnitude: Double(end - start), confidence: 1)
        var dry: [Int: Double] = [:], green: [Int: Double] = [:]
        for day in stride(from: start - 30, through: end + 30, by: 5) { dry[day] = day < start ? 0.7 : 0.31; green[day] = 0.75 }
        XCTAssertTrue(SpellDetector.shared(spell, season: SeasonLevels(dry), below: 0.35))
        XCTAssertFalse(SpellDetector.shared(spell, season: SeasonLevels(green), below: 0.35))
        XCTAssertFalse(SpellDetector.shared(spell, season: [:], below: 0.35), "no season known: the spell counts")
        XCTAssertFalse(SpellDetector.shared(spell, season: [start + 5: 0.3], below: 0.35), "one day is not a season")
    }

    /// A September cut seen at its low, then only through haze (the second generator's
    /// one-satellite lake, a meadow cut on 10 September): without the hazy observation nothing
    /// after the low shows regrowth, so the fall was unconfirmed and, after 15 September, no cut.
    /// Haze only lowers NDVI: the hazy 0.58 proves the sward regrew from 0.43.
    func testAHazyObservationAfterALowProvesRegrowth() {
        let series: [(String, Double)] = [
            ("06-21", 0.80), ("07-01", 0.79), ("07-31", 0.35), ("08-10", 0.66), ("08-20", 0.754), ("08-30", 0.782), ("09-19", 0.430)]
        let points = usable(series, year: 2023)
        let cut = Days.number("2023-09-10")!
        func found(_ floors: [IndexPoint]) -> [Int] {
            CutDetector().detect(points, floors: floors).filter { $0.kind == .cut && (-3...15).contains($0.event.date - cut) }.map(\.event.date)
        }
        XCTAssertEqual(found([]), [])
        let hazy = IndexPoint(day: Days.number("2023-09-29")!, value: 0.584, clear: false)
        XCTAssertEqual(found([hazy]).count, 1)
        // A hazy observation before the low proves nothing.
        XCTAssertEqual(found([IndexPoint(day: Days.number("2023-09-09")!, value: 0.7, clear: false)]), [])
    }

    /// Haze adds light to NIR, but the canopy under it varies a little between acquisitions:
    /// an unflagged haze whose NIR is 3 % below the line through its neighbours' is still haze
    /// (a cut takes 20–50 % of NIR away). Without blue, at a 10-day revisit (no dip rule).
    func testHazeWhoseNIRIsALittleBelowItsNeighboursIsHaze() {
        var obs = meadow(cuts: [], every: 10).map { observation($0.0, ndvi: $0.1) }
        let hazy = obs.count / 2
        obs[hazy] = observation(obs[hazy].day, ndvi: 0.78, haze: 500)
        obs = obs.map { o in var means = o.means; means[0] = nil; return Observed(day: o.day, clear: o.clear, means: means, kind: o.kind) }
        var means = obs[hazy].means
        let line = (obs[hazy - 1].means[2]! + obs[hazy + 1].means[2]!) / 2
        means[2] = 0.97 * line
        obs[hazy] = Observed(day: obs[hazy].day, clear: true, means: means, kind: obs[hazy].kind)
        XCTAssertLessThan(obs[hazy].value(.ndvi)!, 0.78 - 0.08)
        XCTAssertEqual(ObservationScreen().screen(obs)[hazy], .haze)
        // A cut's NIR (a quarter below) is not.
        means[2] = 0.75 * line
        obs[hazy] = Observed(day: obs[hazy].day, clear: true, means: means, kind: obs[hazy].kind)
        XCTAssertEqual(ObservationScreen().screen(obs)[hazy], .clear)
    }

    /// Coherence pairs every 6 days: a standing sward near 0.2 (pair-to-pair noise ±0.02), rain
    /// pairs at 0.08, the pair of the cut decorrelated, two high pairs after it.
    func coherencePairs(cut: Int?, rain: [Int] = [], from: String = "2024-04-02", to: String = "2024-10-30", strength: Double = 1) -> [Observed] {
        var out: [Observed] = []
        var day = Days.number(from)!, k = 0
        while day < Days.number(to)! {
            var v = 0.2 + (k % 3 == 0 ? 0.02 : k % 3 == 1 ? -0.015 : 0)
            if rain.contains(where: { $0 > day - 6 && $0 <= day }) { v = 0.08 }
            if let cut {
                if cut > day - 6 && cut <= day { v = 0.06 }
                else if day - cut > 0 && day - cut <= 6 { v = 0.2 + 0.28 * strength }
                else if day - cut > 6 && day - cut <= 12 { v = 0.2 + 0.16 * strength }
            }
            out.append(Observed(day: day, clear: nil, means: [nil, nil, nil, nil, v, v * 0.8, nil], kind: .coherence))
            day += 6; k += 1
        }
        return out
    }

    func testCoherenceFindsACutInACloudySpellThatSentinel2CannotSee() throws {
        let options = try MarkerOptions.load(path: MarkerTests.optionsFolder.appendingPathComponent("mowing.yaml").path).options
        let cut = Days.number("2024-06-20")!
        // Sentinel-2 every 5 days, but nothing usable from 06-05 to 07-25 (the sward has regrown).
        let optical = meadow(cuts: [cut]).filter { $0.0 < Days.number("2024-06-05")! || $0.0 > Days.number("2024-07-25")! }
            .map { observation($0.0, ndvi: $0.1) }
        let all = (optical + coherencePairs(cut: cut, rain: [Days.number("2024-08-14")!])).sorted { $0.day < $1.day }
        let engine = MarkerEngine(options: options)
        let (markers, decision) = engine.analyse(all, year: 2024, crop: "6100", names: ["grassland"])
        let cuts = markers.filter { $0.detector == "mowing" }
        XCTAssertEqual(cuts.count, 1, "\(markers.map { ($0.detector, Days.text($0.event.date)) })")
        XCTAssertEqual(cuts.first?.details["seen_by"], "coherence")
        let date = try XCTUnwrap(cuts.first?.event.date)
        XCTAssertTrue((-3...15).contains(date - cut), Days.text(date))
        XCTAssertEqual(decision?.colour, "green", "\(cuts.map { ($0.event.confidence, $0.event.magnitude, $0.details) }) \(decision?.reasons ?? [])")
        // A weaker rise alone (rain, wind and grazing lift coherence too) is not enough for green:
        // yellow, saying why.
        let weak = (optical + coherencePairs(cut: cut, rain: [Days.number("2024-08-14")!], strength: 0.75)).sorted { $0.day < $1.day }
        let (weakMarkers, weakDecision) = engine.analyse(weak, year: 2024, crop: "6100", names: ["grassland"])
        XCTAssertEqual(weakMarkers.filter { $0.detector == "mowing" }.map { $0.details["seen_by"] }, ["coherence"])
        XCTAssertEqual(weakDecision?.colour, "yellow")
        XCTAssertTrue(weakDecision?.reasons.first?.contains("coherence only") ?? false, "\(weakDecision?.reasons ?? [])")
        // The same rise in a field its optical curve shows bare for six weeks (a maize field
        // declared as meadow, sown in late May): tillage or sowing, no cut; red for the bare spell.
        let arable = optical.map { o in o.day < Days.number("2024-05-20")! && o.day >= Days.number("2024-04-01")! ? observation(o.day, ndvi: 0.2) : o }
        let (arableMarkers, arableDecision) = engine.analyse((arable + coherencePairs(cut: cut)).sorted { $0.day < $1.day }, year: 2024, crop: "6100", names: ["grassland"])
        XCTAssertEqual(arableMarkers.filter { $0.detector == "mowing" }.count, 0, "\(arableMarkers.map { ($0.detector, $0.details) })")
        XCTAssertEqual(arableDecision?.colour, "red")
        XCTAssertTrue(arableDecision?.reasons.first?.hasPrefix("bare for 30 days") ?? false, "\(arableDecision?.reasons ?? [])")
        // Without coherence the same parcel has a hole a cut could hide in: yellow, not green.
        let opticalOnly = engine.analyse(optical, year: 2024, crop: "6100", names: ["grassland"])
        XCTAssertEqual(opticalOnly.markers.filter { $0.detector == "mowing" }.count, 0)
        XCTAssertEqual(opticalOnly.decision?.colour, "yellow")
    }

    /// A cut on 06-10 in a cloudy spell from 06-05 to 07-05, regrowing slowly (a dry June): the
    /// first clear observation after it is still low, so Sentinel-2 sees the cut but only says it
    /// fell somewhere in those 30-odd days, and dates it 3 days before that observation (weeks late).
    /// The coherence rise inside the gap says when: the cut is dated by it. Where no rise lies in
    /// the gap the optical date stays.
    func testACutSeenAcrossALongCloudyGapIsDatedByCoherenceInsideTheGap() throws {
        let options = try MarkerOptions.load(path: MarkerTests.optionsFolder.appendingPathComponent("mowing.yaml").path).options
        let engine = MarkerEngine(options: options)
        let cut = Days.number("2024-06-10")!, gapStart = Days.number("2024-06-05")!, firstLow = Days.number("2024-07-05")!
        let optical = meadow(cuts: []).filter { $0.0 <= gapStart || $0.0 >= firstLow }
            .map { day, v in observation(day, ndvi: day >= firstLow ? v - 0.30 * exp(-Double(day - firstLow) / 8) : v) }
        func mowing(_ obs: [Observed]) -> [Marker] {
            engine.analyse(obs.sorted { $0.day < $1.day }, year: 2024, crop: "6100", names: ["grassland"]).markers.filter { $0.detector == "mowing" }
        }
        // The observations every 5 days from 03-01: the last high one before the gap and the first low one after it.
        let high = try XCTUnwrap(optical.last { $0.day <= gapStart }?.day), low = try XCTUnwrap(optical.first { $0.day >= firstLow }?.day)
        let alone = mowing(optical)
        XCTAssertEqual(alone.map(\.event.date), [low - 3], "\(alone.map { (Days.text($0.event.date), $0.details) })")
        XCTAssertGreaterThan(low - 3 - cut, 15)
        XCTAssertNil(alone.first?.details["dated_by"])
        let both = mowing(optical + coherencePairs(cut: cut))
        XCTAssertEqual(both.count, 1, "\(both.map { (Days.text($0.event.date), $0.details) })")
        let date = try XCTUnwrap(both.first?.event.date)
        XCTAssertTrue((-3...15).contains(date - cut), Days.text(date))
        XCTAssertEqual(both.first?.details["dated_by"], "coherence")
        XCTAssertEqual(both.first?.details["uncertainty_days"], String(low - high))
        // Pairs that rise only after the first low observation (a cut later in July) date nothing.
        let late = mowing(optical + coherencePairs(cut: Days.number("2024-07-12")!))
        XCTAssertTrue(late.contains { $0.event.date == low - 3 && $0.details["dated_by"] == nil }, "\(late.map { (Days.text($0.event.date), $0.details) })")
    }

    /// A meadow never mown, with a Sentinel-2 hole from 06-05 to 07-25: yellow from Sentinel-2
    /// alone (a cut could hide there), red where quiet coherence pairs watched the whole hole,
    /// and still yellow where a pair in the hole rose a little (not enough for a cut, too much to
    /// rule one out).
    func testQuietCoherenceClosesAHoleAndAWeakRiseKeepsItOpen() throws {
        let options = try MarkerOptions.load(path: MarkerTests.optionsFolder.appendingPathComponent("mowing.yaml").path).options
        let engine = MarkerEngine(options: options)
        let optical = meadow(cuts: []).filter { $0.0 < Days.number("2024-06-05")! || $0.0 > Days.number("2024-07-25")! }
            .map { observation($0.0, ndvi: $0.1) }
        XCTAssertEqual(engine.analyse(optical, year: 2024, crop: "6100", names: ["grassland"]).decision?.colour, "yellow")
        let quiet = engine.analyse((optical + coherencePairs(cut: nil)).sorted { $0.day < $1.day }, year: 2024, crop: "6100", names: ["grassland"])
        XCTAssertEqual(quiet.decision?.colour, "red", "\(quiet.decision?.reasons ?? [])")
        var weak = coherencePairs(cut: nil)
        let k = try XCTUnwrap(weak.firstIndex { $0.day >= Days.number("2024-06-25")! })
        weak[k] = Observed(day: weak[k].day, clear: nil, means: [nil, nil, nil, nil, 0.27, 0.2, nil], kind: .coherence)
        let open = engine.analyse((optical + weak).sorted { $0.day < $1.day }, year: 2024, crop: "6100", names: ["grassland"])
        XCTAssertEqual(open.markers.filter { $0.detector == "mowing" }.count, 0)
        XCTAssertEqual(open.decision?.colour, "yellow")
    }

    /// The pair of a cut decorrelates, so after such a dip a smaller rise is a cut; the same
    /// small rise without the dip before it is not.
    func testAfterTheDecorrelatedPairOfACutASmallerRiseIsEnough() {
        func series(dip: Bool) -> [IndexPoint] {
            coherencePairs(cut: nil).enumerated().map { k, o in
                var v = o.coherence!
                if k == 12 && dip { v = 0.06 }
                if k == 13 { v = 0.27 }      // 0.07 above the level: under the 0.1 a cut needs alone
                return IndexPoint(day: o.day, value: v, clear: true)
            }
        }
        XCTAssertEqual(CoherenceCutDetector().detect(series(dip: true)).count, 1)
        XCTAssertEqual(CoherenceCutDetector().detect(series(dip: false)).count, 0)
    }

    /// A thin cloud SCL missed, in a lake with red and NIR only (no blue for the haze line): red
    /// at 0.25 reflectance, six times the meadow's usual, is cloud (`bright`) and no cut; a real
    /// cut (red doubled, NIR down by a third) stays clear and is found.
    func testRedBrighterThanLandIsCloudWithoutABlueBand() throws {
        let options = try MarkerOptions.load(path: MarkerTests.optionsFolder.appendingPathComponent("mowing.yaml").path).options
        let engine = MarkerEngine(options: options)
        let cut = Days.number("2024-07-20")!
        func redNIR(_ day: Int, _ ndvi: Double) -> Observed {
            let o = observation(day, ndvi: ndvi)
            return Observed(day: day, clear: true, means: [nil, o.means[1], o.means[2], nil, nil, nil, nil])
        }
        var obs = meadow(cuts: [cut]).map { redNIR($0.0, $0.1) }
        let cloudy = obs.firstIndex { $0.day >= Days.number("2024-05-30")! }!
        obs[cloudy] = Observed(day: obs[cloudy].day, clear: true, means: [nil, 2500, 3900, nil, nil, nil, nil])   // NDVI 0.22
        let verdicts = engine.screened(obs, year: 2024, regional: []).verdicts
        XCTAssertEqual(verdicts[cloudy], .bright)
        XCTAssertEqual(verdicts.filter { $0 == .bright }.count, 1)
        let cuts = engine.analyse(obs, year: 2024, crop: "6100", names: ["grassland"]).markers.filter { $0.detector == "mowing" }
        XCTAssertEqual(cuts.count, 1, "\(cuts.map { Days.text($0.event.date) })")
        XCTAssertTrue((-3...15).contains(try XCTUnwrap(cuts.first).event.date - cut))
        // A thinner cloud between neighbours 10 days either side (too far for the dip rule), not
        // bright enough for that test: red ×2.5 while NIR keeps 90 % is haze, not a cut.
        let thin = obs.first { $0.day >= Days.number("2024-09-10")! }!.day
        var sparse = obs.filter { abs($0.day - thin) >= 10 || $0.day == thin }
        let k = sparse.firstIndex { $0.day == thin }!
        let (red, nir) = (sparse[k].means[1]!, sparse[k].means[2]!)
        sparse[k] = Observed(day: thin, clear: true, means: [nil, 2.5 * red, 0.9 * nir, nil, nil, nil, nil])
        XCTAssertEqual(engine.screened(sparse, year: 2024, regional: []).verdicts[k], .haze)
    }

    /// 12-day pairs (Sentinel-1A alone, 2022-2024) span a sward's regrowth: the same rise that is
    /// a cut in 6-day pairs is none in 12-day ones, and quiet 12-day pairs close no Sentinel-2 hole;
    /// an option file can let them in.
    func testTwelveDayCoherenceShowsNeitherACutNorItsAbsence() throws {
        let cut = Days.number("2024-06-20")!
        let six = coherencePairs(cut: cut).map { IndexPoint(day: $0.day, value: $0.coherence!, clear: true) }
        XCTAssertEqual(CoherenceCutDetector().detect(six).count, 1)
        // Every other pair left out: 12 days apart, the rise is still in the series.
        let high = six.indices.max { six[$0].value < six[$1].value }!
        let twelve = six.enumerated().filter { $0.offset % 2 == high % 2 }.map(\.element)
        XCTAssertTrue(twelve.contains { $0.value > 0.3 })
        XCTAssertEqual(CoherenceCutDetector().detect(twelve).count, 0)
        var allowed = CoherenceCutDetector(); allowed.maxPairDays = 12
        XCTAssertEqual(allowed.detect(twelve).count, 1)
        let quiet = coherencePairs(cut: nil).map { IndexPoint(day: $0.day, value: $0.coherence!, clear: true) }
        let (a, b) = (Days.number("2024-06-01")!, Days.number("2024-07-10")!)
        XCTAssertTrue(CoherenceCutDetector().watcher(quiet)(a, b))
        XCTAssertFalse(CoherenceCutDetector().watcher(quiet.enumerated().filter { $0.offset % 2 == 1 }.map(\.element))(a, b))
        // The option file's key reaches the detector.
        let options = try MarkerOptions.load(path: MarkerTests.optionsFolder.appendingPathComponent("mowing.yaml").path).options
        XCTAssertEqual(CoherenceCutDetector(options.detectors.first { $0.type == "cut" }!).maxPairDays, 7)
    }

    /// A lake without SCL histograms (band statistics only): the shipped mowing file requires
    /// SCL, yet the parcel is not left with "0 clear observations" — lake's own tests screen it
    /// (thick cloud by its blue brightness, thin cloud as haze), the cut is found, and the
    /// decision says the observations had no SCL.
    func testWithoutSCLLakesOwnTestsScreenAndTheDecisionSaysSo() throws {
        let options = try MarkerOptions.load(path: MarkerTests.optionsFolder.appendingPathComponent("mowing.yaml").path).options
        let engine = MarkerEngine(options: options)
        let cut = Days.number("2024-06-20")!
        var observations = meadow(cuts: [cut]).map { observation($0.0, ndvi: $0.1, clear: nil) }
        // Every third observation under thick cloud: dark NDVI, blue at 0.35 reflectance.
        for k in observations.indices where k % 3 == 1 && observations[k].day != cut + 5 {
            observations[k] = Observed(day: observations[k].day, clear: nil, means: [3500, 3400, 3700, 3000, nil, nil, 40])
        }
        let (markers, decision) = engine.analyse(observations, year: 2024, crop: "6100", names: ["grassland"])
        let cuts = markers.filter { $0.detector == "mowing" }
        XCTAssertEqual(cuts.count, 1, "\(markers.map { ($0.detector, Days.text($0.event.date)) })")
        XCTAssertTrue((-3...15).contains(try XCTUnwrap(cuts.first).event.date - cut))
        XCTAssertEqual(decision?.colour, "green")
        XCTAssertTrue(decision?.reasons.contains { $0.hasPrefix("no SCL histogram") } ?? false, "\(decision?.reasons ?? [])")
        let verdicts = engine.screened(observations, year: 2024, regional: []).verdicts
        XCTAssertEqual(verdicts.filter { $0 == .bright }.count, observations.filter { $0.means[0]! > 2000 }.count)
        // Where SCL exists for some observations, those without it stay out (as the file asks).
        var mixed = observations
        mixed[0] = observation(mixed[0].day, ndvi: 0.5, clear: true)
        XCTAssertFalse(engine.screened(mixed, year: 2024, regional: []).withoutSCL)
        XCTAssertEqual(engine.screened(mixed, year: 2024, regional: []).usable.count, 1)
    }

    /// The area's weather divided out: calm weather lifting every field's coherence on one pair
    /// is a cut when read alone and none against the area's reference; a cut whose next pairs
    /// fell in rain (every field at half its coherence) is too weak alone and found against it.
    func testTheAreasCoherenceReferenceRemovesTheWeather() {
        let pairs = coherencePairs(cut: nil)
        var reference: [Int: Double] = [:]
        for p in pairs { reference[p.day] = 0.2 }
        // Calm and dry between the acquisitions of pair 14: every field +0.15.
        var calm = pairs.map { IndexPoint(day: $0.day, value: $0.coherence!, clear: true) }
        calm[14] = IndexPoint(day: calm[14].day, value: calm[14].value + 0.15, clear: true)
        var calmReference = reference
        calmReference[calm[14].day] = 0.35
        XCTAssertEqual(CoherenceCutDetector().detect(calm).count, 1, "read alone, the lift looks like a cut")
        XCTAssertEqual(CoherenceCutDetector().detect(calm, reference: calmReference).count, 0)
        // The area's weather on the pair (its parcels at 1.75 times their level) says the same.
        var calmWeather: [Int: Double] = [:]
        for p in pairs { calmWeather[p.day] = 1 }
        calmWeather[calm[14].day] = 1.75
        XCTAssertEqual(CoherenceCutDetector().detect(calm, reference: calmReference, weather: calmWeather).count, 0)
        // A cut during pair 12, pairs 13 and 14 in rain (the area at 0.1, this field at half its 0.48 and 0.36).
        var rainy = pairs.map { IndexPoint(day: $0.day, value: $0.coherence!, clear: true) }
        rainy[12] = IndexPoint(day: rainy[12].day, value: 0.2, clear: true)
        rainy[13] = IndexPoint(day: rainy[13].day, value: 0.24, clear: true)
        rainy[14] = IndexPoint(day: rainy[14].day, value: 0.18, clear: true)
        var rainReference = reference
        rainReference[rainy[13].day] = 0.1
        rainReference[rainy[14].day] = 0.1
        XCTAssertEqual(CoherenceCutDetector().detect(rainy).count, 0, "read alone, the rain hides the cut")
        let found = CoherenceCutDetector().detect(rainy, reference: rainReference)
        XCTAssertEqual(found.count, 1)
        XCTAssertEqual(found.first.map { $0.event.date }, rainy[12].day - 6 - 2 + 6)
        // A reference covering too few pairs is not used (the values are read as they are).
        XCTAssertEqual(CoherenceCutDetector().detect(calm, reference: [calm[14].day: 0.35]).count, 1)
    }

    /// After a cut the stubble holds still for a few pairs; one of them lower (a local shower, a
    /// noisy estimate) splits the run of high pairs in two, but a sward does not grow back and get
    /// cut again within two pairs: one cut, dated by the first high pair. Three pairs back at the
    /// sward's level between two rises are two cuts.
    func testOnePairLowerAmongTheStubblesHighPairsIsNotASecondCut() {
        var pairs = coherencePairs(cut: nil).map { IndexPoint(day: $0.day, value: $0.coherence!, clear: true) }
        func set(_ k: Int, _ v: Double) { pairs[k] = IndexPoint(day: pairs[k].day, value: v, clear: true) }
        set(12, 0.06); set(13, 0.48); set(14, 0.21); set(15, 0.46); set(16, 0.36)
        let found = CoherenceCutDetector().detect(pairs)
        XCTAssertEqual(found.map { Days.text($0.event.date) }, [Days.text(pairs[13].day - 6 - 2)])
        set(14, 0.2); set(15, 0.185); set(16, 0.2); set(17, 0.47); set(18, 0.36)
        let two = CoherenceCutDetector().detect(pairs)
        XCTAssertEqual(two.map { Days.text($0.event.date) }, [Days.text(pairs[13].day - 8), Days.text(pairs[17].day - 8)])
    }

    /// The area's weather on a pair is its parcels' coherence as a share of their own level,
    /// whatever their crops: rain halving every field is 0.5 whether the fields are bare (0.55)
    /// or meadows (0.14); the typical coherence is the mix of the two.
    func testTheAreasWeatherIsItsParcelsShareOfTheirOwnLevel() {
        var regional = RegionalContext()
        var samples: [(pid: Int64, values: [(Int, Double)])] = []
        let days = Array(stride(from: 100, through: 220, by: 6))
        for pid in 1...8 {
            regional.areaForTesting(pid: Int64(pid), area: 1)
            let level = pid <= 4 ? 0.55 : 0.14
            samples.append((Int64(pid), days.map { d in (d, d == 160 ? level * 0.5 : level) }))
        }
        regional.learnCoherence(samples)
        let area = regional.coherence(for: 1)
        XCTAssertEqual(area.weather[160] ?? 0, 0.5, accuracy: 1e-9)
        XCTAssertEqual(area.weather[154] ?? 0, 1, accuracy: 1e-9)
        XCTAssertEqual(area.weather.count, days.count)
        XCTAssertEqual(area.reference[154] ?? 0, (0.14 + 0.55) / 2, accuracy: 1e-9)
        XCTAssertTrue(regional.coherence(for: 99).weather.isEmpty)
    }

    /// A spring cut while the area's arable fields lie bare: their coherence lifts the area's
    /// typical value to 0.55, and the meadow's rise from 0.2 to 0.37 is too small a share of it
    /// for the rise rule. The area's weather (every parcel at its own level) shows the pair as
    /// ordinary, so the step from the cut's decorrelated pair is the cut, dated as a rise would
    /// be. The step needs the weather: rain pairs followed by ordinary ones are no cut with it,
    /// a lone high pair that falls back below the meadow's level is noise, and without the
    /// weather the step rule says nothing.
    func testACutIsAStepInCoherenceOutOfTheWeatherWhateverTheAreasCropsDo() {
        let cut = Days.number("2024-05-14")!      // during the pair that ends that day
        let spring = Days.number("2024-06-15")!
        let pairs = coherencePairs(cut: cut, strength: 0.6).map { IndexPoint(day: $0.day, value: $0.coherence!, clear: true) }
        var reference: [Int: Double] = [:], weather: [Int: Double] = [:]
        for p in pairs { reference[p.day] = p.day < spring ? 0.55 : 0.2; weather[p.day] = 1 }
        XCTAssertEqual(CoherenceCutDetector().detect(pairs, reference: reference).count, 0, "a small share of the area's coherence")
        let found = CoherenceCutDetector().detect(pairs, reference: reference, weather: weather)
        XCTAssertEqual(found.count, 1)
        let first = pairs.first { $0.day > cut }!.day
        XCTAssertEqual(found.first?.event.date, first - 6 - 2)
        XCTAssertTrue((-3...15).contains(found.first!.event.date - cut))
        // Rain on four pairs (the area at 0.4 of its level), each followed by an ordinary one.
        let rainDays = ["2024-05-10", "2024-06-15", "2024-07-20", "2024-08-25"].map { Days.number($0)! }
        let rainy = coherencePairs(cut: nil, rain: rainDays).map { IndexPoint(day: $0.day, value: $0.coherence!, clear: true) }
        var rainWeather = weather, rainReference: [Int: Double] = [:]
        for p in rainy {
            let wet = rainDays.contains { $0 > p.day - 6 && $0 <= p.day }
            rainWeather[p.day] = wet ? 0.4 : 1
            rainReference[p.day] = wet ? 0.08 : 0.2
        }
        XCTAssertEqual(CoherenceCutDetector().detect(rainy, reference: rainReference, weather: rainWeather).count, 0)
        // One high pair (a step of 0.12, under what the rise rule needs), the next back below the level.
        var spike = coherencePairs(cut: nil).map { IndexPoint(day: $0.day, value: $0.coherence!, clear: true) }
        spike[12] = IndexPoint(day: spike[12].day, value: 0.2, clear: true)
        spike[13] = IndexPoint(day: spike[13].day, value: 0.32, clear: true)
        spike[14] = IndexPoint(day: spike[14].day, value: 0.16, clear: true)
        let flat = rainReference.mapValues { _ in 0.2 }
        XCTAssertEqual(CoherenceCutDetector().detect(spike, reference: flat, weather: weather).count, 0)
        spike[14] = IndexPoint(day: spike[14].day, value: 0.26, clear: true)
        XCTAssertEqual(CoherenceCutDetector().detect(spike, reference: flat, weather: weather).count, 1, "stubble holds still for two pairs")
    }

    func testCoherenceAfterRainOrInAutumnAndWhereSentinel2SeesIsNoCut() throws {
        let options = try MarkerOptions.load(path: MarkerTests.optionsFolder.appendingPathComponent("mowing.yaml").path).options
        let engine = MarkerEngine(options: options)
        // Rain pairs followed by ordinary ones: no rise above the parcel's level.
        let rainy = coherencePairs(cut: nil, rain: ["2024-05-10", "2024-06-15", "2024-07-20", "2024-08-25"].map { Days.number($0)! })
        XCTAssertEqual(CoherenceCutDetector().detect(rainy.map { IndexPoint(day: $0.day, value: $0.coherence!, clear: true) }).count, 0)
        // A rise in October is the sward's senescence.
        let autumn = engine.analyse(coherencePairs(cut: Days.number("2024-10-05")!), year: 2024, crop: "6100", names: ["grassland"])
        XCTAssertEqual(autumn.markers.filter { $0.detector == "mowing" }.count, 0)
        // A rise where clear optical observations surround it and show no fall: the optical evidence wins.
        let seen = meadow(cuts: []).map { observation($0.0, ndvi: $0.1) } + coherencePairs(cut: Days.number("2024-06-20")!)
        let both = engine.analyse(seen.sorted { $0.day < $1.day }, year: 2024, crop: "6100", names: ["grassland"])
        XCTAssertEqual(both.markers.filter { $0.detector == "mowing" }.count, 0)
        XCTAssertEqual(both.decision?.colour, "red")
        XCTAssertEqual(SceneKind(card: "c6"), .coherence)
        XCTAssertEqual(SceneKind(card: "c12"), .coherence)
        XCTAssertEqual(SceneKind(card: "bs"), .backscatter)
        XCTAssertEqual(SceneKind(card: "s2"), .optical)
    }

    /// Two cuts, each seen only at its low: the first (05-20) as a fall from the May sward, the
    /// second (07-05) after 45 cloudy days, whose first observation is as low as the one before
    /// the gap — no fall to see, but a low below the sward's level that regrows: the cut fell in
    /// the gap. Spring green-up (low, then rising, before the sward ever reached its level) is
    /// not a cut.
    func testACutWhoseFallNobodySawIsFoundFromItsRegrowth() {
        let cuts = [Days.number("2024-05-20")!, Days.number("2024-07-05")!]
        var points = meadow(cuts: cuts).map { IndexPoint(day: $0.0, value: $0.1, clear: true) }
        points.removeAll { $0.day > cuts[0] + 3 && $0.day < cuts[1] + 3 }
        // The last observation before the gap and the first after it are both low: no fall between them.
        let before = points.last { $0.day < cuts[1] }!, after = points.first { $0.day > cuts[1] }!
        XCTAssertGreaterThan(after.day - before.day, 40)
        XCTAssertGreaterThan(after.value, before.value)
        let found = CutDetector().detect(points).filter { $0.kind == .cut }
        XCTAssertEqual(found.count, 2, "\(found.map { Days.text($0.event.date) })")
        for (f, c) in zip(found.sorted { $0.event.date < $1.event.date }, cuts) {
            XCTAssertTrue((-3...15).contains(f.event.date - c), Days.text(f.event.date))
        }
        // Green-up: 0.45 in early April to 0.78 in May, nothing before.
        var spring: [IndexPoint] = []
        var day = Days.number("2024-04-05")!
        while day < Days.number("2024-09-30")! {
            let t = Double(day - Days.number("2024-04-05")!)
            spring.append(IndexPoint(day: day, value: 0.78 - 0.33 * exp(-t / 12), clear: true))
            day += day < Days.number("2024-05-01")! ? 30 : 5
        }
        XCTAssertEqual(CutDetector().detect(spring).filter { $0.kind == .cut }.count, 0)
    }

    /// A markers run, a crop check and `decide` write with the tables' CHECKs off (their JSON and
    /// colours are lake's own):
    /// every row it wrote passes them all the same — details, reasons and the run's own record
    /// valid JSON, colours of the four, the run done — and once the run is over the CHECKs hold
    /// again for anything else written.
    func testRunRowsPassTheTablesChecks() throws {
        let lake = try fixtureLake()
        let (options, text) = try MarkerOptions.load(path: MarkerTests.optionsFolder.appendingPathComponent("mowing.yaml").path)
        let summary = try MarkerRun(lake: lake).run(options, text: text, scope: ParcelScope())
        var check = CropCheckOptions(); check.minPeers = 3; check.minBins = 4
        let crop = try CropCheck(lake: lake).run(check, scope: ParcelScope(), optionsText: "")
        let lights = try Lights(lake: lake).run(schemes: ["crop", "mowing"], heterogeneity: false)
        func count(_ sql: String) throws -> Int64 { try XCTUnwrap(try lake.db.scalar(sql)?.int) }
        XCTAssertGreaterThan(try count("SELECT count(*) FROM markers"), 0)
        XCTAssertEqual(try count("SELECT count(*) FROM decisions"), Int64(summary.parcels + crop.parcels + lights.parcels))
        XCTAssertEqual(try count("SELECT count(DISTINCT scheme) FROM decisions"), 3)
        XCTAssertEqual(try count("SELECT count(*) FROM markers WHERE NOT json_valid(details)"), 0)
        XCTAssertEqual(try count("SELECT count(*) FROM decisions WHERE NOT json_valid(reasons) OR json_type(reasons) <> 'array'"), 0)
        XCTAssertEqual(try count("SELECT count(*) FROM decisions WHERE colour NOT IN ('green', 'yellow', 'red', 'grey')"), 0)
        XCTAssertGreaterThan(try count("SELECT count(*) FROM decisions WHERE json_array_length(reasons) > 0"), 0)
        XCTAssertEqual(try count("""
            SELECT count(*) FROM runs WHERE run_id IN (\(summary.run), \(crop.run), \(lights.run)) AND json_valid(inputs)
            AND json_valid(summary) AND json_type(summary, '$.parcels') = 'integer' AND status = 'done'
            """), 3)
        XCTAssertThrowsError(try lake.db.execute(
            "INSERT INTO decisions (run_id, pid, scheme, colour, clear_obs, reasons) VALUES (\(summary.run), -1, 'x', 'green', 0, '[not json')"))
        XCTAssertThrowsError(try lake.db.execute(
            "INSERT INTO decisions (run_id, pid, scheme, colour, clear_obs, reasons) VALUES (\(summary.run), -2, 'x', 'blue', 0, '[]')"))
    }

    /// The results on a map without SQL: GDAL (as QGIS and geopandas use it) lists `lights` and
    /// `mowing_events` as polygon layers of the lake, one feature per parcel keyed by pid, with
    /// the latest run's colours and cut dates.
    func testMapLayersShowTheLatestLightsAndCuts() throws {
        let lake = try fixtureLake()
        let (options, text) = try MarkerOptions.load(path: MarkerTests.optionsFolder.appendingPathComponent("mowing.yaml").path)
        _ = try MarkerRun(lake: lake).run(options, text: text, scope: ParcelScope())
        var check = CropCheckOptions(); check.minPeers = 3; check.minBins = 4
        _ = try CropCheck(lake: lake).run(check, scope: ParcelScope(), optionsText: "")
        _ = try Lights(lake: lake).run(schemes: ["crop", "mowing"], heterogeneity: false)
        let dataset = try VectorDataset(path: lake.path)
        let lights = try XCTUnwrap(dataset.layer(named: "lights"))
        XCTAssertTrue(lights.isPolygonal)
        XCTAssertEqual(lights.featureCount, 20)
        let names = lights.fields.map(\.name)
        for column in ["parcel_id", "light", "reasons", "crop_check", "mowing", "heterogeneous"] { XCTAssertTrue(names.contains(column), column) }
        let light = try XCTUnwrap(names.firstIndex(of: "light")), id = try XCTUnwrap(names.firstIndex(of: "parcel_id"))
        var shown: [String: String] = [:]
        try lights.forEach { _, f in shown[f.string(Int32(id)) ?? ""] = f.string(Int32(light)) }
        let stored = try lake.db.prepare("""
            SELECT p.parcel_id, d.colour FROM decisions d JOIN parcels p USING (pid)
            WHERE d.scheme = 'overall' AND d.run_id = (SELECT max(run_id) FROM decisions WHERE scheme = 'overall')
            """)
        var expected: [String: String] = [:]
        while try stored.step() { expected[stored.text(0)!] = stored.text(1)! }
        XCTAssertEqual(shown, expected)
        let mowing = try XCTUnwrap(dataset.layer(named: "mowing_events"))
        XCTAssertEqual(mowing.featureCount, try lake.db.scalar("SELECT count(DISTINCT pid) FROM markers WHERE detector = 'mowing' AND run_id = (SELECT max(run_id) FROM markers WHERE detector = 'mowing')")?.int.map(Int.init))
    }

    /// Per event and per run: `events` has one point per marker of each detector's latest run,
    /// `events_all_runs` one per marker of every run and `decisions_all_runs` one per decision
    /// of every run, each with a feature id of its own (no two alike), on the parcel's point
    /// (inside the parcel); `heterogeneity_latest` one polygon per parcel of the latest run.
    func testPerEventAndPerRunLayersHoldEveryResultRow() throws {
        let lake = try fixtureLake()
        let (options, text) = try MarkerOptions.load(path: MarkerTests.optionsFolder.appendingPathComponent("mowing.yaml").path)
        _ = try MarkerRun(lake: lake).run(options, text: text, scope: ParcelScope())
        _ = try MarkerRun(lake: lake).run(options, text: text, scope: ParcelScope())
        _ = try Heterogeneity(lake: lake).run(HeterogeneityOptions(), optionsText: "")
        _ = try Lights(lake: lake).run(schemes: ["mowing"], heterogeneity: true)
        let dataset = try VectorDataset(path: lake.path)
        func count(_ sql: String) throws -> Int { Int(try XCTUnwrap(try lake.db.scalar(sql)?.int)) }
        func features(_ name: String) throws -> [(fid: Int64, row: [String: String], point: Geometry?)] {
            let layer = try XCTUnwrap(dataset.layer(named: name), name)
            XCTAssertEqual(layer.spatialReference?.epsg, 32632, name)
            let names = layer.fields.map(\.name)
            var out: [(Int64, [String: String], Geometry?)] = []
            try layer.forEach { _, f in
                var row: [String: String] = [:]
                for (i, n) in names.enumerated() { row[n] = f.string(Int32(i)) }
                out.append((f.fid, row, f.geometry()))
            }
            XCTAssertEqual(Set(out.map(\.0)).count, out.count, "\(name): feature ids repeat")
            return out
        }
        let markers = try count("SELECT count(*) FROM markers")
        let latest = try count("SELECT count(*) FROM markers m WHERE run_id = (SELECT max(run_id) FROM markers x WHERE x.detector = m.detector)")
        XCTAssertGreaterThan(latest, 0)
        XCTAssertLessThan(latest, markers)
        let events = try features("events")
        XCTAssertEqual(events.count, latest)
        XCTAssertEqual(try features("events_all_runs").count, markers)
        XCTAssertEqual(Set(events.compactMap { $0.row["run_id"] }).count, 1, "one markers run is the latest")
        // The point of each event lies in its parcel.
        let inside = try lake.db.prepare("SELECT ST_Within(GeomFromWKB(?, 32632), geom) FROM parcels WHERE parcel_id = ?")
        for e in events.prefix(10) {
            let wkb = try XCTUnwrap(e.point?.wkb())
            inside.reset(); try inside.bind([.blob(wkb), .text(e.row["parcel_id"] ?? "")])
            XCTAssertTrue(try inside.step()); XCTAssertEqual(inside.int(0), 1, e.row["parcel_id"] ?? "")
        }
        let decisions = try features("decisions_all_runs")
        XCTAssertEqual(decisions.count, try count("SELECT count(*) FROM decisions"))
        XCTAssertEqual(Set(decisions.compactMap { $0.row["run_id"] }).count, try count("SELECT count(DISTINCT run_id) FROM decisions"))
        let heterogeneity = try features("heterogeneity_latest")
        XCTAssertEqual(heterogeneity.count, try count("SELECT count(*) FROM heterogeneity WHERE run_id = (SELECT max(run_id) FROM heterogeneity)"))
        XCTAssertEqual(heterogeneity.filter { $0.row["flag"] == "1" }.count,
                       try count("SELECT count(*) FROM heterogeneity WHERE flag AND run_id = (SELECT max(run_id) FROM heterogeneity)"))
    }

    func testAHarvestIsNotACut() {
        // A cereal: green in spring, harvested on 07-10, stubble for the rest of the season.
        var points: [IndexPoint] = []
        var day = Days.number("2024-04-01")!
        while day < Days.number("2024-10-31")! {
            points.append(IndexPoint(day: day, value: day < Days.number("2024-07-10")! ? 0.8 : 0.22, clear: true))
            day += 5
        }
        let found = CutDetector().detect(points)
        XCTAssertEqual(found.map(\.kind), [.harvest])
    }

    func testMowingDecisionsSayWhyTheyAreYellowOrRed() throws {
        let (options, _) = try MarkerOptions.load(path: MarkerTests.optionsFolder.appendingPathComponent("mowing.yaml").path)
        let engine = MarkerEngine(options: options)
        // Never mown, well observed: red.
        let flat = meadow(cuts: []).map { observation($0.0, ndvi: $0.1) }
        let red = engine.analyse(flat, year: 2024, crop: "6100", names: ["grassland"]).decision
        XCTAssertEqual(red?.colour, "red")
        // Never seen between 05-01 and 06-20: a cut could hide there: yellow with the gap named.
        let gappy = flat.filter { $0.day < Days.number("2024-05-01")! || $0.day > Days.number("2024-06-20")! }
        let yellow = engine.analyse(gappy, year: 2024, crop: "6100", names: ["grassland"]).decision
        XCTAssertEqual(yellow?.colour, "yellow")
        XCTAssertTrue(yellow!.reasons[0].contains("could hide"), yellow!.reasons[0])
        // A maize field declared as grassland: bare until June: red, not green for its harvest.
        var maize: [Observed] = []
        var day = Days.number("2024-03-01")!
        while day < Days.number("2024-10-31")! {
            let doy = Double(Days.dayOfYear(day))
            maize.append(observation(day, ndvi: 0.18 + 0.68 / (1 + exp(-(doy - 170) / 9)) * (1 - 1 / (1 + exp(-(doy - 265) / 8)))))
            day += 5
        }
        let arable = engine.analyse(maize, year: 2024, crop: "6100", names: ["grassland"]).decision
        XCTAssertEqual(arable?.colour, "red")
        XCTAssertTrue(arable!.reasons[0].contains("arable"), arable!.reasons[0])
    }

    /// A haze over the area that most parcels' own screening caught: the few it did not catch
    /// (thinner over them) drop too little to vote alone (median −0.03), so the day was never
    /// shared and their lowered observation stayed usable. With the caught ones voting as drops
    /// the day is hazy: there an observation below its neighbours' line is taken out, one on it
    /// is kept.
    func testADayMostOfTheAreaCaughtAsHazeTakesOutTheThinnerHazeOfTheRest() throws {
        let day = Days.number("2024-07-18")!
        func learned(atmosphere: Bool) -> RegionalContext {
            var context = RegionalContext()
            var residuals: [(pid: Int64, values: [(Int, Double)])] = []
            for pid in Int64(1)...10 {
                context.areaForTesting(pid: pid, area: 7, crop: ["6100", "1110", "1420"][Int(pid) % 3])
                let points = [IndexPoint(day: day - 3, value: 0.72, clear: true), IndexPoint(day: day, value: 0.69, clear: true),
                              IndexPoint(day: day + 3, value: 0.72, clear: true)]
                residuals.append((pid, pid <= 6 ? RegionalContext.residuals([points[0], points[2]], atmospheric: atmosphere ? [day] : [])
                                                : RegionalContext.residuals(points)))
            }
            context.learn(residuals)
            return context
        }
        XCTAssertEqual(learned(atmosphere: false).days(for: 3), [])
        XCTAssertEqual(learned(atmosphere: true).days(for: 3), RegionalDays(shared: [], hazy: [day]))

        let options = try MarkerOptions.load(path: MarkerTests.optionsFolder.appendingPathComponent("mowing.yaml").path).options
        let engine = MarkerEngine(options: options)
        var obs = stride(from: day - 45, through: day + 45, by: 3).map { observation($0, ndvi: 0.72) }
        let k = try XCTUnwrap(obs.firstIndex { $0.day == day })
        obs[k] = observation(day, ndvi: 0.66)
        XCTAssertEqual(engine.screened(obs, year: 2024, regional: []).verdicts[k], .clear, "0.06 below its neighbours: neither a dip nor haze alone")
        XCTAssertEqual(engine.screened(obs, year: 2024, regional: RegionalDays(hazy: [day])).verdicts[k], .regional)
        obs[k] = observation(day, ndvi: 0.71)
        XCTAssertEqual(engine.screened(obs, year: 2024, regional: RegionalDays(hazy: [day])).verdicts[k], .clear)
    }

    func testRegionalContextFindsADropSharedByTheArea() {
        var context = RegionalContext()
        let day = Days.number("2024-06-01")!
        // Ten parcels of one area, eight of them 0.1 lower on one date.
        var residuals: [(pid: Int64, values: [(Int, Double)])] = []
        for pid in Int64(1)...10 {
            context.areaForTesting(pid: pid, area: 7)
            residuals.append((pid, [(day, pid <= 8 ? -0.1 : 0.01), (day + 10, 0.005)]))
        }
        context.learn(residuals)
        XCTAssertEqual(context.days(for: 3), [day])
        XCTAssertEqual(context.days(for: 99), [])
        // Crops known and mixed: the same. An area of meadows alone (a lake of grassland, mown
        // in the same dry week) learns nothing: a synchronized cut and a haze look alike there.
        var mixed = RegionalContext(), meadows = RegionalContext()
        for pid in Int64(1)...10 {
            mixed.areaForTesting(pid: pid, area: 7, crop: ["6100", "1110", "1420"][Int(pid) % 3])
            meadows.areaForTesting(pid: pid, area: 7, crop: pid == 10 ? "1110" : "6100")
        }
        mixed.learn(residuals)
        meadows.learn(residuals)
        XCTAssertEqual(mixed.days(for: 3), [day])
        XCTAssertEqual(meadows.days(for: 3), [])
    }

    /// In an area of one crop (a lake of meadows alone) a drop shared by most parcels is learned
    /// where most of them were back at their next observation within `recoveryDays` (haze), not
    /// where they stayed low (a cut in the same dry week), nor where they came back only after
    /// two weeks (regrowth).
    func testAnAreaOfMeadowsLearnsASharedDropThatIsBackAtTheNextObservation() {
        let day = Days.number("2024-06-01")!
        func learned(after: Double, days: Int, then: Double = 0.8, backIn parcels: Int = 10) -> RegionalDays {
            var context = RegionalContext()
            var residuals: [(pid: Int64, values: [(Int, Double)])] = []
            var recoveries: [(pid: Int64, values: [(Int, Double)])] = []
            for pid in Int64(1)...10 {
                context.areaForTesting(pid: pid, area: 7, crop: "6100")
                // Every fifth day at 0.8; on `day` 0.62 in eight parcels; the next observation
                // `days` later at `after` (in the first `parcels` of them).
                let low = pid <= 8 ? 0.62 : 0.8
                let next = pid <= Int64(parcels) ? after : low
                let points = [IndexPoint(day: day - 10, value: 0.8, clear: true), IndexPoint(day: day - 5, value: 0.8, clear: true),
                              IndexPoint(day: day, value: low, clear: true), IndexPoint(day: day + days, value: pid <= 8 ? next : 0.8, clear: true),
                              IndexPoint(day: day + days + 5, value: pid <= Int64(parcels) ? then : 0.8, clear: true)]
                residuals.append((pid, RegionalContext.residuals(points)))
                recoveries.append((pid, context.recoveries(points)))
            }
            context.learn(residuals, recoveries: recoveries)
            XCTAssertEqual(context.uniformAreas(Array(1...10)), [7])
            return context.days(for: 3)
        }
        XCTAssertEqual(learned(after: 0.79, days: 5), [day], "back at the next scene: haze")
        XCTAssertEqual(learned(after: 0.76, days: 10), [day], "three quarters back within ten days")
        XCTAssertEqual(learned(after: 0.6, days: 5, then: 0.63), [], "still low: a cut")
        XCTAssertEqual(learned(after: 0.7, days: 5, then: 0.74), [], "half back: regrowth")
        XCTAssertEqual(learned(after: 0.79, days: 15), [], "back only after two weeks")
        XCTAssertEqual(learned(after: 0.79, days: 5, backIn: 4), [], "back in half of the parcels only")
        // Without recoveries (as before) such an area learns nothing.
        var context = RegionalContext()
        for pid in Int64(1)...10 { context.areaForTesting(pid: pid, area: 7, crop: "6100") }
        context.learn([(1, [(day, -0.2)])])
        XCTAssertEqual(context.days(for: 1), [])
    }

    /// Parcel lists that carry crop names and no codes (e.g. a generated or exported lake):
    /// the regional context tells crops apart by name. It read codes only, so every parcel was
    /// of crop "" — one crop everywhere — and no shared drop was ever learned.
    func testTheRegionalContextTellsCropsApartByNameWhenCodesAreMissing() throws {
        let lake = try fixtureLake()
        let (options, _) = try MarkerOptions.load(path: MarkerTests.optionsFolder.appendingPathComponent("mowing.yaml").path)
        let names = try lake.db.scalar("SELECT count(DISTINCT crop_name) FROM parcels")?.int ?? 0
        XCTAssertGreaterThan(names, 1)
        try lake.db.execute("UPDATE parcels SET crop_code = NULL")
        let plan = try MarkerRun(lake: lake).plan(options, scope: ParcelScope())
        XCTAssertFalse(plan.crops.values.contains(""))
        XCTAssertEqual(Set(plan.crops.values).count, Int(names))
    }

    /// On the project's fixtures (20 parcels: too few peers per crop), every crop-check
    /// decision is grey, and the overall light then comes from the other schemes.
    func testCropCheckIsGreyWithoutPeersAndDecideCombines() throws {
        let lake = try fixtureLake()
        var options = CropCheckOptions()
        let summary = try CropCheck(lake: lake).run(options, scope: ParcelScope(), optionsText: "")
        XCTAssertEqual(summary.decisions["grey"], summary.parcels)
        let reason = try lake.db.scalar("SELECT reasons FROM decisions WHERE scheme = 'crop' LIMIT 1")?.text ?? ""
        XCTAssertTrue(reason.contains("no check"), reason)
        // With a bar of 3 peers the crops of the fixtures are checked.
        options.minPeers = 3; options.minBins = 4
        let checked = try CropCheck(lake: lake).run(options, scope: ParcelScope(), optionsText: "")
        XCTAssertGreaterThan(checked.decisions["green"] ?? 0, 0)
        let lights = try Lights(lake: lake).run(schemes: ["crop"], heterogeneity: false)
        XCTAssertEqual(lights.parcels, 20)
        let overall = try lake.db.scalar("SELECT count(*) FROM decisions WHERE scheme = 'overall' AND run_id = ?", .int(lights.run))?.int
        XCTAssertEqual(overall, 20)
        let cited = try lake.db.scalar("SELECT reasons FROM decisions WHERE scheme = 'overall' AND run_id = ? AND colour = 'green' LIMIT 1", .int(lights.run))?.text ?? ""
        XCTAssertTrue(cited.contains("crop green (run \(checked.run))"), cited)
        XCTAssertThrowsError(try Lights(lake: lake).run(schemes: ["nonsense"]))
        // The shipped option file runs the same check (20 parcels: no crop has 20 peers).
        let (file, text) = try MarkerOptions.load(path: MarkerTests.optionsFolder.appendingPathComponent("crop-check.yaml").path)
        let viaFile = try MarkerRun(lake: lake).run(file, text: text, scope: ParcelScope())
        XCTAssertEqual(viaFile.decisions["grey"], 20)
    }

    /// Option files: misspelt keys, numbers out of range or not finite, impossible days and SCL
    /// classes are errors naming the file, line and key; the shipped files pass.
    func testOptionFilesAreCheckedKeyByKey() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lake-options-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases: [(String, String)] = [
            ("detectors:\n  - {name: m, type: cut, min_dorp: 0.1}\n", "unknown key detectors[0].min_dorp"),
            ("observations: {cloud_classes: [-1, 3]}\ndetectors:\n  - {name: m, type: cut}\n", "-1 is not an SCL class"),
            ("observations: {cloud_classes: [99]}\ndetectors:\n  - {name: m, type: cut}\n", "99 is not an SCL class"),
            ("preprocessing: {smoothing_days: 1e308}\ndetectors:\n  - {name: m, type: cut}\n", "smoothing_days: 1e308 is outside"),
            ("detectors:\n  - {name: m, type: drop, min_drop: .nan}\n", "min_drop: .nan is not a finite number"),
            ("detectors:\n  - {name: m, type: cut, from: \"13-45\"}\n", "13-45 is not a day of the year"),
            ("detectors:\n  - {name: m, type: gap, min_days: -5}\n", "min_days: -5 is outside"),
        ]
        for (i, (body, expected)) in cases.enumerated() {
            let path = folder.appendingPathComponent("bad\(i).yaml").path
            try ("name: x\n" + body).write(toFile: path, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try MarkerOptions.load(path: path)) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains(expected) && text.contains("bad\(i).yaml") && text.contains("line"), text)
            }
        }
        for name in ["mowing", "harvest", "bare-soil", "crop-phenology", "crop-check"] {
            XCTAssertNoThrow(try MarkerOptions.load(path: MarkerTests.optionsFolder.appendingPathComponent("\(name).yaml").path), name)
        }
    }

    /// A damaged series stops the run with the parcel named; it is not taken for "no data".
    func testDamagedSeriesStopTheRun() throws {
        let lake = try fixtureLake()
        try lake.db.execute("UPDATE signatures_packed SET data = zeroblob(64) WHERE pid = 3")
        let (options, text) = try MarkerOptions.load(path: MarkerTests.optionsFolder.appendingPathComponent("mowing.yaml").path)
        var all = options; all.parcels = nil
        XCTAssertThrowsError(try MarkerRun(lake: lake).run(all, text: text, scope: ParcelScope())) { error in
            XCTAssertTrue("\(error)".contains("pid 3"), "\(error)")
        }
        XCTAssertEqual(try lake.db.scalar("SELECT count(*) FROM decisions")?.int, 0)
    }

    /// The fixtures' one split parcel (P000019, maize with potato, truth.csv) is the one the
    /// persistent method flags, on several dates; the small lake falls back to the AOI's peers.
    func testPersistentHeterogeneityFlagsTheSplitParcel() throws {
        let lake = try fixtureLake()
        let rows = try Heterogeneity(lake: lake).compute(HeterogeneityOptions())
        XCTAssertEqual(rows.filter(\.flag).map(\.parcelID), ["P000019"])
        XCTAssertGreaterThanOrEqual(rows.first { $0.parcelID == "P000019" }?.splitDates ?? 0, 3)
    }

    /// Heterogeneity's peers are those that look alike that day, not those declared alike: a
    /// field declared as the crop of its neighbours but bare while they are green has a bare
    /// field's spread, not a split one; a field half bare, half green is flagged. Peers by
    /// declared crop (one level class) flag the bare fields too.
    func testHeterogeneityPeersByLookNotByDeclaration() {
        var rng = SeededRandom(seed: 7)
        var series: [Int64: Heterogeneity.ParcelCVs] = [:]
        for i in 0..<150 {
            // Green fields: level 3000, CV 0.08; every sixth bare: level 1200, CV 0.20 (soil is
            // darker in NIR and less even); the last one half and half: level 2100, CV 0.45.
            let bare = i % 6 == 0, split = i == 149
            let obs = (0..<8).map { d -> Heterogeneity.DateCV in
                let level: Float = split ? 2100 : bare ? 1200 : 3000
                let cv = (split ? 0.45 : bare ? 0.20 : 0.08) * (1 + 0.1 * (rng.unit() - 0.5))
                return .init(obsid: Int64(d), cv: cv, level: level * Float(1 + 0.1 * (rng.unit() - 0.5)), bimodal: split)
            }
            series[Int64(i)] = .init(id: "F\(i)", aoi: "a", group: "wheat", pixels: 200, obs: obs)
        }
        let rows = Heterogeneity.scorePersistent(series, HeterogeneityOptions())
        XCTAssertEqual(rows.filter(\.flag).map(\.parcelID), ["F149"])
        XCTAssertEqual(rows.first?.splitDates, 8)
        // The same parcels with their level hidden (all one class): the bare ones are flagged.
        let flat = series.mapValues { p in Heterogeneity.ParcelCVs(id: p.id, aoi: p.aoi, group: p.group, pixels: p.pixels,
                                                                  obs: p.obs.map { .init(obsid: $0.obsid, cv: $0.cv, level: 1, bimodal: $0.bimodal) }) }
        XCTAssertEqual(Heterogeneity.scorePersistent(flat, HeterogeneityOptions()).filter(\.flag).count, 26)
    }

    /// A cereal declared as grassland: bin by bin the meadows' spread is wide in summer (each is
    /// low after its own cuts), so the cereal's two months of stubble stay within three spreads;
    /// in the 30-day highs the meadows agree, and the cereal is red, named as such. A meadow cut
    /// twice stays green.
    func testCropCheckSeesACerealDeclaredAsGrasslandInItsUpperEnvelope() {
        var rng = SeededRandom(seed: 11)
        let bins = 37
        func meadow() -> CropCheck.Profile {
            var v = (0..<bins).map { b -> Float in b < 8 || b > 30 ? 0.45 : 0.8 + Float(0.04 * (rng.unit() - 0.5)) }
            var cut = 13 + Int(rng.unit() * 4)
            while cut < 28 { v[cut] = 0.35; v[cut + 1] = 0.55; cut += 4 + Int(rng.unit() * 3) }
            return CropCheck.Profile(values: v)
        }
        func wheat() -> CropCheck.Profile {
            CropCheck.Profile(values: (0..<bins).map { b -> Float in
                (b < 8 ? 0.5 : b < 18 ? 0.82 : b < 19 ? 0.55 : b < 25 ? 0.27 : 0.45) + Float(0.03 * (rng.unit() - 0.5)) })
        }
        let meadows = (0..<60).map { _ in meadow() }, wheats = (0..<40).map { _ in wheat() }
        func model(_ name: String, _ profiles: [CropCheck.Profile]) -> CropCheck.CropModel {
            var m = CropCheck.CropModel(region: "r", name: name, members: profiles.indices.map(Int64.init))
            m.envelope = CropCheck.Envelope(profiles, bins: bins)
            m.upper = CropCheck.Envelope(profiles.map(\.upperEnvelope), bins: bins)
            m.limit = 2.5
            return m
        }
        let models = ["grass": model("permanent grassland", meadows), "wheat": model("winter wheat", wheats)]
        let suspect = wheat()
        let raw = models["grass"]!.envelope!.contrast(suspect, models["wheat"]!.envelope!)
        XCTAssertFalse(raw.own > 3 && raw.other < raw.own / 3, "bin by bin the meadows' spread hides it: \(raw)")
        let (colour, reasons) = CropCheck.judge(suspect, models["grass"]!, among: models.values, bins: bins, options: CropCheckOptions())
        XCTAssertEqual(colour, "red", "\(reasons)")
        XCTAssertTrue(reasons[0].contains("30-day highs") && reasons[0].contains("follow winter wheat"), "\(reasons)")
        XCTAssertEqual(CropCheck.judge(meadow(), models["grass"]!, among: models.values, bins: bins, options: CropCheckOptions()).colour, "green")
        // The highs are tested only where they tell more than the values: the meadows' summer,
        // where each is low at its own time; nowhere for the wheat, whose highs are its curve shifted.
        XCTAssertGreaterThanOrEqual(models["grass"]!.highsTellMore[13...28].filter { $0 }.count, 12)
        XCTAssertEqual(models["wheat"]!.highsTellMore.filter { $0 }.count, 0)
    }

    /// Monthly composites (one value standing for a month, as WorldCereal's): with the 20-day
    /// reach of single acquisitions two of three ten-day bins between two months stay empty (and
    /// a cloudy parcel is "too few observations"); reaching as far as the acquisitions are apart
    /// fills them.
    func testCropProfileReachesAsFarAsTheAcquisitionsAreApart() {
        let months = (1...12).map { Days.number(year: 2021, month: $0, day: 15) }
        let usable = months.filter { $0 < months[3] || $0 > months[6] }.map { IndexPoint(day: $0, value: 0.5, clear: true) }   // April-July cloudy
        let observations = months.map { Observed(day: $0, clear: true, means: [nil, 500, 1500, nil, nil, nil, nil]) }
        let spacing = CropCheck.acquisitionSpacing(observations)
        XCTAssertTrue((28...31).contains(spacing), "\(spacing)")
        let options = CropCheckOptions()
        let single = CropCheck.profile(usable, year: 2021, bins: 37, options: options).values.filter { !$0.isNaN }.count
        let composite = CropCheck.profile(usable, year: 2021, bins: 37, options: options, spacing: spacing).values.filter { !$0.isNaN }.count
        XCTAssertGreaterThanOrEqual(composite, 2 * single, "\(single) → \(composite)")
        // Sentinel-2's own spacing changes nothing.
        XCTAssertEqual(CropCheck.profile(usable, year: 2021, bins: 37, options: options, spacing: 5).values.filter { !$0.isNaN }.count, single)
    }

    func testMedianSelectionEqualsSorting() {
        var rng = SystemRandomNumberGenerator()
        for n in [1, 2, 3, 4, 7, 10, 51, 100] {
            let values = (0..<n).map { _ in Double(Int.random(in: 0..<20, using: &rng)) }
            let sorted = values.sorted()
            let expected = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
            XCTAssertEqual(RobustStatistics.median(values), expected, "\(values)")
        }
        XCTAssertNil(RobustStatistics.median([]))
    }

    /// A soy field, bare but for two summer months: its clear line of blue against red is its
    /// soil's (with the day-to-day aerosol that lifts blue), and its green canopy (as blue as it
    /// is red) lies far above that line, where haze would lift it. The crop check's screening
    /// keeps the clear peak (greener than the parcel's usual), so the profile has the bins that
    /// tell soy from potato. The SCL-clear observations (B02, B04, B08, B11) of a generated
    /// fixture parcel (seed 31, P001458, soy declared as potato, which the check called green
    /// when the peak was lost); its labels say 07-29, 08-08 and 08-13 were clear.
    func testTheCropChecksScreeningKeepsASummerCropsGreenPeak() throws {
        let bands: [(String, Double, Double, Double, Double)] = [
            ("01-01", 566, 1083, 1638, 2571), ("01-11", 924, 1392, 1851, 2543), ("01-21", 566, 1130, 1603, 2588),
            ("01-31", 864, 1334, 1650, 2658), ("02-05", 574, 1121, 1594, 2601), ("02-10", 777, 1310, 1721, 2627),
            ("02-20", 740, 1276, 1727, 2634), ("03-06", 558, 1114, 1618, 2576), ("03-11", 841, 1295, 1753, 2606),
            ("03-16", 629, 1150, 1665, 2571), ("03-21", 560, 1142, 1580, 2588), ("03-26", 553, 1104, 1632, 2565),
            ("04-10", 850, 1324, 1677, 2655), ("04-15", 1216, 1614, 2023, 2554), ("04-25", 560, 1128, 1579, 2616),
            ("04-30", 874, 1366, 1747, 2581), ("05-10", 1093, 1526, 1950, 2539), ("05-25", 562, 1076, 1683, 2544),
            ("05-30", 1234, 1550, 1941, 2660), ("06-14", 828, 1168, 2005, 2458), ("07-09", 667, 756, 3838, 2002),
            ("07-29", 430, 453, 5694, 1773), ("08-03", 671, 630, 4924, 1852), ("08-08", 447, 456, 5346, 1792),
            ("08-13", 444, 446, 5681, 1761), ("08-28", 945, 832, 4617, 1920), ("09-07", 465, 656, 3029, 2033),
            ("09-17", 918, 1272, 2305, 2472), ("09-27", 550, 1061, 1713, 2511), ("10-07", 564, 1141, 1563, 2594),
            ("10-12", 816, 1295, 1691, 2628), ("10-17", 556, 1135, 1607, 2593), ("10-22", 1241, 1691, 2062, 2696),
            ("10-27", 1099, 1493, 1796, 2678), ("11-06", 700, 1220, 1656, 2605), ("11-11", 675, 1193, 1646, 2594),
            ("11-16", 1207, 1656, 2114, 2731), ("11-26", 574, 1136, 1581, 2596), ("12-01", 564, 1112, 1611, 2589),
            ("12-06", 563, 1109, 1631, 2569), ("12-11", 554, 1113, 1615, 2573), ("12-16", 577, 1156, 1595, 2602),
            ("12-26", 572, 1120, 1620, 2579)]
        let series = bands.map { Observed(day: Days.number("2024-" + $0.0)!, clear: true, means: [$0.1, $0.2, $0.3, $0.4, nil, nil, nil]) }
        let peak = ["07-29", "08-08", "08-13"].map { d in series.firstIndex { $0.day == Days.number("2024-" + d)! }! }
        let check = MarkerEngine(options: try CropCheck.observationOptions()).screened(series, year: 2024, regional: [])
        XCTAssertEqual(peak.map { check.verdicts[$0] }, [.clear, .clear, .clear])
        // Without the guard (a meadow's screening) the soil's line takes the peak for haze.
        var plain = try CropCheck.observationOptions()
        plain.screening?.greener_than_usual = nil
        let meadow = MarkerEngine(options: plain).screened(series, year: 2024, regional: [])
        XCTAssertEqual(peak.map { meadow.verdicts[$0] }, [.haze, .haze, .haze])
    }

    /// `lake screen options/crop-check.yaml` shows what the crop check sees: a file with
    /// `crop_check` is run by the crop check, which screens with its own chain, so its screen is
    /// that chain's (it was the file's own: SCL alone, since the file has no screening section).
    func testScreeningACropCheckFileShowsTheCropChecksVerdicts() throws {
        let lake = try fixtureLake()
        let (file, _) = try MarkerOptions.load(path: MarkerTests.optionsFolder.appendingPathComponent("crop-check.yaml").path)
        XCTAssertNil(file.screening)
        func verdicts(_ options: MarkerOptions) throws -> [String] {
            var out: [String] = []
            try MarkerRun(lake: lake).screen(options, scope: ParcelScope()) { out.append("\($0.parcelID) \($0.date) \($0.quality)") }
            return out.sorted()
        }
        let shown = try verdicts(file), check = try verdicts(try CropCheck.observationOptions())
        XCTAssertEqual(shown.count, check.count)
        let differ = zip(shown, check).filter { $0 != $1 }
        XCTAssertTrue(differ.isEmpty, "\(differ.count) verdicts differ, first \(differ.first.map { "\($0.0) ≠ \($0.1)" } ?? "")")
        // The crop check's chain screens beyond SCL on the fixtures (haze, shadows, dips …).
        let beyondSCL = shown.filter { !$0.hasSuffix(" clear") && !$0.hasSuffix(" scl") }
        XCTAssertGreaterThan(beyondSCL.count, 0, "\(Set(shown.map { $0.split(separator: " ").last! }))")
    }
}
