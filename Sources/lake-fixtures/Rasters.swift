import Foundation
import LakeGDAL

/// Scene rasters for extraction and chips: per scene a folder YYYYMMDD/ with B04, B08 (and with
/// `trueColour` B02, B03) (10 m) and B11, SCL (20 m) GeoTIFFs covering the parcels, pixels following each parcel's crop curve, a cloud
/// (SCL 9, bright) over part of cloudy scenes; and a STAC ItemCollection (`scenes.json`) whose
/// local assets point at them, under the same references as scenes.stac.json.
extension FixtureGenerator {
    /// Blue and green come last, so that each scene's noise stream (one per scene, band after
    /// band) gives B04, B08, B11 and SCL the values they had before they were added.
    static let rasterBands: [(name: String, size: Double, index: Int)] = [("B04", 10, 2), ("B08", 10, 4), ("B11", 20, 6), ("SCL", 20, -1),
                                                                          ("B02", 10, 0), ("B03", 10, 1)]

    func writeRasters(_ parcels: [Parcel], _ scenes: [Scene], count: Int, folder: String, trueColour: Bool = false) throws {
        guard count > 0, !scenes.isEmpty else { return }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // The grid: the parcels' extent plus 100 m, on a 20 m lattice so both resolutions align.
        let xs = parcels.flatMap { $0.ring.map(\.0) }, ys = parcels.flatMap { $0.ring.map(\.1) }
        let minX = ((xs.min()! - 100) / 20).rounded(.down) * 20, maxX = ((xs.max()! + 100) / 20).rounded(.up) * 20
        let minY = ((ys.min()! - 100) / 20).rounded(.down) * 20, maxY = ((ys.max()! + 100) / 20).rounded(.up) * 20
        // Which parcel each 10 m pixel centre falls in (−1: none).
        let w10 = Int((maxX - minX) / 10), h10 = Int((maxY - minY) / 10)
        var owner = [Int](repeating: -1, count: w10 * h10)
        for (p, parcel) in parcels.enumerated() {
            let px = parcel.ring.map(\.0), py = parcel.ring.map(\.1)
            let c0 = max(0, Int((px.min()! - minX) / 10) - 1), c1 = min(w10, Int((px.max()! - minX) / 10) + 2)
            let r0 = max(0, Int((maxY - py.max()!) / 10) - 1), r1 = min(h10, Int((maxY - py.min()!) / 10) + 2)
            for row in r0..<r1 {
                let y = maxY - (Double(row) + 0.5) * 10
                for col in c0..<c1 {
                    let x = minX + (Double(col) + 0.5) * 10
                    if contains(parcel.ring, x, y) { owner[row * w10 + col] = p }
                }
            }
        }
        let chosen = (0..<min(count, scenes.count)).map { $0 * scenes.count / min(count, scenes.count) }
        var items: [String] = []
        for s in chosen {
            let scene = scenes[s]
            let day = String(scene.datetime.prefix(10)).replacingOccurrences(of: "-", with: "")
            let dir = (folder as NSString).appendingPathComponent(day)
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            var rng = SeededRandom(seed: seed ^ 0x5CE7E ^ UInt64(s) &* 0x9E37_79B9)
            // A round cloud over part of the area, as wide as the scene is cloudy.
            let cloudy = scene.cloud > 0.15
            let cx = rng.uniform(minX, maxX), cy = rng.uniform(minY, maxY)
            let radius = scene.cloud * max(maxX - minX, maxY - minY) * 0.6
            func inCloud(_ x: Double, _ y: Double) -> Bool { cloudy && (x - cx) * (x - cx) + (y - cy) * (y - cy) < radius * radius }
            var assets: [String] = []
            for band in Self.rasterBands.prefix(trueColour ? 6 : 4) {
                let factor = Int(band.size / 10)
                let w = w10 / factor, h = h10 / factor
                let grid = PixelGrid(originX: minX, originY: maxY, pixelWidth: band.size, pixelHeight: band.size, width: w, height: h)
                var values = [Double](repeating: 0, count: w * h)
                for row in 0..<h {
                    for col in 0..<w {
                        let x = minX + (Double(col) + 0.5) * band.size, y = maxY - (Double(row) + 0.5) * band.size
                        let p = owner[(row * factor + factor / 2) * w10 + col * factor + factor / 2]
                        var ndvi = 0.12
                        if p >= 0 {
                            let parcel = parcels[p]
                            // Split parcels: the second crop east of the parcel's centre.
                            let centre = parcel.ring.dropLast().map(\.0).reduce(0, +) / Double(parcel.ring.count - 1)
                            if let second = parcel.split, x > centre { ndvi = second.ndvi(day: scene.day, mowing: []) }
                            else { ndvi = parcel.crop.ndvi(day: scene.day, mowing: parcel.mowing, harvest: parcel.harvest) }
                        }
                        if band.index < 0 {
                            values[row * w + col] = inCloud(x, y) ? 9 : (ndvi > 0.4 ? 4 : 5)
                        } else {
                            let reflectance = inCloud(x, y) ? 0.35 : Self.reflectances(ndvi: min(0.92, max(0.05, ndvi)))[band.index]
                            values[row * w + col] = max(1, (reflectance * 10000 + 1000 + rng.normal() * 40).rounded())
                        }
                    }
                }
                let path = (dir as NSString).appendingPathComponent("\(band.name).tif")
                let writer = try RasterWriter(path: path, grid: grid, epsg: 32632, type: band.index < 0 ? .uint8 : .uint16, nodata: 0)
                try writer.write(row: 0, rows: h, values: values)
                writer.close()
                assets.append("\"\(band.name)\": {\"href\": \"\(day)/\(band.name).tif\", \"type\": \"image/tiff; application=geotiff\"}")
            }
            items.append("""
                {"type": "Feature", "stac_version": "1.0.0", "id": "\(scene.reference)", "collection": "sentinel-2-l2a",
                 "geometry": null, "properties": {"datetime": "\(scene.datetime)", "s2:processing_baseline": "05.10"},
                 "assets": {\(assets.joined(separator: ", "))}, "links": []}
                """)
        }
        try ("{\"type\": \"FeatureCollection\", \"features\": [\n" + items.joined(separator: ",\n") + "\n]}\n")
            .write(toFile: (folder as NSString).appendingPathComponent("scenes.json"), atomically: true, encoding: .utf8)
    }

