import ArgumentParser
import Foundation

/// lake-fixtures: writes the project's deterministic demo/test data set, at any scale.
struct LakeFixtures: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lake-fixtures",
        abstract: "Generate realistic parcels, STAC scenes, signatures and SCL histograms (deterministic).",
        subcommands: [Generate.self, Score.self], defaultSubcommand: Generate.self)
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the fixture set (default command).")

    @Option(help: "Output folder.") var out: String = "fixtures/demo"
    @Option(help: "Number of parcels.") var parcels: Int = 300
    @Option(help: "Number of Sentinel-2 scenes over the year.") var scenes: Int = 73
    @Option(help: "Random seed.") var seed: UInt64 = 2024
    @Flag(name: .customLong("scene-order"), help: "Write signatures scene by scene (as extraction produces them) instead of parcel by parcel.")
    var sceneOrder = false
    @Option(name: .customLong("raster-scenes"), help: "Also write band rasters (B04, B08, B11, SCL) for this many scenes, in rasters/.")
    var rasterScenes: Int = 0
    @Flag(name: .customLong("true-colour"), help: "With --raster-scenes: also B02 and B03 (10 m), for true-colour chips.")
    var trueColour = false
    @Flag(help: "Also write quality.csv: what each observation really was (clear, cloud, cloud-edge, haze, shadow).")
    var quality = false
    @Option(name: .customLong("s1-days"), help: "Also write Sentinel-1 coherence (VV, VH) of acquisition pairs this many days apart (6: two satellites, 12: one) as s1-catalogue.csv and s1.csv.")
    var s1Days: Int = 0
    @Option(name: .customLong("bench-band"), help: "Also write one full-size 10,980 × 10,980 band GeoTIFF over the parcels to this path.")
    var benchBand: String?

    func run() throws {
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        var generator = FixtureGenerator(parcels: parcels, scenes: scenes, seed: seed)
        generator.sceneOrder = sceneOrder
        let parcelList = generator.makeParcels()
        let sceneList = generator.makeScenes()
        func path(_ name: String) -> String { (out as NSString).appendingPathComponent(name) }
        try generator.writeParcels(parcelList, to: path("parcels.geojson"))
        try generator.writeSTAC(sceneList, to: path("scenes.stac.json"))
        try generator.writeSignatures(parcelList, sceneList, signatures: path("signatures.csv"), scl: path("scl.csv"),
                                     quality: quality ? path("quality.csv") : nil)
        try generator.writeTruth(parcelList, to: path("truth.csv"))
        if s1Days > 0 {
            let pairs = generator.makeRadarPairs(pairDays: s1Days)
            try generator.writeRadarCatalogue(pairs, to: path("s1-catalogue.csv"))
            try generator.writeRadarSignatures(parcelList, pairs, to: path("s1.csv"))
        }
        try generator.writeRasters(parcelList, sceneList, count: rasterScenes, folder: path("rasters"), trueColour: trueColour)
        if let benchBand { try generator.writeBenchBand(parcelList, path: benchBand) }
        FileHandle.standardError.write("wrote \(parcels) parcels × \(scenes) scenes × \(FixtureGenerator.bands.count) bands to \(out)\n".data(using: .utf8)!)
    }
}

LakeFixtures.main()
