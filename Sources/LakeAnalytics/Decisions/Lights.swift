import Foundation
import LakeSQLite
import LakeStore

/// `lake decide`: one traffic light per parcel (scheme `overall`) from the latest run of each
/// scheme, stored as a run of its own whose reasons name every run it used.
///
/// - red when a scheme is red — except a crop-check red on a parcel the heterogeneity run flags
///   as split: a field of two crops follows neither curve, so that is yellow (a field visit);
/// - else yellow when a scheme is yellow or the parcel is flagged heterogeneous;
/// - else green when a scheme is green;
/// - else grey: no scheme has a check for the parcel.
public struct Lights {
    let lake: Lake
    public init(lake: Lake) { self.lake = lake }

    public struct Summary: Sendable {
        public var run: Int64 = 0
        public var parcels = 0
        public var decisions: [String: Int] = [:]
        public var sources: [String: Int64] = [:]
        public var json: [String: Any] { ["run": run, "parcels": parcels, "decisions": decisions, "runs": sources] }
    }

    /// What the combined runs said of one parcel.
    struct Verdict {
        var colours: [(scheme: String, colour: String, reasons: [String], run: Int64)] = []
        /// Dates it looked split on (-1: flagged by a run that does not count them), nil: not flagged.
        var split: Int? = nil
        var clear = 0
    }

    /// The overall light of one parcel and its reasons (see the type's documentation).
    static func combine(_ v: Verdict, heterogeneityRun: Int64?) -> (colour: String, reasons: [String]) {
        func said(_ c: (scheme: String, colour: String, reasons: [String], run: Int64)) -> String {
            "\(c.scheme) \(c.colour) (run \(c.run))" + (c.reasons.isEmpty ? "" : ": " + c.reasons.prefix(2).joined(separator: "; "))
        }
        var reasons: [String] = []
        var reds = v.colours.filter { $0.colour == "red" }
        if v.split != nil, reds.contains(where: { $0.scheme == "crop" }) {
            reds.removeAll { $0.scheme == "crop" }
            reasons.append("crop check red, but the field holds two crops: neither curve can fit")
        }
        if !reds.isEmpty { return ("red", reasons + reds.map(said)) }
        if let split = v.split {
            let run = heterogeneityRun.map { " (run \($0))" } ?? ""
            return ("yellow", reasons + v.colours.filter { $0.colour == "yellow" }.map(said)
                              + [split >= 0 ? "heterogeneous: looked split on \(split) dates\(run)" : "heterogeneous\(run)"])
        }
        if v.colours.contains(where: { $0.colour == "yellow" }) { return ("yellow", reasons + v.colours.filter { $0.colour == "yellow" }.map(said)) }
        if v.colours.contains(where: { $0.colour == "green" }) { return ("green", reasons + v.colours.filter { $0.colour == "green" }.map(said)) }
        return ("grey", reasons + (v.colours.isEmpty ? ["no scheme checked this parcel"] : v.colours.map(said)))
    }

    /// `schemes`: which schemes to combine (nil: every scheme's latest run, but the rule-based
    /// `crop-phenology` when the peer-envelope `crop` check exists); `heterogeneity`: use the
    /// latest heterogeneity run's flags.
    public func run(schemes: [String]?, heterogeneity: Bool = true) throws -> Summary {
        let db = lake.db
        var summary = Summary()
        try db.transaction {
            // The latest run of each scheme.
            var latest: [String: Int64] = [:]
            let s = try db.prepare("SELECT scheme, max(run_id) FROM decisions WHERE scheme <> 'overall' GROUP BY scheme")
            while try s.step() { latest[s.text(0)!] = s.int(1) }
            var chosen = latest
            if let schemes {
                for name in schemes where name != "heterogeneity" && latest[name] == nil {
                    throw LakeError.notFound("no decisions of scheme \(name) in the lake (schemes: \(latest.keys.sorted().joined(separator: ", ")))")
                }
                chosen = latest.filter { schemes.contains($0.key) }
            } else if chosen["crop"] != nil {
                chosen["crop-phenology"] = nil
            }
            let useHeterogeneity = heterogeneity && (schemes?.contains("heterogeneity") ?? true)
            let hetRun = useHeterogeneity ? try db.scalar("SELECT max(run_id) FROM heterogeneity")?.int : nil
            guard !chosen.isEmpty || hetRun != nil else {
                throw LakeError.notFound("no decisions to combine: run markers, lake check crops or lake heterogeneity first")
            }
            summary.sources = chosen.merging(hetRun.map { ["heterogeneity": $0] } ?? [:]) { a, _ in a }

            var verdicts: [Int64: Verdict] = [:]
            let all = try db.prepare("SELECT pid FROM parcels")
            while try all.step() { verdicts[all.int(0)] = Verdict() }
            let d = try db.prepare("SELECT pid, colour, reasons, clear_obs FROM decisions WHERE run_id = ? AND scheme = ?")
            for (scheme, run) in chosen.sorted(by: { $0.key < $1.key }) {
                try d.bind([.int(run), .text(scheme)])
                while try d.step() {
                    let reasons = (try? JSONSerialization.jsonObject(with: Data((d.text(2) ?? "[]").utf8))) as? [String] ?? []
                    verdicts[d.int(0), default: Verdict()].colours.append((scheme, d.text(1)!, reasons, run))
                    verdicts[d.int(0)]!.clear = max(verdicts[d.int(0)]!.clear, Int(d.int(3)))
                }
                d.reset()
            }
            if let hetRun {
                let h = try db.prepare("SELECT pid, coalesce(split_dates, -1) FROM heterogeneity WHERE run_id = ? AND flag = 1")
                try h.bind([.int(hetRun)])
                while try h.step() { verdicts[h.int(0), default: Verdict()].split = Int(h.int(1)) }
            }

            summary.run = try RunLog.begin(db, kind: "decide", options: "schemes: \(summary.sources.keys.sorted().joined(separator: ", "))\n",
                                           inputs: try RunInputs.describe(lake).merging(["runs": summary.sources]) { a, _ in a })
            try RunLog.writingOwnRows(db) {
                let writer = try DecisionInserter(db, run: summary.run, scheme: "overall")
                for pid in verdicts.keys.sorted() {
                    let v = verdicts[pid]!
                    let (colour, reasons) = Self.combine(v, heterogeneityRun: hetRun)
                    try writer.add(pid: pid, colour: colour, clearObservations: v.clear, reasons: reasons)
                }
                summary.decisions = writer.colours
                summary.parcels = writer.rows
            }
            try RunLog.finish(db, run: summary.run, summary: summary.json)
        }
        return summary
    }
}
