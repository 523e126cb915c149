import Foundation
import LakeSQLite
import LakeStore
import LakeSupport
import Yams

public struct CropCheckOptions: Sendable {
    /// Width of the profile's bins (days).
    public var binDays = 10
    /// A bin takes a value only when a usable observation lies within this many days of its
    /// centre on both sides (or on one side within half of it) — or within the usual spacing of
    /// the parcel's acquisitions where that is longer (monthly composites).
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
/// - red: it does not, and it fits another crop of the lake (named in the reasons), or where
///   the two crops differ it follows the other, bin by bin or in its 30-day highs;
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

    struct Profile {
        var values: [Float]   // NaN: no value

        /// The profile's upper envelope: each bin's greatest value within one bin either side
        /// (a 30-day window), where the window holds at least two values. A cut or a grazing
        /// dip is over within such a window and haze or cloud only lower NDVI, so a meadow's
        /// envelope stays high all season; a cereal after harvest, or a field ploughed for
        /// weeks, stays low in it too.
        var upperEnvelope: Profile {
            var out = [Float](repeating: .nan, count: values.count)
            for b in values.indices {
                var best = -Float.infinity, n = 0
                for i in max(0, b - 1)...min(values.count - 1, b + 1) where !values[i].isNaN {
                    best = max(best, values[i]); n += 1
                }
                if n >= 2 { out[b] = best }
            }
            return Profile(values: out)
        }
    }

    /// A declared crop's peer envelope: per bin the median and robust spread of its parcels.
    struct Envelope {
        let median: [Float], scale: [Float]

        init?(_ profiles: [Profile], bins: Int) {
            var median = [Float](repeating: .nan, count: bins), scale = median
            var values: [Double] = []
            for b in 0..<bins {
                values.removeAll(keepingCapacity: true)
                for p in profiles where !p.values[b].isNaN { values.append(Double(p.values[b])) }
                guard values.count >= max(5, profiles.count / 4) else { continue }
                let q = { (f: Double) in RobustStatistics.percentile(values, f)! }
                median[b] = Float(q(50))
                scale[b] = Float(max(0.03, (q(75) - q(25)) / 1.349))
            }
            guard median.contains(where: { !$0.isNaN }) else { return nil }
            self.median = median; self.scale = scale
        }

        /// The parcel's robust z in bin b (clipped at 6), nil where either has no value.
        func z(_ p: Profile, _ b: Int) -> Double? {
            guard !p.values[b].isNaN, !median[b].isNaN else { return nil }
            return min(6, abs(Double(p.values[b] - median[b]) / Double(scale[b])))
        }

        /// Root mean square z over the bins both have, and how many.
        func distance(_ p: Profile) -> (Double, Int) {
            var sum = 0.0, n = 0
            for b in median.indices { if let z = z(p, b) { sum += z * z; n += 1 } }
            return (n == 0 ? .infinity : (sum / Double(n)).squareRoot(), n)
        }

        /// Where this crop's curve and `other`'s differ (by at least the larger spread), the
        /// parcel's RMS z against each: (bins, against this, against other).
        /// `only`: the bins to consider (nil: all).
        func contrast(_ p: Profile, _ other: Envelope, only: [Bool]? = nil) -> (bins: Int, own: Double, other: Double) {
            var n = 0, a = 0.0, c = 0.0
            for b in median.indices where only?[b] ?? true {
                guard let za = z(p, b), let zc = other.z(p, b), abs(median[b] - other.median[b]) >= max(scale[b], other.scale[b]) else { continue }
                a += za * za; c += zc * zc; n += 1
            }
            return n == 0 ? (0, 0, 0) : (n, (a / Double(n)).squareRoot(), (c / Double(n)).squareRoot())
        }
    }

    /// A declared crop of one AOI and year: its members, and (with enough of them) its envelope
    /// and the distance up to which a parcel follows it, learned from the members themselves.
    struct CropModel {
        let region: String, name: String
        let members: [Int64]
        var envelope: Envelope?
        /// The same over the members' upper envelopes (`Profile.upperEnvelope`).
        var upper: Envelope?
        var limit: Double?

        /// The bins where the members' 30-day highs agree better than their values (spread at
        /// most two thirds): there the crop's members differ by short events (a meadow's cuts).
        var highsTellMore: [Bool] {
            guard let e = envelope, let u = upper else { return [] }
            return u.scale.indices.map { u.scale[$0] <= 2 / 3 * e.scale[$0] }
        }
    }

