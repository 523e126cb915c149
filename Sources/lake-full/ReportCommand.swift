import ArgumentParser
import LakeCLI
import Foundation
import LakeReports
import LakeStore

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a report: parcels, markers, decisions, heterogeneity, peers, timeseries or signatures, as CSV or GeoJSON (RFC 7946).",
        discussion: """
            Markers, decisions and heterogeneity come from the latest run of their kind unless --run. GeoJSON features carry \
            the parcel's geometry in WGS 84; the time series is long-form CSV (one row per parcel, date and band). \
            signatures is the JRC table form (pid, obsid, band, count, mean, std, min, max, p25, p50, p75) of the stored \
            values, also written by `lake export signatures`. Reports stream: constant memory whatever their size.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "parcels, markers, decisions, heterogeneity, peers, timeseries or signatures.") var kind: String
    @Option(help: "csv or geojson.") var format: String = "csv"
    @Option(name: .customLong("run"), help: "The run to report (default: the latest).") var runID: Int64?
    @Option(help: "Write to this file (default: stdout).") var out: String?
    @Option(help: "peers: search distance in metres.") var distance: Double = 1000
    @Option(help: "peers: peers per parcel.") var max: Int = 10

    func validate() throws {
        guard ReportKind(rawValue: kind) != nil else { throw ValidationError("report one of: \(ReportKind.allCases.map(\.rawValue).joined(separator: ", "))") }
        guard ReportFormat(rawValue: format) != nil else { throw ValidationError("--format is csv or geojson") }
    }

    func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path)
            var options = ReportOptions()
            options.run = runID; options.out = out; options.distance = distance; options.max = max
            let n = try Reports(lake: lake).write(ReportKind(rawValue: kind)!, format: ReportFormat(rawValue: format)!, options: options)
            if let out { printError("\(kind): \(n) \(format == "geojson" ? "features" : "rows") written to \(out)") }
            return 0
        }
    }
}

/// `lake export signatures`: the signatures as the JRC's `aoi_s2_signatures` table (CSV), ready
/// for PostgreSQL's `COPY … WITH (FORMAT csv, HEADER)` or any tool that reads the JRC form.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export tables in the JRC CbM form: signatures (pid, obsid, band, count, mean, std, min, max, p25, p50, p75) as CSV.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "What to export: signatures.") var what: String
    @Option(help: "Write to this file (default: stdout).") var out: String?

    func validate() throws {
        guard what == "signatures" else { throw ValidationError("export signatures (the only table export so far)") }
    }

    func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path)
            var options = ReportOptions()
            options.out = out
            let n = try Reports(lake: lake).write(.signatures, format: .csv, options: options)
            if let out { printError("signatures: \(n) rows written to \(out)") }
            return 0
        }
    }
}
