import ArgumentParser
import Foundation
import LakeCLI
import LakePlots
import LakeQuery
import LakeStore
import LakeSupport

struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw pictures of the lake (SVG, or PNG): a parcel's series with its peers, markers and lights; a run's lights and events; heterogeneity.",
        subcommands: [PlotParcel.self, PlotRun.self, PlotHeterogeneity.self])
}

/// --out and --scale of every plot: .svg as lake draws it, .png rendered.
struct PictureOutput: ParsableArguments {
    @Option(help: "The file to write: .svg (drawn by lake) or .png (the same drawing rendered by librsvg).") var out: String
    @Option(help: "PNG only: pixels per SVG unit (the parcel plot is 960×520 units).") var scale: Double = 2

    func validate() throws {
        guard [".svg", ".png"].contains(where: out.lowercased().hasSuffix) else { throw ValidationError("--out: a .svg or .png file") }
        guard (0.25...8).contains(scale) else { throw ValidationError("--scale is 0.25–8") }
    }

    /// Writes the picture as it is (.svg) or rendered (.png).
    func write(_ svg: String) throws {
        if out.lowercased().hasSuffix(".png") { try PNGRenderer.write(svg: svg, scale: scale, to: out); return }
        do { try svg.write(toFile: out, atomically: true, encoding: .utf8) }
        catch { throw LakeError.usage("cannot write \(out): \(error.localizedDescription)") }
    }
}

struct PlotRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "A run's lights per scheme (stacked bars) and its events per month per detector.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The run (default: the latest with markers or decisions; lake runs lists them).") var runID: Int64?
    @OptionGroup var picture: PictureOutput

    func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path)
            let content = try RunPlot.gather(lake, run: runID)
            try picture.write(RunPlot.render(content))
            printError("run \(content.run): \(content.lights.count) schemes, \(content.events.count) detectors drawn to \(picture.out)")
            return 0
        }
    }
}

struct PlotHeterogeneity: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heterogeneity",
        abstract: "The distribution of a heterogeneity run's scores, its threshold, the flagged parcels and the ten most heterogeneous.")
    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("run"), help: "The heterogeneity run (default: the latest).") var runID: Int64?
    @OptionGroup var picture: PictureOutput

    func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path)
            let content = try HeterogeneityPlot.gather(lake, run: runID)
            try picture.write(HeterogeneityPlot.render(content))
            printError("heterogeneity run \(content.run): \(content.scores.count) parcels, \(content.scores.filter(\.flag).count) flagged, drawn to \(picture.out)")
            return 0
        }
    }
}

struct PlotParcel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parcel",
        abstract: "A parcel's NDVI (or a band) over time as SVG: clear and screened observations, the same crop's peer envelope, markers, decisions.",
        discussion: """
            Cloud-free observations (SCL) are joined by a line, screened ones drawn hollow; behind them the median and \
            inter-quartile band of the nearest parcels with the same crop code (per 10 days); markers of the latest run \
            that has any for the parcel (events as lines, data gaps shaded) and the latest light of each scheme with its \
            first reasons.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The parcel's identifier in the source data.") var id: String
    @Option(help: "Area of interest.") var aoi: String?
    @Option(help: "Declaration year.") var year: Int?
    @Option(help: "Parcel type (declaration set).") var ptype: String?
    @Option(help: "NDVI or a band (B08, B11, VV, …).") var band: String = "NDVI"
    @Option(help: "First date (YYYY-MM-DD).") var from: String?
    @Option(help: "Last date (YYYY-MM-DD).") var to: String?
    @Option(help: "Peers in the envelope (0: none).") var peers: Int = 30
    @OptionGroup var picture: PictureOutput

    func validate() throws {
        for date in [from, to].compactMap({ $0 }) where !isCalendarDate(date) { throw ValidationError("\(date): not a date (YYYY-MM-DD)") }
        guard (0...500).contains(peers) else { throw ValidationError("--peers is 0–500") }
    }

    func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path)
            let parcel = try ParcelLookup.byID(lake, id: id, aoi: aoi, year: year, ptype: ptype)
            var options = ParcelPlot.Options()
            options.signal = band; options.from = from; options.to = to; options.peers = peers
            let content = try ParcelPlot.gather(lake, parcel: parcel, options: options)
            try picture.write(ParcelPlot.render(content))
            printError("\(parcel.parcelID): \(content.points.count) observations, \(content.peers) peers, \(content.markers.count) markers, \(content.decisions.count) decisions drawn to \(picture.out)")
            return 0
        }
    }
}