    /// Even-odd point-in-polygon test.
    private func contains(_ ring: [(Double, Double)], _ x: Double, _ y: Double) -> Bool {
        var inside = false
        var j = ring.count - 1
        for i in 0..<ring.count {
            let (xi, yi) = ring[i], (xj, yj) = ring[j]
            if (yi > y) != (yj > y), x < (xj - xi) * (y - yi) / (yj - yi) + xi { inside.toggle() }
            j = i
        }
        return inside
    }

    /// One full-size Sentinel-2 10 m band (10,980 × 10,980 px, UInt16) over the parcels, for the
    /// extraction benchmark: values vary smoothly with position plus noise.
    func writeBenchBand(_ parcels: [Parcel], path: String) throws {
        let size = 10_980
        let xs = parcels.flatMap { $0.ring.map(\.0) }, ys = parcels.flatMap { $0.ring.map(\.1) }
        let minX = ((xs.min()! - 100) / 10).rounded(.down) * 10, maxY = ((ys.max()! + 100) / 10).rounded(.up) * 10
        let grid = PixelGrid(originX: minX, originY: maxY, pixelWidth: 10, pixelHeight: 10, width: size, height: size)
        let writer = try RasterWriter(path: path, grid: grid, epsg: 32632, type: .uint16, nodata: 0, compress: false)
        var rng = SeededRandom(seed: seed ^ 0xBE4C)
        let strip = 256
        var row = 0
        while row < size {
            let rows = min(strip, size - row)
            var values = [Double](repeating: 0, count: rows * size)
            for r in 0..<rows {
                for c in 0..<size {
                    values[r * size + c] = (1500 + 800 * sin(Double(c) / 150) * cos(Double(row + r) / 170) + rng.normal() * 60).rounded()
                }
            }
            try writer.write(row: row, rows: rows, values: values)
            row += rows
        }
        writer.close()
    }
}
