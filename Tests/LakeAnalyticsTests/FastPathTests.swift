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
