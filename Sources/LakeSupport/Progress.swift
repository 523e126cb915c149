#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A progress bar on stderr when stderr is a terminal; silent otherwise (logs, CI, pipes).
/// With a known total: a bar, the percentage and the time left at the rate so far; counting
/// `bytes` (an input file read), sizes in MiB.
public final class Progress {
    public enum Unit: Sendable { case items, bytes }
    private let label: String
    private var total: Int?
    private let unit: Unit
    private var done = 0
    private let enabled: Bool
    private let started = Date()
    private var lastDraw = Date.distantPast

    public init(_ label: String, total: Int? = nil, unit: Unit = .items, enabled: Bool = standardErrorIsTerminal) {
        self.label = label
        self.total = total
        self.unit = unit
        self.enabled = enabled
    }

    /// The line drawn for `done` of `total` after `elapsed` seconds (tests).
    public static func line(label: String, done: Int, total: Int?, unit: Unit, elapsed: Double) -> String {
        func amount(_ n: Int) -> String { unit == .bytes ? Format.double("%.1f MiB", Double(n) / 1_048_576) : "\(n)" }
        let rate = Double(done) / max(elapsed, 1e-6)
        var line = "\(label) "
        if let total, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            let width = 30
            let filled = Int(fraction * Double(width))
            line += "[" + String(repeating: "█", count: filled) + String(repeating: " ", count: width - filled) + "] "
            line += Format.double("%3.0f%% ", fraction * 100) + "\(amount(done))/\(amount(total))"
            if done > 0 && fraction < 1 {
                let left = Int((Double(total - done) / max(rate, 1e-9)).rounded())
                line += left >= 3600 ? Format.ints("  %dh%02dm left", left / 3600, left % 3600 / 60)
                    : Format.ints("  %d:%02d left", left / 60, left % 60)
            }
        } else {
            line += amount(done)
        }
        if unit == .items { line += Format.double("  %.0f/s", rate) }
        return line
    }

    public func advance(by n: Int = 1) { set(done + n) }

    public func set(_ value: Int) {
        done = value
        guard enabled else { return }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = now
        draw()
    }

    public func finish() {
        guard enabled else { return }
        draw()
        writeStandardError("\n")
    }

    private func draw() {
        let text = "\r" + Self.line(label: label, done: done, total: total, unit: unit, elapsed: Date().timeIntervalSince(started)) + " "
        writeStandardError(text)
    }
}
