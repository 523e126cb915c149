@testable import LakeAnalytics
import LakeTestSupport
import XCTest

/// The shortcuts markers take for speed give the answers of the plain definitions.
final class FastPathTests: XCTestCase {
    /// A season window as a range of one year's days: the same days as its month-and-day test,
    /// in common, leap and century years, with 29 February at either end and an empty window.
    func testSeasonWindowDaysOfAYearAreTheDaysItContains() {
        let windows = [("04-01", "10-31"), ("02-29", "03-01"), ("01-01", "02-29"), ("02-28", "02-29"), ("02-29", "02-29"),
                       ("10-01", "03-31"), ("12-31", "12-31"), ("01-01", "12-31"), ("03-15", "09-30")]
        for (a, b) in windows {
            let w = SeasonWindow(a, b)!
            for year in [1999, 2000, 2023, 2024, 2100] {
                let days = w.days(of: year)
                let first = Days.number(year: year, month: 1, day: 1), next = Days.number(year: year + 1, month: 1, day: 1)
                let expected = (first..<next).filter { w.contains(day: $0) }
                XCTAssertEqual((first..<next).filter { days.contains($0) }, expected, "\(a)..\(b) in \(year)")
                // The per-parcel test agrees inside the year and falls back outside it.
                let test = DayTest(w, year: year)
                for n in (first - 40)..<(next + 40) { XCTAssertEqual(test(n), w.contains(day: n), "\(a)..\(b) \(Days.text(n))") }
            }
        }
        XCTAssertTrue(DayTest(nil, year: 2024)(12_345))
    }

    /// The parcel's usual values and clear line, computed in place in one scratch allocation
    /// with an insertion sort, are exactly those of the plain definition: arrays, Swift's stable
    /// sort of the points by x, a median of each column. Random seasons of 0 to 150 observations,
    /// with values on a coarse grid (equal reds, whose order the stable sort keeps), missing
    /// bands and hazy points above the line.
    func testUsualAndClearLineInPlaceMatchThePlainDefinitions() {
        func plainLine(_ points: [(x: Double, y: Double)]) -> ClearLine? {
            func fit(_ sorted: [(x: Double, y: Double)], spread: Bool) -> (Double, Double, Double)? {
                guard sorted.count >= 4 else { return nil }
                let half = sorted.count / 2
                var slopes: [Double] = []
                for i in 0..<half where sorted[i + half].x - sorted[i].x > 1e-9 {
                    slopes.append((sorted[i + half].y - sorted[i].y) / (sorted[i + half].x - sorted[i].x))
                }
                let b = min(2, max(0, plainMedian(slopes) ?? 0))
                guard let r = residuals(sorted, b, 0, spread: spread) else { return nil }
                return (r.0, b, r.1)
            }
            func residuals(_ p: [(x: Double, y: Double)], _ slope: Double, _ intercept: Double, spread: Bool) -> (Double, Double)? {
                let r = p.map { $0.y - intercept - slope * $0.x }
                guard let centre = plainMedian(r) else { return nil }
                guard spread else { return (centre, 0) }
                return (centre, 1.4826 * plainMedian(r.map { abs($0 - centre) })!)
            }
            var sorted = points.sorted { $0.x < $1.x }
            guard let first = fit(sorted, spread: true) else { return nil }
            sorted.removeAll { $0.y - first.0 - first.1 * $0.x > 2 * first.2 }
            guard sorted.count < points.count, let line = fit(sorted, spread: false) else {
                return ClearLine(intercept: first.0, slope: first.1, spread: first.2)
            }
            return ClearLine(intercept: line.0, slope: line.1, spread: residuals(points, line.1, line.0, spread: true)?.1 ?? 0)
        }
        var rng = SeededRandom(seed: 31)
        var checked = 0
        for round in 0..<1500 {
            let n = round < 300 ? round % 12 : Int(rng.next() % 151)
            var obs: [Observed] = []
            for k in 0..<n {
                let red = (300 + rng.unit() * 900).rounded() - (round % 3 == 0 ? (300 + rng.unit() * 900).rounded(.down).truncatingRemainder(dividingBy: 7) : 0)
                let hazy = rng.unit() < 0.2 ? 200 + rng.unit() * 400 : 0
                let blue = (0.7 * red + 150 + hazy + (rng.unit() - 0.5) * 40).rounded()
                func maybe(_ v: Double) -> Double? { rng.unit() < 0.06 ? nil : v }
                obs.append(Observed(day: 19_800 + 5 * k, clear: true,
                                    means: [maybe(blue), maybe(round % 5 == 0 ? (red / 50).rounded() * 50 : red), maybe(2_500 + rng.unit() * 1_500),
                                            maybe(1_800 + rng.unit() * 900), nil, nil, maybe(20 + rng.unit() * 60), nil]))
            }
            let indices = obs.indices.filter { _ in rng.unit() < 0.9 }
            let usual = ObservationScreen.Usual(obs, indices, withNDVI: round % 2 == 0)
            guard indices.count >= 4 else { XCTAssertNil(usual); continue }
            guard let usual else { XCTFail("no usual from \(indices.count) observations"); continue }
            let points = indices.compactMap { i in obs[i].means[0].flatMap { b in obs[i].means[1].map { (x: $0, y: b) } } }
            let expected = plainLine(points), line = ClearLine(points)
            XCTAssertEqual(usual.line?.intercept, expected?.intercept, "round \(round)")
            XCTAssertEqual(usual.line?.slope, expected?.slope, "round \(round)")
            XCTAssertEqual(usual.line?.spread, expected?.spread, "round \(round)")
            XCTAssertEqual(line?.intercept, expected?.intercept); XCTAssertEqual(line?.slope, expected?.slope); XCTAssertEqual(line?.spread, expected?.spread)
            for (k, got) in [(1, usual.red), (2, usual.nir), (3, usual.swir), (BandMeans.blueStd, usual.blueStd)] {
                XCTAssertEqual(got, plainMedian(indices.compactMap { obs[$0].means[k] }), "round \(round) column \(k)")
            }
            XCTAssertEqual(usual.ndvi, round % 2 == 0 ? plainMedian(indices.compactMap { obs[$0].value(.ndvi) }) : nil)
            if expected != nil { checked += 1 }
        }
        XCTAssertGreaterThan(checked, 1000)
    }

