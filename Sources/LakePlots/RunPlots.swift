import Foundation
import LakeSQLite
import LakeStore
import LakeSupport

/// `lake plot run N`: what a run decided and found, at a glance — the lights per scheme as
/// stacked bars (counts written on them) and the run's events per month per detector (data gaps
/// left out: they are not events).
public enum RunPlot {
    public struct Content: Sendable {
        public var run: Int64 = 0
        public var kind = "", name = ""
        /// Scheme → colour → parcels.
        public var lights: [(scheme: String, counts: [String: Int])] = []
        /// Detector → month (1–12) → events.
        public var events: [(detector: String, months: [Int: Int])] = []
        public var gaps = 0
    }

    /// The run `run` (nil: the latest run with markers or decisions).
    public static func gather(_ lake: Lake, run: Int64?) throws -> Content {
        let db = lake.db
        guard let id = try run ?? db.scalar("SELECT max(run_id) FROM runs WHERE run_id IN (SELECT run_id FROM decisions UNION SELECT run_id FROM markers)")?.int else {
            throw LakeError.notFound("no run with markers or decisions in the lake (lake markers run, lake decide)")
        }
        let r = try db.prepare("SELECT kind, coalesce(json_extract(inputs, '$.option_file'), '') FROM runs WHERE run_id = ?")
        try r.bind([.int(id)])
        guard try r.step() else { throw LakeError.notFound("no run \(id) (lake runs lists them)") }
        var c = Content()
        c.run = id; c.kind = r.text(0) ?? ""; c.name = r.text(1) ?? ""
        let d = try db.prepare("SELECT scheme, colour, count(*) FROM decisions WHERE run_id = ? GROUP BY 1, 2 ORDER BY 1")
        try d.bind([.int(id)])
        var lights: [String: [String: Int]] = [:]
        while try d.step() { lights[d.text(0) ?? "", default: [:]][d.text(1) ?? ""] = Int(d.int(2)) }
        c.lights = lights.keys.sorted().map { ($0, lights[$0]!) }
        let m = try db.prepare("SELECT detector, kind, CAST(substr(date, 6, 2) AS INTEGER), count(*) FROM markers WHERE run_id = ? GROUP BY 1, 2, 3")
        try m.bind([.int(id)])
        var events: [String: [Int: Int]] = [:]
        while try m.step() {
            if m.text(1) == "gap" { c.gaps += Int(m.int(3)); continue }
            events[m.text(0) ?? "", default: [:]][Int(m.int(2))] = Int(m.int(3))
        }
        c.events = events.keys.sorted().map { ($0, events[$0]!) }
        return c
    }

    static let width = 960.0, height = 420.0
    static let palette = ["#6a1b9a", "#00838f", "#ef6c00", "#5d4037", "#1565c0", "#ad1457"]

