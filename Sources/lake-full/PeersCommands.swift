import ArgumentParser
import LakeCLI
import LakeSupport
import Foundation
import LakeAnalytics
import LakeIngest
import LakeQuery
import LakeStore

struct QueryWithin: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "within",
        abstract: "Parcels intersecting a WGS 84 box or polygon (JRC parcelsByPolygon).")

    @OptionGroup var global: GlobalOptions
    @Option(help: "W,S,E,N in degrees.") var bbox: String?
    @Option(help: "A file with one polygon (GeoJSON, WKT or any GDAL vector source, in any CRS).") var polygon: String?
    @Option(help: "At most this many parcels.") var max: Int = 1000
    @OptionGroup var output: TableOutput

    func validate() throws {
        if (bbox == nil) == (polygon == nil) { throw ValidationError("give one of --bbox and --polygon") }
        if let bbox {
            let v = bbox.split(separator: ",").compactMap { Double($0) }
            guard v.count == 4, v[0] < v[2], v[1] < v[3] else { throw ValidationError("--bbox is W,S,E,N with W < E and S < N") }
        }
    }

    func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path)
            let wkt: String
            if let bbox {
                let v = bbox.split(separator: ",").compactMap { Double($0) }
                wkt = "POLYGON((\(v[0]) \(v[1]),\(v[2]) \(v[1]),\(v[2]) \(v[3]),\(v[0]) \(v[3]),\(v[0]) \(v[1])))"
            } else {
                wkt = try PolygonFile.wgs84WKT(polygon!)
            }
            let writer = TableWriter(columns: ["parcel_id", "pid", "aoi", "year", "crop_code", "crop_name", "area_ha"], format: output.format)
            for p in try PeerQueries(lake: lake).within(wkt: wkt, max: max) {
                writer.row([p.parcelID, p.pid, p.aoi, p.year, p.cropCode, p.cropName, p.areaHa])
            }
            writer.finish()
            return 0
        }
    }
}

