import ArgumentParser
import LakeQuery
import LakeStore

public struct Info: ParsableCommand {
    public init() {}
    public static let configuration = CommandConfiguration(abstract: "Summarise the lake: counts, AOIs, years, dates, bands, SRID, size, schema.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    public func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path, spatial: false)
            let info = try LakeInfo.read(lake)
            if json { printJSON(info.json) } else { print(info.text) }
            return 0
        }
    }
}
