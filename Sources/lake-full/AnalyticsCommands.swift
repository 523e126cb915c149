import ArgumentParser
import LakeCLI
import Foundation
import LakeAnalytics
import LakeIngest
import LakeQuery
import LakeReports
import LakeStore

struct HeterogeneityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
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

    func validate() throws {
        if (from == nil) != (to == nil) { throw ValidationError("give both --from and --to, or neither") }
        if let from, let to, SeasonWindow(from, to) == nil { throw ValidationError("--from/--to are MM-DD or YYYY-MM-DD") }
        if CloudScreen(parsing: cloudClasses) == nil { throw ValidationError("--cloud-classes takes SCL classes 0–11") }
        if HeterogeneityOptions.Method(rawValue: method) == nil { throw ValidationError("--method is persistent or median, not \(method)") }
    }

    func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path, writable: true)
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

struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the analysis runs kept in the lake (markers, heterogeneity, foi).")

    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("run"), help: "Show one run with its full options text.") var runID: Int64?
    @OptionGroup var output: TableOutput

    func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path)
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

struct IngestCrops: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crops",
        abstract: "Load a crop mapping table (national crop code → crop group, e.g. EuroCrops HCAT), used by peers, windows and rules.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "CSV files (fiboa/EuroCrops tables: original_code, original_name, HCAT3_code, HCAT3_name).") var paths: [String]
    @Option(help: "The AOI the mapping applies to (default: every AOI).") var aoi: String = ""
    @Option(help: "Column with the national crop code.") var code: String?
    @Option(help: "Column with the crop name.") var name: String?
    @Option(help: "Column with the group code.") var group: String?
    @Option(name: .customLong("group-name"), help: "Column with the group name.") var groupName: String?
    @OptionGroup var output: IngestOutput

    func run() throws {
        try guarded {
            let lake = try Lake.openOrCreate(path: global.path)
            var options = CropMapOptions()
            options.aoi = aoi; options.codeColumn = code; options.nameColumn = name; options.groupColumn = group; options.groupNameColumn = groupName
            let summaries = try paths.map { try CropMapIngest(lake: lake).run(path: $0, options: options) }
            return report(summaries, json: output.json)
        }
    }
}
