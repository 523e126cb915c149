import Foundation
import XCTest
import LakeStore

/// Shared by the test targets.
/// The repository root (for fixtures/) and ../shared/realdata beside it.
public enum Paths {
    public static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()
    public static func fixture(_ name: String) -> String { root.appendingPathComponent("fixtures/small/\(name)").path }
    public static var realdata: URL { root.deletingLastPathComponent().appendingPathComponent("shared/realdata") }

    /// Skips the test with a message when ../shared/realdata is absent.
    public static func requireRealdata(_ sub: String) throws -> URL {
        let url = realdata.appendingPathComponent(sub)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw XCTSkip("../shared/realdata/\(sub) is not present; real-data test skipped")
        }
        return url
    }
}

public func temporaryLake(_ test: XCTestCase, srid: Int = Lake.defaultSRID) throws -> Lake {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lake-ingest-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return try Lake.create(path: dir.appendingPathComponent("t.sqlite").path, srid: srid)
}

/// One folder per test process for the files tests write (`write`), removed when the test
/// bundle finishes: tests leave nothing in the temporary directory.
public let scratchFolder: URL = {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lake-tests-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    XCTestObservationCenter.shared.addTestObserver(ScratchCleaner(dir))
    return dir
}()

private final class ScratchCleaner: NSObject, XCTestObservation {
    let dir: URL
    init(_ dir: URL) { self.dir = dir }
    func testBundleDidFinish(_ testBundle: Bundle) { try? FileManager.default.removeItem(at: dir) }
}

public func write(_ text: String, _ name: String) throws -> String {
    let path = scratchFolder.appendingPathComponent("\(UUID().uuidString)-\(name)").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}
