import ArgumentParser
import LakeStore
import LakeSupport
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// What every command of both binaries shares: the lake file option, typed errors turned into
// exit codes, and output. `lake` (the fast front-end) and `lake-full` (every command, linked
// against GDAL) both build their commands from here.

/// `lake --db FILE query …`: options given before the subcommand are moved after it, where
/// every subcommand declares them (ArgumentParser reads options at the leaf command only).
public func hoistGlobalOptions(_ args: [String]) -> [String] {
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

/// Options every command takes.
public struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The lake file (default: $LAKE_DB, else ./lake.sqlite).")
    public var db: String?

    public init() {}

    public var path: String { Self.path(db: db) }

    /// The lake file: `db`, else $LAKE_DB, else ./lake.sqlite.
    public static func path(db: String?) -> String {
        db ?? ProcessInfo.processInfo.environment["LAKE_DB"].flatMap { $0.isEmpty ? nil : $0 } ?? "lake.sqlite"
    }
}

/// Runs `body`, turning lake's typed errors into a message on stderr and a documented exit code.
public func guarded(_ body: () throws -> Int32) throws {
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

public func printError(_ text: String) {
    writeStandardError(text + "\n")
}

/// A command's result as JSON on stdout.
public func printJSON(_ object: Any) {
    print(JSONText.render(object))
}

/// True when the environment asks for timings on stderr (`LAKE_TIMING=1`).
public var timingRequested: Bool { ProcessInfo.processInfo.environment["LAKE_TIMING"] != nil }

/// Runs a command parsed from the command line and exits with its code; an error exits as
/// ArgumentParser words it (the front-ends' leaf commands, run without a root command).
public func runAndExit(_ command: ParsableCommand) -> Never {
    var command = command
    runAndExit { try command.run() }
}

/// Runs `body` and exits: 0, or the code of the `ExitCode` it throws (`guarded` has said why
/// on stderr), or as ArgumentParser words any other error.
public func runAndExit(_ body: () throws -> Void) -> Never {
    do {
        try body()
        exit(0)
    } catch {
        QueryParcel.exit(withError: error)
    }
}

/// The command lines `lake-analytics` runs (`LakeAnalyticsCLI.analysisCommand` parses them):
/// `lake`, which does not link the analytics, hands these there.
public func isAnalysisCommandLine(_ args: [String]) -> Bool {
    switch (args.first, args.dropFirst().first) {
    case ("markers", "run"), ("markers", "show"), ("check", "crops"), ("decide", _), ("screen", _), ("heterogeneity", _), ("runs", _),
         ("query", "peers"), ("query", "statspeers"): true
    default: false
    }
}

/// Replaces this process with `name` (`lake-full`, `lake-analytics`) from this executable's
/// directory, same arguments: same process, same exit codes, same signals.
public func handOver(to name: String) -> Never {
    let path = executableDirectory() + "/" + name
    var argv: [UnsafeMutablePointer<CChar>?] = CommandLine.arguments.map { strdup($0) }
    argv.append(nil)
    execv(path, &argv)
    let reason = String(cString: strerror(errno))
    printError("lake: cannot start \(path) (\(reason)); \(name) belongs beside lake (make build installs lake, lake-analytics and lake-full)")
    exit(1)
}

/// The directory of this executable (symbolic links resolved).
public func executableDirectory() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    let path = n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return String(path[..<slash])
}

/// --csv / --json for commands that print tables.
public struct TableOutput: ParsableArguments {
    @Flag(help: "Print CSV.") public var csv = false
    @Flag(help: "Print JSON.") public var json = false

    public init() {}

    public func validate() throws {
        if csv && json { throw ValidationError("choose one of --csv and --json") }
    }

    public var format: TableFormat { csv ? .csv : json ? .json : .text }
}
