#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The size in bytes of the file at `path`, nil when there is none. Through stat(2): Foundation's
/// file attributes give the size as NSNumber in one build and as UInt in the FoundationEssentials
/// one, where a cast to Int silently fails.
public func fileSize(_ path: String) -> Int? {
    var status = stat()
    guard stat(path, &status) == 0 else { return nil }
    return Int(status.st_size)
}
