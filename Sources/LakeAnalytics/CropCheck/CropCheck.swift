import Foundation
import LakeSQLite
import LakeStore
import Yams

public struct CropCheckOptions: Sendable {
    /// Width of the profile's bins (days).
    public var binDays = 10
    /// A bin takes a value only when a usable observation lies within this many days of its
    /// centre on both sides (or on one side within half of it).
    public var reachDays = 20
    /// A crop is checked only with at least this many declared parcels in its AOI and year.
    public var minPeers = 20
    /// A parcel needs this many profile bins with values.
    public var minBins = 8
    /// A parcel fits a crop when its distance is at most the crop's members' median distance
    /// plus this many robust deviations.
    public var spreads = 3.0
    public init() {}
}

/// The crop check against the lake's own regional evidence. Each parcel's screened NDVI becomes
/// a profile of 10-day bins; each declared crop (crop group, within AOI and year) gets its peer
/// envelope — per bin the median and inter-quartile range over its declared parcels, which a
/// few wrong declarations cannot move. A parcel's distance to an envelope is the root mean
/// square of its robust z-scores over the bins both have. What counts as fitting is learned
/// too: a crop's limit is its own members' median distance plus `spreads` robust deviations.
///
/// - green: the parcel fits its declared crop;
/// - red: it does not, and it fits another crop of the lake (named in the reasons);
/// - yellow: it fits no crop, or has too few usable observations;
/// - grey: no check exists — the declared crop has fewer than `minPeers` parcels to learn from.
///
/// No threshold is regional: Flanders, Puglia and Zurich each teach their own envelopes.
public struct CropCheck {
    let lake: Lake
    public init(lake: Lake) { self.lake = lake }

    public struct Summary: Sendable {
        public var run: Int64 = 0
        public var parcels = 0
        public var crops = 0
        public var decisions: [String: Int] = [:]
        public var seconds = 0.0
        public var json: [String: Any] {
            ["run": run, "parcels": parcels, "crops_checked": crops, "decisions": decisions, "seconds": seconds]
        }
    }

    struct Profile { var values: [Float] }   // NaN: no value

