import Foundation

/// Buffered text output (the benchmark writes millions of lines).
final class TextFile {
    private let handle: FileHandle
    private var buffer: [UInt8] = []

    init(_ path: String) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)   // FileHandle below says whether it worked
        guard let h = FileHandle(forWritingAtPath: path) else { throw CocoaError(.fileWriteNoPermission) }
        handle = h
        buffer.reserveCapacity(1 << 20)
    }

    func write(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= 1 << 20 { flush() }
    }

    func flush() { handle.write(Data(buffer)); buffer.removeAll(keepingCapacity: true) }
    func close() { flush(); try? handle.close() }
}

/// Fixed-point decimal text without Foundation formatting (fast and locale-free).
func decimal(_ value: Double, places: Int) -> String {
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    let scaled = Int((abs(value) * scale).rounded())
    let sign = value < 0 && scaled != 0 ? "-" : ""
    let whole = scaled / Int(scale), fraction = scaled % Int(scale)
    guard places > 0 else { return sign + String(whole) }
    var f = String(fraction)
    while f.count < places { f = "0" + f }
    return sign + String(whole) + "." + f
}

extension FixtureGenerator {
    func writeParcels(_ parcels: [Parcel], to path: String) throws {
        let out = try TextFile(path)
        out.write("{\"type\": \"FeatureCollection\", \"name\": \"parcels\",\n")
        out.write("\"crs\": {\"type\": \"name\", \"properties\": {\"name\": \"urn:ogc:def:crs:EPSG::32632\"}},\n\"features\": [\n")
        for (i, p) in parcels.enumerated() {
            let coords = p.ring.map { "[\(decimal($0.0, places: 2)), \(decimal($0.1, places: 2))]" }.joined(separator: ", ")
            let mowing = p.mowing.map { String(Int($0)) }.joined(separator: ";")
            out.write("{\"type\": \"Feature\", \"properties\": {\"parcel_id\": \"\(p.id)\", \"crop_code\": \"\(p.declared.code)\", \"crop_name\": \"\(p.declared.name)\", \"mowing_doy\": \"\(mowing)\"}, ")
            out.write("\"geometry\": {\"type\": \"Polygon\", \"coordinates\": [[\(coords)]]}}\(i + 1 < parcels.count ? "," : "")\n")
        }
        out.write("]}\n")
        out.close()
    }

    /// A STAC ItemCollection of the scenes, footprints covering the parcels (lon/lat).
    func writeSTAC(_ scenes: [Scene], to path: String) throws {
        let out = try TextFile(path)
        out.write("{\"type\": \"FeatureCollection\", \"features\": [\n")
        for (i, s) in scenes.enumerated() {
            let id = s.reference
            out.write("""
                {"type": "Feature", "stac_version": "1.0.0", "id": "\(id)", "collection": "sentinel-2-l2a",
                 "geometry": {"type": "Polygon", "coordinates": [[[7.6, 47.3], [9.1, 47.3], [9.1, 48.3], [7.6, 48.3], [7.6, 47.3]]]},
                 "bbox": [7.6, 47.3, 9.1, 48.3],
                 "properties": {"datetime": "\(s.datetime)", "platform": "sentinel-2\(s.platform.suffix(1).lowercased())",
                   "constellation": "sentinel-2", "eo:cloud_cover": \(decimal(s.cloud * 100, places: 2)),
                   "s2:processing_baseline": "05.10", "s2:product_uri": "\(id).SAFE", "s2:mgrs_tile": "32TMT",
                   "sat:relative_orbit": 65},
                 "assets": {}, "links": []}\(i + 1 < scenes.count ? "," : "")

                """)
        }
        out.write("]}\n")
        out.close()
    }

