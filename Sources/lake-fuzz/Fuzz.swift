import Foundation
@_spi(Fuzzing) import LakeIngest
import LakeAnalytics
import LakeQuery
import LakeStore

/// Coverage-guided fuzzing of every parser of outside input (libFuzzer). The target comes
/// from `LAKE_FUZZ_TARGET`: csv (signature tables), catalogue (STAC/OData/OpenSearch JSON,
/// Atom/SAFE XML, dias_catalogue CSV), options (marker option files), expression (phenology
/// conditions), series (packed signature series, pending rows, SCL summaries), geometry (the
/// polygon BLOBs the point and peers queries read in place, `SpatiaLiteBlob`). Errors thrown
/// are the expected answer to bad input; a crash, a trap or a hang is a bug.
///
/// Built with `-sanitize=fuzzer -DLAKE_LIBFUZZER` (`make fuzz`), libFuzzer drives
/// `LLVMFuzzerTestOneInput`; built normally it replays the files given as arguments (a
/// regression run over a corpus or the crashes found).
enum FuzzTarget: String, CaseIterable {
    case csv, catalogue, options, expression, series, geometry

    static let current: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["LAKE_FUZZ_TARGET"] ?? "csv"
        guard let t = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write("LAKE_FUZZ_TARGET must be one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".data(using: .utf8)!)
            exit(2)
        }
        return t
    }()

    /// Inputs that the parsers read from a file go through one scratch file in memory-backed /dev/shm.
    static let scratch: String = {
        let dir = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        return "\(dir)/lake-fuzz-\(getpid())"
    }()

    func run(_ data: Data) {
        switch self {
        case .csv, .catalogue, .options:
            let suffix = self == .catalogue ? (data.first == UInt8(ascii: "<") ? ".xml" : data.first == UInt8(ascii: "{") ? ".json" : ".csv")
                : self == .options ? ".yaml" : ".csv"
            let path = Self.scratch + suffix
            _ = FileManager.default.createFile(atPath: path, contents: data)
            defer { try? FileManager.default.removeItem(atPath: path) }
            switch self {
            case .csv: _ = try? IngestFuzzEntries.signatureFile(path: path)
            case .catalogue: _ = try? IngestFuzzEntries.catalogueDocument(path: path)
            default: _ = try? MarkerOptions.load(path: path)
            }
        case .expression:
            _ = try? Expression(String(decoding: data, as: UTF8.self))
        case .series:
            let bytes = [UInt8](data)
            _ = try? SeriesCodec.decode(bytes)
            _ = try? bytes.withUnsafeBytes { try PendingCodec.decode($0) }
            _ = try? SCLSummary.decode(bytes)
        case .geometry:
            // A point inside, on and outside the box the BLOB claims, and its distance to itself
            // and to a square: nil (not read) or an answer, never a trap.
            data.withUnsafeBytes { blob in
                for (x, y) in [(0.0, 0.0), (5.0, 5.0), (-1e308, 1e308), (Double.nan, 1.0)] { _ = SpatiaLiteBlob.covers(blob, x: x, y: y) }
                if let rings = SpatiaLiteBlob.Rings(blob) { _ = rings.distance(to: rings) }
            }
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func lakeFuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTarget.current.run(size == 0 || data == nil ? Data() : Data(bytes: data!, count: size))
    return 0
}

#if LAKE_LIBFUZZER
/// libFuzzer's driver, called from this program's own main (SwiftPM names the entry point).
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
               _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt
#endif

@main
struct FuzzMain {
    static func main() {
        _ = FuzzTarget.current
#if LAKE_LIBFUZZER
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(runDriver(&argc, &argv) { data, size in lakeFuzzOne(data, size) })
#else
        let files = CommandLine.arguments.dropFirst()
        for path in files {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            FuzzTarget.current.run(data)
        }
        FileHandle.standardError.write("replayed \(files.count) inputs through \(FuzzTarget.current.rawValue)\n".data(using: .utf8)!)
#endif
    }
}
