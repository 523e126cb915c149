import Foundation
import LakeQuery
import LakeSQLite
import LakeStore
import LakeSupport

/// `lake plot parcel`: one parcel's series as an SVG picture — the values of cloud-free
/// observations joined by a line, screened ones (SCL not clear) as hollow grey points, the
/// same crop's peer envelope behind it (median and inter-quartile band of the nearest parcels
/// with the same crop code, per 10-day bin), the latest markers (events as lines, data gaps as
/// shaded spans) and the latest decision of each scheme with its first reasons.
///
/// Stages: `gather` reads what the picture shows from the lake; `render` draws it.
public enum ParcelPlot {
    public struct Options: Sendable {
        /// "NDVI" or a band name (B08, VV, …).
        public var signal = "NDVI"
        public var from: String?
        public var to: String?
        /// Peers in the envelope (nearest parcels with the same crop code, same AOI and year).
        public var peers = 30
        public init() {}
    }

    public struct Point: Sendable { public let day: Double; public let value: Double; public let clear: Bool }
    public struct Marker: Sendable { public let detector: String; public let kind: String; public let start: Double; public let day: Double; public let end: Double }
    public struct Decision: Sendable { public let scheme: String; public let colour: String; public let reasons: [String] }
    public struct Envelope: Sendable { public let day: Double; public let p25: Double; public let median: Double; public let p75: Double }

    /// What the picture shows (tests read it to check the drawing).
    public struct Content: Sendable {
        public var title: String
        public var signal: String
        public var points: [Point] = []
        public var envelope: [Envelope] = []
        public var peers = 0
        public var markers: [Marker] = []
        public var decisions: [Decision] = []
        public var firstDay = 0.0, lastDay = 0.0
    }

    /// Days since 1970-01-01 of an ISO date (its first 10 characters).
    static func day(_ iso: String) -> Double? { epochSeconds(String(iso.prefix(10))).map { $0 / 86_400 } }

    public static func gather(_ lake: Lake, parcel: ParcelRecord, options: Options) throws -> Content {
        var content = Content(title: "\(parcel.parcelID) · \(parcel.cropName ?? parcel.cropCode ?? "no crop") · \(parcel.aoi) \(parcel.year)",
                              signal: options.signal.uppercased() == "NDVI" ? "NDVI" : Bands.normalise(options.signal))
        var filter = SeriesFilter()
        filter.from = options.from; filter.to = options.to
        func value(_ o: Observation) -> Double? {
            content.signal == "NDVI" ? o.ndvi : o.mean(content.signal).map(Double.init)
        }
        let reader = try SeriesReader(lake)
        for o in try reader.read(pid: parcel.pid, filter: filter) {
            guard let v = value(o), v.isFinite, let d = day(o.obstime) else { continue }
            content.points.append(Point(day: d, value: v, clear: o.cloudFree ?? true))
        }
        guard !content.points.isEmpty else { throw LakeError.notFound("\(parcel.label) has no \(content.signal) observations\(options.from.map { " from \($0)" } ?? "")\(options.to.map { " to \($0)" } ?? "")") }
        content.firstDay = options.from.flatMap(day) ?? content.points.map(\.day).min()!
        content.lastDay = options.to.flatMap(day) ?? content.points.map(\.day).max()!
        if content.lastDay <= content.firstDay { content.lastDay = content.firstDay + 1 }

        // The peer envelope: clear observations of the nearest parcels with the same crop.
        if let crop = parcel.cropCode, options.peers > 0 {
            let near = try lake.db.prepare("""
                SELECT pid FROM parcels WHERE crop_code = ? AND aoi = ? AND year = ? AND pid <> ? AND lon IS NOT NULL
                ORDER BY (lon - ?) * (lon - ?) + (lat - ?) * (lat - ?) LIMIT ?
                """)
            try near.bind([.text(crop), .text(parcel.aoi), .int(Int64(parcel.year)), .int(parcel.pid),
                           .double(parcel.centroidLon), .double(parcel.centroidLon), .double(parcel.centroidLat), .double(parcel.centroidLat),
                           .int(Int64(options.peers))])
            var bins: [Int: [Double]] = [:]
            for row in try near.rows() {
                guard let pid = row[0].int else { continue }
                content.peers += 1
                for o in try reader.read(pid: pid, filter: filter) where o.cloudFree ?? true {
                    guard let v = value(o), v.isFinite, let d = day(o.obstime) else { continue }
                    bins[Int((d / 10).rounded(.down)), default: []].append(v)
                }
            }
            for (bin, values) in bins.sorted(by: { $0.key < $1.key }) where values.count >= 3 {
                let s = values.sorted()
                func q(_ p: Double) -> Double {
                    let x = p * Double(s.count - 1), i = Int(x), f = x - Double(i)
                    return i + 1 < s.count ? s[i] * (1 - f) + s[i + 1] * f : s[i]
                }
                content.envelope.append(Envelope(day: Double(bin) * 10 + 5, p25: q(0.25), median: q(0.5), p75: q(0.75)))
            }
        }

        // Markers of the latest run that has any for this parcel.
        let markers = try lake.db.prepare("""
            SELECT detector, kind, start_date, date, end_date FROM markers
            WHERE pid = ?1 AND run_id = (SELECT r.run_id FROM runs r WHERE EXISTS (SELECT 1 FROM markers x WHERE x.run_id = r.run_id AND x.pid = ?1)
                                         ORDER BY r.run_id DESC LIMIT 1) ORDER BY date
            """)
        try markers.bind([.int(parcel.pid)])
        for row in try markers.rows() {
            guard let d = row[3].text.flatMap(day) else { continue }
            content.markers.append(Marker(detector: row[0].text ?? "", kind: row[1].text ?? "",
                                          start: row[2].text.flatMap(day) ?? d, day: d, end: row[4].text.flatMap(day) ?? d))
        }
        // The latest decision of each scheme, the overall light first.
        let decisions = try lake.db.prepare("""
            SELECT d.scheme, d.colour, d.reasons FROM decisions d
            WHERE d.pid = ?1 AND d.run_id = (SELECT max(run_id) FROM decisions e WHERE e.pid = ?1 AND e.scheme = d.scheme)
            ORDER BY d.scheme <> 'overall', d.scheme
            """)
        try decisions.bind([.int(parcel.pid)])
        for row in try decisions.rows() {
            let reasons = (row[2].text.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [Any])?.map { "\($0)" } ?? []
            content.decisions.append(Decision(scheme: row[0].text ?? "", colour: row[1].text ?? "", reasons: reasons))
        }
        return content
    }

