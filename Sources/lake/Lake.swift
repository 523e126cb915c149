import ArgumentParser
import Foundation
import LakeStore

/// lake — an agricultural monitoring data lake in one SpatiaLite file.
/// This target only parses arguments and calls the library modules.
@main
enum Main {
    static func main() {
        LakeCommand.main(hoistGlobalOptions(Array(CommandLine.arguments.dropFirst())))
    }

    /// `lake --db FILE query …`: options given before the subcommand are moved after it, where
    /// every subcommand declares them (ArgumentParser reads options at the leaf command only).
    static func hoistGlobalOptions(_ args: [String]) -> [String] {
        var leading: [String] = []
        var i = 0
        while i < args.count, args[i].hasPrefix("--db") {
            if args[i] == "--db", i + 1 < args.count { leading += [args[i], args[i + 1]]; i += 2 }
            else { leading.append(args[i]); i += 1 }
        }
        guard !leading.isEmpty else { return args }
        var rest = Array(args[i...])
        if let dashes = rest.firstIndex(of: "--") { rest.insert(contentsOf: leading, at: dashes) }
        else { rest += leading }
        return rest
    }
}

struct LakeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lake",
        abstract: "An agricultural monitoring data lake (parcels, scene catalogue, signatures) in one SpatiaLite file.",
        discussion: """
            The lake file is --db FILE, else $LAKE_DB, else ./lake.sqlite.
            Exit codes: 0 ok; 1 internal error; 2 usage; 3 lake file missing, damaged or foreign; \
            4 bad input; 5 not found; 6 ambiguous identifier; 7 done, but some rows were rejected or scenes failed; 10 database error.
            """,
        version: LakeVersion.current,
        subcommands: [Init.self, Ingest.self, Extract.self, Info.self, Query.self, Markers.self, Screen.self, Check.self, Decide.self, HeterogeneityCommand.self, FOI.self, Report.self, Runs.self, SQL.self])
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The lake file (default: $LAKE_DB, else ./lake.sqlite).")
    var db: String?

    var path: String {
        db ?? ProcessInfo.processInfo.environment["LAKE_DB"].flatMap { $0.isEmpty ? nil : $0 } ?? "lake.sqlite"
    }
}

/// Runs `body`, turning lake's typed errors into a message on stderr and a documented exit code.
func guarded(_ body: () throws -> Int32) throws {
    let code: Int32
    do {
        code = try body()
    } catch let error as LakeError {
        printError("lake: \(error)")
        throw ExitCode(error.exitCode)
    } catch let error as ExitCode {
        throw error
    } catch {
        let wrapped = LakeError.wrap(error)
        printError("lake: \(wrapped)")
        throw ExitCode(wrapped.exitCode)
    }
    if code != 0 { throw ExitCode(code) }
}

func printError(_ text: String) {
    FileHandle.standardError.write((text + "\n").data(using: .utf8)!)
}

func printJSON(_ object: Any) {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
    print(String(decoding: data, as: UTF8.self))
}
