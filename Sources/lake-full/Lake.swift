import ArgumentParser
import Foundation
import LakeAnalyticsCLI
import LakeCLI
import LakeServer
import LakeStore

/// lake — an agricultural monitoring data lake in one SpatiaLite file.
/// This target only parses arguments and calls the library modules.
@main
enum Main {
    static func main() async {
        let args = hoistGlobalOptions(Array(CommandLine.arguments.dropFirst()))
        if args.first == "serve" { LakeServer.runConcurrencyOnEventLoops() }
        await LakeCommand.main(args)
    }
}

struct LakeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lake",
        abstract: "An agricultural monitoring data lake (parcels, scene catalogue, signatures) in one SpatiaLite file.",
        discussion: """
            The lake file is --db FILE, else $LAKE_DB, else ./lake.sqlite.
            Exit codes: 0 ok; 1 internal error; 2 usage (a value that cannot work); 3 lake file missing, damaged or foreign; \
            4 bad input; 5 not found; 6 ambiguous identifier; 7 done, but some rows were rejected or scenes failed; 10 database error; \
            11 PostgreSQL (push, pull); 64 command-line syntax.
            """,
        version: LakeVersion.current,
        subcommands: [Init.self, Ingest.self, Extract.self, Info.self, Query.self, Markers.self, Screen.self, Check.self, Decide.self, HeterogeneityCommand.self, FOI.self, Report.self, Export.self, Runs.self, SQL.self, Serve.self, Push.self, Pull.self, SubsetCommand.self, MergeCommand.self, Plot.self, ChipCommand.self])
}
