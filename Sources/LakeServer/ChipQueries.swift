import Foundation
import LakeAnalytics
import LakeChips
import LakeGDAL
import LakeQuery
import LakeStore

/// Where the server keeps the chips it cut (a folder of its own, removed when it stops), served
/// under `/dump/NAME` as the JRC server does.
final class ChipCache: Sendable {
    let folder: String

    init() throws {
        folder = NSTemporaryDirectory() + "lake-serve-chips-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }

    /// The file of a name from a URL, if it is one of ours (no path separators or dot-dot).
    func path(_ name: String) -> String? {
        guard !name.isEmpty, name.count <= 200, name.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }), !name.hasPrefix(".") else { return nil }
        let path = folder + "/" + name
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// A file name for a request's chip: the request's hash, the scene's label and band.
    func name(_ key: String, _ scene: ChipScene, _ suffix: String) -> String {
        var hash: UInt64 = 14_695_981_039_346_656_037
        for b in key.utf8 { hash = (hash ^ UInt64(b)) &* 1_099_511_628_211 }
        return String(format: "%016llx", hash) + "_" + scene.label + "." + suffix
    }
}

/// The JRC image-chip queries ("Sentinel image chips"): `chipByLocation` (an HTML page of
/// composite PNG chips, at most 8 per row), `rawChipByLocation` and `rawChipByParcelID` (JSON
/// `{"dates": […], "chips": ["/dump/….tif", …]}`, one GeoTIFF of one band per scene).
enum ChipQueries {
    typealias Parameters = JRCQueries.Parameters
    /// The most scenes one request may cut.
    static let maxChips = 120

    static func dates(_ p: Parameters) throws -> (String, String) {
        let from = try JRCQueries.required(p, "start_date"), to = try JRCQueries.required(p, "end_date")
        for d in [from, to] where Days.number(d) == nil || d.count != 10 { throw APIError.badRequest("\(d): a date YYYY-MM-DD expected") }
        guard from <= to else { throw APIError.badRequest("start_date \(from) is after end_date \(to)") }
        return (from, to)
    }

    static func location(_ p: Parameters, size: Double?) throws -> ChipWindow {
        let lon = try JRCQueries.number(p, "lon", range: -180...180), lat = try JRCQueries.number(p, "lat", range: -90...90)
        return .location(lon: lon, lat: lat, size: size)
    }

    static func scenes(_ c: QueryContext, bands: [String], _ p: Parameters) throws -> [ChipScene] {
        let (from, to) = try dates(p)
        let found = try ChipScenes.find(c.lake, bands: bands, from: from, to: to)
        guard found.count <= maxChips else {
            throw APIError.badRequest("\(found.count) scenes from \(from) to \(to); at most \(maxChips) chips per request: narrow the dates")
        }
        return found
    }

    static func chipByLocation(_ c: QueryContext, _ p: Parameters, cache: ChipCache, key: String) throws -> String {
        let bands = (JRCQueries.string(p, "bands") ?? "B08_B04_B03").split(separator: "_").map { Bands.normalise(String($0)) }
        guard bands.count == 3 else { throw APIError.badRequest("bands: three band names separated by _ (e.g. B08_B04_B03)") }
        let stretch: ChipStretch
        do { stretch = try ChipStretch.parse(JRCQueries.string(p, "lut") ?? "5_95") } catch { throw APIError.badRequest("\(error)") }
        let window = try location(p, size: nil)
        var cells: [String] = []
        for scene in try scenes(c, bands: bands, p) {
            let name = cache.name(key, scene, "png")
            if cache.path(name) == nil {
                let chip = try APIError.mapping { try ChipMaker.chip(window, scene: scene, look: .composite(bands), stretch: stretch) }
                try APIError.mapping { try chip.image.save(cache.folder + "/" + name) }
            }
            cells.append("<td><img src=\"/dump/\(name)\" width=\"128\" height=\"128\" alt=\"\(scene.date)\"><br>\(scene.label)</td>")
        }
        let rows = stride(from: 0, to: cells.count, by: 8).map { "<tr>" + cells[$0..<min($0 + 8, cells.count)].joined() + "</tr>" }
        return """
            <!DOCTYPE html><html><head><meta charset="utf-8"><title>chips</title>
            <style>body{font-family:sans-serif}td{text-align:center;font-size:12px;padding:4px}img{image-rendering:pixelated;border:1px solid #ccc}</style>
            </head><body><p>\(cells.count) chips, \(bands.joined(separator: "/"))</p><table>\(rows.joined())</table></body></html>
            """
    }

    static func rawChips(_ c: QueryContext, _ p: Parameters, cache: ChipCache, key: String, byParcel: Bool) throws -> [String: Any] {
        let band = Bands.normalise(try JRCQueries.required(p, "band"))
        let size = try JRCQueries.number(p, "chipsize", default: 1280, range: 10...5120)
        let window: ChipWindow
        if byParcel {
            let parcel = try JRCQueries.parcel(c, p)
            window = .location(lon: parcel.centroidLon, lat: parcel.centroidLat, size: size)
        } else {
            window = try location(p, size: size)
        }
        var dates: [String] = [], chips: [String] = []
        for scene in try scenes(c, bands: [band], p) {
            let name = cache.name(key, scene, band + ".tif")
            if cache.path(name) == nil {
                let (grid, srs, values) = try APIError.mapping { try ChipMaker.values(window, scene: scene, bands: [band]) }
                try APIError.mapping { try writeGeoTIFF(values[0], grid: grid, srs: srs, nodata: .nan, to: cache.folder + "/" + name) }
            }
            dates.append(scene.label)
            chips.append("/dump/" + name)
        }
        return ["dates": dates, "chips": chips]
    }
}
