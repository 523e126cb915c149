import Foundation
import LakeStore

/// Recognises a catalogue document by its content and yields one outcome per scene entry,
/// labelled with where it stands in the file ("feature 3", "entry 2", "line 7").
enum CatalogueDocument {
    typealias Entry = (location: String, outcome: SceneNormaliser.Outcome)

    static func read(path: String) throws -> [Entry] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw LakeError.input(file: path, location: nil, reason: "no such file")
        }
        if isDirectory.boolValue {
            for name in ["MTD_MSIL2A.xml", "MTD_MSIL1C.xml"] {
                let mtd = (path as NSString).appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: mtd) { return try read(path: mtd) }
            }
            throw LakeError.input(file: path, location: nil, reason: "a folder without MTD_MSIL2A.xml or MTD_MSIL1C.xml (not a Sentinel-2 .SAFE)")
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw LakeError.input(file: path, location: nil, reason: "cannot read: \(error.localizedDescription)")
        }
        let first = data.first { !($0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 || $0 == 0xEF || $0 == 0xBB || $0 == 0xBF) }
        switch first {
        case UInt8(ascii: "<"): return try xml(data, path: path)
        case UInt8(ascii: "{"), UInt8(ascii: "["): return try json(data, path: path)
        default:
            if path.lowercased().hasSuffix(".csv") || path.lowercased().hasSuffix(".tsv") { return try DiasCatalogueCSV.read(path: path) }
            throw LakeError.input(file: path, location: nil, reason: "not a catalogue document (expected STAC/OData/OpenSearch JSON, Atom or SAFE XML, or dias_catalogue CSV)")
        }
    }

    static func json(_ data: Data, path: String) throws -> [Entry] {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw LakeError.input(file: path, location: nil, reason: "invalid JSON: \(error.localizedDescription)")
        }
        var list: [[String: Any]] = []
        var label = "feature"
        if let array = object as? [[String: Any]] { list = array }
        else if let dict = object as? [String: Any] {
            if dict["type"] as? String == "Feature" { list = [dict] }
            else if let features = dict["features"] as? [[String: Any]] { list = features }
            else if let value = dict["value"] as? [[String: Any]] { list = value; label = "product" }
            else if let results = dict["results"] as? [[String: Any]] { list = results; label = "result" }
            else if dict["type"] as? String == "Collection" {
                throw LakeError.input(file: path, location: nil, reason: "a STAC Collection, not Items: give the collection's items or a search result")
            } else {
                throw LakeError.input(file: path, location: nil, reason: "JSON without features, value or results: not a STAC, OData or OpenSearch document")
            }
        } else {
            throw LakeError.input(file: path, location: nil, reason: "unexpected JSON (neither an object nor a list)")
        }
        return list.enumerated().map { i, entry in
            let properties = entry["properties"] as? [String: Any] ?? [:]
            let collection = entry["collection"] as? String ?? properties["collection"] as? String
            let name = entry["id"] as? String ?? entry["Name"] as? String ?? properties["title"] as? String
            let location = "\(label) \(i + 1)" + (name.map { " (\($0))" } ?? "")
            return (location, SceneNormaliser.scene(entry: entry, properties: properties, geometry: entry["geometry"], collection: collection))
        }
    }

    /// The document as UTF-8, which Foundation's XML parser needs (it traps on invalid UTF-8
    /// instead of failing, as `make fuzz` found): Latin-1 documents that say so are transcoded;
    /// anything else that is not UTF-8 is an error naming the byte.
    static func utf8XML(_ data: Data, path: String) throws -> Data {
        if String(validating: data, as: UTF8.self) != nil { return data }
        let head = String(decoding: data.prefix(200), as: UTF8.self).lowercased()
        if head.contains("encoding=\"iso-8859-1\"") || head.contains("encoding='iso-8859-1'") || head.contains("latin1")
            || head.contains("windows-1252"), let text = String(data: data, encoding: .isoLatin1) {
            let declared = text.replacingOccurrences(of: #"encoding=["'][^"']*["']"#, with: "encoding=\"UTF-8\"", options: .regularExpression)
            return Data(declared.utf8)
        }
        let bytes = [UInt8](data)
        // Where the first byte sequence that is not UTF-8 starts, for the line number.
        var i = 0
        scan: while i < bytes.count {
            let b = bytes[i]
            let length = b < 0x80 ? 1 : (0xC2...0xDF).contains(b) ? 2 : (0xE0...0xEF).contains(b) ? 3 : (0xF0...0xF4).contains(b) ? 4 : 0
            guard length > 0, i + length <= bytes.count else { break scan }
            for k in 1..<length where bytes[i + k] & 0xC0 != 0x80 { break scan }
            i += length
        }
        let line = bytes[..<i].filter { $0 == 10 }.count + 1
        throw LakeError.input(file: path, location: "line \(line)", reason: "not UTF-8 text (and no Latin-1 encoding declared): an XML catalogue document must be")
    }

    static func xml(_ data: Data, path: String) throws -> [Entry] {
        let parsed = XMLEntries.parse(try utf8XML(data, path: path))
        if let failure = parsed.failure {
            throw LakeError.input(file: path, location: parsed.failureLine > 0 ? "line \(parsed.failureLine)" : nil, reason: "malformed XML: \(failure)")
        }
        let root = parsed.root ?? ""
        if root.hasPrefix("Level-2A_User_Product") || root.hasPrefix("Level-1C_User_Product") {
            return [("product", safeMetadata(parsed.document))]
        }
        guard root == "feed" else {
            throw LakeError.input(file: path, location: nil, reason: "XML root <\(root)> is neither an Atom feed nor Sentinel-2 SAFE metadata")
        }
        return parsed.entries.enumerated().map { i, entry in
            var properties = entry
            if let baseline = entry["processingBaseline"] as? String, let colon = baseline.lastIndex(of: ":") {
                properties["processingBaseline"] = String(baseline[baseline.index(after: colon)...])
            }
            if let cloud = entry["cloudCover"] as? String { properties["cloudCover"] = Double(cloud) }
            let geometry = (entry["polygon"] as? String).flatMap(georssPolygon) ?? (entry["box"] as? String).flatMap(georssBox)
            return ("entry \(i + 1)", SceneNormaliser.scene(entry: [:], properties: properties, geometry: geometry, collection: nil))
        }
    }

    /// SAFE product metadata: the name, start time, baseline and the offsets it declares.
    static func safeMetadata(_ doc: [String: Any]) -> SceneNormaliser.Outcome {
        var properties: [String: Any] = [:]
        properties["title"] = doc["PRODUCT_URI"]
        properties["datetime"] = doc["PRODUCT_START_TIME"]
        properties["processingBaseline"] = doc["PROCESSING_BASELINE"]
        if let cloud = (doc["Cloud_Coverage_Assessment"] as? String).flatMap(Double.init) { properties["cloudCover"] = cloud }
        if let platform = doc["SPACECRAFT_NAME"] as? String { properties["platform"] = platform }
        var geometry: String?
        if let list = doc["EXT_POS_LIST"] as? String { geometry = latLonRing(list) }
        guard case .scene(var scene) = SceneNormaliser.scene(entry: [:], properties: properties, geometry: geometry, collection: "sentinel-2") else {
            return SceneNormaliser.scene(entry: [:], properties: properties, geometry: geometry, collection: "sentinel-2")
        }
        // The offset the product itself declares wins over the baseline rule.
        if let declared = ((doc["BOA_ADD_OFFSET"] ?? doc["RADIO_ADD_OFFSET"]) as? String).flatMap(Double.init) {
            scene.offset = declared
        } else if doc["BOA_ADD_OFFSET_VALUES_LIST"] == nil && doc["Radiometric_Offset_List"] == nil {
            scene.offset = 0
        }
        return .scene(scene)
    }

    /// "lat lon lat lon ..." (SAFE EXT_POS_LIST, GeoRSS polygon) → WKT polygon in lon/lat.
    static func latLonRing(_ text: String) -> String? {
        let values = text.split(whereSeparator: { $0 == " " || $0 == "," }).compactMap { Double($0) }
        guard values.count >= 8, values.count % 2 == 0 else { return nil }
        var points: [String] = []
        for i in stride(from: 0, to: values.count, by: 2) { points.append("\(values[i + 1]) \(values[i])") }
        if points.first != points.last { points.append(points[0]) }
        return "POLYGON((\(points.joined(separator: ", "))))"
    }

    static func georssPolygon(_ text: String) -> String? { latLonRing(text) }

    /// "south west north east" → WKT polygon.
    static func georssBox(_ text: String) -> String? {
        let v = text.split(separator: " ").compactMap { Double($0) }
        guard v.count == 4 else { return nil }
        return "POLYGON((\(v[1]) \(v[0]), \(v[3]) \(v[0]), \(v[3]) \(v[2]), \(v[1]) \(v[2]), \(v[1]) \(v[0])))"
    }
}