    public func run(_ options: CropCheckOptions, scope: ParcelScope, optionsText: String) throws -> Summary {
        let started = Date()
        // The observation chain of a markers run with screening on (regional context included).
        let markerOptions = try YAMLDecoder().decode(MarkerOptions.self, from: """
            name: crop-check
            signal: ndvi
            observations: {cloud_classes: [3, 8, 9, 10, 11], require_scl: false}
            screening: {enabled: true, regional: true}
            """)
        let runner = MarkerRun(lake: lake)
        let plan = try runner.plan(markerOptions, scope: scope)
        let db = lake.db
        var keys: [Int64: String] = [:]
        var names: [String: String] = [:]
        let g = try db.prepare("SELECT pid, aoi, year, coalesce(group_name, crop_name, crop_code, '') FROM parcel_groups")
        while try g.step() {
            guard plan.parcels[g.int(0)] != nil else { continue }
            let key = "\(g.text(1) ?? "")\u{1}\(g.int(2))\u{1}\(g.text(3) ?? "")"
            keys[g.int(0)] = key
            names[key] = g.text(3) ?? ""
        }
        let bins = 366 / options.binDays + 1
        var profiles: [Int64: Profile] = [:]
        var summary = Summary()
        try db.transaction { try SCLSummary.refresh(db) }
        try db.transaction {
            let regional = try runner.regionalContext(plan, markerOptions)
            _ = try BatchPipeline.run(lake, pids: Array(plan.parcels.keys), screen: plan.cloudScreen, analyse: { item -> Profile in
                let year = plan.parcels[item.pid]!.year
                let usable = plan.engine.screened(try plan.observations(item), year: year, regional: regional.days(for: item.pid)).usable
                return Self.profile(usable, year: year, bins: bins, options: options)
            }, deliver: { pid, profile in profiles[pid] = profile })

            // Envelopes per declared crop, and each crop's own distances.
            let members = Dictionary(grouping: profiles.keys) { keys[$0] ?? "" }
            var envelopes: [String: (median: [Float], scale: [Float])] = [:]
            for (key, pids) in members where pids.count >= options.minPeers {
                var median = [Float](repeating: .nan, count: bins), scale = [Float](repeating: .nan, count: bins)
                for b in 0..<bins {
                    let values = pids.compactMap { p -> Double? in let v = profiles[p]!.values[b]; return v.isNaN ? nil : Double(v) }
                    guard values.count >= max(5, pids.count / 4),
                          let m = RobustStatistics.median(values),
                          let q1 = RobustStatistics.percentile(values, 25), let q3 = RobustStatistics.percentile(values, 75) else { continue }
                    median[b] = Float(m)
                    scale[b] = Float(max(0.03, (q3 - q1) / 1.349))
                }
                envelopes[key] = (median, scale)
            }
            func distance(_ p: Profile, _ e: (median: [Float], scale: [Float])) -> (Double, Int) {
                var sum = 0.0, n = 0
                for b in 0..<bins where !p.values[b].isNaN && !e.median[b].isNaN {
                    let z = min(6, abs(Double(p.values[b] - e.median[b]) / Double(e.scale[b])))
                    sum += z * z; n += 1
                }
                return (n == 0 ? .infinity : (sum / Double(n)).squareRoot(), n)
            }
            /// Where two crops' curves differ (by at least the larger spread of the two), the
            /// parcel's RMS z against each: (bins, against own, against other).
            func contrast(_ p: Profile, _ own: (median: [Float], scale: [Float]), _ other: (median: [Float], scale: [Float])) -> (Int, Double, Double) {
                var n = 0, a = 0.0, b = 0.0
                for k in 0..<bins where !p.values[k].isNaN && !own.median[k].isNaN && !other.median[k].isNaN {
                    guard abs(own.median[k] - other.median[k]) >= max(own.scale[k], other.scale[k]) else { continue }
                    let za = min(6, abs(Double(p.values[k] - own.median[k]) / Double(own.scale[k])))
                    let zb = min(6, abs(Double(p.values[k] - other.median[k]) / Double(other.scale[k])))
                    a += za * za; b += zb * zb; n += 1
                }
                return n == 0 ? (0, 0, 0) : (n, (a / Double(n)).squareRoot(), (b / Double(n)).squareRoot())
            }
            var limits: [String: Double] = [:]
            for (key, e) in envelopes {
                let d = members[key]!.compactMap { p -> Double? in
                    let (x, n) = distance(profiles[p]!, e); return n >= options.minBins ? x : nil
                }
                guard let m = RobustStatistics.median(d), let mad = RobustStatistics.mad(d) else { continue }
                limits[key] = max(m + options.spreads * 1.4826 * mad, 1.5 * m)
            }
            summary.crops = limits.count

            summary.run = try RunLog.begin(db, kind: "crop-check", options: optionsText, inputs: try RunInputs.describe(lake))
            let insert = try db.prepare("INSERT INTO decisions (run_id, pid, scheme, colour, clear_obs, reasons) VALUES (?, ?, 'crop', ?, ?, ?)")
            for pid in profiles.keys.sorted() {
                let p = profiles[pid]!, key = keys[pid] ?? "", crop = names[key] ?? ""
                let usableBins = p.values.filter { !$0.isNaN }.count
                var colour: String, reasons: [String]
                let sameRegion = key.split(separator: "\u{1}", omittingEmptySubsequences: false).prefix(2).joined(separator: "\u{1}")
                if let e = envelopes[key], let limit = limits[key] {
                    let (own, n) = distance(p, e)
                    if n < options.minBins {
                        colour = "yellow"
                        reasons = ["too few usable observations: \(n) of \(bins) ten-day bins have a value (at least \(options.minBins) needed)"]
                    } else if let (other, k, a, b) = envelopes.compactMap({ (o, oe) -> (String, Int, Double, Double)? in
                                  guard o != key, o.hasPrefix(sameRegion + "\u{1}"), limits[o] != nil else { return nil }
                                  let (k, a, b) = contrast(p, e, oe)
                                  // Where the two crops differ, the parcel sits more than two
                                  // spreads from its own crop and within half of that of the other.
                                  return k >= 4 && a > 3 && b < a / 3 ? (names[o] ?? o, k, a, b) : nil
                              }).min(by: { $0.3 / $0.2 < $1.3 / $1.2 }) {
                        colour = "red"
                        reasons = [String(format: "on the %d ten-day bins where %@ and %@ differ, it follows %@ (z %.1f) and not the declared %@ (z %.1f)",
                                          k, crop, other, other, b, crop, a),
                                   String(format: "distance to the declared %@ curve %.2f (limit %.2f)", crop, own, limit)]
                    } else if own <= limit {
                        colour = "green"
                        reasons = [String(format: "follows the %@ curve of %d peers (distance %.2f, limit %.2f)", crop, members[key]!.count, own, limit)]
                    } else {
                        // The other crops of the same AOI and year that it fits, best first.
                        var fits: [(String, Double, Double)] = []
                        for (other, oe) in envelopes where other != key && other.hasPrefix(sameRegion + "\u{1}") {
                            guard let ol = limits[other] else { continue }
                            let (d, m) = distance(p, oe)
                            if m >= options.minBins && d <= ol { fits.append((names[other] ?? other, d, ol)) }
                        }
                        fits.sort { $0.1 / $0.2 < $1.1 / $1.2 }
                        if let best = fits.first {
                            colour = "red"
                            reasons = [String(format: "does not follow the declared %@ curve (distance %.2f, limit %.2f)", crop, own, limit),
                                       String(format: "follows %@ (distance %.2f, limit %.2f)", best.0, best.1, best.2)]
                        } else {
                            colour = "yellow"
                            reasons = [String(format: "does not follow the declared %@ curve (distance %.2f, limit %.2f), nor any other crop of the lake", crop, own, limit)]
                        }
                    }
                } else {
                    colour = "grey"
                    reasons = ["no check: \(members[key]?.count ?? 0) parcel(s) of \(crop.isEmpty ? "an unnamed crop" : crop) in this AOI and year, fewer than the \(options.minPeers) needed to learn its curve"]
                }
                var json: [UInt8] = []
                JSONText.append(array: reasons, to: &json)
                try insert.bind([.int(summary.run), .int(pid), .text(colour), .int(Int64(usableBins)), .text(String(decoding: json, as: UTF8.self))])
                try insert.step()
                insert.reset()
                summary.decisions[colour, default: 0] += 1
                summary.parcels += 1
            }
            summary.seconds = Date().timeIntervalSince(started)
            try RunLog.finish(db, run: summary.run, summary: summary.json)
        }
        return summary
    }

    /// Ten-day bins of the year: the value at each bin's centre, linear between the usable
    /// observations around it when both are near enough.
    static func profile(_ usable: [IndexPoint], year: Int, bins: Int, options: CropCheckOptions) -> Profile {
        var values = [Float](repeating: .nan, count: bins)
        guard !usable.isEmpty else { return Profile(values: values) }
        let first = year > 0 ? Days.number(year: year, month: 1, day: 1) : usable[0].day - Days.dayOfYear(usable[0].day) + 1
        var k = 0
        for b in 0..<bins {
            let centre = first + b * options.binDays + options.binDays / 2
            while k + 1 < usable.count && usable[k + 1].day <= centre { k += 1 }
            let a = usable[k]
            if a.day == centre { values[b] = Float(a.value); continue }
            if a.day < centre, k + 1 < usable.count {
                let c = usable[k + 1]
                if centre - a.day <= options.reachDays && c.day - centre <= options.reachDays {
                    values[b] = Float(a.value + (c.value - a.value) * Double(centre - a.day) / Double(c.day - a.day))
                }
            } else if abs(a.day - centre) <= options.reachDays / 2 {
                values[b] = Float(a.value)
            }
        }
        return Profile(values: values)
    }
}
