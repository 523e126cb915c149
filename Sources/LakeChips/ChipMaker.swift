import Foundation
import LakeExtract
import LakeGDAL
import LakeSQLite
import LakeStore

/// How a chip's values become colours.
public enum ChipLook: Sendable, Equatable {
    /// Three bands as red, green and blue (e.g. B04, B03, B02 true colour; B08, B04, B03 the
    /// JRC's false colour).
    case composite([String])
    /// NDVI from B08 and B04 on a brown–yellow–green ramp from −0.2 to 0.9.
    case ndvi

    public var bands: [String] {
        switch self {
        case .composite(let b): return b
        case .ndvi: return ["B08", "B04"]
        }
    }
}

/// The stretch of a composite: percentiles of the three bands over the chip (the JRC's `lut=5_95`),
/// or absolute low–high DN per band (`lut=L1_H1_L2_H2_L3_H3`).
public enum ChipStretch: Sendable, Equatable {
    case percentiles(low: Double, high: Double)
    case absolute([(low: Double, high: Double)])

    public static func == (a: ChipStretch, b: ChipStretch) -> Bool {
        switch (a, b) {
        case let (.percentiles(l1, h1), .percentiles(l2, h2)): return l1 == l2 && h1 == h2
        case let (.absolute(x), .absolute(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.low == $1.low && $0.high == $1.high }
        default: return false
        }
    }

    var low: Double { if case .percentiles(let l, _) = self { return l }; return 0 }
    var high: Double { if case .percentiles(_, let h) = self { return h }; return 100 }

    /// "5_95" or "L1_H1_L2_H2_L3_H3" (the JRC's `lut`).
    public static func parse(_ text: String) throws -> ChipStretch {
        let parts = text.split(separator: "_").map { Double($0) }
        guard !parts.contains(where: { $0 == nil || !$0!.isFinite }) else { throw LakeError.usage("lut \(text): numbers separated by _ expected") }
        let v = parts.map { $0! }
        if v.count == 2 {
            guard v[0] >= 0, v[1] <= 100, v[0] < v[1] else { throw LakeError.usage("lut \(text): two percentiles 0 ≤ low < high ≤ 100 expected") }
            return .percentiles(low: v[0], high: v[1])
        }
        guard v.count == 6 else { throw LakeError.usage("lut \(text): low_high (percentiles) or six values low_high per band expected") }
        let pairs = stride(from: 0, to: 6, by: 2).map { (low: v[$0], high: v[$0 + 1]) }
        guard pairs.allSatisfy({ $0.low < $0.high }) else { throw LakeError.usage("lut \(text): each low must be below its high") }
        return .absolute(pairs)
    }
}

/// Where a chip is cut: a square around a point, or around a parcel's geometry (outlined).
public struct ChipWindow {
    /// The centre, in the lake's CRS (`srid`), or in EPSG:4326 for a location.
    public let x: Double, y: Double
    public let srid: Int
    /// The parcel to outline (WKB in `srid`), if any.
    public let outline: [UInt8]?
    /// Side of the square in metres (nil: the parcel's extent and a margin, at least 128
    /// pixels of the first band).
    public let size: Double?

    public init(x: Double, y: Double, srid: Int, outline: [UInt8]?, size: Double?) {
        self.x = x; self.y = y; self.srid = srid; self.outline = outline; self.size = size
    }
}

extension ChipWindow {
    /// A window around a parcel (its geometry outlined); `size` in metres or nil (fit).
    public static func parcel(_ lake: Lake, pid: Int64, size: Double?) throws -> ChipWindow {
        let s = try lake.db.prepare("SELECT AsBinary(geom), MbrMinX(geom), MbrMinY(geom), MbrMaxX(geom), MbrMaxY(geom) FROM parcels WHERE pid = ?")
        try s.bind([.int(pid)])
        guard try s.step(), !s.isNull(0) else { throw LakeError.notFound("parcel pid \(pid) has no geometry") }
        let wkb = s.blob(0)
        return ChipWindow(x: (s.double(1) + s.double(3)) / 2, y: (s.double(2) + s.double(4)) / 2, srid: lake.srid, outline: wkb, size: size)
    }