    public func run(_ options: CropCheckOptions, scope: ParcelScope, optionsText: String) throws -> Summary {
        let started = Date()
        let markerOptions = try Self.observationOptions()
        let runner = MarkerRun(lake: lake)
        let db = lake.db
        var summary = Summary()
        try db.transaction { try SCLSummary.refresh(db) }
        try BatchPipeline.writing(lake) { try db.transaction {
            // Stage 1: every parcel's profile.
            let bins = 366 / options.binDays + 1
            let (plan, readers, areas) = try runner.planAndReaders(markerOptions, scope: scope)
            let regional = try runner.regionalContext(plan, markerOptions, readers: readers, areas: areas)
            var profiles: [Int64: Profile] = [:]
            _ = try BatchPipeline.run(lake, pids: Array(plan.parcels.keys), screen: plan.cloudScreen, readers: readers, analyse: { item -> Profile in
                let year = plan.parcels[item.pid]!.year
                let observations = try plan.observations(item)
                let usable = plan.engine.screened(observations, year: year, regional: regional.days(for: item.pid)).usable
                return Self.profile(usable, year: year, bins: bins, options: options, spacing: Self.acquisitionSpacing(observations))
            }, deliver: { pid, profile in profiles[pid] = profile })

            // Stage 2: each declared crop's envelope and limit, the crops shared among the cores.
            // Stage 3 likewise: parcels judged on every core in pid order, written on this thread.
            // (Both ran here alone: 2.2 G instructions of a 7.4 G check of 20,000 parcels.)
            let all = profiles
            func key(_ pid: Int64) -> String {
                let p = plan.parcels[pid]!
                return "\(p.aoi)\u{1}\(p.year)\u{1}\(p.names[1])"
            }
            let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
            let groups = Array(Dictionary(grouping: all.keys, by: key))
            var models: [String: CropModel] = [:]
            try parallelOrdered(workers: workers, inFlight: 2 * workers + 2, produce: { emit in
                for g in groups.indices { try emit(g) }
            }, work: { g -> (String, CropModel) in
                let (k, pids) = groups[g]
                let p = plan.parcels[pids[0]]!
                var model = CropModel(region: "\(p.aoi)\u{1}\(p.year)", name: p.names[1], members: pids)
                if pids.count >= options.minPeers, let e = Envelope(pids.map { all[$0]! }, bins: bins) {
                    let d = pids.compactMap { pid -> Double? in let (x, n) = e.distance(all[pid]!); return n >= options.minBins ? x : nil }
                    if let m = RobustStatistics.median(d), let mad = RobustStatistics.mad(d) {
                        model.envelope = e
                        model.upper = Envelope(pids.map { all[$0]!.upperEnvelope }, bins: bins)
                        model.limit = max(m + options.spreads * 1.4826 * mad, 1.5 * m)
                    }
                }
                return (k, model)
            }, consume: { models[$0.0] = $0.1 })
            summary.crops = models.values.filter { $0.limit != nil }.count

            // Stage 3: one decision per parcel.
            summary.run = try RunLog.begin(db, kind: "crop-check", options: optionsText, inputs: try RunInputs.describe(lake))
            try RunLog.writingOwnRows(db) {
                let writer = try DecisionInserter(db, run: summary.run, scheme: "crop")
                let learned = models
                let sorted = all.keys.sorted()
                let chunks = stride(from: 0, to: sorted.count, by: 256).map { sorted[$0..<min($0 + 256, sorted.count)] }
                try parallelOrdered(workers: workers, inFlight: 2 * workers + 2, produce: { emit in
                    for c in chunks.indices { try emit(c) }
                }, work: { c -> [(pid: Int64, colour: String, reasons: [String], clear: Int)] in
                    chunks[c].map { pid in
                        let p = all[pid]!
                        let (colour, reasons) = Self.judge(p, learned[key(pid)]!, among: learned.values, bins: bins, options: options)
                        return (pid, colour, reasons, p.values.filter { !$0.isNaN }.count)
                    }
                }, consume: { rows in
                    for r in rows { try writer.add(pid: r.pid, colour: r.colour, clearObservations: r.clear, reasons: r.reasons) }
                })
                summary.decisions = writer.colours
                summary.parcels = writer.rows
            }
            summary.seconds = Date().timeIntervalSince(started)
            try RunLog.finish(db, run: summary.run, summary: summary.json)
        } }
        return summary
    }

    /// The observation chain of the check: a markers run's, with screening on (regional context
    /// included). Most parcels checked are arable: their usual is their soil, and the clear line
    /// of blue against red learned on it puts a green canopy (as blue as it is red) above the
    /// line, where haze would lift it. Greener than usual by 0.15 is the crop, as in
    /// options/harvest.yaml; without it a summer crop's clear peak was screened out as haze and
    /// its profile lost the bins that tell it from the other crops.
    public static func observationOptions() throws -> MarkerOptions {
        try YAMLDecoder().decode(MarkerOptions.self, from: """
            name: crop-check
            signal: ndvi
            observations: {cloud_classes: [3, 8, 9, 10, 11], require_scl: false}
            screening: {enabled: true, regional: true, greener_than_usual: 0.15}
            """)
    }

