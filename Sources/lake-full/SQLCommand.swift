import ArgumentParser
import LakeCLI
import LakeSupport
import Foundation
import LakeAnalytics
import LakeSQLite
import LakeStore

struct SQL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sql",
        abstract: "Run SQL on the lake, with lake's functions (ndvi, cloud_free, cv, qdisp, qskew, median, percentile, mad, drops…).",
        discussion: """
            Read-only unless --write. Results stream as text (tab-separated), --csv or --json.
            Example: lake sql "SELECT crop_name, count(*), median(area) FROM parcels GROUP BY 1"
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "One SQL statement.") var statement: String
    @Flag(help: "Allow statements that change the lake.") var write = false
    @OptionGroup var output: TableOutput

    func run() throws {
        try guarded {
            let lake = try Lake.open(path: global.path, writable: write)
            try SQLFunctions.register(on: lake.db)
            let query: Statement
            do { query = try lake.db.prepare(statement) } catch let error as SQLiteError {
                throw LakeError.usage("SQL: \(error.message)")
            }
            // One statement: a second one would otherwise be dropped without a word.
            let rest = query.trailing.split(whereSeparator: { $0.isWhitespace || $0 == ";" })
            if !rest.isEmpty {
                throw LakeError.usage("SQL: one statement at a time; this is left after the first: \(query.trailing.trimmingCharacters(in: .whitespacesAndNewlines).prefix(60))")
            }
            let names = (0..<query.columnCount).map { query.columnName($0) }
            // The table starts with the first row, so a statement that fails at once prints
            // nothing on stdout; one that returns no columns (a write) prints nothing at all.
            var writer: TableWriter?
            do {
                while try query.step() {
                    if writer == nil { writer = TableWriter(columns: names, format: output.format) }
                    writer?.row((0..<query.columnCount).map { query.value($0).any })
                }
            } catch let error as SQLiteError {
                writer?.finish()
                throw LakeError.usage("SQL: \(error.message)")
            }
            if writer == nil && !names.isEmpty { writer = TableWriter(columns: names, format: output.format) }
            writer?.finish()
            return 0
        }
    }
}
