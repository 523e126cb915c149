import ArgumentParser
import Foundation
import LakeAnalytics
import LakeCLI
import LakeStore

// The analyses an analyst waits for over the whole lake. They need neither GDAL nor PROJ, so
// `lake` hands them to `lake-analytics` (no GDAL: it starts in milliseconds where `lake-full`
// spends ~90 ms loading GDAL's libraries; see BENCHMARKS, start-up); `lake-full` has them too.

/// The analysis command a command line names, parsed, or nil (then `lake-full` takes it:
/// help, usage errors and every other command are worded there).
public func analysisCommand(_ args: [String]) -> ParsableCommand? {
    switch (args.first, args.dropFirst().first) {
    case ("markers", "run"): try? MarkersRun.parse(Array(args.dropFirst(2)))
    case ("check", "crops"): try? CheckCrops.parse(Array(args.dropFirst(2)))
    case ("decide", _): try? Decide.parse(Array(args.dropFirst(1)))
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
