import Foundation

/// Buffered text output (the benchmark writes millions of lines).
final class TextFile {
    private let handle: FileHandle
    private var buffer: [UInt8] = []

    init(_ path: String) throws {
        FileManager.default.createFile(atPath: path, contents: nil)
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

    /// Signatures (JRC signature-table CSV) and SCL histograms, consistent with each crop.
    func writeSignatures(_ parcels: [Parcel], _ scenes: [Scene], signatures: String, scl: String) throws {
        let sig = try TextFile(signatures), hist = try TextFile(scl)
        sig.write("parcel_id,reference,band,count,mean,std,min,max,p25,p50,p75\n")
        hist.write("parcel_id,reference,hist\n")
        let pairs: [(Int, Int)] = sceneOrder
            ? scenes.indices.flatMap { s in parcels.indices.map { ($0, s) } }
            : parcels.indices.flatMap { p in scenes.indices.map { (p, $0) } }
        for (p, s) in pairs {
            let parcel = parcels[p], scene = scenes[s]
            var rng = SeededRandom(seed: seed ^ UInt64(p) &* 0x1_0000_0001 ^ UInt64(s) &* 0x9E37)
            let n10 = max(1, Int(parcel.area / 100 * 0.88)), n20 = max(1, Int(parcel.area / 400 * 0.8))
            let cloudy = rng.uniform() < scene.cloud
            let ndvi = parcel.crop.ndvi(day: scene.day, mowing: parcel.mowing, harvest: parcel.harvest) + rng.normal() * 0.015
            let clear = Self.reflectances(ndvi: min(0.92, max(0.05, ndvi)))
            // A split parcel: half of each crop; the mean between them, the spread widened by their difference.
            let second = parcel.split.map { Self.reflectances(ndvi: min(0.92, max(0.05, $0.ndvi(day: scene.day, mowing: [])))) }
            // SCL: clouds (8, 9) and their shadows (3) when cloudy; vegetation (4) or bare soil (5) when clear.
            var h = [Int](repeating: 0, count: 12)
            if cloudy {
                let cover = rng.uniform(0.3, 1)
                let cloudPixels = Int(Double(n20) * cover)
                h[9] = cloudPixels * 2 / 3; h[8] = cloudPixels - h[9]
                h[3] = (n20 - cloudPixels) / 3
                h[ndvi > 0.4 ? 4 : 5] = n20 - cloudPixels - h[3]
            } else {
                h[7] = rng.uniform() < 0.2 ? 1 : 0
                h[ndvi > 0.4 ? 4 : 5] = n20 - h[7]
            }
            let histText = h.enumerated().filter { $0.element > 0 }.map { "\"\"\($0.offset)\"\": \($0.element)" }.joined(separator: ", ")
            hist.write("\(parcel.id),\(scene.reference),\"{\(histText)}\"\n")
            for (b, band) in Self.bands.enumerated() {
                let is20m = ["B05", "B8A", "B11", "B12"].contains(band)
                let count = is20m ? n20 : n10
                var reflectance = cloudy ? rng.uniform(0.25, 0.45) : clear[b]
                var spread = 0.0
                if let second, !cloudy {
                    reflectance = (clear[b] + second[b]) / 2
                    spread = abs(clear[b] - second[b]) * 10000 / 2
                }
                let mean = reflectance * 10000 + 1000 + rng.normal() * 8
                let within = max(2, mean * (cloudy ? 0.12 : 0.045) + rng.normal() * 3)
                let std = (within * within + spread * spread).squareRoot()
                let p50 = (mean + rng.normal() * std * 0.05).rounded()
                let p25 = ((p50 - 0.674 * std) * 2).rounded() / 2
                let p75 = ((p50 + 0.674 * std) * 2).rounded() / 2
                let lo = (mean - 2.6 * std).rounded(), hi = (mean + 2.6 * std).rounded()
                sig.write("\(parcel.id),\(scene.reference),\(band),\(count),\(decimal(mean, places: 4)),\(decimal(std, places: 4)),")
                sig.write("\(decimal(max(0, lo), places: 0)),\(decimal(hi, places: 0)),\(decimal(p25, places: 1)),\(decimal(p50, places: 0)),\(decimal(p75, places: 1))\n")
            }
        }
        sig.close(); hist.close()
    }

    /// What was planted, for scoring detectors and decisions: the true and declared crops, the
    /// second crop of split parcels, mowing dates and the barley harvest date.
    func writeTruth(_ parcels: [Parcel], to path: String) throws {
        let out = try TextFile(path)
        out.write("parcel_id,true_crop,declared_crop,split_crop,mowing_dates,harvest_date\n")
        func date(_ doy: Double) -> String {
            var c = Calendar(identifier: .gregorian); c.timeZone = TimeZone(identifier: "UTC")!
            let d = c.date(byAdding: .day, value: Int(doy) - 1, to: c.date(from: DateComponents(year: year, month: 1, day: 1))!)!
            let f = DateFormatter(); f.timeZone = c.timeZone; f.locale = Locale(identifier: "en_US_POSIX"); f.dateFormat = "yyyy-MM-dd"
            return f.string(from: d)
        }
        for p in parcels {
            out.write("\(p.id),\(p.crop.code),\(p.declared.code),\(p.split?.code ?? ""),\(p.mowing.map(date).joined(separator: ";")),")
            out.write("\(p.crop == .winterBarley ? date(p.harvest) : "")\n")
        }
        out.close()
    }
}
