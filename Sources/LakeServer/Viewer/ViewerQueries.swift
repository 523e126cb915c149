import Foundation
import LakeChips
import LakePlots
import LakeQuery
import LakeSQLite
import LakeStore
import LakeSupport

/// The lake as the viewer page needs it: one connection with SpatiaLite (geometries as GeoJSON,
/// parcel windows for chips), used by one request at a time — the viewer is one analyst's.
final class ViewerContext: @unchecked Sendable {
    private let lock = NSLock()
    private let lake: Lake

    let timeLimit: Double

    init(path: String, timeLimit: Double) throws {
        lake = try Lake.open(path: path)
        self.timeLimit = timeLimit
    }

    /// The lake for one request, its queries interrupted after the server's time limit.
    func with<T>(_ body: (Lake) throws -> T) throws -> T {
        lock.lock(); defer { lock.unlock() }
        return try LakeServer.limited(lake, timeLimit) { try body(lake) }
    }
}

/// What the viewer page (`/`) asks the server for: the parcels with their latest overall light
/// as GeoJSON in the lake's CRS, a parcel's plot (SVG, `lake plot parcel`), and its chips of the
/// latest cloud-free dates (`lake chip`).
enum ViewerQueries {
    typealias Parameters = JRCQueries.Parameters

    /// Every parcel (at most `max`) as a GeoJSON feature collection: `id`, `crop`, `light`
    /// (the latest `lake decide` run's overall colour, or "none") and its first reason.
    static func parcels(_ lake: Lake, _ p: Parameters, max: Int) throws -> String {
        // Centimetres in a projected CRS; about a centimetre (7 decimals) in degrees.
        let geographic = try lake.db.scalar("SELECT SridIsGeographic(?)", .int(Int64(lake.srid)))?.int == 1
        let s = try lake.db.prepare("""
            WITH latest AS (SELECT pid, colour, reasons FROM decisions
                            WHERE scheme = 'overall' AND run_id = (SELECT max(run_id) FROM decisions WHERE scheme = 'overall'))
            SELECT p.parcel_id, coalesce(nullif(p.crop_name, ''), p.crop_code, ''), coalesce(l.colour, 'none'),
                   coalesce(json_extract(l.reasons, '$[0]'), ''), AsGeoJSON(p.geom, \(geographic ? 7 : 2)), p.aoi, p.year
            FROM parcels p LEFT JOIN latest l USING (pid)
            WHERE (?1 IS NULL OR p.aoi = ?1) AND (?2 IS NULL OR p.year = ?2) AND p.geom IS NOT NULL
            ORDER BY p.pid LIMIT ?3
            """)
        try s.bind([JRCQueries.string(p, "aoi").map(SQLValue.text) ?? .null, try JRCQueries.year(p).map { .int(Int64($0)) } ?? .null,
                    .int(Int64(max) + 1)])
        var features: [String] = []
        while try s.step() {
            guard features.count < max else { throw APIError(status: 413, message: "more than \(max) parcels: give aoi and year (lake serve --max-rows)") }
            let properties = JSONText.render(["id": s.text(0) ?? "", "crop": s.text(1) ?? "", "light": s.text(2) ?? "none",
                                              "reason": s.text(3) ?? "", "aoi": s.text(5) ?? "", "year": s.int(6)], pretty: false)
            features.append("{\"type\":\"Feature\",\"properties\":\(properties),\"geometry\":\(s.text(4) ?? "null")}")
        }
        return "{\"type\":\"FeatureCollection\",\"srid\":\(lake.srid),\"features\":[" + features.joined(separator: ",") + "]}"
    }

    static func parcel(_ lake: Lake, _ p: Parameters) throws -> ParcelRecord {
        let id = try JRCQueries.required(p, "id")
        return try APIError.mapping { try ParcelLookup.byID(lake, id: id, aoi: JRCQueries.string(p, "aoi"), year: try JRCQueries.year(p)) }
    }

    static func plot(_ lake: Lake, _ p: Parameters) throws -> String {
        let parcel = try self.parcel(lake, p)
        return ParcelPlot.render(try ParcelPlot.gather(lake, parcel: parcel, options: ParcelPlot.Options()))
    }

    /// The parcel's chips of its latest `count` cloud-free dates: true colour where the scenes
    /// have B02 and B03, else NDVI; `{"chips": [{"date": …, "url": "/dump/…png"}]}`.
    static func chips(_ lake: Lake, _ p: Parameters, cache: ChipCache, count: Int = 6) throws -> [String: Any] {
        let parcel = try self.parcel(lake, p)
        let clear = try ChipScenes.clearScenes(lake, pid: parcel.pid)
        var look = ChipLook.composite(["B04", "B03", "B02"])
        var scenes = try ChipScenes.find(lake, bands: look.bands, from: nil, to: nil).filter { clear.contains($0.obsid) }
        if scenes.isEmpty {
            look = .ndvi
            scenes = try ChipScenes.find(lake, bands: look.bands, from: nil, to: nil).filter { clear.contains($0.obsid) }
        }
        let window = try ChipWindow.parcel(lake, pid: parcel.pid, size: nil)
        var out: [[String: Any]] = []
        for scene in scenes.suffix(count) {
            let name = cache.name("viewer/\(parcel.pid)/\(look.bands.joined())", scene, "png")
            if cache.path(name) == nil {
                let chip = try APIError.mapping { try ChipMaker.chip(window, scene: scene, look: look, pixels: 160) }
                guard chip.coverage > 0 else { continue }   // the scene's files miss the parcel
                try APIError.mapping { try chip.image.save(cache.folder + "/" + name) }
            }
            out.append(["date": scene.date, "url": "/dump/" + name])
        }
        return ["chips": out, "look": look == .ndvi ? "NDVI" : "true colour"]
    }
}