/// CSV in the JRC dias_catalogue form: obstime, reference, sensor, card, status, footprint
/// (WKT or GeoJSON), and optionally the lake's extra columns (tile, cloud_cover, ...).
enum DiasCatalogueCSV {
    static func read(path: String) throws -> [CatalogueDocument.Entry] {
        let reader: CSVReader
        do { reader = try CSVReader(path: path) } catch { throw LakeError.input(file: path, location: nil, reason: "\(error)") }
        guard let header = try reader.next()?.map({ $0.lowercased().trimmingCharacters(in: .whitespaces) }) else {
            throw LakeError.input(file: path, location: "line 1", reason: "empty file")
        }
        if header.contains("band") || header.contains("mean") {
            throw LakeError.input(file: path, location: "line 1", reason: "a signature table (band/mean columns), not a catalogue: use lake ingest signatures")
        }
        guard header.contains("reference") else {
            throw LakeError.input(file: path, location: "line 1", reason: "no reference column: not a dias_catalogue CSV (columns: \(header.joined(separator: ", ")))")
        }
        var out: [CatalogueDocument.Entry] = []
        do {
            while let fields = try reader.next() {
                var properties: [String: Any] = [:]
                for (i, name) in header.enumerated() where i < fields.count && !fields[i].isEmpty { properties[name] = fields[i] }
                var mapped: [String: Any] = ["title": properties["reference"] ?? ""]
                if let t = properties["obstime"] { mapped["datetime"] = t }
                if let c = properties["cloud_cover"] ?? properties["cloudcover"] { mapped["cloudCover"] = c }
                if let b = properties["processing_baseline"] { mapped["processingBaseline"] = b }
                if let t = properties["tile"] { mapped["s2:mgrs_tile"] = t }
                var outcome = SceneNormaliser.scene(entry: [:], properties: mapped, geometry: properties["footprint"], collection: "sentinel")
                if case .scene(var scene) = outcome, let id = (properties["id"] as? String).flatMap({ Int64($0) }) {
                    scene.sourceID = id
                    outcome = .scene(scene)
                }
                out.append(("line \(reader.line)", outcome))
            }
        } catch let error as CSVError {
            throw LakeError.input(file: path, location: "line \(error.line)", reason: error.reason)
        }
        return out
    }
}
