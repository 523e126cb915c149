import CGDAL
import Foundation

/// Process-wide GDAL set-up and error capture.
public enum GDAL {
    private static let once: Void = {
        GDALAllRegister()
        // Errors are collected and reported by lake with context; GDAL prints nothing itself.
        CPLSetErrorHandler { _, _, message in
            guard let message else { return }
            GDALErrors.record(String(cString: message))
        }
        CPLSetConfigOption("OGR_GEOMETRY_ACCEPT_UNCLOSED_RING", "NO")
    }()

    public static func initialize() { _ = once }

    public static var version: String { String(cString: GDALVersionInfo("RELEASE_NAME")) }

    /// The path GDAL should open for `path`: archives go through the virtual file systems.
    public static func virtualPath(_ path: String) -> String {
        if path.hasPrefix("/vsi") { return path }
        let lower = path.lowercased()
        if lower.hasSuffix(".zip") { return "/vsizip/" + path }
        if lower.hasSuffix(".tar") || lower.hasSuffix(".tar.gz") || lower.hasSuffix(".tgz") { return "/vsitar/" + path }
        if lower.hasSuffix(".gz") { return "/vsigzip/" + path }
        return path
    }
}

/// The last error messages GDAL reported on this thread.
public enum GDALErrors {
    nonisolated(unsafe) private static var messages: [String] = []
    private static let lock = NSLock()

    static func record(_ message: String) {
        lock.lock(); defer { lock.unlock() }
        messages.append(message)
        if messages.count > 20 { messages.removeFirst() }
    }

    /// Returns and clears the messages collected so far.
    public static func drain() -> [String] {
        lock.lock(); defer { lock.unlock() }
        defer { messages.removeAll() }
        return messages
    }
}

public struct GDALError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) {
        let details = GDALErrors.drain()
        self.message = details.isEmpty ? message : message + ": " + details.joined(separator: "; ")
    }
    public var description: String { message }
}
