import LakeGDAL
import LakeStore

/// What one band of one parcel reduces to.
public enum Reduction: Sendable {
    case stats(SignatureStats)
    /// SCL pixel counts per class 0–11.
    case histogram([Int])
}

/// Reduces one band file to per-parcel statistics (or SCL histograms): for each shape, reads
/// the window its envelope covers, rasterises it, and reduces the valid pixels (not nodata,
/// not NaN). Reads only parcel windows, so memory stays bounded whatever the raster size.
/// One per thread (GDAL datasets are not thread-safe).
public final class BandReducer {
    public let band: RasterBand
    public let grid: PixelGrid
    public let nodata: Double?
    public let histogram: Bool
    private var rasteriser: Rasteriser
    private var pixels: [Double] = []
    private var mask: [UInt8] = []
    private var values: [Double] = []
    /// Pixels read and pixels reduced, for the summary.
    public private(set) var pixelsRead = 0
    public private(set) var pixelsUsed = 0

    public init(band: RasterBand, grid: PixelGrid, nodata: Double?, rule: PixelRule, histogram: Bool) {
        self.band = band; self.grid = grid; self.nodata = nodata; self.histogram = histogram
        rasteriser = Rasteriser(grid: grid, rule: rule)
    }

    /// Nil when the parcel has no valid pixel in this band.
    public func reduce(_ shape: ParcelShape) throws -> Reduction? {
        let window = PixelWindow(shape: shape, grid: grid)
        guard !window.isEmpty else { return nil }
        try band.read(col: window.col, row: window.row, width: window.width, height: window.height, into: &pixels)
        rasteriser.mask(shape, window: window, into: &mask)
        let n = window.width * window.height
        pixelsRead += n
        if histogram {
            var counts = [Int](repeating: 0, count: 12)
            var any = false
            for i in 0..<n where mask[i] != 0 {
                let v = pixels[i]
                if v == nodata || v.isNaN { continue }
                let c = Int(v)
                if c >= 0 && c < 12 { counts[c] += 1; any = true }
            }
            return any ? .histogram(counts) : nil
        }
        if values.count < n { values = [Double](repeating: 0, count: n) }
        var k = 0
        if let nodata {
            for i in 0..<n where mask[i] != 0 {
                let v = pixels[i]
                if v != nodata && !v.isNaN { values[k] = v; k += 1 }
            }
        } else {
            for i in 0..<n where mask[i] != 0 {
                let v = pixels[i]
                if !v.isNaN { values[k] = v; k += 1 }
            }
        }
        pixelsUsed += k
        return ZonalStatistics.compute(&values, count: k).map(Reduction.stats)
    }
}
