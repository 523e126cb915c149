import ArgumentParser
import LakeQuery
import LakeStore

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Summarise the lake: counts, AOIs, years, dates, bands, SRID, size, schema.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path)
            let info = try LakeInfo.read(lake)
            if json { printJSON(info.json) } else { print(info.text) }
            return 0
        }
    }
}
