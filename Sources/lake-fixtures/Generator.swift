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
        var crop: Crop
        /// What the farmer declared: another crop for the planted wrong declarations.
        var declared: Crop
        /// A second crop on the east half (a parcel split between two crops).
        var split: Crop?
        /// Harvest day of year (winter barley).
        var harvest: Double = 185
        let ring: [(Double, Double)]   // UTM 32N metres, closed, counter-clockwise
        let area: Double
        var mowing: [Double]
        /// Realism of the field itself (own random stream, see `makeParcels`): the crop's curve
        /// shifted by `shift` days and scaled by `amplitude`; each cut's depth; the meadow's
        /// regrowth time constant; grazing instead of mowing; the second crop's share of a split.
        var shift = 0.0
        var amplitude = 1.0
        var cutDepths: [Double] = []
        var regrowth = 12.0
        var grazed = false
        var splitShare = 0.5
        var centre: (Double, Double) = (0, 0)

        /// The field's NDVI on a day (without observation noise): its own curve, a split
        /// parcel's second crop kept apart (`second`).
        func ndvi(day: Double) -> Double {
            let d = day - shift
            var v: Double
            if crop == .grassland {
                v = crop.ndvi(day: d, mowing: zip(mowing, cutDepths).map { ($0 - shift, $1) }, harvest: harvest - shift, regrowth: regrowth)
                if grazed {
                    // Rotational grazing: a lower sward, nibbled down and back every few weeks.
                    v = v - 0.08 - 0.05 * (0.5 + 0.5 * sin((day - shift * 3) / 9))
                }
            } else {
                v = crop.ndvi(day: d, mowing: [], harvest: harvest - shift)
            }
            let floor = 0.18
            return floor + (v - floor) * amplitude
        }

        func secondNDVI(day: Double) -> Double? { split.map { $0.ndvi(day: day - shift, mowing: []) } }
    }

    struct Scene {
        let reference: String
        let datetime: String
        let day: Double
        var cloud: Double          // fraction of the scene under cloud
        let platform: String
        /// Unflagged haze over part of the area (SCL says vegetation): centre, radius (m) and
        /// the reflectance it adds at its centre in the blue band.
        var haze: (x: Double, y: Double, radius: Double, strength: Double)?
        /// Cloud shadows over a few patches, most not flagged in SCL: centre, radius, darkening factor.
        var shadows: [(x: Double, y: Double, radius: Double, factor: Double)] = []

        /// Haze strength (blue reflectance added) at a point.
        func hazeAt(_ x: Double, _ y: Double) -> Double {
            guard let h = haze else { return 0 }
            let d2 = ((x - h.x) * (x - h.x) + (y - h.y) * (y - h.y)) / (h.radius * h.radius)
            return h.strength * exp(-d2)
        }
        /// Darkening factor at a point (1: no shadow).
        func shadowAt(_ x: Double, _ y: Double) -> Double {
            for s in shadows where (x - s.x) * (x - s.x) + (y - s.y) * (y - s.y) < s.radius * s.radius { return s.factor }
            return 1
        }
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
            let crop = Crop.drawn[Int(rng.next() % UInt64(Crop.drawn.count))]
            var mowing: [Double] = []
            if crop == .grassland {
                let cuts = 2 + Int(rng.next() % 2)
                var day = rng.uniform(130, 150)
                for _ in 0..<cuts { mowing.append(day.rounded()); day += rng.uniform(40, 55) }
            }
            out.append(Parcel(id: String(format: "P%06d", i + 1), crop: crop, declared: crop, ring: ring, area: area, mowing: mowing))
        }
        // Planted anomalies, from their own random stream (geometries and crops stay as they are):
        // a fifth of the meadows never mown and a tenth grazed, 4 % of arable parcels fallow, 6 %
        // wrong declarations (a third of them arable fields declared as grassland), 6 % of
        // parcels split between two crops (meadows with maize), and each barley parcel's own harvest day.
        var anomalies = SeededRandom(seed: seed ^ 0xA770)
        for i in out.indices {
            if out[i].crop == .grassland, anomalies.uniform() < 0.2 { out[i].mowing = [] }
            if out[i].crop == .winterBarley { out[i].harvest = anomalies.uniform(178, 198).rounded() }
            if anomalies.uniform() < 0.06 {
                let others = Crop.drawn.filter { $0 != out[i].crop }
                out[i].declared = out[i].crop.isArable && anomalies.uniform() < 0.33 ? .grassland
                    : others[Int(anomalies.next() % UInt64(others.count))]
            }
            if anomalies.uniform() < 0.06 {
                // Meadows with part of the field ploughed for maize; arable fields of two crops.
                let others = Crop.drawn.filter { $0 != out[i].crop && $0 != .grassland }
                out[i].split = out[i].crop == .grassland ? .maize : others[Int(anomalies.next() % UInt64(others.count))]
            }
        }
        // The field's own variation, from a third stream: the curve a week or two early or
        // late and a little higher or lower, meadows cut deep or shallow with their own regrowth,
        // some grazed, some arable fields left fallow.
        var realism = SeededRandom(seed: seed ^ 0x5EA1)
        for i in out.indices {
            out[i].shift = realism.normal() * 6
            out[i].amplitude = realism.uniform(0.82, 1.08)
            out[i].regrowth = realism.uniform(8, 20)
            out[i].cutDepths = out[i].mowing.map { _ in realism.uniform(0.22, 0.45) }
            out[i].splitShare = realism.uniform(0.3, 0.6)
            let xs = out[i].ring.dropLast().map(\.0), ys = out[i].ring.dropLast().map(\.1)
            out[i].centre = (xs.reduce(0, +) / Double(xs.count), ys.reduce(0, +) / Double(ys.count))
            let u = realism.uniform()
            if out[i].crop == .grassland, out[i].mowing.isEmpty, u < 0.5 { out[i].grazed = true }
            if out[i].crop.isArable, out[i].split == nil, u < 0.04 {
                let declaredSame = out[i].declared == out[i].crop
                out[i].crop = .fallow
                if declaredSame { out[i].declared = .fallow }
            }
        }
        return out
    }

    func makeScenes() -> [Scene] {
        var rng = SeededRandom(seed: seed ^ 0xC10D)
        let step = 365.0 / Double(scenes)
        let list = (0..<scenes).map { k -> Scene in
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
        return withAtmosphere(list)
    }

    /// What SCL does not see, from a stream of its own: one or two long cloudy spells in the
    /// growing season, unflagged haze over part of the area on some clear scenes, and cloud
    /// shadows in patches.
    func withAtmosphere(_ input: [Scene]) -> [Scene] {
        var scenes = input
        var rng = SeededRandom(seed: seed ^ 0xA7305)
        let (minX, maxX, minY, maxY) = extent
        for _ in 0..<(1 + Int(rng.next() % 2)) {
            let start = rng.uniform(100, 240), length = rng.uniform(18, 30)
            for k in scenes.indices where scenes[k].day >= start && scenes[k].day <= start + length { scenes[k].cloud = rng.uniform(0.9, 1) }
        }
        for k in scenes.indices where scenes[k].cloud < 0.75 {
            if rng.uniform() < 0.2 {
                let span = max(maxX - minX, maxY - minY)
                scenes[k].haze = (rng.uniform(minX, maxX), rng.uniform(minY, maxY), rng.uniform(0.25, 0.7) * span + 1500, rng.uniform(0.02, 0.07))
            }
            if rng.uniform() < 0.12 {
                scenes[k].shadows = (0..<(2 + Int(rng.next() % 5))).map { _ in
                    (rng.uniform(minX, maxX), rng.uniform(minY, maxY), rng.uniform(300, 1200), rng.uniform(0.35, 0.7))
                }
            }
        }
        return scenes
    }

    /// The parcels' extent (UTM metres): as `makeParcels` lays them out.
    var extent: (Double, Double, Double, Double) {
        let columns = Int(Double(parcels).squareRoot().rounded(.up))
        let rows = (parcels + columns - 1) / columns
        return (470_000 - 150, 470_000 + Double(columns) * 260 + 150, 5_250_000 - 150, 5_250_000 + Double(rows) * 220 + 150)
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
