import ArgumentParser
import LakeCLI
import Foundation
import LakeExtract
import LakeStore

struct Extract: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compute signatures and SCL histograms from the scenes' band files (GeoTIFF, COG, JPEG2000).",
        discussion: """
            Without --scene, extracts every scene not yet extracted (status ingested, or inprogress from an \
            interrupted run). A scene that fails is marked `failed: reason` and the run goes on; exit code 7 then.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("scene"), parsing: .upToNextOption, help: "Scene references to extract (again), whatever their status.")
    var scenes: [String] = []
    @Option(help: "Only scenes acquired on or after this date (YYYY-MM-DD).") var from: String?
    @Option(help: "Only scenes acquired on or before this date (YYYY-MM-DD).") var to: String?
    @Option(help: "Bands to extract, comma-separated (default: every band file of the scene), e.g. B04,B08,SCL.") var bands: String?
    @Option(help: "Pixel rule: center (pixel centre inside the parcel) or all-touched.") var rule: String = "center"
    @Option(help: "Buffer in metres applied to each parcel first (negative shrinks, e.g. -10).") var buffer: Double?
    @Option(help: "Threads (default: all cores).") var jobs: Int?
    @Option(help: "Only parcels of this area of interest.") var aoi: String?
    @Option(help: "Only parcels of this year.") var year: Int?
    @Option(help: "Nodata for band files that declare none (default: 0 for Sentinel-2 reflectances and SCL).") var nodata: Double?
    @Flag(name: .customLong("retry-failed"), help: "Also retry scenes whose extraction failed before.") var retryFailed = false
    @Flag(help: "Log each scene to stderr.") var verbose = false
    @Flag(help: "Print the summary as JSON.") var json = false

    func validate() throws {
        guard PixelRule(rawValue: rule) != nil else { throw ValidationError("--rule must be center or all-touched") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        for date in [from, to].compactMap({ $0 }) where date.range(of: #"^\d{4}-\d{2}-\d{2}$"#, options: .regularExpression) == nil {
            throw ValidationError("dates are YYYY-MM-DD, not \(date)")
        }
    }

    func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path, writable: true)
            var options = ExtractOptions()
            options.scenes = scenes; options.from = from; options.to = to
            options.bands = bands.map { Set($0.split(separator: ",").map { Bands.normalise(String($0)) }) }
            options.rule = PixelRule(rawValue: rule)!
            options.buffer = buffer; options.aoi = aoi; options.year = year; options.nodata = nodata
            options.retryFailed = retryFailed
            if let jobs { options.jobs = jobs }
            let summary = try Extraction(lake: lake).run(options) { if verbose { printError($0) } }
            for failure in summary.scenesFailed { printError("failed: \(failure.reference): \(failure.reason)") }
            if json { printJSON(summary.json) } else { print(summary.line) }
            return summary.scenesFailed.isEmpty ? 0 : 7
        }
    }
}
