import Foundation
import XCTest

/// Runs the built binaries (`lake`, `lake-fixtures`) in a fresh temporary folder, as a user would.
class BinaryTestCase: XCTestCase {
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return URL(fileURLWithPath: ".")
    }()

    var dir: URL!
    var db: String { dir.appendingPathComponent("e2e.sqlite").path }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("lake-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    struct Result { let code: Int32; let out: String; let err: String }

    /// The binary next to this test bundle (swift build puts products together).
    func binary(_ name: String) throws -> URL {
        var url = Bundle(for: Self.self).bundleURL
        while url.path != "/" {
            let candidate = url.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            url.deleteLastPathComponent()
        }
        throw XCTSkip("\(name) binary not built")
    }

    /// Starts a binary without waiting; its output goes to files in the test folder.
    func start(_ args: [String], tool: String = "lake", env: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = try binary(tool)
        process.arguments = args
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "LAKE_DB")
        for (k, v) in env { environment[k] = v }
        process.environment = environment
        process.currentDirectoryURL = dir
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// `executable`: a copy of a binary elsewhere (an install of only some of them) instead of `tool`.
    @discardableResult
    func run(_ args: [String], tool: String = "lake", executable: URL? = nil, env: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = try executable ?? binary(tool)
        process.arguments = args
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "LAKE_DB")
        for (k, v) in env { environment[k] = v }
        process.environment = environment
        process.currentDirectoryURL = dir
        let out = Pipe(), err = Pipe()
        process.standardOutput = out; process.standardError = err
        try process.run()
        // Both pipes drained at once: a command that fills one while the other is read would block.
        nonisolated(unsafe) var e = Data()
        let errors = DispatchGroup()
        DispatchQueue.global().async(group: errors) { e = err.fileHandleForReading.readDataToEndOfFile() }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        errors.wait()
        process.waitUntilExit()
        return Result(code: process.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    /// Runs another program (python, psql) and returns its stdout; a failure throws with its stderr.
    @discardableResult
    func shell(_ tool: String, _ args: [String], cwd: URL? = nil) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        if let cwd { p.currentDirectoryURL = cwd }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        nonisolated(unsafe) var e = Data()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { e = err.fileHandleForReading.readDataToEndOfFile() }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        group.wait(); p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw NSError(domain: "shell", code: Int(p.terminationStatus), userInfo: [NSLocalizedDescriptionKey:
                "\(tool) \(args.joined(separator: " ")): \(String(decoding: e, as: UTF8.self).suffix(2000))"])
        }
        return String(decoding: o, as: UTF8.self)
    }

    func fixture(_ name: String) -> String { Self.root.appendingPathComponent("fixtures/small/\(name)").path }

    /// `lake info --json` of `path` as a dictionary.
    func info(_ path: String) throws -> [String: Any] {
        let result = try run(["--db", path, "info", "--json"])
        XCTAssertEqual(result.code, 0, result.err)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any], result.out)
    }

    /// Starts `lake serve --port 0` and returns it with the port it printed.
    func startServer(_ extra: [String] = []) throws -> (Process, Int) {
        let process = Process()
        process.executableURL = try binary("lake")
        process.arguments = ["--db", db, "serve", "--port", "0"] + extra
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
            if let range = text.range(of: #"127\.0\.0\.1:(\d+)/query/"#, options: .regularExpression) {
                let port = Int(text[range].split(separator: ":")[1].split(separator: "/")[0])!
                // Keep draining the request log so the server never blocks on a full pipe.
                err.fileHandleForReading.readabilityHandler = { _ = $0.availableData }
                return (process, port)
            }
        }
        process.terminate()
        throw NSError(domain: "serve", code: 1, userInfo: [NSLocalizedDescriptionKey: "lake serve did not start: \(text)"])
    }
}
