import Foundation
import LakeGDAL
import LakeStore

/// One scene as the catalogue stores it, whatever document it came from.
struct SceneRecord {
    var reference: String
    var obstime: String
    var platform: String?
    var sensor: String
    var card: String
    var tile: String?
    var relativeOrbit: Int?
    var cloudCover: Double?
    var baseline: String?
    var offset: Double
    var footprintWKB: [UInt8]?
    var assets: [String: String]
    /// The scene's id in the catalogue it came from (a JRC dias_catalogue `id`).
    var sourceID: Int64? = nil

    /// Sentinel-2 from processing baseline 04.00 on adds 1000 to digital numbers
    /// (BOA_ADD_OFFSET / RADIO_ADD_OFFSET = −1000); earlier baselines have no offset.
    static func defaultOffset(card: String, baseline: String?) -> Double {
        guard card == "s2" || card == "l1c", let baseline, let value = Double(baseline) else { return 0 }
        return value >= 4.0 ? -1000 : 0
    }
}

/// Builds SceneRecords from the property bags of STAC Items, resto/OpenSearch features,
/// OData products and Atom entries. Each field is looked up under the names the catalogues use;
/// the product name fills what the properties leave out.
enum SceneNormaliser {
    /// STAC asset keys (Earth Search v1 common names) → band names.
    static let commonNames: [String: String] = [
        "coastal": "B01", "blue": "B02", "green": "B03", "red": "B04", "rededge1": "B05", "rededge2": "B06",
        "rededge3": "B07", "nir": "B08", "nir08": "B8A", "nir09": "B09", "cirrus": "B10", "swir16": "B11",
        "swir22": "B12", "scl": "SCL", "vv": "VV", "vh": "VH", "hh": "HH", "hv": "HV",
    ]

    enum Outcome {
        case scene(SceneRecord)
        case rejected(String)
    }

    static func scene(entry: [String: Any], properties: [String: Any], geometry: Any?, collection: String?) -> Outcome {
        func string(_ keys: String...) -> String? {
            for key in keys {
                if let s = properties[key] as? String, !s.isEmpty { return s }
                if let s = entry[key] as? String, !s.isEmpty { return s }
            }
            return nil
        }
        func number(_ keys: String...) -> Double? {
            for key in keys {
                if let n = properties[key] as? NSNumber { return n.doubleValue }
                if let s = properties[key] as? String, let d = Double(s) { return d }
            }
            return nil
        }
        let odataAttributes = attributes(entry["Attributes"])
        let nameCandidates = [string("s2:product_uri"), string("sentinel:product_id"), string("s1:product_identifier"),
                              string("Name"), string("name"), string("title"), string("productIdentifier"),
                              string("identifier"), entry["id"] as? String].compactMap { $0 }
        let product = nameCandidates.lazy.compactMap(ProductName.init).first
        guard let product else {
            let label = nameCandidates.first ?? "entry"
            if let c = collection, c.lowercased().contains("sentinel") {
                return .rejected("\(label): cannot read the Sentinel product name")
            }
            return .rejected("\(label): not a Sentinel-1/2 scene (no Sentinel product name)")
        }
        let start = string("datetime", "start_datetime", "startDate", "beginPosition")
            ?? (entry["ContentDate"] as? [String: Any])?["Start"] as? String
        let obstime = start.flatMap(normaliseTime) ?? product.obstime
        let platform = string("platform").map { $0.lowercased() }
        var tile = product.tile
        if let t = string("s2:mgrs_tile", "tileId") { tile = t }
        else if let grid = string("grid:code"), grid.hasPrefix("MGRS-") { tile = String(grid.dropFirst(5)) }
        else if let zone = number("mgrs:utm_zone"), let band = string("mgrs:latitude_band"), let square = string("mgrs:grid_square") {
            tile = String(format: "%02d", Int(zone)) + band + square
        }
        let relativeOrbit = number("sat:relative_orbit", "relativeOrbitNumber").map { Int($0) }
            ?? (odataAttributes["relativeOrbitNumber"] as? NSNumber)?.intValue ?? product.relativeOrbit
        let cloud = number("eo:cloud_cover", "cloudCover") ?? (odataAttributes["cloudCover"] as? NSNumber)?.doubleValue
        var baseline = string("s2:processing_baseline", "processingBaseline")
            ?? (odataAttributes["processingBaseline"] as? String) ?? product.baseline
        if let b = baseline, let value = Double(b) { baseline = String(format: "%05.2f", value) }
        var offset = SceneRecord.defaultOffset(card: product.card, baseline: baseline)
        if (properties["earthsearch:boa_offset_applied"] as? Bool) == true { offset = 0 }
        // A footprint given but unusable (not a polygon, outside longitude/latitude) rejects the
        // scene: a silent NULL would make spatial queries miss it.
        var footprint: [UInt8]?
        let given: Any? = geometry.flatMap { $0 is NSNull ? nil : $0 } ?? entry["GeoFootprint"] ?? entry["Footprint"] ?? entry["footprint"]
        if let given {
            switch footprintWKB(given) {
            case .success(let wkb): footprint = wkb
            case .failure(let problem): return .rejected("\(product.reference): footprint \(problem.description)")
            }
        }
        var assets: [String: String] = [:]
        if let stacAssets = entry["assets"] as? [String: Any] {
            for (key, value) in stacAssets {
                guard let asset = value as? [String: Any], let href = asset["href"] as? String else { continue }
                let lower = key.lowercased()
                let name = commonNames[lower] ?? (lower.hasPrefix("b") || lower.hasPrefix("scl") ? Bands.normalise(key) : key)
                if assets[name] == nil || key.hasSuffix("10m") { assets[name] = href }
            }
        }
        return .scene(SceneRecord(reference: product.reference, obstime: obstime, platform: platform,
                                  sensor: product.sensor, card: product.card, tile: tile, relativeOrbit: relativeOrbit,
                                  cloudCover: cloud, baseline: product.card == "s2" || product.card == "l1c" ? baseline : nil,
                                  offset: offset, footprintWKB: footprint, assets: assets))
    }