    /// The decision for a parcel of crop `own` (see the type's documentation).
    static func judge(_ p: Profile, _ own: CropModel, among models: Dictionary<String, CropModel>.Values, bins: Int,
                      options: CropCheckOptions) -> (colour: String, reasons: [String]) {
        let crop = own.name
        guard let e = own.envelope, let limit = own.limit else {
            return ("grey", ["no check: \(own.members.count) parcel(s) of \(crop.isEmpty ? "an unnamed crop" : crop) in this AOI and year, fewer than the \(options.minPeers) needed to learn its curve"])
        }
        let (distance, n) = e.distance(p)
        if n < options.minBins {
            return ("yellow", ["too few usable observations: \(n) of \(bins) ten-day bins have a value (at least \(options.minBins) needed)"])
        }
        let others = models.filter { $0.region == own.region && $0.name != own.name && $0.limit != nil }
        // Where the two crops differ, the parcel sits more than three spreads from its own crop
        // and within a third of that of the other (on at least four bins).
        func contrasts(_ p: Profile, _ e: Envelope, only: [Bool]? = nil, _ envelope: (CropModel) -> Envelope?) -> (String, Int, Double, Double)? {
            others.compactMap { o -> (String, Int, Double, Double)? in
                guard let oe = envelope(o) else { return nil }
                let c = e.contrast(p, oe, only: only)
                return c.bins >= 4 && c.own > 3 && c.other < c.own / 3 ? (o.name, c.bins, c.own, c.other) : nil
            }.min(by: { $0.3 / $0.2 < $1.3 / $1.2 })
        }
        if let (other, k, a, b) = contrasts(p, e, { $0.envelope }) {
            return ("red", [String(format: "on the %d ten-day bins where %@ and %@ differ, it follows %@ (z %.1f) and not the declared %@ (z %.1f)",
                                   k, crop, other, other, b, crop, a),
                            String(format: "distance to the declared %@ curve %.2f (limit %.2f)", crop, distance, limit)])
        }
        // The same on the upper envelopes, on the bins where they tell more: a crop whose members
        // are low at different times (a meadow's cuts) has a wide spread bin by bin, but its
        // 30-day highs agree (their spread at most two thirds of it); a cereal declared as
        // grassland is low for the two months after its harvest. Elsewhere the highs are the
        // same curve shifted, and a second test there would only be a second chance of a wrong red.
        if let ue = own.upper, let (other, k, a, b) = contrasts(p.upperEnvelope, ue, only: own.highsTellMore, { $0.upper }) {
            return ("red", [String(format: "on the %d ten-day bins where the 30-day highs of %@ and %@ differ, its own follow %@ (z %.1f) and not the declared %@ (z %.1f)",
                                   k, crop, other, other, b, crop, a),
                            String(format: "distance to the declared %@ curve %.2f (limit %.2f)", crop, distance, limit)])
        }
        if distance <= limit {
            return ("green", [String(format: "follows the %@ curve of %d peers (distance %.2f, limit %.2f)", crop, own.members.count, distance, limit)])
        }
        // The other crops of the same AOI and year that it follows, best first.
        let fits = others.compactMap { o -> (String, Double, Double)? in
            let (d, m) = o.envelope!.distance(p)
            return m >= options.minBins && d <= o.limit! ? (o.name, d, o.limit!) : nil
        }.sorted { $0.1 / $0.2 < $1.1 / $1.2 }
        if let best = fits.first {
            return ("red", [String(format: "does not follow the declared %@ curve (distance %.2f, limit %.2f)", crop, distance, limit),
                            String(format: "follows %@ (distance %.2f, limit %.2f)", best.0, best.1, best.2)])
        }
        return ("yellow", [String(format: "does not follow the declared %@ curve (distance %.2f, limit %.2f), nor any other crop of the lake", crop, distance, limit)])
    }

    /// The usual days between the parcel's optical acquisitions, cloudy or not: 5 for Sentinel-2,
    /// 10 for dekadal composites, about 30 for monthly ones.
    static func acquisitionSpacing(_ observations: [Observed]) -> Int {
        var days = observations.filter { $0.kind == .optical }.map(\.day)
        days.sort()
        var steps: [Double] = []
        for (a, b) in zip(days, days.dropFirst()) where b > a { steps.append(Double(b - a)) }
        return RobustStatistics.median(reordering: &steps).map { Int($0.rounded()) } ?? 0
    }

    /// Ten-day bins of the year: the value at each bin's centre, linear between the usable
    /// observations around it when both are near enough. `spacing`: the usual days between
    /// acquisitions; a bin reaches at least that far, so that monthly composites (one value
    /// standing for a month) fill the bins between them.
    static func profile(_ usable: [IndexPoint], year: Int, bins: Int, options: CropCheckOptions, spacing: Int = 0) -> Profile {
        let reach = max(options.reachDays, spacing)
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
                if centre - a.day <= reach && c.day - centre <= reach {
                    values[b] = Float(a.value + (c.value - a.value) * Double(centre - a.day) / Double(c.day - a.day))
                }
            } else if abs(a.day - centre) <= reach / 2 {
                values[b] = Float(a.value)
            }
        }
        return Profile(values: values)
    }
}
