import ArgumentParser
import LakeCLI
import Foundation
import LakeIngest
import LakeStore

struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load parcels, catalogue metadata or signatures into the lake (created if missing).",
        subcommands: [IngestParcels.self, IngestCatalogue.self, IngestSignatures.self, IngestScene.self, IngestCrops.self])
}

/// Options shared by every ingest.
struct IngestOutput: ParsableArguments {
    @Flag(help: "Print the summary as JSON.") var json = false
    @Flag(help: "Roll an input back entirely if any row or feature is rejected.") var strict = false
}

/// Prints summaries (stdout) and rejections/notes (stderr); returns the exit code.
func report(_ summaries: [IngestSummary], json: Bool) -> Int32 {
    for summary in summaries {
        for note in summary.notes { printError("note: \(note)") }
        for rejection in summary.rejected.prefix(50) { printError("rejected: \(rejection)") }
        if summary.rejected.count > 50 { printError("rejected: … and \(summary.rejected.count - 50) more") }
    }
    if json { printJSON(summaries.count == 1 ? summaries[0].json : summaries.map(\.json)) }
    else { for summary in summaries { print(summary.line) } }
    return summaries.contains { !$0.rejected.isEmpty } ? 7 : 0
}

struct IngestParcels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parcels",
        abstract: "Load parcels from any GDAL vector source (Shapefile, GeoPackage, GeoJSON, GML, FlatGeobuf, CSV+WKT, zip).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The parcel file.") var path: String
    @Option(help: "Layer to read (default: the first polygon layer).") var layer: String?
    @Option(help: "Field with the parcel identifier (default: detected).") var id: String?
    @Option(name: .customLong("crop-code"), help: "Field with the crop code (default: detected).") var cropCode: String?
    @Option(name: .customLong("crop-name"), help: "Field with the crop name (default: detected).") var cropName: String?
    @Option(help: "Area of interest name.") var aoi: String = ""
    @Option(help: "Declaration year (default: a year field if any, else 0).") var year: Int?
    @Option(help: "Parcel type (JRC ptype: separate declaration sets, e.g. g grazing, m mowing).") var ptype: String = ""
    @Option(name: .customLong("source-srid"), help: "EPSG code of the source when the file does not say.") var sourceSRID: Int?
    @Option(name: .customLong("point-buffer"), help: "Keep point samples (WorldCereal, surveys; CSV lon/lat) as circles of this radius in metres.")
    var pointBuffer: Double?
    @Flag(help: "Replace parcels already in the lake whose geometry or attributes differ.") var update = false
    @OptionGroup var output: IngestOutput

    func run() throws {
        try guarded {
            let lake = try Lake.openOrCreate(path: global.path)
            var options = ParcelIngestOptions()
            options.pointBuffer = pointBuffer
            options.layer = layer; options.idField = id; options.cropCodeField = cropCode
            options.cropNameField = cropName; options.aoi = aoi; options.year = year; options.ptype = ptype
            options.sourceSRID = sourceSRID; options.update = update; options.strict = output.strict
            let summary = try ParcelIngest(lake: lake).run(path: path, options: options)
            return report([summary], json: output.json)
        }
    }
}

struct IngestCatalogue: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalogue",
        abstract: "Load scene metadata: STAC items/searches, CDSE OData/OpenSearch JSON, OpenSearch Atom, SAFE metadata, dias_catalogue CSV.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Catalogue documents.") var paths: [String]
    @Flag(help: "Refresh scenes already in the catalogue with these documents' metadata (status is kept).") var update = false
    @OptionGroup var output: IngestOutput

    func run() throws {
        try guarded {
            let lake = try Lake.openOrCreate(path: global.path)
            var options = CatalogueIngestOptions()
            options.update = update; options.strict = output.strict
            let ingest = CatalogueIngest(lake: lake)
            let summaries = try paths.map { try ingest.run(path: $0, options: options) }
            return report(summaries, json: output.json)
        }
    }
}

struct IngestSignatures: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signatures",
        abstract: "Load signature statistics and SCL histograms (JRC signature CSV, parcelTimeSeries JSON/CSV).",
        discussion: """
            Rows that do not come parcel by parcel (scene-ordered files) are sorted in at most \
            LAKE_SORT_MEMORY_MB of memory (default 128); beyond that, sorted runs go to unnamed \
            files in the lake's folder (about 290 bytes per parcel and scene) until the ingest ends.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Signature files.") var paths: [String]
    @Option(help: "Only parcels of this area of interest.") var aoi: String?
    @Option(help: "Only parcels of this year.") var year: Int?
    @Option(help: "Only parcels of this type (declaration set).") var ptype: String?
    @Option(help: "The parcel a parcelTimeSeries file belongs to (its identifier).") var parcel: String?
    @Flag(name: .customLong("create-scenes"), help: "Create unknown scenes from the row's product reference and date.") var createScenes = false
    @OptionGroup var output: IngestOutput

    func run() throws {
        try guarded {
            let lake = try Lake.openOrCreate(path: global.path)
            var options = SignatureIngestOptions()
            options.aoi = aoi; options.year = year; options.ptype = ptype; options.parcel = parcel
            options.createScenes = createScenes; options.strict = output.strict
            let ingest = SignatureIngest(lake: lake)
            let summaries = try paths.map { try ingest.run(path: $0, options: options) }
            return report(summaries, json: output.json)
        }
    }
}

struct IngestScene: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scene",
        abstract: "Register local scene files for `lake extract`: STAC items with local assets, .SAFE folders, folders of per-band files named by date and band.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "STAC item files, .SAFE folders, folders or band files.") var paths: [String]
    @Option(help: "Radiometric offset of per-band files whose processing baseline is unknown (e.g. -1000 for L2A from baseline 04.00).")
    var offset: Double?
    @Option(help: "Reference prefix for scenes found in folders (default: the folder's name).") var name: String?
    @Flag(help: "Refresh scenes already in the catalogue.") var update = false
    @OptionGroup var output: IngestOutput

    func run() throws {
        try guarded {
            let lake = try Lake.openOrCreate(path: global.path)
            var options = LocalSceneOptions()
            options.offset = offset; options.name = name; options.update = update
            let ingest = LocalSceneIngest(lake: lake)
            let summaries = try paths.map { try ingest.run(path: $0, options: options) }
            return report(summaries, json: output.json)
        }
    }
}
