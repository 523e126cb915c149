import ArgumentParser
import Foundation
import LakeAnalytics
import LakeCLI
import LakeQuery
import LakeStore
import LakeSupport

// The analyses and their answers: markers run/show, screen, check crops, decide,
// heterogeneity, runs, and the peer queries (query peers, query statspeers). They need neither GDAL nor PROJ, so `lake` hands them to
// `lake-analytics` (no GDAL: it starts in milliseconds where `lake-full` spends ~90 ms loading
// GDAL's libraries; see BENCHMARKS, start-up); `lake-full` has them too.

/// The analysis command a command line names (`isAnalysisCommandLine`), parsed, or nil (then
/// `lake-full` takes it: help, usage errors and every other command are worded there).
public func analysisCommand(_ args: [String]) -> ParsableCommand? {
    guard isAnalysisCommandLine(args) else { return nil }
    return switch (args.first, args.dropFirst().first) {
    case ("markers", "run"): try? MarkersRun.parse(Array(args.dropFirst(2)))
    case ("check", "crops"): try? CheckCrops.parse(Array(args.dropFirst(2)))
    case ("decide", _): try? Decide.parse(Array(args.dropFirst(1)))
    case ("markers", "show"): try? MarkersShow.parse(Array(args.dropFirst(2)))
    case ("screen", _): try? Screen.parse(Array(args.dropFirst(1)))
    case ("heterogeneity", _): try? HeterogeneityCommand.parse(Array(args.dropFirst(1)))
    case ("runs", _): try? Runs.parse(Array(args.dropFirst(1)))
    case ("query", "peers"): try? QueryPeers.parse(Array(args.dropFirst(2)))
    case ("query", "statspeers"): try? QueryStatsPeers.parse(Array(args.dropFirst(2)))
    default: nil
    }
}

public struct MarkersRun: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an option file (YAML) over the parcels; markers and decisions are kept in the lake with the run.",
        discussion: "Shipped option files: options/mowing.yaml, options/harvest.yaml, options/bare-soil.yaml, options/crop-phenology.yaml, options/crop-check.yaml.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The option file.") var optionsFile: String
    @Option(name: .customLong("parcels"), parsing: .upToNextOption, help: "Only these parcel identifiers.") var parcels: [String] = []
    @Option(help: "Only parcels of this area of interest.") var aoi: String?
    @Option(help: "Only parcels of this year.") var year: Int?
    @Option(help: ArgumentHelp("Instead of the option file's parcel selection: these crop codes or names (comma-separated; a name matches crop or crop-group names containing it).",
                               valueName: "codes")) var crops: String?
    @Flag(help: "Print the summary as JSON.") var json = false

    public init() {}

    public func run() throws {
        try guarded {
            let (options, text) = try MarkerOptions.load(path: optionsFile)
            let lake = try Lake.open(path: global.path, writable: true, spatial: false)
            var scope = ParcelScope()
            scope.parcelIDs = parcels.isEmpty ? nil : parcels; scope.aoi = aoi; scope.year = year
            scope.crops = try crops.map { text in
                let list = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                guard !list.isEmpty else { throw LakeError.usage("--crops needs at least one crop code or name") }
                return list
            }
            let summary = try MarkerRun(lake: lake).run(options, text: text, scope: scope)
            for note in summary.notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
            if json { printJSON(summary.json) } else {
                let colours = (["green", "yellow", "red"] + (summary.decisions["grey"] == nil ? [] : ["grey"]))
                    .map { "\(summary.decisions[$0] ?? 0) \($0)" }.joined(separator: ", ")
                print("markers run \(summary.run) (\(options.name)): \(summary.parcels) parcels, \(summary.markers) markers, decisions: \(colours) "
                      + String(format: "(%.2f s, %.0f parcels/s)", summary.seconds, Double(summary.parcels) / max(summary.seconds, 1e-9)))
            }
            return 0
        }
    }
}

