import LakeExtract
import LakeGDAL
import LakeStore
import XCTest

/// The reduction core on hand-checked cases (numbers as numpy gives them).
final class ZonalTests: XCTestCase {
    func testStatisticsFollowNumpy() throws {
        // numpy: np.percentile([1,2,3,4], [25,50,75]) = [1.75, 2.5, 3.25]; np.std = 1.118033988749895
        var values: [Double] = [4, 1, 3, 2]
        let s = try XCTUnwrap(ZonalStatistics.compute(&values, count: 4))
        XCTAssertEqual(s.count, 4); XCTAssertEqual(s.mean, 2.5); XCTAssertEqual(s.min, 1); XCTAssertEqual(s.max, 4)
        XCTAssertEqual(s.p25, 1.75); XCTAssertEqual(s.p50, 2.5); XCTAssertEqual(s.p75, 3.25)
        XCTAssertEqual(s.std, Float(1.118033988749895))
        // np.percentile([10, 20, 30, 40, 1000], [25, 50, 75]) = [20, 30, 40]; only `count` values are used.
        var more: [Double] = [1000, 10, 40, 30, 20, 99, 99]
        let t = try XCTUnwrap(ZonalStatistics.compute(&more, count: 5))
        XCTAssertEqual([t.p25, t.p50, t.p75], [20, 30, 40])
        XCTAssertEqual(t.mean, 220)
        var none: [Double] = []
        XCTAssertNil(ZonalStatistics.compute(&none, count: 0))
    }

    /// Selection gives the same order statistics as a full sort, on many sizes and with ties.
    func testSelectionAgreesWithSorting() throws {
        var state: UInt64 = 42
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        for n in [1, 2, 3, 4, 5, 7, 10, 31, 100, 257, 1000] {
            for spread in [3, 1000] {
                let values = (0..<n).map { _ in Double(next() % UInt64(spread)) }
                var work = values
                let s = try XCTUnwrap(ZonalStatistics.compute(&work, count: n))
                let sorted = values.sorted()
                func numpy(_ q: Double) -> Float {
                    let p = q * Double(n - 1), lo = Int(p), t = p - Double(lo)
                    let a = sorted[lo], b = sorted[min(lo + 1, n - 1)]
                    return Float(t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t)
                }
                XCTAssertEqual([s.p25, s.p50, s.p75], [numpy(0.25), numpy(0.5), numpy(0.75)], "n \(n) spread \(spread)")
                XCTAssertEqual(s.min, Float(sorted[0])); XCTAssertEqual(s.max, Float(sorted[n - 1]))
            }
        }
    }

    /// A 10 × 10 grid of 1 m pixels; shapes in its coordinates (origin at the top-left, y up).
    let grid = PixelGrid(originX: 0, originY: 10, pixelWidth: 1, pixelHeight: 1, width: 10, height: 10)

    func pixels(_ wkt: String, _ rule: PixelRule) throws -> Set<[Int]> {
        let shape = ParcelShape(rings: try Geometry.fromWKT(wkt).rings())
        let window = PixelWindow(shape: shape, grid: grid)
        var rasteriser = Rasteriser(grid: grid, rule: rule)
        var mask: [UInt8] = []
        rasteriser.mask(shape, window: window, into: &mask)
        var out = Set<[Int]>()
        for r in 0..<window.height { for c in 0..<window.width where mask[r * window.width + c] != 0 { out.insert([window.col + c, window.row + r]) } }
        return out
    }

    func testCentreRuleAndAllTouched() throws {
        // A square from (1.2, 1.2) to (3.8, 3.8): centres 1.5, 2.5, 3.5 inside → 3 × 3; touched: 3 × 3 too.
        XCTAssertEqual(try pixels("POLYGON((1.2 1.2, 3.8 1.2, 3.8 3.8, 1.2 3.8, 1.2 1.2))", .center).count, 9)
        // (1.6, 1.6)–(3.4, 3.4): only centre 2.5 on each axis is inside; it touches 3 × 3 pixels.
        XCTAssertEqual(try pixels("POLYGON((1.6 1.6, 3.4 1.6, 3.4 3.4, 1.6 3.4, 1.6 1.6))", .center), [[2, 7]])
        XCTAssertEqual(try pixels("POLYGON((1.6 1.6, 3.4 1.6, 3.4 3.4, 1.6 3.4, 1.6 1.6))", .allTouched).count, 9)
        // A hole removes its pixels: 6 × 6 outer minus 2 × 2 hole.
        let holed = "POLYGON((2 2, 8 2, 8 8, 2 8, 2 2), (4 4, 6 4, 6 6, 4 6, 4 4))"
        XCTAssertEqual(try pixels(holed, .center).count, 36 - 4)
        // Partly outside the grid: only the pixels on the grid.
        XCTAssertEqual(try pixels("POLYGON((-5 -5, 2 -5, 2 2, -5 2, -5 -5))", .center).count, 4)
        // Entirely outside: an empty window.
        XCTAssertTrue(PixelWindow(shape: ParcelShape(rings: try Geometry.fromWKT("POLYGON((20 20, 21 20, 21 21, 20 20))").rings()), grid: grid).isEmpty)
        // A right triangle with legs of 6.2 from a pixel corner: centres (i+½)+(j+½) < 6.2 ⇔ i + j ≤ 5
        // → 1+2+…+6 = 21; touched: corners i + j < 6.2 ⇔ i + j ≤ 6 → 28.
        XCTAssertEqual(try pixels("POLYGON((0 0, 6.2 0, 0 6.2, 0 0))", .center).count, 21)
        XCTAssertEqual(try pixels("POLYGON((0 0, 6.2 0, 0 6.2, 0 0))", .allTouched).count, 28)
    }
}
