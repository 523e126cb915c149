import LakeAnalyticsCLI
import LakeCLI
#if canImport(Glibc)
import Glibc
#endif

/// `lake-analytics`: the analyses and the answers about them (`isAnalysisCommandLine`: markers
/// run/show, screen, check crops, decide, heterogeneity, runs, the peer queries) linked without
/// GDAL, which they do not use; `lake` hands those command lines here. Anything else, and
/// anything it cannot parse (help, usage errors), it hands unchanged to `lake-full`.
@main
enum Main {
    static func main() {
        let args = hoistGlobalOptions(Array(CommandLine.arguments.dropFirst()))
        if let command = analysisCommand(args) { runAndExit(command) }
        handOver(to: "lake-full")
    }
}