public struct CheckCrops: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "crops",
        abstract: "Does each parcel follow the NDVI curve of its declared crop's peers in the lake? One decision per parcel, scheme 'crop'.",
        discussion: """
            Each declared crop (crop group, per AOI and year) with at least --min-peers parcels gets its peer envelope: per \
            ten-day bin the median and inter-quartile range of its parcels' screened NDVI. green: the parcel follows its \
            declared crop; red: it does not, and follows another crop of the lake (named); yellow: it follows none, or has \
            too few usable observations; grey: no check exists (too few peers). What counts as following is learned per crop \
            from its own members. The rule-based phenology check stays in options/crop-phenology.yaml (lake markers run).
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("min-peers"), help: "Parcels a crop needs in its AOI and year to be checked.") var minPeers = 20
    @Option(name: .customLong("min-bins"), help: "Ten-day bins with a value a parcel needs.") var minBins = 8
    @Option(help: "Robust deviations beyond the crop's typical distance that still fit.") var spreads = 3.0
    @Option(help: "Only parcels of this area of interest.") var aoi: String?
    @Option(help: "Only parcels of this year.") var year: Int?
    @Flag(help: "Print the summary as JSON.") var json = false

    public func validate() throws {
        if minPeers < 3 { throw ValidationError("--min-peers must be at least 3") }
        if minBins < 1 || minBins > 37 { throw ValidationError("--min-bins is 1 to 37") }
        if !(spreads > 0 && spreads < 100) { throw ValidationError("--spreads is a positive number below 100") }
    }

    public init() {}

    public func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path, writable: true, spatial: false)
            var options = CropCheckOptions()
            options.minPeers = minPeers; options.minBins = minBins; options.spreads = spreads
            var scope = ParcelScope(); scope.aoi = aoi; scope.year = year
            let text = "min_peers: \(minPeers)\nmin_bins: \(minBins)\nspreads: \(spreads)\nbin_days: \(options.binDays)\n"
            let s = try CropCheck(lake: lake).run(options, scope: scope, optionsText: text)
            if json { printJSON(s.json) } else {
                let colours = ["green", "yellow", "red", "grey"].map { "\(s.decisions[$0] ?? 0) \($0)" }.joined(separator: ", ")
                print("crop check run \(s.run): \(s.parcels) parcels, \(s.crops) crops checked, decisions: \(colours) " + String(format: "(%.2f s)", s.seconds))
            }
            return 0
        }
    }
}

public struct Decide: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "One traffic light per parcel (scheme 'overall') from the latest run of each scheme and heterogeneity; reasons name the runs.",
        discussion: """
            red when a scheme is red (a crop-check red on a parcel flagged heterogeneous becomes yellow: a field of two \
            crops follows neither curve); else yellow when a scheme is yellow or the parcel is heterogeneous; else green \
            when a scheme is green; else grey (nothing checked it). Without --schemes: every scheme's latest run, the \
            rule-based crop-phenology left out when the peer-envelope crop check exists. Report: lake report decisions.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(parsing: .upToNextOption, help: "Schemes to combine (e.g. mowing crop heterogeneity).") var schemes: [String] = []
    @Flag(name: .customLong("no-heterogeneity"), help: "Leave heterogeneity flags out.") var noHeterogeneity = false
    @Flag(help: "Print the summary as JSON.") var json = false

    public init() {}

    public func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path, writable: true, spatial: false)
            let s = try Lights(lake: lake).run(schemes: schemes.isEmpty ? nil : schemes, heterogeneity: !noHeterogeneity)
            if json { printJSON(s.json) } else {
                let colours = ["green", "yellow", "red", "grey"].map { "\(s.decisions[$0] ?? 0) \($0)" }.joined(separator: ", ")
                let runs = s.sources.sorted { $0.key < $1.key }.map { "\($0.key) run \($0.value)" }.joined(separator: ", ")
                print("decide run \(s.run): \(s.parcels) parcels: \(colours) (from \(runs))")
            }
            return 0
        }
    }
}

