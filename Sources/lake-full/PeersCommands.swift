import ArgumentParser
import LakeCLI
import LakeSupport
import Foundation
import LakeAnalytics
import LakeIngest
import LakeQuery
import LakeStore

struct QueryPeers: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peers",
        abstract: "Parcels of the same crop (or crop group) and year near a parcel, nearest first (JRC parcelPeers).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The parcel's identifier.") var id: String
    @Option(help: "Area of interest of the parcel.") var aoi: String?
    @Option(help: "Declaration year of the parcel.") var year: Int?
    @Option(help: "Search distance in metres.") var distance: Double = 1000
    @Option(help: "At most this many peers.") var max: Int = 10
    @Option(name: .customLong("min-area"), help: "Only peers of at least this area (m²).") var minArea: Double = 0
    @Option(help: "Peers share the crop, the crop group or nothing: crop, group, any.") var same: String = "crop"
    @Flag(help: "Compare the parcel's clear NDVI series with its peers' median and p10–p90 on the same dates.") var series = false
    @OptionGroup var output: TableOutput

    func validate() throws {
        guard PeerMatch(rawValue: same) != nil else { throw ValidationError("--same is crop, group or any") }
        guard distance > 0, max > 0 else { throw ValidationError("--distance and --max must be positive") }
    }

    func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path)
            let started = Date()
            let parcel = try ParcelLookup.byID(lake, id: id, aoi: aoi, year: year)
            var options = PeerOptions()
            options.distance = distance; options.max = max; options.minArea = minArea; options.same = PeerMatch(rawValue: same)!
            let queries = PeerQueries(lake: lake)
            let looked = Date()
            let peers = try queries.peers(of: parcel, options)
            if ProcessInfo.processInfo.environment["LAKE_TIMING"] != nil {
                // The parcel lookup includes PROJ's first-use set-up (centroid in WGS 84).
                printError(String(format: "query: %.3f ms (parcel lookup %.3f ms, peers %.3f ms)", Date().timeIntervalSince(started) * 1000,
                                  looked.timeIntervalSince(started) * 1000, Date().timeIntervalSince(looked) * 1000))
            }
            if series {
                let writer = TableWriter(columns: ["date", "ndvi", "peers", "peer_median", "peer_p10", "peer_p90"], format: output.format)
                for c in try queries.compare(parcel, with: peers) { writer.row([c.date, c.value, c.peers, c.median, c.p10, c.p90]) }
                writer.finish()
            } else {
                let writer = TableWriter(columns: ["parcel_id", "pid", "aoi", "year", "crop_code", "crop_name", "area_ha", "distance_m"], format: output.format)
                for p in peers {
                    writer.row([p.parcel.parcelID, p.parcel.pid, p.parcel.aoi, p.parcel.year, p.parcel.cropCode, p.parcel.cropName,
                                p.parcel.areaHa, p.distance])
                }
                writer.finish()
            }
            return 0
        }
    }
}

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

struct QueryStatsPeers: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "statspeers",
        abstract: "Parcels whose band statistic falls in a range between two dates (JRC parcelStatsPeers).")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Band, e.g. B08.") var band: String
    @Option(help: "Statistic: count, mean, std, min, max, p25, p50, p75.") var stat: String = "mean"
    @Option(help: "LOW-HIGH, e.g. 10000-11000 (harmonised values).") var range: String
    @Option(help: "First date (YYYY-MM-DD).") var from: String?
    @Option(help: "Last date (YYYY-MM-DD).") var to: String?
    @Option(help: "At most this many parcels.") var max: Int = 100
    @OptionGroup var output: TableOutput

    func parsedRange() throws -> ClosedRange<Double> {
        let parts = range.split(separator: "-", maxSplits: 1).compactMap { Double($0) }
        guard parts.count == 2, parts[0] <= parts[1] else { throw ValidationError("--range is LOW-HIGH, e.g. 10000-11000") }
        return parts[0]...parts[1]
    }

    func validate() throws { _ = try parsedRange() }

    func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path)
            let hits = try PeerQueries(lake: lake).statsPeers(band: Bands.normalise(band), stat: stat, range: try parsedRange(),
                                                             from: from, to: to, max: max)
            let writer = TableWriter(columns: ["parcel_id", "pid", "crop_name", "date", stat], format: output.format)
            for h in hits { writer.row([h.parcel.parcelID, h.parcel.pid, h.parcel.cropName, h.date, h.value]) }
            writer.finish()
            return 0
        }
    }
}