    /// A window around a location (longitude, latitude, WGS 84).
    public static func location(lon: Double, lat: Double, size: Double?) -> ChipWindow {
        ChipWindow(x: lon, y: lat, srid: 4326, outline: nil, size: size)
    }
}

/// One chip of one scene.
public struct Chip {
    public let scene: ChipScene
    public let image: ByteImage
    /// Share of the chip's pixels the scene's files cover (0: the scene misses the window).
    public let coverage: Double
}

/// Cuts chips from a scene's band files: the window on the first band's own pixel grid (its
/// CRS and resolution, as the JRC does), each band resampled onto it by GDAL's warper (nearest:
/// the pixels as they are), stretched to bytes, the parcel outlined in yellow, transparent
/// where the scene has no data. Written as PNG by GDAL.
public enum ChipMaker {
    public static let outlineColour: [UInt8] = [255, 230, 0, 255]
    static let minimumRange = 600.0

    /// The window cut from the scene: its grid on the first band's pixel lattice, its CRS (WKT),
    /// the parcel's outline in that CRS, and each band's values on the grid (nearest neighbour;
    /// NaN outside the files).
    static func cut(_ window: ChipWindow, scene: ChipScene, bands: [String], pixels: Int?)
        throws -> (grid: PixelGrid, srs: String, outline: Geometry?, values: [[Double]]) {
        let sources = try bands.map { name -> BandSource in
            guard let b = scene.bands[name] else { throw LakeError.notFound("scene \(scene.reference) has no \(name) file") }
            return b
        }
        let first = sources[0]
        let raster: RasterDataset, native: PixelGrid
        do { raster = try RasterDataset(path: first.path); native = try raster.grid() }
        catch let error as GDALError { throw LakeError.input(file: first.path, location: nil, reason: error.message) }
        guard let srs = raster.spatialReference else { throw LakeError.input(file: first.path, location: nil, reason: "no coordinate reference system") }
        let from = try SpatialReference(epsg: window.srid)
        let transform = try CoordinateTransform(from: from, to: srs)
        var x = [window.x], y = [window.y]
        guard transform.transform(x: &x, y: &y) else { throw LakeError.usage("the chip's centre cannot be put into \(srs.label)") }
        var outline: Geometry?
        var side = window.size ?? 128 * native.pixelWidth
        if let wkb = window.outline {
            let g = try wkb.withUnsafeBytes { try Geometry.fromWKB($0) }
            try g.transform(transform)
            let e = g.envelope
            x = [(e.minX + e.maxX) / 2]; y = [(e.minY + e.maxY) / 2]
            if window.size == nil { side = max(side, 1.3 * max(e.maxX - e.minX, e.maxY - e.minY) + 4 * native.pixelWidth) }
            outline = g
        }
        // Snapped to the band's lattice, so that native pixels are not shifted.
        let n = max(2, Int((side / native.pixelWidth).rounded()))
        let originX = native.originX + ((x[0] - Double(n) * native.pixelWidth / 2 - native.originX) / native.pixelWidth).rounded() * native.pixelWidth
        let originY = native.originY - ((native.originY - (y[0] + Double(n) * native.pixelHeight / 2)) / native.pixelHeight).rounded() * native.pixelHeight
        let out = pixels ?? n
        let pw = Double(n) * native.pixelWidth / Double(out), ph = Double(n) * native.pixelHeight / Double(out)
        let grid = PixelGrid(originX: originX, originY: originY, pixelWidth: pw, pixelHeight: ph, width: out, height: out)
        let wkt = srs.wkt
        return (grid, wkt, outline, try sources.map { try warp($0, grid, wkt) })
    }

    /// The bands of a window as values on its grid (nearest neighbour; NaN outside the files).
    public static func values(_ window: ChipWindow, scene: ChipScene, bands: [String], pixels: Int? = nil) throws -> (PixelGrid, String, [[Double]]) {
        let c = try cut(window, scene: scene, bands: bands, pixels: pixels)
        return (c.grid, c.srs, c.values)
    }

