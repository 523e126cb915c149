import Foundation

/// A progress bar on stderr when stderr is a terminal; silent otherwise (logs, CI, pipes).
public final class Progress {
    private let label: String
    private var total: Int?
    private var done = 0
    private let enabled: Bool
    private let started = Date()
    private var lastDraw = Date.distantPast

    public init(_ label: String, total: Int? = nil, enabled: Bool = isatty(2) == 1) {
        self.label = label
        self.total = total
        self.enabled = enabled
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
        FileHandle.standardError.write("\n".data(using: .utf8)!)
    }

    private func draw() {
        let elapsed = max(Date().timeIntervalSince(started), 1e-6)
        let rate = Double(done) / elapsed
        var line = "\r\(label) "
        if let total, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            let width = 30
            let filled = Int(fraction * Double(width))
            line += "[" + String(repeating: "█", count: filled) + String(repeating: " ", count: width - filled) + "] "
            line += "\(done)/\(total)"
        } else {
            line += "\(done)"
        }
        line += String(format: "  %.0f/s ", rate)
        FileHandle.standardError.write(line.data(using: .utf8)!)
    }
}
