import ArgumentParser
import LakeAnalyticsCLI
import LakeCLI
import Foundation
import LakeAnalytics
import LakeQuery
import LakeReports
import LakeStore

struct Markers: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find dated events (mowing, harvest, bare soil…) and decide per parcel, as an option file describes.",
        subcommands: [MarkersRun.self, MarkersShow.self])
}


struct MarkersShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "A parcel's markers and decisions (latest markers run, or --run).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The parcel's identifier.") var id: String
    @Option(help: "Area of interest.") var aoi: String?
    @Option(help: "Declaration year.") var year: Int?
    @Option(name: .customLong("run"), help: "The run (default: every markers run, latest first).") var runID: Int64?
    @OptionGroup var output: TableOutput

    func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path)
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

struct Screen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Every observation of the parcels with its quality verdict: clear, scl, no-scl, haze, shadow, edge, regional or dip.",
        discussion: """
            The verdicts are those a markers run of the option file uses (its cloud classes and screening); nothing is written. \
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

    func validate() throws {
        if (table == nil) == (optionsFile == nil) { throw ValidationError("give an option file (screen the lake) or --table FILE") }
    }

    func run() throws {
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
            let lake = try Lake.open(path: global.path, writable: true)
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
