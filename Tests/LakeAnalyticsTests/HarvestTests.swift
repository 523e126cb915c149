import Foundation
@testable import LakeAnalytics
import LakeTestSupport
import XCTest

/// The `harvest` detector: a cereal's field reaching stubble, dated at the harvest and not in
/// the ripening before it, across cloudy gaps by Sentinel-1 coherence.
final class HarvestTests: XCTestCase {
    /// A winter cereal's NDVI: green (0.82), ripening over three weeks down to 0.35, harvested
    /// on `harvest` to stubble (0.2), with a small alternating wobble.
    func cereal(_ day: Int, harvest: Int) -> Double {
        let ripe = 1 / (1 + exp(-Double(day - (harvest - 18)) / 4))
        let cut = 1 / (1 + exp(-Double(day - harvest) / 1.2))
        return 0.35 + 0.47 * (1 - ripe) - 0.15 * cut + (day % 2 == 0 ? 0.01 : -0.01)
    }

    func series(harvest: Int, from: String = "2024-04-01", to: String = "2024-09-30", every step: Int = 5,
                skipping gap: ClosedRange<Int>? = nil) -> [IndexPoint] {
        stride(from: Days.number(from)!, through: Days.number(to)!, by: step).compactMap { day in
            gap?.contains(day) == true ? nil : IndexPoint(day: day, value: cereal(day, harvest: harvest), clear: true)
        }
    }

    /// Coherence pairs every 6 days dated at their later acquisition: a standing crop creeping
    /// up from 0.2 to 0.3 as it ripens, the pair that spans the harvest decorrelated (0.08),
    /// stubble after (0.55).
    func coherence(harvest: Int, from: String = "2024-04-02", to: String = "2024-09-30") -> [IndexPoint] {
        stride(from: Days.number(from)!, through: Days.number(to)!, by: 6).map { day in
            let v: Double
            if day - 6 >= harvest { v = 0.55 } else if day >= harvest { v = 0.08 } else { v = 0.2 + 0.1 * min(1, max(0, Double(day - harvest + 30) / 30)) }
            return IndexPoint(day: day, value: v + (day % 12 == 0 ? 0.02 : -0.02), clear: true)
        }
    }

    func testAHarvestIsDatedWhereTheFieldSettlesNotInTheRipening() {
        let harvest = Days.number("2024-07-03")!
        let points = series(harvest: harvest)
        let found = HarvestDetector().detect(points)
        XCTAssertEqual(found.count, 1)
        let date = found[0].event.date
        XCTAssertTrue((-3...3).contains(date - harvest), "dated \(Days.text(date)), harvested \(Days.text(harvest))")
        XCTAssertFalse(found[0].byCoherence)
        XCTAssertLessThanOrEqual(found[0].event.start, harvest)
        XCTAssertGreaterThanOrEqual(found[0].event.end, harvest)
        // The fall's steepest part is in the ripening, two weeks and more before the harvest.
        let steepest = DropDetector(minDrop: 0.25, minDays: 20, minStart: 0.45).detect(points)
        XCTAssertEqual(steepest.count, 1)
        XCTAssertLessThan(steepest[0].date - harvest, -10)
    }

    /// Winter wheat as the second generator draws it: green-up, ripening from day 178 to a
    /// plateau 0.12 above stubble, the harvest step at day 198, volunteers from day 250. The
    /// parcel's noise learned from close triples holds the bends of that curve; at 3× it (the
    /// cut detector's multiple) the ripe plateau passed for stubble days before the harvest.
    func testARipePlateauWithBendsAroundItIsNotStubble() {
        func l(_ d: Double, _ mid: Double, _ width: Double) -> Double { 1 / (1 + exp(-(d - mid) / width)) }
        let start = Days.number("2023-01-01")! - 1
        let harvest = start + 198
        let points = stride(from: 60, through: 300, by: 5).map { d -> IndexPoint in
            let x = Double(d)
            let v = 0.35 + 0.5 * l(x, 85, 10) * (1 - l(x, 178, 7)) - 0.12 * l(x, 198, 2) + 0.25 * l(x, 250, 8)
            return IndexPoint(day: start + d, value: v + (d % 10 == 0 ? 0.02 : -0.02), clear: true)
        }
        let found = HarvestDetector().detect(points)
        XCTAssertEqual(found.count, 1)
        XCTAssertTrue((-3...6).contains(found[0].event.date - harvest), Days.text(found[0].event.date))
        var loose = HarvestDetector()
        loose.noiseFactor = 3
        XCTAssertTrue(loose.detect(points).contains { $0.event.date - harvest < -3 }, "at 3× the noise the ripe plateau is stubble")
    }

