import LakeGDAL

/// Which pixels count as inside a polygon.
public enum PixelRule: String, Sendable, CaseIterable {
    /// The pixel's centre is inside the polygon (GDAL's rasterisation rule, used by the JRC
    /// backend through rasterstats).
    case center
    /// The polygon touches the pixel's interior (GDAL/rasterstats `all_touched`).
    case allTouched = "all-touched"
}

/// A polygon in a raster's CRS: its rings and envelope, ready to rasterise on any grid.
public struct ParcelShape: Sendable {
    public let rings: [(x: [Double], y: [Double])]
    public let minX: Double, minY: Double, maxX: Double, maxY: Double

    public init(rings: [(x: [Double], y: [Double])]) {
        self.rings = rings
        var a = Double.infinity, b = Double.infinity, c = -Double.infinity, d = -Double.infinity
        for r in rings {
            for x in r.x { a = min(a, x); c = max(c, x) }
            for y in r.y { b = min(b, y); d = max(d, y) }
        }
        minX = a; minY = b; maxX = c; maxY = d
    }
}

/// The pixel window of a grid that a shape's envelope covers, clipped to the grid.
public struct PixelWindow: Equatable, Sendable {
    public let col: Int, row: Int, width: Int, height: Int
    public var isEmpty: Bool { width <= 0 || height <= 0 }

    public init(col: Int, row: Int, width: Int, height: Int) {
        self.col = col; self.row = row; self.width = width; self.height = height
    }

    public init(shape: ParcelShape, grid: PixelGrid) {
        let c0 = max(0, Int(grid.col(shape.minX).rounded(.down)))
        let c1 = min(grid.width, Int(grid.col(shape.maxX).rounded(.up)))
        let r0 = max(0, Int(grid.row(shape.maxY).rounded(.down)))
        let r1 = min(grid.height, Int(grid.row(shape.minY).rounded(.up)))
        self.init(col: c0, row: r0, width: c1 - c0, height: r1 - r0)
    }
}

/// Rasterises a shape onto a window of a grid: a byte mask (1 = inside), row-major.
///
/// Centre rule as GDAL's polygon filler: on each pixel row, the ring edges are cut at the
/// row's centre line (an edge counts when y1 ≤ yc < y2), the crossings sorted, and between each
/// pair [a, b) the pixels from floor(a + ½) to floor(b + ½) − 1 are in. All-touched adds every
/// pixel an edge passes through.
public struct Rasteriser {
    public let grid: PixelGrid
    public let rule: PixelRule
    private var crossings: [Double] = []

    public init(grid: PixelGrid, rule: PixelRule) { self.grid = grid; self.rule = rule }

    public mutating func mask(_ shape: ParcelShape, window w: PixelWindow, into mask: inout [UInt8]) {
        let n = w.width * w.height
        if mask.count < n { mask = [UInt8](repeating: 0, count: n) }
        for i in 0..<n { mask[i] = 0 }
        guard !w.isEmpty else { return }
        // Ring coordinates in window pixel units.
        let rings = shape.rings.map { r in
            (x: r.x.map { grid.col($0) - Double(w.col) }, y: r.y.map { grid.row($0) - Double(w.row) })
        }
        for row in 0..<w.height {
            let yc = Double(row) + 0.5
            crossings.removeAll(keepingCapacity: true)
            for r in rings {
                let count = r.x.count
                guard count > 1 else { continue }
                for k in 0..<(count - 1) {
                    var x1 = r.x[k], y1 = r.y[k], x2 = r.x[k + 1], y2 = r.y[k + 1]
                    if y1 == y2 { continue }
                    if y1 > y2 { swap(&x1, &x2); swap(&y1, &y2) }
                    if yc >= y1 && yc < y2 {
                        crossings.append(x1 + (yc - y1) * (x2 - x1) / (y2 - y1))
                    }
                }
            }
            guard crossings.count >= 2 else { continue }
            crossings.sort()
            var i = 0
            let base = row * w.width
            while i + 1 < crossings.count {
                let start = max(0, Int((crossings[i] + 0.5).rounded(.down)))
                let end = min(w.width, Int((crossings[i + 1] + 0.5).rounded(.down)))
                if start < end { for c in start..<end { mask[base + c] = 1 } }
                i += 2
            }
        }
        if rule == .allTouched {
            for r in rings {
                guard r.x.count > 1 else { continue }
                for k in 0..<(r.x.count - 1) {
                    touch(r.x[k], r.y[k], r.x[k + 1], r.y[k + 1], w, &mask)
                }
            }
        }
    }

    /// Marks every pixel whose interior the segment passes through: row by row, the segment's
    /// x-extent within the row's band gives the columns it crosses.
    private func touch(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ w: PixelWindow, _ mask: inout [UInt8]) {
        let lowY = min(y1, y2), highY = max(y1, y2)
        let firstRow = max(0, Int(lowY.rounded(.down)))
        let lastRow = min(w.height - 1, Int(highY.rounded(.up)) - 1)
        guard firstRow <= lastRow else { return }
        for row in firstRow...lastRow {
            let top = Double(row), bottom = Double(row + 1)
            var xa: Double, xb: Double
            if y1 == y2 {
                // Horizontal: touches the interior only when strictly inside the band.
                guard y1 > top && y1 < bottom else { continue }
                xa = min(x1, x2); xb = max(x1, x2)
            } else {
                let ta = max(lowY, top), tb = min(highY, bottom)
                guard tb > ta || (tb == ta && lowY == highY) else { continue }
                let fa = x1 + (ta - y1) * (x2 - x1) / (y2 - y1)
                let fb = x1 + (tb - y1) * (x2 - x1) / (y2 - y1)
                xa = min(fa, fb); xb = max(fa, fb)
            }
            var c0 = Int(xa.rounded(.down))
            var c1 = Int(xb.rounded(.up)) - 1
            if xb == xa { c1 = c0 }                 // vertical within the band
            if Double(c0 + 1) == xa && c0 + 1 <= c1 { c0 += 1 }
            c0 = max(0, c0); c1 = min(w.width - 1, c1)
            guard c0 <= c1 else { continue }
            let base = row * w.width
            for c in c0...c1 { mask[base + c] = 1 }
        }
    }
}