    /// Signatures (JRC signature-table CSV) and SCL histograms, consistent with each crop and
    /// with what the atmosphere did: clouds (flagged in SCL, except thin cloud edges half of the
    /// time), unflagged haze, cloud shadows (flagged on a third of the parcels they darken). What
    /// each observation really was goes to `quality` (clear, cloud, cloud-edge, haze, shadow).
    func writeSignatures(_ parcels: [Parcel], _ scenes: [Scene], signatures: String, scl: String, quality: String? = nil) throws {
        let sig = try TextFile(signatures), hist = try TextFile(scl)
        let labels = try quality.map(TextFile.init)
        sig.write("parcel_id,reference,band,count,mean,std,min,max,p25,p50,p75\n")
        hist.write("parcel_id,reference,hist\n")
        labels?.write("parcel_id,date,label\n")
        let pairs: [(Int, Int)] = sceneOrder
            ? scenes.indices.flatMap { s in parcels.indices.map { ($0, s) } }
            : parcels.indices.flatMap { p in scenes.indices.map { (p, $0) } }
        // How much of each band haze adds (relative to blue) and shadow keeps (NIR and SWIR less lit).
        let hazeShare = [1.0, 0.8, 0.65, 0.5, 0.35, 0.33, 0.15, 0.1]
        let shadowShare = [1.0, 1.0, 1.0, 0.95, 0.9, 0.9, 0.85, 0.85]
        for (p, s) in pairs {
            let parcel = parcels[p], scene = scenes[s]
            var rng = SeededRandom(seed: seed ^ UInt64(p) &* 0x1_0000_0001 ^ UInt64(s) &* 0x9E37)
            let n10 = max(1, Int(parcel.area / 100 * 0.88)), n20 = max(1, Int(parcel.area / 400 * 0.8))
            // Pixels on the boundary mix with the neighbours: small fields look less uniform.
            let side = parcel.area.squareRoot()
            let edge = min(1, 4 * side * 10 / parcel.area)
            let cloudy = rng.uniform() < scene.cloud
            let cover = cloudy ? (rng.uniform() < 0.3 ? rng.uniform(0.03, 0.25) : rng.uniform(0.25, 1)) : 0
            let ndvi = parcel.ndvi(day: scene.day) + rng.normal() * 0.015
            let clear = Self.reflectances(ndvi: min(0.92, max(0.05, ndvi)))
            let second = parcel.secondNDVI(day: scene.day).map { Self.reflectances(ndvi: min(0.92, max(0.05, $0 + rng.normal() * 0.015))) }
            let haze = scene.hazeAt(parcel.centre.0, parcel.centre.1) + (rng.uniform() < 0.015 ? rng.uniform(0.015, 0.04) : 0)
            let shade = scene.shadowAt(parcel.centre.0, parcel.centre.1)
            let cloudReflectance = rng.uniform(0.28, 0.5)
            func atmosphere(_ r: Double, _ b: Int) -> Double {
                var v = r
                if shade < 1 { v = v * shade * shadowShare[b] + 0.012 * hazeShare[b] }
                v += haze * hazeShare[b]
                return (1 - cover) * v + cover * cloudReflectance * (b >= 6 ? 0.8 : 1)
            }
            let label = cloudy ? (cover < 0.25 ? "cloud-edge" : "cloud") : shade < 1 ? "shadow" : haze >= 0.012 ? "haze" : "clear"
            labels?.write("\(parcel.id),\(scene.datetime.prefix(10)),\(label)\n")
            // SCL: clouds (8, 9) and their shadows (3); thin edges, haze and most shadows unflagged;
            // on a tenth of the clear observations of bare or cut ground, a false cloud.
            var h = [Int](repeating: 0, count: 12)
            let ground = ndvi > 0.4 ? 4 : 5
            var rest = n20
            if cloudy && (cover >= 0.25 || rng.uniform() < 0.5) {
                let cloudPixels = max(1, Int(Double(n20) * cover))
                h[9] = cloudPixels * 2 / 3; h[8] = cloudPixels - h[9]
                h[3] = (n20 - cloudPixels) / 3
                rest = n20 - cloudPixels - h[3]
            } else if shade < 1 && rng.uniform() < 0.35 {
                h[3] = max(1, n20 / 2); rest = n20 - h[3]
            } else if haze > 0.05 && rng.uniform() < 0.3 {
                h[10] = max(1, n20 / 4); rest = n20 - h[10]
            } else if ground == 5 && rng.uniform() < 0.1 {
                // Sen2Cor's false cloud: bright bare soil or drying cut grass taken for cloud
                // (medium probability) over part of a clear field.
                h[8] = max(1, n20 * 3 / 10); rest = n20 - h[8]
            } else {
                h[7] = rng.uniform() < 0.2 ? 1 : 0
                rest = n20 - h[7]
            }
            h[ground] += max(0, rest)
            let histText = h.enumerated().filter { $0.element > 0 }.map { "\"\"\($0.offset)\"\": \($0.element)" }.joined(separator: ", ")
            hist.write("\(parcel.id),\(scene.reference),\"{\(histText)}\"\n")
            for (b, band) in Self.bands.enumerated() {
                let is20m = ["B05", "B8A", "B11", "B12"].contains(band)
                let count = is20m ? n20 : n10
                let a = atmosphere(clear[b], b) * 10000 + 1000
                // Within-field spread: the canopy's own, the boundary's, and a cloud's over part of the field.
                var within = a * (0.03 + 0.05 * edge) + abs(rng.normal()) * 3
                if cloudy { within = (within * within + cover * (1 - cover) * pow((cloudReflectance - clear[b]) * 10000, 2)).squareRoot() }
                let noise = rng.normal() * 8
                var mean = a + noise, std = within, p25: Double, p50: Double, p75: Double
                if let second {
                    let b2 = atmosphere(second[b], b) * 10000 + 1000
                    let w = parcel.splitShare
                    let s2 = b2 * (0.03 + 0.05 * edge)
                    mean = (1 - w) * a + w * b2 + noise
                    std = ((1 - w) * within * within + w * s2 * s2 + w * (1 - w) * (a - b2) * (a - b2)).squareRoot()
                    p25 = mixtureQuantile(0.25, a, within, b2, s2, w) + noise
                    p50 = mixtureQuantile(0.5, a, within, b2, s2, w) + noise
                    p75 = mixtureQuantile(0.75, a, within, b2, s2, w) + noise
                } else {
                    p50 = mean + rng.normal() * std * 0.05
                    p25 = p50 - 0.674 * std
                    p75 = p50 + 0.674 * std
                }
                // The sampling noise of few pixels.
                std *= 1 + rng.normal() / Double(2 * count).squareRoot()
                p50 = p50.rounded(); p25 = (p25 * 2).rounded() / 2; p75 = (p75 * 2).rounded() / 2
                let lo = (min(p25, mean) - 2.6 * std).rounded(), hi = (max(p75, mean) + 2.6 * std).rounded()
                sig.write("\(parcel.id),\(scene.reference),\(band),\(count),\(decimal(mean, places: 4)),\(decimal(std, places: 4)),")
                sig.write("\(decimal(max(0, lo), places: 0)),\(decimal(hi, places: 0)),\(decimal(p25, places: 1)),\(decimal(p50, places: 0)),\(decimal(p75, places: 1))\n")
            }
        }
        sig.close(); hist.close(); labels?.close()
    }