    public static func chip(_ window: ChipWindow, scene: ChipScene, look: ChipLook, stretch: ChipStretch = .percentiles(low: 5, high: 95),
                            pixels: Int? = nil) throws -> Chip {
        let (grid, srs, outline, values) = try cut(window, scene: scene, bands: look.bands, pixels: pixels)
        let count = grid.width * grid.height
        var channels = [[UInt8]](repeating: [UInt8](repeating: 0, count: count), count: 4)
        switch look {
        case .composite:
            // Percentiles over the three bands together keep the colours' balance (grass green,
            // soil brown); absolute thresholds are per band, as the JRC's lut gives them.
            var joint = percentiles(values.prefix(3).flatMap { $0 }, stretch.low, stretch.high)
            // A uniform chip (bare soil everywhere, a cloud) is not stretched into noise: at
            // least 0.06 reflectance (600 DN) between black and white.
            if joint.1 - joint.0 < minimumRange {
                let mid = (joint.0 + joint.1) / 2
                joint = (mid - minimumRange / 2, mid + minimumRange / 2)
            }
            for (k, v) in values.prefix(3).enumerated() {
                let (low, high): (Double, Double)
                switch stretch {
                case .percentiles: (low, high) = joint
                case .absolute(let pairs): (low, high) = pairs[min(k, pairs.count - 1)]
                }
                for i in 0..<count where !v[i].isNaN { channels[k][i] = byte((v[i] - low) / max(1e-9, high - low)) }
            }
        case .ndvi:
            let nir = values[0], red = values[1]
            for i in 0..<count where !nir[i].isNaN && !red[i].isNaN {
                let n = nir[i] - scene.offset, r = red[i] - scene.offset
                guard n + r > 0 else { continue }
                let rgb = ramp((n - r) / (n + r))
                for k in 0..<3 { channels[k][i] = rgb[k] }
            }
        }
        var covered = 0
        for i in 0..<count where !values.contains(where: { $0[i].isNaN }) { channels[3][i] = 255; covered += 1 }
        let image = try ByteImage(grid: grid, bands: 4, srs: srs)
        for k in 0..<4 { try image.write(band: k + 1, channels[k]) }
        if let outline { try image.outline(outline, colour: outlineColour, width: grid.width >= 256 ? 2 : 1) }
        return Chip(scene: scene, image: image, coverage: Double(covered) / Double(max(1, count)))
    }

    /// One band on the chip's grid; GDAL's complaints name the file.
    static func warp(_ b: BandSource, _ grid: PixelGrid, _ srs: String) throws -> [Double] {
        do { return try WarpedBand(path: b.path, band: b.index, grid: grid, srs: srs, resampling: "near").values }
        catch let error as GDALError { throw LakeError.input(file: b.path, location: "band \(b.index)", reason: error.message) }
    }

    static func byte(_ t: Double) -> UInt8 { UInt8(max(0, min(255, (t * 255).rounded()))) }

    /// The `low` and `high` percentiles of the finite values.
    static func percentiles(_ values: [Double], _ low: Double, _ high: Double) -> (Double, Double) {
        let v = values.filter { !$0.isNaN }.sorted()
        guard !v.isEmpty else { return (0, 1) }
        func at(_ p: Double) -> Double { v[min(v.count - 1, max(0, Int((p / 100 * Double(v.count - 1)).rounded())))] }
        return (at(low), at(high))
    }

    /// NDVI −0.2 … 0.9 → brown, yellow, light green, dark green.
    static func ramp(_ ndvi: Double) -> [UInt8] {
        let stops: [(Double, [Double])] = [(-0.2, [120, 72, 32]), (0.2, [214, 196, 92]), (0.5, [120, 190, 80]), (0.9, [0, 100, 30])]
        let v = max(-0.2, min(0.9, ndvi))
        for k in 1..<stops.count where v <= stops[k].0 {
            let (a, ca) = stops[k - 1], (b, cb) = stops[k]
            let t = (v - a) / (b - a)
            return (0..<3).map { UInt8((ca[$0] + (cb[$0] - ca[$0]) * t).rounded()) }
        }
        return stops.last!.1.map { UInt8($0) }
    }
}
