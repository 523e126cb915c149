import Foundation

/// Writes the fixture set: parcels (GeoJSON, EPSG:32632), STAC items, signatures and SCL
/// histograms in the JRC CSV forms. Everything follows from the seed and the sizes.
struct FixtureGenerator {
    var parcels: Int
    var scenes: Int
    var seed: UInt64
    var year = 2024
    var sceneOrder = false

    static let bands = ["B02", "B03", "B04", "B05", "B08", "B8A", "B11", "B12"]

    struct Parcel {
        let id: String
        /// What grows on the field (its signatures follow it).
        let crop: Crop
        /// What the farmer declared: another crop for the planted wrong declarations.
        var declared: Crop
        /// A second crop on the east half (a parcel split between two crops).
        var split: Crop?
        /// Harvest day of year (winter barley).
        var harvest: Double = 185
        let ring: [(Double, Double)]   // UTM 32N metres, closed, counter-clockwise
        let area: Double
        var mowing: [Double]
    }

    struct Scene {
        let reference: String
        let datetime: String
        let day: Double
        let cloud: Double          // fraction of the scene under cloud
        let platform: String
    }

    func makeParcels() -> [Parcel] {
        var rng = SeededRandom(seed: seed)
        var out: [Parcel] = []
        let columns = Int(Double(parcels).squareRoot().rounded(.up))
        let originX = 470_000.0, originY = 5_250_000.0   // near Zurich, UTM zone 32N
        for i in 0..<parcels {
            let cx = originX + Double(i % columns) * 260, cy = originY + Double(i / columns) * 220
            let w = rng.uniform(90, 220), h = rng.uniform(70, 180)
            let skew = rng.uniform(-25, 25), angle = rng.uniform(-0.3, 0.3)
            // A quadrilateral field with a skewed side, rotated a little.
            let corners = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2 + skew, h / 2), (-w / 2 + skew * 0.3, h / 2)]
            var ring = corners.map { (x, y) in
                (cx + x * cos(angle) - y * sin(angle), cy + x * sin(angle) + y * cos(angle))
            }
            ring.append(ring[0])
            var area = 0.0
            for k in 0..<(ring.count - 1) { area += ring[k].0 * ring[k + 1].1 - ring[k + 1].0 * ring[k].1 }
            area = abs(area) / 2
            let crop = Crop.allCases[Int(rng.next() % UInt64(Crop.allCases.count))]
            var mowing: [Double] = []
            if crop == .grassland {
                let cuts = 2 + Int(rng.next() % 2)
                var day = rng.uniform(130, 150)
                for _ in 0..<cuts { mowing.append(day.rounded()); day += rng.uniform(40, 55) }
            }
            out.append(Parcel(id: String(format: "P%06d", i + 1), crop: crop, declared: crop, ring: ring, area: area, mowing: mowing))
        }
        // Planted anomalies, from their own random stream (geometries and crops stay as they are):
        // a fifth of the meadows never mown, 6 % wrong declarations, 6 % of arable parcels split
        // between two crops, and each barley parcel's own harvest day.
        var anomalies = SeededRandom(seed: seed ^ 0xA770)
        for i in out.indices {
            if out[i].crop == .grassland, anomalies.uniform() < 0.2 { out[i].mowing = [] }
            if out[i].crop == .winterBarley { out[i].harvest = anomalies.uniform(178, 198).rounded() }
            if anomalies.uniform() < 0.06 {
                let others = Crop.allCases.filter { $0 != out[i].crop }
                out[i].declared = others[Int(anomalies.next() % UInt64(others.count))]
            }
            if out[i].crop != .grassland, anomalies.uniform() < 0.06 {
                let others = Crop.allCases.filter { $0 != out[i].crop && $0 != .grassland }
                out[i].split = others[Int(anomalies.next() % UInt64(others.count))]
            }
        }
        return out
    }

    func makeScenes() -> [Scene] {
        var rng = SeededRandom(seed: seed ^ 0xC10D)
        let step = 365.0 / Double(scenes)
        return (0..<scenes).map { k in
            let day = 1 + Double(k) * step
            var components = DateComponents(year: year, month: 1, day: 1, hour: 10, minute: 30, second: 21)
            let calendar = Calendar(identifier: .gregorian)
            var utc = calendar; utc.timeZone = TimeZone(identifier: "UTC")!
            components.timeZone = utc.timeZone
            let date = utc.date(byAdding: .day, value: Int(day) - 1, to: utc.date(from: components)!)!
            let f = DateFormatter(); f.timeZone = utc.timeZone; f.locale = Locale(identifier: "en_US_POSIX")
            f.dateFormat = "yyyyMMdd'T'HHmmss"
            let compact = f.string(from: date)
            f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'"
            let iso = f.string(from: date)
            let platform = k % 2 == 0 ? "S2A" : "S2B"
            // Realistic cloudiness: often clear, often overcast, sometimes broken cloud.
            let r = rng.uniform()
            let cloud = r < 0.45 ? rng.uniform(0, 0.05) : r < 0.75 ? rng.uniform(0.2, 0.7) : rng.uniform(0.85, 1)
            let reference = "\(platform)_MSIL2A_\(compact)_N0510_R065_T32TMT_\(compact.prefix(9))\(String(format: "12%02d%02d", 30 + k / 60, k % 60))"
            return Scene(reference: reference, datetime: iso, day: day, cloud: cloud, platform: platform)
        }
    }

    /// Surface reflectance of the fixture bands for an NDVI (soil to dense canopy).
    static func reflectances(ndvi: Double) -> [Double] {
        let red = 0.13 - 0.10 * ndvi
        let nir = red * (1 + ndvi) / (1 - ndvi)
        let green = 0.08 + 0.01 * ndvi, blue = 0.06 - 0.02 * ndvi
        let rededge = (red + nir) / 2
        let swir1 = 0.28 - 0.12 * ndvi, swir2 = 0.22 - 0.13 * ndvi
        return [blue, green, red, rededge, nir, nir * 0.98, swir1, swir2]
    }
}