public struct MarkersShow: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "A parcel's markers and decisions (latest markers run, or --run).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The parcel's identifier.") var id: String
    @Option(help: "Area of interest.") var aoi: String?
    @Option(help: "Declaration year.") var year: Int?
    @Option(name: .customLong("run"), help: "The run (default: every markers run, latest first).") var runID: Int64?
    @OptionGroup var output: TableOutput

    public init() {}

    public func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path, spatial: false)
            let parcel = try ParcelLookup.byID(lake, id: id, aoi: aoi, year: year)
            let decisions = try lake.db.prepare("""
                SELECT d.run_id, d.scheme, d.colour, d.clear_obs, d.reasons FROM decisions d
                WHERE d.pid = ?1 AND (?2 IS NULL OR d.run_id = ?2) ORDER BY d.run_id DESC
                """)
            try decisions.bind([.int(parcel.pid), runID.map { .int($0) } ?? .null])
            // Run by run (markers are indexed by run, then parcel).
            let markers = try lake.db.prepare("""
                SELECT m.run_id, m.detector, m.kind, m.start_date, m.date, m.end_date, m.value_start, m.value_end, m.magnitude, m.confidence
                FROM runs r CROSS JOIN markers m ON m.run_id = r.run_id AND m.pid = ?1
                WHERE (?2 IS NULL OR r.run_id = ?2) ORDER BY r.run_id DESC, m.date
                """)
            try markers.bind([.int(parcel.pid), runID.map { .int($0) } ?? .null])
            if output.format == .text {
                print("parcel \(parcel.label)  crop \(parcel.cropName ?? parcel.cropCode ?? "-")")
                while try decisions.step() {
                    print("run \(decisions.int(0))  \(decisions.text(1) ?? "")  \(decisions.text(2)!.uppercased())  (\(decisions.int(3)) clear observations)")
                    let reasons = (try? JSONSerialization.jsonObject(with: Data((decisions.text(4) ?? "[]").utf8))) as? [String] ?? []
                    for r in reasons { print("    \(r)") }
                }
                let writer = TableWriter(columns: ["run", "detector", "kind", "start", "date", "end", "from", "to", "magnitude", "confidence"], format: .text)
                while try markers.step() { writer.row((0..<10).map { markers.value(Int32($0)).any }) }
                writer.finish()
            } else {
                let writer = TableWriter(columns: ["run", "detector", "kind", "start", "date", "end", "from", "to", "magnitude", "confidence"], format: output.format)
                while try markers.step() { writer.row((0..<10).map { markers.value(Int32($0)).any }) }
                writer.finish()
            }
            return 0
        }
    }
}

public struct Screen: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Every observation of the parcels with its quality verdict: clear, scl, no-scl, haze, shadow, edge, regional or dip.",
        discussion: """
            The verdicts are those a markers run of the option file uses (its cloud classes and screening; for a file with \
            crop_check, the crop check's own screening); nothing is written. \
            An observation SCL flagged but its bands show clear (overrule_scl) is clear. \
            Columns: parcel_id, date, value (the option file's signal), quality; a table, or --csv / --json.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The option file whose screening to apply (e.g. options/mowing.yaml); not with --table.") var optionsFile: String?
    @Option(help: "Screen this CSV of observations instead of the lake (columns: parcel id, date, b04_mean, b08_mean, b11_mean, optional b02_mean, b02_std); rows keep their order.")
    var table: String?
    @Option(name: .customLong("id"), help: "With --table: the parcel id column.") var idColumn: String?
    @Option(name: .customLong("date"), help: "With --table: the date column.") var dateColumn: String?
    @Option(name: .customLong("parcels"), parsing: .upToNextOption, help: "Only these parcel identifiers.") var parcels: [String] = []
    @Option(help: "Only parcels of this area of interest.") var aoi: String?
    @Option(help: "Only parcels of this year.") var year: Int?
    @Flag(help: "Every parcel of the lake, not only those the option file selects.") var all = false
    @OptionGroup var output: TableOutput

    public func validate() throws {
        if (table == nil) == (optionsFile == nil) { throw ValidationError("give an option file (screen the lake) or --table FILE") }
    }

    public init() {}

    public func run() throws {
        try guarded {
            if let table {
                let rows = try ObservationTable.screen(path: table, idColumn: idColumn, dateColumn: dateColumn)
                let writer = TableWriter(columns: ["parcel_id", "date", "quality"], format: output.format)
                for r in rows { writer.row([r.id, r.date, r.quality]) }
                writer.finish()
                return 0
            }
            var (options, _) = try MarkerOptions.load(path: optionsFile!)
            if all { options.parcels = nil }
            let lake = try Lake.open(path: global.path, writable: true, spatial: false)
            var scope = ParcelScope()
            scope.parcelIDs = parcels.isEmpty ? nil : parcels; scope.aoi = aoi; scope.year = year
            let writer = TableWriter(columns: ["parcel_id", "date", "value", "quality"], format: output.format)
            try MarkerRun(lake: lake).screen(options, scope: scope) { o in
                writer.row([o.parcelID, o.date, o.value.map { ($0 * 10_000).rounded() / 10_000 }, o.quality])
            }
            writer.finish()
            return 0
        }
    }
}

public struct HeterogeneityCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "heterogeneity",
        abstract: "Rank parcels by within-field heterogeneity from their signatures (CV, quartile dispersion and skew), scored within their crop group.",
        discussion: """
            Each parcel's window is its crop group's (winter cereals 04-01..06-30, grassland 05-01..09-30, other crops \
            07-01..08-31) unless --from/--to give one for all. The run and its results are kept in the lake (lake runs).
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "persistent: split on several dates against same-size peers of each date (default); median: the JRC ranking of median CV in the crop window.")
    var method: String = "persistent"
    @Option(help: "Band whose statistics are used.") var band: String = "B08"
    @Option(help: "Window start, MM-DD or YYYY-MM-DD (with --to).") var from: String?
    @Option(help: "Window end, MM-DD or YYYY-MM-DD.") var to: String?
    @Option(help: "Flag parcels whose robust z-score of CV exceeds this.") var threshold: Double = 3.5
    @Option(help: "Show the N most heterogeneous parcels (the run keeps all).") var top: Int = 10
    @Option(name: .customLong("cloud-classes"), help: "SCL classes that make an observation cloudy.") var cloudClasses = "3,8,9,10,11"
    @OptionGroup var output: TableOutput

    public func validate() throws {
        if (from == nil) != (to == nil) { throw ValidationError("give both --from and --to, or neither") }
        if let from, let to, SeasonWindow(from, to) == nil { throw ValidationError("--from/--to are MM-DD or YYYY-MM-DD") }
        if CloudScreen(parsing: cloudClasses) == nil { throw ValidationError("--cloud-classes takes SCL classes 0–11") }
        if HeterogeneityOptions.Method(rawValue: method) == nil { throw ValidationError("--method is persistent or median, not \(method)") }
    }

    public init() {}

    public func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path, writable: true, spatial: false)
            var options = HeterogeneityOptions()
            options.band = Bands.normalise(band); options.threshold = threshold
            options.method = HeterogeneityOptions.Method(rawValue: method)!
            options.cloudScreen = CloudScreen(parsing: cloudClasses)!
            if let from, let to { options.window = SeasonWindow(from, to) }
            let text = "method: \(method)\nband: \(options.band)\nwindow: \(options.window?.description ?? "crop-group defaults")\nthreshold: \(threshold)\ncloud_classes: \(cloudClasses)\n"
            let (run, rows) = try Heterogeneity(lake: lake).run(options, optionsText: text)
            printError("heterogeneity run \(run): \(rows.count) parcels, \(rows.filter(\.flag).count) flagged")
            let writer = TableWriter(columns: ["rank", "parcel_id", "pid", "crop_group", "n_obs", "cv", "qd", "qskew", "score", "split_dates", "flag"], format: output.format)
            for r in rows.prefix(top) { writer.row([r.rank, r.parcelID, r.pid, r.group, r.observations, r.cv, r.qd, r.qskew, r.score, r.splitDates, r.flag]) }
            writer.finish()
            return 0
        }
    }
}

