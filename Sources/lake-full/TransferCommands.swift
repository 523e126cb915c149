import ArgumentParser
import Foundation
import LakeCLI
import LakePostGIS
import LakeStore
import LakeSupport
import LakeTransfer

/// Options naming the database side of push and pull.
struct DatabaseOptions: ParsableArguments {
    @Argument(help: "The database: a libpq connection string or URI (postgresql://user@host:5432/db). The password comes from PGPASSWORD or ~/.pgpass, never from here.")
    var database: String
    @Option(help: "PostgreSQL schema of the parcel set's tables (the JRC uses a country code).") var schema: String = "public"
    @Option(help: "The parcel table's name (default <aoi>_<year>); signature tables are <prefix>_s2_signatures, …") var prefix: String?
    @Option(help: "Only this AOI's parcels.") var aoi: String?
    @Option(help: "Only this year's parcels.") var year: Int?
}

/// Prints what a transfer did: one line per table on stdout (or JSON), the total on stderr.
func reportTransfer(_ reports: [TransferCounts], verb: String, target: String, json: Bool) {
    if json { printJSON(["target": target, "sets": reports.map(\.json)]) }
    for report in reports {
        for row in report.rows where !json {
            print("\(row.table.padded(to: 44)) \(Format.ints("%10d", row.written)) written \(Format.ints("%10d", row.unchanged)) unchanged")
        }
        let rate = Double(report.total) / max(report.seconds, 1e-9)
        printError("\(verb) \(report.tables.schema).\(report.tables.prefix) \(verb == "pushed" ? "to" : "from") \(target): \(report.total) rows in \(Format.double("%.2f", report.seconds)) s (\(Format.double("%.0f", rate)) rows/s)")
    }
}

struct Push: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Push the lake into the JRC CbM tables of a PostgreSQL/PostGIS database (parcels, dias_catalogue, signatures, histograms, runs).",
        discussion: """
            One transaction per parcel set (AOI and year), with COPY. Writes <prefix> (parcels: ogc_fid, id, ptype, code, name, \
            area, attributes, wkb_geometry), public.dias_catalogue (+ dias_catalogue_lake), <prefix>_s2/_bs/_c6_signatures, \
            <prefix>_s2_hists and lake's <prefix>_lake_runs/_markers/_decisions/_heterogeneity. Idempotent: rows already there \
            with equal values are left alone, so pushing twice writes nothing the second time.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: DatabaseOptions
    @Option(help: "Only scenes observed on or after this date (YYYY-MM-DD), with their signatures and histograms.") var since: String?
    @Flag(help: "Print the summary as JSON.") var json = false

    func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path, writable: true)
            let pg = try PostgreSQL(database.database)
            var options = PushOptions()
            options.schema = database.schema; options.prefix = database.prefix
            options.aoi = database.aoi; options.year = database.year; options.since = since
            let reports = try LakePostGIS.Push(lake: lake, pg: pg).run(options)
            reportTransfer(reports, verb: "pushed", target: pg.target, json: json)
            return 0
        }
    }
}

struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pull a parcel set (all of it, an area or a list of parcels) from a JRC CbM database into the lake.",
        discussion: """
            Reads <schema>.<prefix> (default <aoi>_<year>: ogc_fid, id, code, name, wkb_geometry — other column names with \
            --id-column …), the scenes its signatures refer to (dias_catalogue), <prefix>_s2/_bs/_c6_signatures, \
            <prefix>_s2_hists and, from a database lake pushed to, lake's runs. Streams with binary COPY, a chunk of parcels \
            per transaction; run again after an interruption and it continues where it stopped. Creates the lake (in the \
            table's SRID) when the file does not exist. Recorded in ingest_log (kind pull).
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The database: a libpq connection string or URI. The password comes from PGPASSWORD or ~/.pgpass.") var database: String
    @Option(help: "The parcel set's AOI (its name in the lake, and in the default table name).") var aoi: String
    @Option(help: "The parcel set's year.") var year: Int
    @Option(help: "PostgreSQL schema of the set's tables.") var schema: String = "public"
    @Option(help: "The parcel table's name (default <aoi>_<year>).") var prefix: String?
    @Option(help: "Only parcels meeting this box, W,S,E,N in degrees (WGS 84).") var bbox: String?
    @Option(help: "Only parcels meeting this polygon: a file of WKT or GeoJSON in WGS 84.") var polygon: String?
    @Option(help: "Only these parcels: a file of parcel ids, one per line (or the first CSV column).") var parcels: String?
    @Option(name: .customLong("id-column"), help: "The parcel table's parcel id column.") var idColumn: String = "id"
    @Option(name: .customLong("crop-code-column"), help: "Its crop code column.") var codeColumn: String = "code"
    @Option(name: .customLong("crop-name-column"), help: "Its crop name column.") var nameColumn: String = "name"
    @Flag(help: "Print the summary as JSON.") var json = false

    func validate() throws {
        if [bbox, polygon, parcels].compactMap({ $0 }).count > 1 { throw ValidationError("choose one of --bbox, --polygon and --parcels") }
    }

    func run() throws {
        try guarded {
            var options = PullOptions()
            options.aoi = aoi; options.year = year; options.schema = schema; options.prefix = prefix
            options.selection.polygon = polygon; options.selection.parcels = parcels
            options.idColumn = idColumn; options.codeColumn = codeColumn; options.nameColumn = nameColumn
            if let bbox { options.selection.bbox = try ParcelSelection.bbox(bbox) }
            let pg = try PostgreSQL(database)
            let lake = FileManager.default.fileExists(atPath: global.path)
                ? try Lake.open(path: global.path, writable: true)
                : try Lake.create(path: global.path, srid: try LakePostGIS.Pull.tableSRID(pg, options))
            let counts = try LakePostGIS.Pull(lake: lake, pg: pg).run(options)
            if json { printJSON(counts.json) } else {
                print("parcels      \(Format.ints("%10d", counts.parcels)) (\(counts.parcelsNew) new)")
                print("scenes       \(Format.ints("%10d", counts.scenes)) (\(counts.scenesNew) new)")
                print("signatures   \(Format.ints("%10d", counts.signatures))")
                print("histograms   \(Format.ints("%10d", counts.histograms))")
                print("runs         \(Format.ints("%10d", counts.runs)) (\(counts.results) result rows)")
                if counts.skipped > 0 { print("skipped      \(Format.ints("%10d", counts.skipped))") }
            }
            let rate = Double(counts.rows) / max(counts.seconds, 1e-9)
            printError("pulled \(aoi) \(year) from \(pg.target) into \(lake.path): \(counts.rows) rows in \(Format.double("%.2f", counts.seconds)) s (\(Format.double("%.0f", rate)) rows/s)\(counts.resumedAfter.map { ", resumed after ogc_fid \($0)" } ?? "")")
            return counts.skipped > 0 ? 7 : 0
        }
    }
}

