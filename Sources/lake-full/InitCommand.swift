import ArgumentParser
import LakeCLI
import LakeStore

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create a new, empty lake file.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "EPSG code of the parcel geometries (default 3035, ETRS89-LAEA, equal-area).")
    var srid: Int = Lake.defaultSRID

    func run() throws {
        try guarded {
            let lake = try Lake.create(path: global.path, srid: srid)
            print("created \(lake.path) (EPSG:\(lake.srid), schema version \(lake.schemaVersion))")
            return 0
        }
    }
}
