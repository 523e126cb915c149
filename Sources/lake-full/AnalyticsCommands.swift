import ArgumentParser
import LakeCLI
import Foundation
import LakeAnalytics
import LakeIngest
import LakeQuery
import LakeStore



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