    /// The q-quantile of a two-normal mixture (weight `w` on the second), by bisection.
    func mixtureQuantile(_ q: Double, _ m1: Double, _ s1: Double, _ m2: Double, _ s2: Double, _ w: Double) -> Double {
        func cdf(_ x: Double) -> Double {
            (1 - w) * 0.5 * (1 + erf((x - m1) / (s1 * 2.squareRoot()))) + w * 0.5 * (1 + erf((x - m2) / (s2 * 2.squareRoot())))
        }
        var lo = min(m1 - 5 * s1, m2 - 5 * s2), hi = max(m1 + 5 * s1, m2 + 5 * s2)
        for _ in 0..<50 {
            let mid = (lo + hi) / 2
            if cdf(mid) < q { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    /// What was planted, for scoring detectors and decisions: the true and declared crops, the
    /// second crop of split parcels, mowing dates, the barley harvest date, whether the meadow
    /// was grazed, and the light each scheme should give (mowing: meadows declared grassland;
    /// crop: every parcel; overall: red for a wrong declaration or an unmown meadow, yellow for
    /// a split parcel, else green).
    func writeTruth(_ parcels: [Parcel], to path: String) throws {
        let out = try TextFile(path)
        out.write("parcel_id,true_crop,declared_crop,split_crop,mowing_dates,harvest_date,grazed,expected_mowing,expected_crop,expected_light\n")
        func date(_ doy: Double) -> String {
            var c = Calendar(identifier: .gregorian); c.timeZone = TimeZone(identifier: "UTC")!
            let d = c.date(byAdding: .day, value: Int(doy) - 1, to: c.date(from: DateComponents(year: year, month: 1, day: 1))!)!
            let f = DateFormatter(); f.timeZone = c.timeZone; f.locale = Locale(identifier: "en_US_POSIX"); f.dateFormat = "yyyy-MM-dd"
            return f.string(from: d)
        }
        for p in parcels {
            let wrong = p.crop != p.declared
            let mowing = p.declared == .grassland ? (p.crop == .grassland && !p.mowing.isEmpty ? "green" : "red") : ""
            let crop = wrong ? "red" : p.split != nil ? "yellow" : "green"
            let light = wrong || mowing == "red" ? "red" : p.split != nil ? "yellow" : "green"
            out.write("\(p.id),\(p.crop.code),\(p.declared.code),\(p.split?.code ?? ""),\(p.mowing.map(date).joined(separator: ";")),")
            out.write("\(p.crop == .winterBarley ? date(p.harvest) : ""),\(p.grazed ? 1 : 0),\(mowing),\(crop),\(light)\n")
        }
        out.close()
    }
}