    /// Observations every 2 days (two orbits overlapping): the ripe crop's last weeks fall by
    /// less than the tolerance, then a month of cloud hides the harvest, then stubble. The field
    /// seen again a harvest's step lower is the stubble: the harvest lies in the gap, not in the
    /// ripening before it. A later fall by less than that step (tillage) moves nothing.
    func testARipeCropsSlowLastWeeksBeforeACloudyMonthAreNotStubble() throws {
        let harvest = Days.number("2024-07-03")!
        let start = Days.number("2024-04-01")!
        let hidden = (harvest - 3)...(harvest + 25)
        func points(tilled: Bool) -> [IndexPoint] {
            stride(from: start, through: Days.number("2024-09-30")!, by: 2).compactMap { day in
                if hidden.contains(day) { return nil }
                let v = tilled && day >= harvest + 40 ? 0.13 + (day % 4 == 0 ? 0.01 : -0.01) : cereal(day, harvest: harvest)
                return IndexPoint(day: day, value: v, clear: true)
            }
        }
        for tilled in [false, true] {
            let p = points(tilled: tilled)
            let lastRipe = try XCTUnwrap(p.last { $0.day < hidden.lowerBound }), firstStubble = try XCTUnwrap(p.first { $0.day > hidden.upperBound })
            let found = HarvestDetector().detect(p)
            XCTAssertEqual(found.count, 1, "tilled: \(tilled)")
            XCTAssertEqual(found.first?.event.start, lastRipe.day, "tilled: \(tilled): \(found.map { Days.text($0.event.start) })")
            XCTAssertEqual(found.first?.event.end, firstStubble.day, "tilled: \(tilled): \(found.map { Days.text($0.event.end) })")
            XCTAssertTrue((-3...15).contains((found.first?.event.date ?? 0) - harvest), "tilled: \(tilled): \(found.map { Days.text($0.event.date) })")
        }
    }

    func testADipTheScreeningMissedAndARipeCropAreNoHarvest() {
        let harvest = Days.number("2024-07-23")!
        var points = series(harvest: harvest)
        // A shadow on 22 June: the ripening crop at 0.15 for one observation, back at the next.
        let shadow = Days.number("2024-06-22")!
        let k = points.firstIndex { $0.day >= shadow }!
        points[k] = IndexPoint(day: points[k].day, value: 0.15, clear: true)
        let found = HarvestDetector().detect(points)
        XCTAssertEqual(found.count, 1)
        XCTAssertTrue((-3...3).contains(found[0].event.date - harvest), Days.text(found[0].event.date))
        // Never green enough to have been a crop: nothing to harvest.
        let bare = points.map { IndexPoint(day: $0.day, value: min($0.value, 0.4), clear: true) }
        XCTAssertTrue(HarvestDetector().detect(bare).isEmpty)
    }

    /// The ripe crop seen on 24 June, then clouds until 24 July: stubble by then. Without
    /// coherence the harvest is dated in the middle of the gap; with it, by the pair that
    /// decorrelated when the harvest happened.
    func testCoherenceDatesAHarvestHiddenInACloudyGap() {
        let harvest = Days.number("2024-06-29")!
        let gap = Days.number("2024-06-25")!...Days.number("2024-07-23")!
        let points = series(harvest: harvest, skipping: gap)
        let alone = HarvestDetector().detect(points)
        XCTAssertEqual(alone.count, 1)
        let a = points.last { $0.day < gap.lowerBound }!.day, b = points.first { $0.day > gap.upperBound }!.day
        XCTAssertEqual([alone[0].event.start, alone[0].event.date, alone[0].event.end], [a, (a + b) / 2, b], Days.text(alone[0].event.date))
        XCTAssertFalse(alone[0].byCoherence)

        let pairs = coherence(harvest: harvest)
        let firstStubble = pairs.first { $0.day - 6 >= harvest }!.day
        let found = HarvestDetector().detect(points, radar: pairs)
        XCTAssertEqual(found.count, 1)
        XCTAssertTrue(found[0].byCoherence)
        XCTAssertEqual(found[0].event.date, firstStubble - 6 - 2)
        XCTAssertTrue((-3...6).contains(found[0].event.date - harvest), Days.text(found[0].event.date))
        // Pairs 12 days apart or more are not read (`maxPairDays`).
        let sparse = stride(from: 0, to: pairs.count, by: 3).map { pairs[$0] }
        XCTAssertFalse(HarvestDetector().detect(points, radar: sparse)[0].byCoherence)
    }

