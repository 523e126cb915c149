import ArgumentParser
import LakeCLI
import LakeReports

/// --csv / --json for commands that print tables.
struct TableOutput: ParsableArguments {
    @Flag(help: "Print CSV.") var csv = false
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if csv && json { throw ValidationError("choose one of --csv and --json") }
    }

    var format: TableFormat { csv ? .csv : json ? .json : .text }
}