    // MARK: Drawing

    static let width = 960.0, height = 520.0
    static let left = 60.0, right = 20.0, top = 56.0, plotHeight = 300.0

    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;" case "<": out += "&lt;" case ">": out += "&gt;" case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    static func fill(_ colour: String) -> String {
        switch colour {
        case "green": "#2e7d32" case "yellow": "#f9a825" case "red": "#c62828" default: "#9e9e9e"
        }
    }

    public static func render(_ c: Content) -> String {
        let plotWidth = width - left - right
        let values = c.points.map(\.value) + c.envelope.flatMap { [$0.p25, $0.p75] }
        var low = values.min() ?? 0, high = values.max() ?? 1
        if c.signal == "NDVI" { low = min(low, 0); high = max(high, 1) }
        if high - low < 1e-9 { high = low + 1 }
        let pad = (high - low) * 0.05
        low -= pad; high += pad
        func x(_ day: Double) -> Double { left + (day - c.firstDay) / (c.lastDay - c.firstDay) * plotWidth }
        func y(_ v: Double) -> Double { top + (high - v) / (high - low) * plotHeight }
        func f(_ v: Double) -> String { Format.double("%.1f", v) }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(left))" y="22" font-size="16" font-weight="bold">\(escape(c.title))</text>

            """
        // Lights: one badge per scheme.
        var bx = left
        for d in c.decisions {
            let label = "\(d.scheme): \(d.colour)"
            svg += "<g class=\"decision\" data-scheme=\"\(escape(d.scheme))\" data-colour=\"\(escape(d.colour))\"><rect x=\"\(f(bx))\" y=\"30\" width=\"\(f(Double(label.count) * 7 + 12))\" height=\"18\" rx=\"4\" fill=\"\(fill(d.colour))\"/>"
            svg += "<text x=\"\(f(bx + 6))\" y=\"43\" fill=\"white\">\(escape(label))</text></g>\n"
            bx += Double(label.count) * 7 + 20
        }
        // Frame, grid and axes: months along x, values along y.
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#bbb\"/>\n"
        for k in 0...5 {
            let v = low + (high - low) * Double(k) / 5
            svg += "<line x1=\"\(f(left))\" x2=\"\(f(left + plotWidth))\" y1=\"\(f(y(v)))\" y2=\"\(f(y(v)))\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\">\(Format.double("%.2f", v))</text>\n"
        }
        var month = Calendar(identifier: .gregorian)
        month.timeZone = TimeZone(identifier: "UTC")!
        var date = month.date(from: month.dateComponents([.year, .month], from: Date(timeIntervalSince1970: c.firstDay * 86_400)))!
        while date.timeIntervalSince1970 / 86_400 <= c.lastDay {
            let d = date.timeIntervalSince1970 / 86_400
            if d >= c.firstDay {
                let label = Format.ints("%04d-%02d", month.component(.year, from: date), month.component(.month, from: date))
                svg += "<line x1=\"\(f(x(d)))\" x2=\"\(f(x(d)))\" y1=\"\(f(top))\" y2=\"\(f(top + plotHeight))\" stroke=\"#f2f2f2\"/>"
                svg += "<text x=\"\(f(x(d)))\" y=\"\(f(top + plotHeight + 16))\" text-anchor=\"middle\">\(label)</text>\n"
            }
            date = month.date(byAdding: .month, value: 1, to: date)!
        }
        svg += "<text x=\"16\" y=\"\(f(top + plotHeight / 2))\" transform=\"rotate(-90 16 \(f(top + plotHeight / 2)))\" text-anchor=\"middle\">\(escape(c.signal))</text>\n"
        // Data gaps behind everything, then the peer envelope.
        for m in c.markers where m.kind == "gap" {
            svg += "<rect class=\"gap\" x=\"\(f(x(m.start)))\" y=\"\(f(top))\" width=\"\(f(max(1, x(m.end) - x(m.start))))\" height=\"\(f(plotHeight))\" fill=\"#000\" fill-opacity=\"0.06\"><title>\(escape(m.detector))</title></rect>\n"
        }
        if c.envelope.count >= 2 {
            let upper = c.envelope.map { "\(f(x($0.day))),\(f(y($0.p75)))" }
            let lower = c.envelope.reversed().map { "\(f(x($0.day))),\(f(y($0.p25)))" }
            svg += "<polygon class=\"envelope\" points=\"\((upper + lower).joined(separator: " "))\" fill=\"#90caf9\" fill-opacity=\"0.35\" stroke=\"none\"/>\n"
            svg += "<polyline class=\"peer-median\" points=\"\(c.envelope.map { "\(f(x($0.day))),\(f(y($0.median)))" }.joined(separator: " "))\" fill=\"none\" stroke=\"#1e88e5\" stroke-dasharray=\"4 3\"/>\n"
        }
        // Events.
        for (i, m) in c.markers.filter({ $0.kind != "gap" }).enumerated() {   // labels on three rows: close events stay legible
            svg += "<g class=\"marker\"><line x1=\"\(f(x(m.day)))\" x2=\"\(f(x(m.day)))\" y1=\"\(f(top))\" y2=\"\(f(top + plotHeight))\" stroke=\"#6a1b9a\" stroke-width=\"1.5\"/>"
            svg += "<text x=\"\(f(x(m.day) + 3))\" y=\"\(f(top + 12 + Double(i % 3) * 13))\" fill=\"#6a1b9a\">\(escape(m.detector))</text></g>\n"
        }
        // The parcel: clear observations joined, screened ones hollow.
        let clear = c.points.filter(\.clear).sorted { $0.day < $1.day }
        if clear.count >= 2 {
            svg += "<polyline class=\"series\" points=\"\(clear.map { "\(f(x($0.day))),\(f(y($0.value)))" }.joined(separator: " "))\" fill=\"none\" stroke=\"#2e7d32\" stroke-width=\"1.5\"/>\n"
        }
        for p in c.points {
            svg += p.clear
                ? "<circle class=\"clear\" cx=\"\(f(x(p.day)))\" cy=\"\(f(y(p.value)))\" r=\"3.5\" fill=\"#2e7d32\"/>\n"
                : "<circle class=\"screened\" cx=\"\(f(x(p.day)))\" cy=\"\(f(y(p.value)))\" r=\"3.5\" fill=\"white\" stroke=\"#9e9e9e\"/>\n"
        }
        // Legend and reasons.
        var ly = top + plotHeight + 40
        svg += "<text x=\"\(f(left))\" y=\"\(f(ly))\" fill=\"#555\">● clear (SCL)   ○ screened   — parcel   ┄ peer median, band: inter-quartile of \(c.peers) nearest parcels with the same crop   | markers   ▒ data gaps</text>\n"
        for d in c.decisions {
            for reason in d.reasons.prefix(2) {
                ly += 16
                guard ly < height - 4 else { break }
                svg += "<text x=\"\(f(left))\" y=\"\(f(ly))\" fill=\"#333\">\(escape(d.scheme)): \(escape(String(reason.prefix(130))))</text>\n"
            }
        }
        svg += "</svg>\n"
        return svg
    }
}
