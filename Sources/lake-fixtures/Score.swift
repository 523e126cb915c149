import ArgumentParser
import Foundation
import LakeSQLite

/// `lake-fixtures score`: precision and recall of lake's detectors and decisions against what the
/// generator planted (truth.csv), read from a lake where the runs were made.
struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score markers, decisions and heterogeneity of a lake built from generated fixtures against their truth.csv.")

    @Option(help: "truth.csv written with the fixtures.") var truth: String
    @Option(help: "The lake file.") var db: String
    @Option(help: "A marker matches a true event dated up to this many days after it …") var before: Int = 3
    @Option(help: "… or up to this many days before it (the JRC practice: detection follows the event).") var after: Int = 15
    @Option(help: "quality.csv written with the fixtures (--quality): also score mowing on the cuts the data can show.") var quality: String?
    @Flag(help: "Print JSON.") var json = false

    struct Truth {
        let trueCrop: String, declared: String, split: String, mowing: [String], harvest: String
        var grazed = false, expectedMowing = "", expectedCrop = "", expectedLight = ""
    }

    struct Counts { var tp = 0, fp = 0, fn = 0
        var precision: Double { tp + fp == 0 ? .nan : Double(tp) / Double(tp + fp) }
        var recall: Double { tp + fn == 0 ? .nan : Double(tp) / Double(tp + fn) }
        var f1: Double { 2 * precision * recall / (precision + recall) }
    }

    func run() throws {
        let scorer = Scorer(lake: try Connection(path: db, mode: .readOnly), truths: try Self.readTruth(truth), before: before, after: after)
        try scorer.events(detector: "mowing") { $0.mowing }
        if let quality { try scorer.visibleCuts(quality: quality) }
        try scorer.events(detector: "harvest") { $0.harvest.isEmpty ? [] : [$0.harvest] }
        try scorer.decisions(scheme: "mowing") { $0.mowing.isEmpty }
        try scorer.cropPhenology()
        try scorer.decisions(scheme: "crop-phenology") { $0.trueCrop != $0.declared }
        try scorer.cropCheck()
        try scorer.light()
        try scorer.heterogeneity()
        if json { try Self.printJSON(scorer.results) } else { Self.printText(scorer.results) }
    }

    /// truth.csv: one parcel a line (see `FixtureGenerator.writeTruth`).
    static func readTruth(_ path: String) throws -> [String: Truth] {
        var truths: [String: Truth] = [:]
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for line in text.split(whereSeparator: \.isNewline).dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            var t = Truth(trueCrop: f[1], declared: f[2], split: f[3], mowing: f[4].isEmpty ? [] : f[4].split(separator: ";").map(String.init), harvest: f[5])
            if f.count >= 10 { t.grazed = f[6] == "1"; t.expectedMowing = f[7]; t.expectedCrop = f[8]; t.expectedLight = f[9] }
            truths[f[0]] = t
        }
        return truths
    }

    /// The measures of one lake against its truth, one stage a method; each appends its rows.
    final class Scorer {
        let lake: Connection
        let truths: [String: Truth]
        let before: Int, after: Int
        private(set) var results: [[String: Any]] = []

        init(lake: Connection, truths: [String: Truth], before: Int, after: Int) {
            self.lake = lake; self.truths = truths; self.before = before; self.after = after
        }

        func add(_ name: String, _ c: Counts, _ extra: [String: Any] = [:]) {
            var r: [String: Any] = ["measure": name, "tp": c.tp, "fp": c.fp, "fn": c.fn, "precision": c.precision, "recall": c.recall, "f1": c.f1]
            r.merge(extra) { a, _ in a }
            results.append(r)
        }

        func day(_ s: String) -> Int { Int((ISO8601DateFormatter.date(s)?.timeIntervalSince1970 ?? 0) / 86_400) }

        /// The latest run of `detector`: its markers' days by parcel identifier, and the parcels
        /// it decided on (every parcel it analysed).
        func markers(_ detector: String) throws -> (run: Int64, found: [String: [Int]], parcels: [String])? {
            guard let run = try lake.scalar("SELECT max(run_id) FROM markers WHERE detector = ?", .text(detector))?.int else { return nil }
            let s = try lake.prepare("SELECT p.parcel_id, m.date FROM markers m JOIN parcels p USING (pid) WHERE m.run_id = ? AND m.detector = ?")
            try s.bind([.int(run), .text(detector)])
            var found: [String: [Int]] = [:]
            while try s.step() { found[s.text(0)!, default: []].append(day(s.text(1)!)) }
            let inRun = try lake.prepare("SELECT DISTINCT p.parcel_id FROM decisions d JOIN parcels p USING (pid) WHERE d.run_id = ?")
            try inRun.bind([.int(run)])
            var parcels: [String] = []
            while try inRun.step() { parcels.append(inRun.text(0)!) }
            return (run, found, parcels)
        }

        /// Events: each true date matched to the nearest unused marker within the tolerance.
        func events(detector: String, truthDates: (Truth) -> [String]) throws {
            guard let (run, found, parcels) = try markers(detector) else { return }
            var c = Counts(), errors: [Int] = []
            for id in parcels {
                guard let t = truths[id] else { continue }
                var markers = found[id] ?? []
                for d in truthDates(t).map(day) {
                    let fits = markers.indices.filter { markers[$0] - d >= -before && markers[$0] - d <= after }
                    if let k = fits.min(by: { abs(markers[$0] - d) < abs(markers[$1] - d) }) {
                        c.tp += 1; errors.append(markers[k] - d); markers.remove(at: k)
                    } else { c.fn += 1 }
                }
                c.fp += markers.count
            }
            add("\(detector) events (−\(before)/+\(after) d, run \(run))", c,
                ["mean_days": errors.isEmpty ? Double.nan : Double(errors.reduce(0, +)) / Double(errors.count),
                 "mean_abs_days": errors.isEmpty ? Double.nan : Double(errors.map(abs).reduce(0, +)) / Double(errors.count)])
        }

        /// The cuts the data can show at all: a truly clear observation (quality.csv) within 20
        /// days before and within 10 days after the cut (otherwise it regrows unseen): recall on those.
        func visibleCuts(quality: String) throws {
            guard let (run, found, parcels) = try markers("mowing") else { return }
            var clearDays: [String: [Int]] = [:]
            for line in try String(contentsOfFile: quality, encoding: .utf8).split(whereSeparator: \.isNewline).dropFirst() {
                let f = line.split(separator: ",").map(String.init)
                if f.count == 3 && f[2] == "clear" { clearDays[f[0], default: []].append(day(f[1])) }
            }
            var c = Counts(), all = 0
            for id in parcels {
                guard let t = truths[id] else { continue }
                let days = clearDays[id] ?? []
                for m in t.mowing.map(day) {
                    all += 1
                    guard days.contains(where: { $0 < m && $0 >= m - 20 }), days.contains(where: { $0 > m && $0 <= m + 10 }) else { continue }
                    if (found[id] ?? []).contains(where: { $0 - m >= -before && $0 - m <= after }) { c.tp += 1 } else { c.fn += 1 }
                }
            }
            results.append(["measure": "mowing events the data can show (run \(run)): \(c.tp + c.fn) of \(all) cuts", "recall_visible": c.recall,
                            "tp": c.tp, "fn": c.fn])
        }

        /// The latest run of a decision scheme: (run, parcel identifier, colour) rows.
        func colours(scheme: String) throws -> (run: Int64, rows: [(id: String, colour: String)])? {
            guard let run = try lake.scalar("SELECT max(run_id) FROM decisions WHERE scheme = ?", .text(scheme))?.int else { return nil }
            let s = try lake.prepare("SELECT p.parcel_id, d.colour FROM decisions d JOIN parcels p USING (pid) WHERE d.run_id = ? AND d.scheme = ?")
            try s.bind([.int(run), .text(scheme)])
            var rows: [(id: String, colour: String)] = []
            while try s.step() { rows.append((s.text(0)!, s.text(1)!)) }
            return (run, rows)
        }

        /// Decisions: red is the finding (non-compliance); yellow counts as not found.
        func decisions(scheme: String, expectRed: (Truth) -> Bool) throws {
            guard let (run, rows) = try colours(scheme: scheme) else { return }
            var red = Counts(), green = Counts(), yellow = 0, total = 0
            for (id, colour) in rows {
                guard let t = truths[id] else { continue }
                let bad = expectRed(t)
                total += 1
                if colour == "yellow" { yellow += 1 }
                if colour == "red" { if bad { red.tp += 1 } else { red.fp += 1 } } else if bad { red.fn += 1 }
                if colour == "green" { if !bad { green.tp += 1 } else { green.fp += 1 } } else if !bad { green.fn += 1 }
            }
            add("\(scheme) decisions: red = non-compliant (run \(run))", red, ["yellow": yellow, "parcels": total])
            add("\(scheme) decisions: green = compliant (run \(run))", green, ["yellow": yellow, "parcels": total])
        }

        /// The rule-based crop phenology check per crop: how often it agrees with a correct declaration.
        func cropPhenology() throws {
            guard let run = try lake.scalar("SELECT max(run_id) FROM decisions WHERE scheme = 'crop-phenology'")?.int else { return }
            let s = try lake.prepare("SELECT p.parcel_id, p.crop_name, d.colour FROM decisions d JOIN parcels p USING (pid) WHERE d.run_id = ?")
            try s.bind([.int(run)])
            var perCrop: [String: [String: Int]] = [:]
            while try s.step() {
                guard let t = truths[s.text(0)!], t.trueCrop == t.declared, t.split.isEmpty else { continue }
                perCrop[s.text(1) ?? "?", default: [:]][s.text(2)!, default: 0] += 1
            }
            for (crop, colours) in perCrop.sorted(by: { $0.key < $1.key }) {
                let n = colours.values.reduce(0, +)
                results.append(["measure": "crop-phenology agreement, correctly declared \(crop) (run \(run))", "parcels": n,
                                "green": colours["green"] ?? 0, "yellow": colours["yellow"] ?? 0, "red": colours["red"] ?? 0,
                                "agreement": Double(colours["green"] ?? 0) / Double(max(n, 1))])
            }
        }

        /// The crop check against the lake's peer envelopes: red is a wrong declaration (split
        /// parcels, half of another crop, are left out: they are neither).
        func cropCheck() throws {
            guard let run = try lake.scalar("SELECT max(run_id) FROM decisions WHERE scheme = 'crop'")?.int else { return }
            let s = try lake.prepare("SELECT p.parcel_id, d.colour FROM decisions d JOIN parcels p USING (pid) WHERE d.run_id = ?")
            try s.bind([.int(run)])
            var red = Counts(), colours: [String: Int] = [:]
            while try s.step() {
                guard let t = truths[s.text(0)!], t.split.isEmpty else { continue }
                let colour = s.text(1)!, wrong = t.trueCrop != t.declared
                colours[colour, default: 0] += 1
                if colour == "red" { if wrong { red.tp += 1 } else { red.fp += 1 } } else if wrong { red.fn += 1 }
            }
            add("crop check: red = wrong declared crop (run \(run))", red,
                ["yellow": colours["yellow"] ?? 0, "parcels": colours.values.reduce(0, +)])
        }

        /// One light per parcel (lake decide, scheme 'overall') against the expected light.
        func light() throws {
            guard let (run, rows) = try colours(scheme: "overall") else { return }
            var agree = 0, total = 0, redForGreen = 0
            var matrix: [String: [String: Int]] = [:]
            for (id, colour) in rows {
                guard let t = truths[id], !t.expectedLight.isEmpty else { continue }
                total += 1
                if colour == t.expectedLight { agree += 1 }
                if colour == "red" && t.expectedLight == "green" { redForGreen += 1 }
                matrix[t.expectedLight, default: [:]][colour, default: 0] += 1
            }
            results.append(["measure": "overall light = expected light (run \(run))", "parcels": total, "agreement": Double(agree) / Double(max(total, 1)),
                            "red_where_green_due": Double(redForGreen) / Double(max(total, 1)), "matrix": matrix])
        }

        /// Heterogeneity: flagged vs split parcels, and how many splits the top of the ranking holds.
        func heterogeneity() throws {
            guard let run = try lake.scalar("SELECT max(run_id) FROM heterogeneity")?.int else { return }
            let s = try lake.prepare("SELECT p.parcel_id, h.flag, h.rank FROM heterogeneity h JOIN parcels p USING (pid) WHERE h.run_id = ? ORDER BY h.rank")
            try s.bind([.int(run)])
            var c = Counts(), ranked: [String] = []
            while try s.step() {
                guard let t = truths[s.text(0)!] else { continue }
                ranked.append(s.text(0)!)
                let split = !t.split.isEmpty, flagged = s.int(1) == 1
                if flagged && split { c.tp += 1 } else if flagged { c.fp += 1 } else if split { c.fn += 1 }
            }
            let splits = ranked.filter { !(truths[$0]?.split.isEmpty ?? true) }.count
            let topHits = ranked.prefix(splits).filter { !(truths[$0]?.split.isEmpty ?? true) }.count
            add("heterogeneity flag = split parcel (run \(run))", c, ["precision_at_n_splits": splits == 0 ? Double.nan : Double(topHits) / Double(splits), "splits": splits])
        }
    }

    static func printJSON(_ results: [[String: Any]]) throws {
        let data = try JSONSerialization.data(withJSONObject: results.map { $0.mapValues { v -> Any in (v as? Double).map { $0.isNaN ? NSNull() : $0 as Any } ?? v } },
                                              options: [.prettyPrinted, .sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    /// One line per measure (the light also its matrix of expected against given colours).
    static func printText(_ results: [[String: Any]]) {
        for r in results {
            if let visible = r["recall_visible"] as? Double {
                print(String(format: "%-58@ recall %5.3f  (tp %d, fn %d)", r["measure"] as! String as NSString, visible, r["tp"] as! Int, r["fn"] as! Int))
                continue
            }
            if let agreement = r["agreement"] as? Double, let matrix = r["matrix"] as? [String: [String: Int]] {
                print(String(format: "%-58@ agreement %5.3f  red where green is due %.2f %% of %d parcels", r["measure"] as! String as NSString,
                             agreement, 100 * (r["red_where_green_due"] as! Double), r["parcels"] as! Int))
                let colours = ["green", "yellow", "red", "grey"]
                print("    expected \\ lake " + colours.map { $0.padding(toLength: 7, withPad: " ", startingAt: 0) }.joined(separator: " "))
                for e in colours where matrix[e] != nil {
                    print("    " + e.padding(toLength: 15, withPad: " ", startingAt: 0) + colours.map { String(matrix[e]?[$0] ?? 0).padding(toLength: 7, withPad: " ", startingAt: 0) }.joined(separator: " "))
                }
                continue
            }
            if let agreement = r["agreement"] as? Double {
                print(String(format: "%-58@ agreement %5.3f  (green %d, yellow %d, red %d of %d)", r["measure"] as! String as NSString, agreement,
                             r["green"] as! Int, r["yellow"] as! Int, r["red"] as! Int, r["parcels"] as! Int))
                continue
            }
            let p = r["precision"] as! Double, rc = r["recall"] as! Double
            var line = String(format: "%-58@ precision %5.3f  recall %5.3f  (tp %d, fp %d, fn %d)", r["measure"] as! String as NSString, p, rc,
                              r["tp"] as! Int, r["fp"] as! Int, r["fn"] as! Int)
            if let f = r["f1"] as? Double, !f.isNaN { line += String(format: "  F1 %5.3f", f) }
            if let m = r["mean_abs_days"] as? Double, !m.isNaN { line += String(format: "  mean |Δdate| %.1f d", m) }
            if let m = r["mean_days"] as? Double, !m.isNaN { line += String(format: " (bias %+.1f d)", m) }
            if let y = r["yellow"] as? Int { line += "  yellow \(y)/\(r["parcels"] as! Int)" }
            if let top = r["precision_at_n_splits"] as? Double { line += String(format: "  top-%d precision %.3f", r["splits"] as! Int, top) }
            print(line)
        }
    }
}

extension ISO8601DateFormatter {
    static func date(_ s: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withFullDate]
        return f.date(from: String(s.prefix(10)))
    }
}
