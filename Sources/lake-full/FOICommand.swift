import ArgumentParser
import LakeCLI
import LakeSupport
import Foundation
import LakeAnalytics
import LakeFOI
import LakeStore

struct FOI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "foi",
        abstract: "FOI assessment on a thematic raster: class shares, heterogeneity and cardinality flags, clusters (JRC FOI v2).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "A one-band thematic raster (a classification).") var raster: String
    @Option(help: "CSV of class value and name (value,name).") var classes: String?
    @Option(name: .customLong("min-share"), help: "Heterogeneous when a class's share (%) lies between --min-share …") var minShare: Double = 30
    @Option(name: .customLong("max-share"), help: "… and --max-share.") var maxShare: Double = 70
    @Option(help: "Buffer in metres applied to each parcel first (0: none).") var buffer: Double = -10
    @Option(help: "Pixel connectivity of clusters: 4 or 8.") var connectivity: Int = 4
    @Option(name: .customLong("cluster-pixels"), help: "Clusters larger than this count for the cardinality flag.") var clusterPixels: Int = 20
    @Flag(help: "List every parcel, not only the flagged ones.") var all = false
    @OptionGroup var output: TableOutput

    func validate() throws {
        guard connectivity == 4 || connectivity == 8 else { throw ValidationError("--connectivity is 4 or 8") }
        guard 0 <= minShare, minShare <= maxShare, maxShare <= 100 else { throw ValidationError("shares: 0 ≤ --min-share ≤ --max-share ≤ 100") }
    }

    func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path, writable: true)
            var options = FOIOptions()
            options.minShare = minShare; options.maxShare = maxShare; options.buffer = buffer == 0 ? nil : buffer
            options.eightConnected = connectivity == 8; options.clusterPixels = clusterPixels
            if let classes { options.classNames = try ClassNames.read(classes) }
            let text = "raster: \(raster)\nmin_share: \(minShare)\nmax_share: \(maxShare)\nbuffer: \(buffer)\nconnectivity: \(connectivity)\ncluster_pixels: \(clusterPixels)\n"
            let (run, parcels) = try FOIAssessment(lake: lake).run(raster: raster, options: options, optionsText: text)
            printError("foi run \(run): \(parcels.count) parcels, \(parcels.filter(\.heterogeneous).count) heterogeneous, \(parcels.filter(\.cardinality).count) with more than one cluster over \(clusterPixels) px")
            let writer = TableWriter(columns: ["parcel_id", "pid", "pixels", "heterogeneous", "cardinality", "classes", "clusters"], format: output.format)
            for p in parcels where all || p.heterogeneous || p.cardinality {
                let cls = p.classes.map { "\(options.classNames[$0.value] ?? String($0.value)):\(String(format: "%.1f", $0.share))%" }.joined(separator: " ")
                let clusters = p.clusters.prefix(8).map { "\(options.classNames[$0.value] ?? String($0.value)):\($0.pixels)" }.joined(separator: " ")
                writer.row([p.parcelID, p.pid, p.pixels, p.heterogeneous, p.cardinality, cls, clusters])
            }
            writer.finish()
            return 0
        }
    }
}

enum ClassNames {
    static func read(_ path: String) throws -> [Int: String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw LakeError.input(file: path, location: nil, reason: "cannot read") }
        var out: [Int: String] = [:]
        for (n, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let parts = line.split(separator: ",", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let value = Int(parts[0]) else {
                if n == 0 { continue }   // a header line
                throw LakeError.input(file: path, location: "line \(n + 1)", reason: "expected value,name")
            }
            out[value] = parts[1]
        }
        return out
    }
}