struct SubsetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subset",
        abstract: "Write a smaller, complete lake for a colleague: chosen parcels with their scenes, signatures, histograms, crop maps and runs.",
        discussion: """
            Parcels by --aoi/--year and at most one of --bbox, --polygon, --parcels; --from/--to keep only those dates' \
            scenes and signatures. Row ids, run ids and run uids are kept, so `lake merge` brings results back without \
            duplicates. Written to OUT.part and renamed when complete.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "The new lake file (must not exist).") var out: String
    @Option(help: "Only this AOI's parcels.") var aoi: String?
    @Option(help: "Only this year's parcels.") var year: Int?
    @Option(help: "Only parcels meeting this box, W,S,E,N in degrees (WGS 84).") var bbox: String?
    @Option(help: "Only parcels meeting this polygon: a file of WKT or GeoJSON in WGS 84.") var polygon: String?
    @Option(help: "Only these parcels: a file of parcel ids, one per line (or the first CSV column).") var parcels: String?
    @Option(help: "Only scenes from this date (YYYY-MM-DD).") var from: String?
    @Option(help: "Only scenes up to this date (YYYY-MM-DD).") var to: String?
    @Flag(help: "Print the summary as JSON.") var json = false

    func validate() throws {
        if [bbox, polygon, parcels].compactMap({ $0 }).count > 1 { throw ValidationError("choose one of --bbox, --polygon and --parcels") }
    }

    func run() throws {
        try guarded {
            var selection = ParcelSelection()
            selection.aoi = aoi; selection.year = year; selection.polygon = polygon; selection.parcels = parcels
            if let bbox { selection.bbox = try ParcelSelection.bbox(bbox) }
            let lake = try Lake.open(path: global.path, writable: true)
            let started = Date()
            let counts = try Subset.run(source: lake, out: out, selection: selection, from: from, to: to)
            if json { printJSON(counts.json) } else {
                print("parcels     \(Format.ints("%10d", counts.parcels))")
                print("scenes      \(Format.ints("%10d", counts.scenes))")
                print("signatures  \(Format.ints("%10d", counts.signatures))")
                print("histograms  \(Format.ints("%10d", counts.histograms))")
                print("runs        \(Format.ints("%10d", counts.runs)) (\(counts.results) result rows)")
            }
            printError("subset written to \(out) in \(Format.double("%.2f", Date().timeIntervalSince(started))) s")
            return 0
        }
    }
}

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Bring another lake (a colleague's, or a subset with results) into this one without duplicates.",
        discussion: """
            Matches scenes by reference, parcels by AOI, year, ptype and id, signatures by parcel, scene and band, runs by \
            uid. Rows both lakes hold with equal values are left alone; rows only OTHER has are added; rows both hold with \
            different values are conflicts: refused (this lake's value stays), listed on stderr, exit 7. With --strict any \
            conflict merges nothing. One transaction: an interrupted merge leaves this lake as it was.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The lake to bring in.") var other: String
    @Flag(help: "Merge nothing if any row conflicts.") var strict = false
    @Flag(help: "Print the summary as JSON.") var json = false

    func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path, writable: true)
            let theirs = try Lake.open(path: other, writable: true)
            guard theirs.path != lake.path else { throw LakeError.usage("a lake cannot be merged into itself") }
            let counts: Merge.Counts
            do {
                counts = try Merge.run(into: lake, other: theirs, strict: strict)
            } catch let refused as Merge.MergeRefused {
                for c in refused.counts.conflicts.prefix(20) { printError("conflict: \(c)") }
                printError("lake: \(refused.counts.conflicts.count) conflicting rows; --strict: nothing was merged")
                return 7
            }
            if json { printJSON(counts.json) } else {
                func line(_ name: String, _ p: (added: Int, same: Int)) { print("\(name.padded(to: 12))\(Format.ints("%10d", p.added)) added \(Format.ints("%10d", p.same)) already here") }
                line("parcels", counts.parcels); line("scenes", counts.scenes); line("signatures", counts.signatures)
                line("histograms", counts.histograms); line("crop map", counts.crops); line("runs", counts.runs)
                print("results     \(Format.ints("%10d", counts.results)) rows")
            }
            for c in counts.conflicts.prefix(20) { printError("conflict: \(c)") }
            if counts.conflicts.count > 20 { printError("… and \(counts.conflicts.count - 20) more conflicts (--json lists up to 1000)") }
            if !counts.conflicts.isEmpty { printError("lake: \(counts.conflicts.count) conflicting rows refused; this lake's values kept") }
            return counts.conflicts.isEmpty ? 0 : 7
        }
    }
}
