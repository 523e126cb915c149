import ArgumentParser
import LakeCLI
import LakeStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `lake`: the command analysts type. It links SQLite and the store only, so it starts in a few
/// milliseconds; the commands it can answer alone (`--version`, `query parcel`, `query at`,
/// `info`) it runs itself. The analyses and the answers about them (`markers run`/`show`,
/// `screen`, `check crops`, `decide`, `heterogeneity`, `runs`, `query peers`/`statspeers`) it
/// hands to `lake-analytics` (the analytics without GDAL), and every other command line —
/// ingest, extraction, reports, help, and anything it cannot parse — to `lake-full`, the whole
/// command set linked against GDAL. Both are installed beside it and take over by exec (same
/// process, same exit codes, same signals). See BENCHMARKS, start-up.
@main
enum Main {
    static func main() {
        let args = hoistGlobalOptions(Array(CommandLine.arguments.dropFirst()))
        if args == ["--version"] {
            print(LakeVersion.current)
            exit(0)
        }
        // The plainest parcel queries without ArgumentParser (its reflection is a fifth of the process).
        if args.starts(with: ["query", "parcel"]), let query = ParcelQuery.plain(Array(args.dropFirst(2))) {
            runAndExit(query.run)
        }
        // Parsing throws for --help and for usage errors too: lake-full words those.
        if let command = fastCommand(args) { runAndExit(command) }
        // An install without lake-analytics (lake and lake-full copied alone) still works: lake-full
        // has every command.
        let analytics = isAnalysisCommandLine(args) && access(executableDirectory() + "/lake-analytics", X_OK) == 0
        handOver(to: analytics ? "lake-analytics" : "lake-full")
    }

    /// The command `lake` runs without lake-full, parsed, if the command line is one. The leaf
    /// command is parsed directly (a root command's tree costs a millisecond of reflection).
    static func fastCommand(_ args: [String]) -> ParsableCommand? {
        switch (args.first, args.dropFirst().first) {
        case ("query", "parcel"): try? QueryParcel.parse(Array(args.dropFirst(2)))
        case ("query", "at"): try? QueryAt.parse(Array(args.dropFirst(2)))
        case ("info", _): try? Info.parse(Array(args.dropFirst(1)))
        default: nil
        }
    }
}