    /// An area's season and atmospheric days, searched in day order, answer as the plain
    /// tables did: the level of a day, whether the season lies low over a range of days (at
    /// least two known, half of them below), whether a day is shared or hazy.
    func testSeasonLevelsAndRegionalDaysAnswerAsTheirTables() {
        var rng = SeededRandom(seed: 5)
        for round in 0..<400 {
            var table: [Int: Double] = [:]
            let start = 19_700 + Int(rng.next() % 50)
            for _ in 0..<Int(rng.next() % 40) { table[start + Int(rng.next() % 200)] = 0.2 + rng.unit() * 0.6 }
            let season = SeasonLevels(table)
            XCTAssertEqual(season.count, table.count)
            for day in (start - 5)...(start + 205) { XCTAssertEqual(season[day], table[day], "round \(round) day \(day)") }
            for _ in 0..<30 {
                let from = start - 10 + Int(rng.next() % 220), to = from - 3 + Int(rng.next() % 80), level = 0.2 + rng.unit() * 0.6
                let known = table.filter { $0.key >= from && $0.key <= to }
                let expected = from <= to && known.count >= 2 && 2 * known.values.filter { $0 < level }.count >= known.count
                XCTAssertEqual(RegionalContext.below(season, level, from: from, to: to), expected, "round \(round) \(from)...\(to)")
            }
            let shared = Set(table.keys.filter { $0 % 3 == 0 }), hazy = Set(table.keys.filter { $0 % 3 == 1 })
            var days = RegionalDays(shared: shared, hazy: [])
            days.hazy = hazy
            for day in (start - 5)...(start + 205) {
                XCTAssertEqual(days.isShared(day), shared.contains(day))
                XCTAssertEqual(days.isHazy(day), hazy.contains(day))
            }
        }
    }

