import Foundation
import LakeStore
import LakeSupport

/// Which parcels a transfer takes (`lake subset`, `lake pull`): an AOI and year, and at most one
/// of a box, a polygon file or a list of parcel ids.
public struct ParcelSelection: Sendable {
    public var aoi: String?
    public var year: Int?
    /// W, S, E, N in degrees (WGS 84).
    public var bbox: [Double]?
    /// A file holding WKT or GeoJSON (a geometry, Feature or FeatureCollection) in WGS 84.
    public var polygon: String?
    /// A file of parcel ids: one per line, or the first column of a CSV.
    public var parcels: String?
    public init() {}

    /// Whether a box, polygon or list narrows the parcels down (beyond AOI and year).
    public var narrowed: Bool { bbox != nil || polygon != nil || parcels != nil }

    /// The request as JSON (recorded in ingest_log).
    public var json: [String: Any] {
        var j: [String: Any] = [:]
        if let aoi { j["aoi"] = aoi }
        if let year { j["year"] = year }
        if let bbox { j["bbox"] = bbox }
        if let polygon { j["polygon"] = polygon }
        if let parcels { j["parcels"] = parcels }
        return j
    }

    /// Parses `W,S,E,N`.
    public static func bbox(_ text: String) throws -> [Double] {
        let values = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard values.count == 4, values.allSatisfy({ $0?.isFinite == true }) else { throw LakeError.usage("--bbox \(text): four numbers W,S,E,N") }
        let b = values.map { $0! }
        guard b[0] < b[2], b[1] < b[3], b[1] >= -90, b[3] <= 90 else { throw LakeError.usage("--bbox \(text): W < E and S < N, latitudes within ±90") }
        return b
    }

    /// The polygon file's content: WKT text, or GeoJSON geometries (each as its own JSON text).
    public enum Area { case wkt(String), geojson([String]) }

    public static func area(_ file: String) throws -> Area {
        guard let data = read(file), let text = String(data: data, encoding: .utf8) else {
            throw LakeError.input(file: file, location: nil, reason: "cannot read it")
        }
        let trimmed = text.trimmed()
        guard trimmed.hasPrefix("{") else {
            guard !trimmed.isEmpty else { throw LakeError.input(file: file, location: nil, reason: "empty: expected WKT or GeoJSON") }
            return .wkt(trimmed)
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw LakeError.input(file: file, location: nil, reason: "not valid JSON")
        }
        var geometries: [[String: Any]] = []
        func collect(_ o: [String: Any]) {
            switch o["type"] as? String {
            case "FeatureCollection": for f in o["features"] as? [[String: Any]] ?? [] { collect(f) }
            case "Feature": if let g = o["geometry"] as? [String: Any] { collect(g) }
            case "GeometryCollection": for g in o["geometries"] as? [[String: Any]] ?? [] { collect(g) }
            case "Polygon", "MultiPolygon": geometries.append(o)
            default: break
            }
        }
        collect(object)
        guard !geometries.isEmpty else { throw LakeError.input(file: file, location: nil, reason: "no Polygon or MultiPolygon in it") }
        return .geojson(try geometries.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) })
    }

    /// The whole file (also a pipe, as from a shell's process substitution).
    static func read(_ file: String) -> Data? {
        guard let handle = FileHandle(forReadingAtPath: file) else { return nil }
        defer { try? handle.close() }
        return try? handle.readToEnd() ?? Data()
    }

    public static func ids(_ file: String) throws -> [String] {
        guard let data = read(file), let text = String(data: data, encoding: .utf8) else {
            throw LakeError.input(file: file, location: nil, reason: "cannot read it (UTF-8 text, one parcel id per line)")
        }
        let ids = text.split(whereSeparator: \.isNewline).map { line -> String in
            let first = line.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            return String(first).trimmed().trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }.filter { !$0.isEmpty }
        guard !ids.isEmpty else { throw LakeError.input(file: file, location: nil, reason: "no parcel ids in it") }
        return ids
    }
}
