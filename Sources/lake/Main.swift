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
/// `info`) it runs itself, and every other command line — ingest, extraction, analytics,
/// reports, help, and anything it cannot parse — it hands unchanged to `lake-full`, the whole
/// command set linked against GDAL, installed beside it, by exec (same process, same exit
/// codes, same signals). See BENCHMARKS, start-up.
@main
enum Main {
    static func main() {
        let args = hoistGlobalOptions(Array(CommandLine.arguments.dropFirst()))
        if args == ["--version"] {
            print(LakeVersion.current)
            exit(0)
        }
        // Parsing throws for --help and for usage errors too: lake-full words those.
        if let command = fastCommand(args) {
            do {
                var command = command
                try command.run()
                exit(0)
            } catch {
                QueryParcel.exit(withError: error)
            }
        }
        handOver()
    }

    /// Replaces this process with `lake-full` from the same directory, same arguments.
    static func handOver() -> Never {
        let full = executableDirectory() + "/lake-full"
        var argv: [UnsafeMutablePointer<CChar>?] = CommandLine.arguments.map { strdup($0) }
        argv.append(nil)
        execv(full, &argv)
        let reason = String(cString: strerror(errno))
        printError("lake: cannot start \(full) (\(reason)); lake-full belongs beside lake (make build installs both)")
        exit(1)
    }

    /// The directory of this executable (symbolic links resolved).
    static func executableDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let path = n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
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