    /// The selection behind every median gives the sorted middle, on random values, many
    /// repeats, sorted and reversed input.
    func testMedianBySelectionIsTheSortedMiddle() {
        var rng = SeededRandom(seed: 7)
        func sortedMedian(_ v: [Double]) -> Double {
            let s = v.sorted(), n = s.count
            return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
        }
        for n in 1...300 {
            let random = (0..<n).map { _ in rng.unit() }
            let repeats = (0..<n).map { _ in Double(Int(rng.unit() * 4)) }
            for v in [random, repeats, random.sorted(), random.sorted().reversed(), Array(repeating: 0.5, count: n)] {
                var w = v
                XCTAssertEqual(RobustStatistics.median(reordering: &w), sortedMedian(v), "n \(n)")
                XCTAssertEqual(w.sorted(), v.sorted(), "a permutation of the input")
            }
        }
    }

    /// The counting selection behind medians of up to `rankedUpTo` values finds every k-th
    /// value and the count below it, with repeats and with the tail past the last group of
    /// four; NaN takes no rank, and where k is past the other values the median falls back to
    /// selection rather than answering NaN.
    func testRankedSelectionFindsEveryRank() {
        var rng = SeededRandom(seed: 19)
        for n in 1...(RobustStatistics.rankedUpTo + 3) {
            for v in [(0..<n).map { _ in rng.unit() }, (0..<n).map { _ in Double(Int(rng.unit() * 3)) }] {
                let sorted = v.sorted()
                v.withUnsafeBufferPointer { b in
                    for k in 0..<n {
                        let r = RobustStatistics.ranked(b, k)
                        XCTAssertEqual(r?.value, sorted[k], "n \(n) k \(k)")
                        XCTAssertEqual(r?.below, sorted.firstIndex(of: sorted[k]), "n \(n) k \(k)")
                    }
                }
            }
        }
        // NaN is below nothing and equal to nothing: the k-th of the other values where they
        // have one, nil past them.
        var withNaN: [Double] = [3, .nan, 1, 2, 5]
        XCTAssertEqual(withNaN.withUnsafeBufferPointer { RobustStatistics.ranked($0, 2) }?.value, 3)
        XCTAssertNil(withNaN.withUnsafeBufferPointer { RobustStatistics.ranked($0, 4) })
        XCTAssertFalse(RobustStatistics.median(reordering: &withNaN)?.isNaN ?? true)
    }

    /// Whether a parcel's bands are reflectances: the one-pass test gives the median's answer,
    /// also where half the values are on each side of the limit.
    func testReflectanceUnitFollowsTheMedianNIR() {
        func obs(_ nir: [Double?]) -> [Observed] { nir.enumerated().map { Observed(day: $0.offset, clear: true, means: [nil, nil, $0.element, nil]) } }
        func byMedian(_ nir: [Double?]) -> Double {
            var v = nir.compactMap { $0 }
            guard let m = RobustStatistics.median(reordering: &v) else { return 1 }
            return m < 5 ? 1e-4 : 1
        }
        var rng = SeededRandom(seed: 11)
        let cases: [[Double?]] = [[], [nil], [0.3], [3000], [0.3, 3000], [4, 5.5], [4.9, 5.2], [0.2, 0.3, 9.8, 9.9], [1, 2, 3000, nil],
                                  [0.2, 3000, 4000], [0.1, 0.2, 3000]]
            + (0..<500).map { _ in (0..<Int(rng.unit() * 9)).map { _ in rng.unit() < 0.1 ? nil : (rng.unit() < 0.5 ? rng.unit() * 6 : 4 + rng.unit() * 6) } }
        for nir in cases { XCTAssertEqual(ObservationScreen.unit(obs(nir)), byMedian(nir), "\(nir)") }
    }
}

/// The median by its definition: the middle of the sorted values (the mean of the two middle
/// ones for an even count), nil for none.
private func plainMedian(_ values: [Double]) -> Double? {
    let v = values.sorted()
    guard !v.isEmpty else { return nil }
    return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
}
