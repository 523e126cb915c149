import ArgumentParser
import LakeCLI
import Foundation
import LakeAnalytics
import LakeStore

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a lake file before trusting it (lake check FILE), or declarations against the lake's own evidence (lake check crops).",
        subcommands: [CheckFile.self, CheckCrops.self], defaultSubcommand: CheckFile.self)
}

struct CheckFile: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "file",
        abstract: "Is this lake file safe and sound? What a receiver runs first.",
        discussion: """
            Opens the file read-only without running anything of it and checks: a lake file without an interrupted write,             SQLite's integrity check, the schema version, every schema object that is not exactly lake's own (tolerated:             views, new layers, styles and plain indexes beside lake's tables; refused: anything that would run on lake's             own reads and writes), every signature series and SCL summary decodes, statistics in range. Exit 0 only when             the lake is safe and sound, 3 otherwise.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The lake file (default: --db, $LAKE_DB, else ./lake.sqlite).") var file: String?
    @Flag(help: "Print the report as JSON.") var json = false
    @Option(help: "Write a clean copy without the refused objects to this new file (lake's tables rebuilt as lake defines them), and check it.")
    var fix: String?

    func run() throws {
        try guarded {
            if let fix {
                let done = try LakeCheck.fix(path: file ?? global.path, out: fix)
                for line in done { print(line) }
                printError("wrote \(fix): \(done.isEmpty ? "nothing was refused; a plain copy" : "\(done.count) object(s) fixed"), safe to open")
                return 0
            }
            let report = try LakeCheck.run(path: file ?? global.path)
            if json {
                printJSON(report.json)
            } else {
                print("lake check \(report.path)")
                for item in report.items { print("\(item.ok ? "ok  " : "FAIL")  \(item.check.padding(toLength: 10, withPad: " ", startingAt: 0)) \(item.detail)") }
                for o in report.objects {
                    print("\(o.refused ? "REFUSED  " : "tolerated")  \(o.type) \(o.name)\(o.table.isEmpty || o.table == o.name ? "" : " on \(o.table)"): \(o.reason)")
                }
                print(report.sound ? "safe and sound" : report.safe ? "safe to open, but not sound" : "NOT safe to open: lake refuses this file")
            }
            return report.sound ? 0 : 3
        }
    }
}

struct CheckCrops: ParsableCommand {
    static let configuration = CommandConfiguration(
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

    func validate() throws {
        if minPeers < 3 { throw ValidationError("--min-peers must be at least 3") }
        if minBins < 1 || minBins > 37 { throw ValidationError("--min-bins is 1 to 37") }
        if !(spreads > 0 && spreads < 100) { throw ValidationError("--spreads is a positive number below 100") }
    }

    func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path, writable: true)
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

struct Decide: ParsableCommand {
    static let configuration = CommandConfiguration(
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

    func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path, writable: true)
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
