import ArgumentParser
import LakeAnalyticsCLI
import LakeCLI
import Foundation
import LakeAnalytics
import LakeStore

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a lake file before trusting it (lake check FILE), or declarations against the lake's own evidence (lake check crops).",
        subcommands: [CheckFile.self, CheckCrops.self], defaultSubcommand: CheckFile.self)
}

struct CheckFile: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "file",
        abstract: "Is this lake file safe and sound? What a receiver runs first.",
        discussion: """
            Opens the file read-only without running anything of it and checks: a lake file without an interrupted write,             SQLite's integrity check, the schema version, every schema object that is not exactly lake's own (tolerated:             views, new layers, styles and plain indexes beside lake's tables; refused: anything that would run on lake's             own reads and writes), every signature series and SCL summary decodes, statistics in range. Exit 0 only when             the lake is safe and sound, 3 otherwise.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The lake file (default: --db, $LAKE_DB, else ./lake.sqlite).") var file: String?
    @Flag(help: "Print the report as JSON.") var json = false
    @Option(help: "Write a clean copy without the refused objects to this new file (lake's tables rebuilt as lake defines them), and check it.")
    var fix: String?

    func run() throws {
        try guarded {
            if let fix {
                let done = try LakeCheck.fix(path: file ?? global.path, out: fix)
                for line in done { print(line) }
                printError("wrote \(fix): \(done.isEmpty ? "nothing was refused; a plain copy" : "\(done.count) object(s) fixed"), safe to open")
                return 0
            }
            let report = try LakeCheck.run(path: file ?? global.path)
            if json {
                printJSON(report.json)
            } else {
                print("lake check \(report.path)")
                for item in report.items { print("\(item.ok ? "ok  " : "FAIL")  \(item.check.padding(toLength: 10, withPad: " ", startingAt: 0)) \(item.detail)") }
                for o in report.objects {
                    print("\(o.refused ? "REFUSED  " : "tolerated")  \(o.type) \(o.name)\(o.table.isEmpty || o.table == o.name ? "" : " on \(o.table)"): \(o.reason)")
                }
                print(report.sound ? "safe and sound" : report.safe ? "safe to open, but not sound" : "NOT safe to open: lake refuses this file")
            }
            return report.sound ? 0 : 3
        }
    }
}