public struct Runs: ParsableCommand {
    public static let configuration = CommandConfiguration(abstract: "List the analysis runs kept in the lake (markers, heterogeneity, foi).")

    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("run"), help: "Show one run with its full options text.") var runID: Int64?
    @OptionGroup var output: TableOutput

    public init() {}

    public func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path, spatial: false)
            let statement = try lake.db.prepare("""
                SELECT run_id, kind, started, finished, status, lake_version, summary, options, inputs FROM runs
                WHERE ?1 IS NULL OR run_id = ?1 ORDER BY run_id
                """)
            try statement.bind([runID.map { .int($0) } ?? .null])
            let columns = runID == nil ? ["run_id", "kind", "started", "finished", "status", "lake_version", "summary"]
                                     : ["run_id", "kind", "started", "finished", "status", "lake_version", "summary", "options", "inputs"]
            let writer = TableWriter(columns: columns, format: output.format)
            var found = false
            while try statement.step() {
                found = true
                var values: [Any?] = (0..<Int32(columns.count)).map { statement.value($0).any }
                if output.format == .json { values[6] = RawJSON(statement.text(6) ?? "{}"); if runID != nil { values[8] = RawJSON(statement.text(8) ?? "{}") } }
                writer.row(values)
            }
            writer.finish()
            if let runID, !found { throw LakeError.notFound("no run \(runID)") }
            return 0
        }
    }
}

public struct QueryPeers: ParsableCommand {
    public static let configuration = CommandConfiguration(
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

    public func validate() throws {
        guard PeerMatch(rawValue: same) != nil else { throw ValidationError("--same is crop, group or any") }
        guard distance > 0, max > 0 else { throw ValidationError("--distance and --max must be positive") }
    }

    public init() {}

    public func run() throws {
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

public struct QueryStatsPeers: ParsableCommand {
    public static let configuration = CommandConfiguration(
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

    public func validate() throws { _ = try parsedRange() }

    public init() {}

    public func run() throws {
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