    /// Rain on one pair lowers every field's coherence: divided out by the area's typical
    /// coherence on that pair against its neighbours. The area's slow drift through the season
    /// (its crops growing up) stays, so that a standing crop does not look like stubble.
    func testTheWeatherIsTakenOutOfCoherenceButNotTheSeason() {
        let days = Array(stride(from: Days.number("2024-05-01")!, through: Days.number("2024-08-31")!, by: 6))
        let rain = days[10]
        var reference: [Int: Double] = [:]
        var parcel: [IndexPoint] = []
        for (k, day) in days.enumerated() {
            let drift = 0.5 - 0.25 * Double(k) / Double(days.count - 1)
            let weather = day == rain ? 0.4 : 1
            reference[day] = drift * weather
            parcel.append(IndexPoint(day: day, value: 0.3 * weather, clear: true))
        }
        let free = HarvestDetector.weatherFree(parcel, reference, weatherDays: HarvestDetector().weatherDays)
        for p in free { XCTAssertEqual(p.value, 0.3, accuracy: 0.02, Days.text(p.day)) }
        XCTAssertEqual(HarvestDetector.weatherFree(parcel, [:], weatherDays: HarvestDetector().weatherDays).map(\.value), parcel.map(\.value))
    }

    /// A winter barley field seen clear mostly as soil and stubble (fixtures/small's P000006,
    /// its SCL-clear observations of 2024: blue, red, NIR, SWIR): its clear line of blue against
    /// red is learned on soil and on hazy winter scenes, and its green crop, bluer against red
    /// than soil, lies above it. Haze lowers NDVI: an observation far greener than the parcel's
    /// usual is its crop, not haze (without that, the harvest detector saw no crop to harvest).
    func testAnArableParcelsGreenCropIsNotHazeAgainstItsSoilLine() {
        let clear: [(String, Double, Double, Double, Double)] = [
            ("01-01", 533.3, 960.2, 1907.3, 2389.9), ("01-11", 785.2, 1145.0, 2013.2, 2453.7), ("01-31", 1612.3, 1868.2, 2551.1, 2663.4),
            ("03-01", 522.8, 905.4, 2074.9, 2358.6), ("03-22", 505.2, 846.2, 2261.9, 2253.4), ("04-01", 499.6, 742.6, 2624.2, 2136.4),
            ("04-11", 378.8, 396.0, 1635.5, 892.7), ("05-21", 446.5, 551.5, 3857.6, 1906.4), ("06-01", 465.6, 546.2, 3828.6, 1903.2),
            ("06-21", 911.8, 1212.1, 2354.0, 2305.5), ("07-21", 557.9, 1098.7, 1638.4, 2576.3), ("07-31", 562.9, 1117.3, 1620.2, 2591.4),
            ("08-21", 546.7, 1098.7, 1671.5, 2553.0), ("09-10", 779.2, 1259.9, 1678.1, 2592.8), ("09-20", 556.6, 1101.2, 1652.8, 2566.5),
            ("09-30", 557.0, 1134.8, 1605.2, 2592.9), ("10-21", 829.8, 1282.5, 1710.1, 2599.6), ("10-31", 561.4, 1113.3, 1635.6, 2566.4),
            ("11-10", 829.0, 1256.0, 1746.9, 2594.8), ("11-20", 559.8, 1135.4, 1597.6, 2599.8), ("11-30", 552.3, 1096.0, 1667.2, 2551.6),
            ("12-10", 570.4, 1112.2, 1630.4, 2578.7)]
        let obs = clear.map { Observed(day: Days.number("2024-" + $0.0)!, clear: true, means: [$0.1, $0.2, $0.3, $0.4, nil, nil, 60]) }
        let green = obs.indices.filter { ["03-01", "03-22", "04-01", "05-21", "06-01"].contains(clear[$0].0) }
        var guarded = ObservationScreen()
        guarded.greenerThanUsual = 0.15
        let verdicts = guarded.screen(obs)
        XCTAssertEqual(green.map { verdicts[$0] }, [.clear, .clear, .clear, .clear, .clear])
        // 31 January: blue 1612 and red 1868 over a field whose soil reads 560 and 1100.
        XCTAssertEqual(verdicts[2], .haze)
        let before = ObservationScreen().screen(obs)
        XCTAssertEqual(green.map { before[$0] }, [.haze, .haze, .haze, .haze, .haze], "without the NDVI guard the soil line calls the crop haze")
    }

    func testTheOptionFileTypeIsKnown() throws {
        let yaml = """
            name: h
            signal: ndvi
            detectors:
              - {name: harvest, type: harvest, settle_days: 20, coherence: false}
            """
        let options = try MarkerOptions.load(path: try write(yaml, "harvest.yaml")).options
        XCTAssertEqual(options.detectors.map(\.type), ["harvest"])
        let wrong = yaml.replacingOccurrences(of: "type: harvest", with: "type: harvests")
        XCTAssertThrowsError(try MarkerOptions.load(path: try write(wrong, "harvests.yaml"))) { XCTAssertTrue("\($0)".contains("cut, harvest, spell"), "\($0)") }
    }
}