    public static func render(_ c: Content) -> String {
        func f(_ v: Double) -> String { Format.double("%.1f", v) }
        let e = ParcelPlot.escape
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="20" y="26" font-size="16" font-weight="bold">Run \(c.run) · \(e(c.kind))\(c.name.isEmpty ? "" : " · " + e(c.name))</text>

            """
        // Lights: one stacked bar per scheme, 40…430 px wide.
        svg += "<text x=\"20\" y=\"56\" font-weight=\"bold\">Lights per scheme (parcels)</text>\n"
        let colours = ["green", "yellow", "red", "grey"]
        let most = max(1, c.lights.map { $0.counts.values.reduce(0, +) }.max() ?? 1)
        for (k, l) in c.lights.enumerated() {
            let y = 70.0 + Double(k) * 34
            svg += "<text x=\"20\" y=\"\(f(y + 16))\">\(e(l.scheme))</text>\n"
            var x = 110.0
            for colour in colours {
                guard let n = l.counts[colour], n > 0 else { continue }
                let w = Double(n) / Double(most) * 320
                svg += "<g class=\"light\" data-scheme=\"\(e(l.scheme))\" data-colour=\"\(colour)\" data-count=\"\(n)\"><rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(w))\" height=\"22\" fill=\"\(ParcelPlot.fill(colour))\"/>"
                if w > 24 { svg += "<text x=\"\(f(x + w / 2))\" y=\"\(f(y + 15))\" text-anchor=\"middle\" fill=\"white\">\(n)</text>" }
                svg += "<title>\(e(l.scheme)) \(colour): \(n)</title></g>\n"
                x += w
            }
        }
        if c.lights.isEmpty { svg += "<text x=\"20\" y=\"86\" fill=\"#777\">no decisions in this run</text>\n" }
        // Events per month: grouped bars, one colour per detector.
        let left = 500.0, base = 330.0, chart = 230.0, slot = 36.0
        svg += "<text x=\"\(f(left))\" y=\"56\" font-weight=\"bold\">Events per month\(c.gaps > 0 ? " (\(c.gaps) data gaps not shown)" : "")</text>\n"
        let top = max(1, c.events.flatMap { $0.months.values }.max() ?? 1)
        svg += "<line x1=\"\(f(left))\" x2=\"\(f(left + 12 * slot))\" y1=\"\(f(base))\" y2=\"\(f(base))\" stroke=\"#999\"/>\n"
        let names = ["J", "F", "M", "A", "M", "J", "J", "A", "S", "O", "N", "D"]
        for m in 1...12 {
            svg += "<text x=\"\(f(left + (Double(m) - 0.5) * slot))\" y=\"\(f(base + 16))\" text-anchor=\"middle\" fill=\"#555\">\(names[m - 1])</text>\n"
        }
        let bar = (slot - 6) / Double(max(1, c.events.count))
        for (k, ev) in c.events.enumerated() {
            let colour = palette[k % palette.count]
            for (month, n) in ev.months.sorted(by: { $0.key < $1.key }) where (1...12).contains(month) {
                let h = Double(n) / Double(top) * chart
                let x = left + Double(month - 1) * slot + 3 + Double(k) * bar
                svg += "<rect class=\"events\" data-detector=\"\(e(ev.detector))\" data-month=\"\(month)\" data-count=\"\(n)\" x=\"\(f(x))\" y=\"\(f(base - h))\" width=\"\(f(bar))\" height=\"\(f(h))\" fill=\"\(colour)\"><title>\(e(ev.detector)) \(names[month - 1]): \(n)</title></rect>\n"
            }
            svg += "<rect x=\"\(f(left))\" y=\"\(f(370 + Double(k) * 18))\" width=\"10\" height=\"10\" fill=\"\(colour)\"/><text x=\"\(f(left + 16))\" y=\"\(f(379 + Double(k) * 18))\">\(e(ev.detector))</text>\n"
        }
        svg += "<text x=\"\(f(left - 6))\" y=\"\(f(base - chart + 4))\" text-anchor=\"end\" fill=\"#555\">\(top)</text>\n"
        if c.events.isEmpty { svg += "<text x=\"\(f(left))\" y=\"86\" fill=\"#777\">no events in this run</text>\n" }
        return svg + "</svg>\n"
    }
}

/// `lake plot heterogeneity`: the distribution of a heterogeneity run's scores (robust z of the
/// within-parcel spread against the parcel's crop group), the flag threshold, the flagged parcels
/// in red and the ten most heterogeneous named.
public enum HeterogeneityPlot {
    public struct Content: Sendable {
        public var run: Int64 = 0
        public var method = ""
        public var threshold: Double?
        public var scores: [(id: String, score: Double, flag: Bool)] = []
    }

    public static func gather(_ lake: Lake, run: Int64?) throws -> Content {
        let db = lake.db
        guard let id = try run ?? db.scalar("SELECT max(run_id) FROM heterogeneity")?.int else {
            throw LakeError.notFound("no heterogeneity run in the lake (lake heterogeneity)")
        }
        var c = Content()
        c.run = id
        let r = try db.prepare("SELECT options FROM runs WHERE run_id = ?")
        try r.bind([.int(id)])
        if try r.step() {
            for line in (r.text(0) ?? "").split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2 else { continue }
                if parts[0] == "threshold" { c.threshold = Double(parts[1]) }
                if parts[0] == "method" { c.method = parts[1] }
            }
        }
        let s = try db.prepare("SELECT p.parcel_id, h.score, h.flag FROM heterogeneity h JOIN parcels p USING (pid) WHERE h.run_id = ? AND h.score IS NOT NULL ORDER BY h.score DESC")
        try s.bind([.int(id)])
        while try s.step() { c.scores.append((s.text(0) ?? "", s.double(1), s.int(2) != 0)) }
        guard !c.scores.isEmpty else { throw LakeError.notFound("heterogeneity run \(id) has no scores") }
        return c
    }

    static let width = 960.0, height = 420.0

    public static func render(_ c: Content) -> String {
        func f(_ v: Double) -> String { Format.double("%.1f", v) }
        let e = ParcelPlot.escape
        let left = 60.0, right = 300.0, top = 60.0, base = 340.0
        // The axis ends where the bulk and the threshold are; the long tail of clear splits
        // goes into one last bin, "≥ hi".
        let sorted = c.scores.map(\.score).sorted()
        let p90 = sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * 0.9))]
        let lo = floor(min(sorted.first!, 0))
        let hi = max(lo + 1, ceil(min(sorted.last!, max(p90, (c.threshold ?? 0) * 2))))
        let bins = max(8, min(60, Int((hi - lo) * 2)))
        let binWidth = (hi - lo) / Double(bins)
        var counts = [Int](repeating: 0, count: bins + 1), flagged = [Int](repeating: 0, count: bins + 1)
        for s in c.scores {
            let b = s.score >= hi ? bins : min(bins - 1, max(0, Int((s.score - lo) / binWidth)))
            counts[b] += 1
            if s.flag { flagged[b] += 1 }
        }
        let most = max(1, counts.max()!)
        let plotWidth = width - left - right
        func x(_ v: Double) -> Double { left + (v - lo) / (hi + binWidth * 1.5 - lo) * plotWidth }
        func y(_ n: Int) -> Double { base - Double(n) / Double(most) * (base - top) }
        let nFlagged = c.scores.filter(\.flag).count
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="20" y="26" font-size="16" font-weight="bold">Heterogeneity run \(c.run)\(c.method.isEmpty ? "" : " · " + e(c.method)) · \(c.scores.count) parcels, \(nFlagged) flagged</text>

            """
        for b in 0...bins where counts[b] > 0 {
            let start = b == bins ? hi + binWidth * 0.5 : lo + Double(b) * binWidth
            let x0 = x(start), x1 = x(start + binWidth)
            svg += "<rect class=\"bin\" data-count=\"\(counts[b])\" x=\"\(f(x0))\" y=\"\(f(y(counts[b])))\" width=\"\(f(x1 - x0 - 1))\" height=\"\(f(base - y(counts[b])))\" fill=\"#90a4ae\"/>\n"
            if flagged[b] > 0 {
                svg += "<rect class=\"flagged\" data-count=\"\(flagged[b])\" x=\"\(f(x0))\" y=\"\(f(y(flagged[b])))\" width=\"\(f(x1 - x0 - 1))\" height=\"\(f(base - y(flagged[b])))\" fill=\"#c62828\"/>\n"
            }
        }
        svg += "<line x1=\"\(f(left))\" x2=\"\(f(left + plotWidth))\" y1=\"\(f(base))\" y2=\"\(f(base))\" stroke=\"#999\"/>\n"
        let step = [1.0, 2, 5, 10, 20, 50, 100].first { (hi - lo) / $0 <= 10 } ?? 200
        var tick = (lo / step).rounded(.up) * step
        while tick <= hi + 1e-9 && !(counts[bins] > 0 && hi - tick < step / 2 && tick != lo) {
            svg += "<text x=\"\(f(x(tick)))\" y=\"\(f(base + 16))\" text-anchor=\"middle\" fill=\"#555\">\(Format.double("%g", tick))</text>\n"
            tick += step
        }
        if counts[bins] > 0 {
            svg += "<text x=\"\(f(x(hi + binWidth)))\" y=\"\(f(base + 16))\" text-anchor=\"middle\" fill=\"#555\">≥ \(Format.double("%g", hi))</text>\n"
        }
        svg += "<text x=\"\(f(left + plotWidth / 2))\" y=\"\(f(base + 36))\" text-anchor=\"middle\">score (robust z of the within-parcel spread against the crop group)</text>\n"
        svg += "<text x=\"\(f(left - 8))\" y=\"\(f(top + 4))\" text-anchor=\"end\" fill=\"#555\">\(most)</text><text x=\"\(f(left - 8))\" y=\"\(f(base))\" text-anchor=\"end\" fill=\"#555\">0</text>\n"
        if let t = c.threshold {
            svg += "<line class=\"threshold\" x1=\"\(f(x(t)))\" x2=\"\(f(x(t)))\" y1=\"\(f(top - 10))\" y2=\"\(f(base))\" stroke=\"#c62828\" stroke-dasharray=\"5,3\"/>"
            svg += "<text x=\"\(f(x(t) + 4))\" y=\"\(f(top - 2))\" fill=\"#c62828\">threshold \(Format.double("%g", t))</text>\n"
        }
        svg += "<text x=\"\(f(width - right + 20))\" y=\"64\" font-weight=\"bold\">Most heterogeneous</text>\n"
        for (k, s) in c.scores.prefix(10).enumerated() {
            svg += "<text class=\"top\" x=\"\(f(width - right + 20))\" y=\"\(f(84 + Double(k) * 18))\" fill=\"\(s.flag ? "#c62828" : "#222")\">\(k + 1). \(e(s.id)) · \(Format.double("%.2f", s.score))\(s.flag ? " · flagged" : "")</text>\n"
        }
        return svg + "</svg>\n"
    }
}