    /// OData `Attributes`: a list of {Name, Value} pairs.
    static func attributes(_ value: Any?) -> [String: Any] {
        guard let list = value as? [[String: Any]] else { return [:] }
        var out: [String: Any] = [:]
        for a in list { if let name = a["Name"] as? String { out[name] = a["Value"] } }
        return out
    }

    /// 2020-08-08T01:03:11.024000Z → 2020-08-08T01:03:11Z (UTC assumed when no zone is given).
    static func normaliseTime(_ text: String) -> String? {
        let t = text.replacingOccurrences(of: " ", with: "T")
        guard t.count >= 19 else {
            return t.count == 10 ? t + "T00:00:00Z" : nil
        }
        let head = String(t.prefix(19))
        guard head.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"#, options: .regularExpression) != nil else { return nil }
        return head + "Z"
    }

    /// A footprint as WKB MULTIPOLYGON in EPSG:4326 from GeoJSON (object or text), WKT or
    /// OData's `geography'SRID=4326;POLYGON(...)'`.
    struct FootprintProblem: Error, CustomStringConvertible { let description: String }

    static func footprintWKB(_ value: Any) -> Result<[UInt8], FootprintProblem> {
        var geometry: Geometry?
        if let object = value as? [String: Any], JSONSerialization.isValidJSONObject(object),
           let data = try? JSONSerialization.data(withJSONObject: object) {
            geometry = try? Geometry.fromGeoJSON(String(decoding: data, as: UTF8.self))
        } else if var text = value as? String {
            if text.hasPrefix("geography'") {
                text = String(text.dropFirst("geography'".count).dropLast())
                if let semicolon = text.firstIndex(of: ";") { text = String(text[text.index(after: semicolon)...]) }
            }
            geometry = text.hasPrefix("{") ? try? Geometry.fromGeoJSON(text) : try? Geometry.fromWKT(text)
        }
        guard let g = geometry else { return .failure(FootprintProblem(description: "is not a GeoJSON or WKT geometry")) }
        guard !g.isEmpty, g.isAreal else { return .failure(FootprintProblem(description: "is not a polygon (\(g.typeName))")) }
        let e = g.envelope
        guard e.minX >= -180, e.maxX <= 180, e.minY >= -90, e.maxY <= 90, [e.minX, e.maxX, e.minY, e.maxY].allSatisfy(\.isFinite) else {
            return .failure(FootprintProblem(description: String(format: "lies outside longitude −180…180 and latitude −90…90 (%.6g, %.6g … %.6g, %.6g)", e.minX, e.minY, e.maxX, e.maxY)))
        }
        var shape = g.polygonalParts()
        if !shape.isValid, let fixed = shape.madeValid()?.polygonalParts() { shape = fixed }
        return .success(shape.wkb())
    }
}
