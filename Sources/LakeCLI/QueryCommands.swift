import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LakeQuery
import LakeStore
import LakeSupport

public struct QueryParcel: ParsableCommand {
    public init() {}
    public static let configuration = CommandConfiguration(
        commandName: "parcel",
        abstract: "Show a parcel and its time series (band means, NDVI, cloud-free flag, scene).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The parcel's identifier in the source data.") var id: String
    @Option(help: "Area of interest.") var aoi: String?
    @Option(help: "Declaration year.") var year: Int?
    @Option(help: "Parcel type (declaration set).") var ptype: String?
    @Option(name: .customLong("band"), parsing: .upToNextOption, help: "Bands to show (default: all).") var bands: [String] = []
    @Option(help: "First date (YYYY-MM-DD).") var from: String?
    @Option(help: "Last date (YYYY-MM-DD).") var to: String?
    @Option(name: .customLong("cloud-classes"), help: "SCL classes that make an observation cloudy.") var cloudClasses = ParcelQuery.defaultCloudClasses
    @Flag(help: "Show stored digital numbers, without the scenes' radiometric offsets.") var raw = false
    @Flag(help: "Print JSON (parcel and the full statistics in long form).") var json = false
    @Flag(help: "Print CSV (the full statistics in long form).") var csv = false

    public func validate() throws {
        if json && csv { throw ValidationError("choose one of --json and --csv") }
        for date in [from, to].compactMap({ $0 }) where !isCalendarDate(date) {
            throw ValidationError("\(date) is not a date of the form YYYY-MM-DD")
        }
        if CloudScreen(parsing: cloudClasses) == nil { throw ValidationError("--cloud-classes takes SCL classes 0–11, e.g. 3,8,9,10,11") }
    }

    public func run() throws {
        var q = ParcelQuery(path: global.path, id: id)
        q.aoi = aoi; q.year = year; q.ptype = ptype; q.bands = bands; q.from = from; q.to = to
        q.cloudClasses = cloudClasses; q.raw = raw; q.json = json; q.csv = csv
        try q.run()
    }
}

/// What `lake query parcel` answers, as plain values: from the parsed command, or, for the
/// plainest command lines, from `plain` without ArgumentParser (whose reflection over the
/// command's properties was a fifth of the whole process; BENCHMARKS, start-up).
public struct ParcelQuery {
    public static let defaultCloudClasses = "3,8,9,10,11"
    public var path: String
    public var id: String
    public var aoi: String?, year: Int?, ptype: String?
    public var bands: [String] = []
    public var from: String?, to: String?
    public var cloudClasses = ParcelQuery.defaultCloudClasses
    public var raw = false, json = false, csv = false

    public init(path: String, id: String) { self.path = path; self.id = id }

    /// The query of `query parcel` arguments (`args` after those two words, global options
    /// hoisted to the end) of the form `ID [--json | --csv] [--raw] [--db FILE]`, each at most
    /// once; nil for anything else, which ArgumentParser parses (and words the errors of).
    public static func plain(_ args: [String]) -> ParcelQuery? {
        var id: String?, db: String?, json = false, csv = false, raw = false
        var i = 0
        while i < args.count {
            let a = args[i]
            switch a {
            case "--json" where !json && !csv: json = true
            case "--csv" where !json && !csv: csv = true
            case "--raw" where !raw: raw = true
            case "--db" where db == nil && i + 1 < args.count && !args[i + 1].isEmpty && !args[i + 1].hasPrefix("-"):
                db = args[i + 1]; i += 1
            default:
                guard id == nil, !a.isEmpty, !a.hasPrefix("-"), a != "help" else { return nil }
                id = a
            }
            i += 1
        }
        guard let id else { return nil }
        var q = ParcelQuery(path: GlobalOptions.path(db: db), id: id)
        q.json = json; q.csv = csv; q.raw = raw
        return q
    }

    public func run() throws {
        try guarded {
            let lake = try Lake.open(path: path, spatial: false)
            let started = ContinuousClock.now
            var filter = SeriesFilter()
            filter.bands = bands.isEmpty ? nil : Set(bands.map(Bands.normalise))
            filter.from = from; filter.to = to; filter.harmonise = !raw
            filter.cloudScreen = CloudScreen(parsing: cloudClasses)!
            let (parcel, series) = try lake.db.read {
                let parcel = try ParcelLookup.byID(lake, id: id, aoi: aoi, year: year, ptype: ptype)
                return (parcel, try ParcelSeries.read(lake, pid: parcel.pid, filter: filter))
            }
            if timingRequested {
                let elapsed = ContinuousClock.now - started
                printError("query: " + Format.double("%.3f", Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000) + " ms")
            }
            if json { printJSON(SeriesFormat.json(parcel: parcel, series: series)) }
            else if csv { SeriesFormat.writeCSV(parcel: parcel, series: series) { print($0) } }
            else { print(SeriesFormat.text(parcel: parcel, series: series)) }
            return 0
        }
    }
}

public struct QueryAt: ParsableCommand {
    public init() {}
    public static let configuration = CommandConfiguration(
        commandName: "at", abstract: "Find the parcels under a point (WGS 84 longitude, latitude).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Longitude (degrees east).") var lon: Double
    @Argument(help: "Latitude (degrees north).") var lat: Double
    @Flag(help: "Print JSON.") var json = false

    public func validate() throws {
        guard (-180...180).contains(lon), (-90...90).contains(lat) else {
            throw ValidationError("longitude must be within −180…180 and latitude within −90…90")
        }
    }

    public func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path)
            let found = try ParcelLookup.at(lake, lon: lon, lat: lat)
            if json { printJSON(found.map(\.json)); return found.isEmpty ? 5 : 0 }
            guard !found.isEmpty else { throw LakeError.notFound("no parcel at \(lon), \(lat)") }
            for p in found { print(SeriesFormat.header(p)) }
            return 0
        }
    }
}
