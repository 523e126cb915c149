/// Cuts seen by Sentinel-1 interferometric coherence, which clouds do not hide (the JRC
/// marker framework's use of 6-day coherence across Sentinel-2 gaps).
///
/// Coherence measures how much a surface stayed the same between two acquisitions: a standing
/// sward moves and grows and decorrelates (low coherence), stubble and bare soil keep (high).
/// After a cut, the pairs that follow are more coherent than the parcel's vegetated level until
/// the grass has grown back; the pair during which the cut happened decorrelates.
///
/// 0. **The area's weather, divided out**: rain between two acquisitions lowers coherence over
///    the whole area, calm dry weather or frost lifts it; farmers do not all mow during one pair.
///    Where the regional context knows the area's typical coherence on a pair (the median of a
///    sample of the area's parcels of every crop, see `RegionalContext`), the parcel's value is
///    read as a share of it (`ratio`), so one rainy pair neither hides a cut nor makes one.
///    Without a reference the values are read as they are (a share of 1).
/// 1. **Level**: for each pair, the median of the parcel's shares within `localDays` of it (its
///    immediate neighbours left out): what the standing sward gives at that time of the season,
///    learned per parcel, so soil, slope, crop stage and polarisation need no regional setting.
/// 2. **Rise**: a pair whose share is at least `minRise` above its level (`regionalRise` when
///    divided by the area's reference) and whose coherence exceeds level × reference by
///    `spreads` times the parcel's pair-to-pair noise (1.4826 · MAD of consecutive differences
///    of what the level does not explain / √2), right after one that is not (each run of high
///    pairs is one event, and so are two runs one pair apart: the stubble of one cut with a
///    lower pair in it, since a sward does not grow back and get cut again within two pairs).
/// 3. **Step**: or, where the area's weather is known on both pairs (`weather`: the area's
///    pairs as a share of their own level, see `RegionalContext`), a pair whose coherence lies
///    at least `minRise` and `stepSpreads` times the noise of a difference above the pair before
///    it, the weather divided out and as measured (rain on the pair before, or calm on this one,
///    makes a step in one of them only), with it and the pair after it not below their level:
///    the pair during which the sward was cut decorrelated, the next ones, over stubble, hold
///    still. Without the weather a step is as likely the end of a rainy pair. Why not the rise
///    of 2. alone: read against the area's typical coherence, a cut's rise in spring (when bare
///    arable fields lift the typical value to 0.5–0.6) is a small share of it, and in summer
///    (when every crop is dense) one pair's noise is a large share; the weather is neither.
/// 4. **Dating**: the cut happened during the pair before the first high one (it decorrelated)
///    or just before: dated 2 days before the first high pair's earlier acquisition.
///
/// Rain between the acquisitions lowers coherence and can hide a cut; it does not make one.
/// What the rise means is decided with Sentinel-2 (see `MarkerEngine`): where clear optical
/// observations surround the date and show no cut, the optical evidence wins.
public struct CoherenceCutDetector: Sendable {
    public var minRise = 0.1
    public var spreads = 3.0
    /// The least rise of the share where the area's reference divides the values out, and the
    /// noise multiple that goes with it (the weather removed, the residual noise is smaller).
    public var regionalRise = 0.7
    public var regionalSpreads = 2.0
    /// At least this share of a parcel's pairs need the area's reference for it to be used.
    public var referenceCover = 0.8
    /// The level of a pair: the median of the pairs within this many days.
    public var localDays = 30
    /// Pairs at least this many to judge a parcel at all.
    public var minPairs = 8
    /// Right after a pair that decorrelated below the level, a rise of this share of `minRise` suffices.
    public var dipRiseShare = 0.6
    /// `watcher`: the largest spacing of pairs, and the rise that is already too much to rule a cut out.
    public var watchSpacing = 13
    public var quietRise = 0.05
    /// Pairs further apart than this say nothing, neither a cut nor its absence. A cut shows in
    /// coherence while the stubble holds still from one acquisition to the next; a sward regrows
    /// within 8-14 days, so 6-day pairs (two satellites) catch it and 12-day pairs (Sentinel-1A
    /// alone, 2022-2024) mostly span the regrowth. Measured on the second generator's 12-day
    /// coherence (`--s1`), the rises it found were 70 false for 3 true.
    public var maxPairDays = 7
    /// The step's least jump in noise of a pair-to-pair difference (see 3. above).
    public var stepSpreads = 2.5

    public init() {}

    init(_ d: MarkerOptions.Detector) {
        minRise = d.coherence_rise ?? minRise
        regionalRise = d.coherence_regional_rise ?? regionalRise
        maxPairDays = d.coherence_max_pair_days ?? maxPairDays
    }

    public struct Found: Sendable {
        public let event: Event
        /// Days between the acquisitions of a pair (the series' usual spacing).
        public let pairDays: Int
    }

    /// What is usual for a parcel's pairs: their spacing, pair-to-pair noise and local level,
    /// each pair read as a share of the area's reference where there is one.
    struct Levels {
        let pairs: [IndexPoint]
        /// The area's typical coherence on each pair (1 without a reference).
        let reference: [Double]
        /// `pairs[k].value / reference[k]`.
        let share: [Double]
        let pairDays: Int
        /// Pair-to-pair noise of coherence, in coherence units.
        let noise: Double
        /// Each pair's level: the median share of the pairs within `localDays` of it.
        let local: [Double]

        init?(_ pairs: [IndexPoint], reference: [Double]? = nil, localDays: Int) {
            guard pairs.count >= 2 else { return nil }
            self.pairs = pairs
            let reference = reference ?? Array(repeating: 1, count: pairs.count)
            self.reference = reference
            share = zip(pairs, reference).map { $0.value / $1 }
            var steps = zip(pairs, pairs.dropFirst()).map { Double($1.day - $0.day) }
            pairDays = max(1, RobustStatistics.median(reordering: &steps).map { Int($0.rounded()) } ?? 6)
            var all = share
            let seasonLevel = RobustStatistics.median(reordering: &all) ?? 0
            let usual = zip(pairs, reference).map { p, r in p.value - seasonLevel * r }
            var diffs = zip(usual, usual.dropFirst()).map { $1 - $0 }
            guard let spread = RobustStatistics.spread(reordering: &diffs) else { return nil }
            noise = spread / 2.squareRoot()
            // The median of the shares within `localDays` of each pair, its neighbours left out.
            var local: [Double] = []
            local.reserveCapacity(pairs.count)
            for k in pairs.indices {
                var near: [Double] = []
                let day = pairs[k].day
                for (j, p) in pairs.enumerated() where abs(p.day - day) <= localDays && Double(abs(p.day - day)) > 1.5 * Double(pairDays) {
                    near.append(share[j])
                }
                local.append(near.count >= 4 ? RobustStatistics.median(reordering: &near) ?? seasonLevel : seasonLevel)
            }
            self.local = local
        }

        /// How far pair k lies above its level: as a share of the reference, and in coherence.
        func excess(_ k: Int) -> (share: Double, coherence: Double) {
            (share[k] - local[k], pairs[k].value - local[k] * reference[k])
        }
    }

    /// The area's reference for each pair, when it covers at least `referenceCover` of them
    /// (pairs without one are left out); nil to read the values as they are.
    func referenced(_ pairs: [IndexPoint], _ reference: [Int: Double]) -> (pairs: [IndexPoint], reference: [Double])? {
        guard !reference.isEmpty else { return nil }
        var kept: [IndexPoint] = [], ref: [Double] = []
        for p in pairs {
            guard let r = reference[p.day], r >= 0.02 else { continue }
            kept.append(p); ref.append(r)
        }
        return Double(kept.count) >= referenceCover * Double(pairs.count) ? (kept, ref) : nil
    }

    func levels(_ pairs: [IndexPoint], reference: [Int: Double]) -> (Levels, rise: Double, spreads: Double)? {
        if let (kept, ref) = referenced(pairs, reference) {
            guard kept.count >= minPairs, let l = Levels(kept, reference: ref, localDays: localDays), l.pairDays <= maxPairDays else { return nil }
            return (l, regionalRise, regionalSpreads)
        }
        guard pairs.count >= minPairs, let l = Levels(pairs, localDays: localDays), l.pairDays <= maxPairDays else { return nil }
        return (l, minRise, spreads)
    }

    /// `pairs`: one coherence value per pair, dated at its later acquisition, in day order;
    /// `reference`: the area's typical coherence per pair day (empty: none); `weather`: the
    /// area's weather per pair day (a factor, 1 where unknown).
    public func detect(_ input: [IndexPoint], reference: [Int: Double] = [:], weather: [Int: Double] = [:]) -> [Found] {
        guard let (levels, minRise, spreads) = levels(input, reference: reference) else { return [] }
        let pairs = levels.pairs
        let rise = spreads * levels.noise
        let dipDepth = max(0.05, 2 * levels.noise)
        func high(_ k: Int, _ share: Double = 1) -> Bool {
            let e = levels.excess(k)
            return e.share >= minRise * share && e.coherence >= rise * share
        }
        // The same pairs with the weather divided out, read in coherence (see 3. above); without
        // the area's weather there is no step to read.
        let free = weather.isEmpty ? nil
            : Levels(pairs.map { p in IndexPoint(day: p.day, value: p.value / max(0.2, weather[p.day] ?? 1), clear: p.clear) }, localDays: localDays)
        let leastStep = max(self.minRise, stepSpreads * (free?.noise ?? .infinity) * 2.squareRoot())
        func step(_ k: Int) -> Double {
            guard let free, k > 0, weather[pairs[k].day] != nil, weather[pairs[k - 1].day] != nil,
                  pairs[k].day - pairs[k - 1].day <= 2 * levels.pairDays, free.excess(k).coherence >= 0,
                  k + 1 == pairs.count || free.excess(k + 1).coherence >= 0 else { return 0 }
            return min(free.pairs[k].value - free.pairs[k - 1].value, pairs[k].value - pairs[k - 1].value)
        }
        func starts(_ k: Int) -> Bool {
            if high(k) || step(k) >= leastStep { return true }
            // The pair of the cut decorrelates (the sward changed between its acquisitions) and
            // the next one is coherent: after such a dip a smaller rise shows the cut.
            return k > 0 && high(k, dipRiseShare) && levels.excess(k - 1).coherence <= -dipDepth
                && pairs[k].day - pairs[k - 1].day <= 2 * levels.pairDays
        }
        var out: [Found] = []
        var k = 1
        var previousEnd: Int?
        while k < pairs.count {
            guard starts(k), !starts(k - 1) else { k += 1; continue }
            var end = k
            while end + 1 < pairs.count && starts(end + 1) { end += 1 }
            // High again one pair after a run of high pairs: the same stubble, one pair lower
            // between (local rain, a noisy estimate), not a second cut — a sward does not grow
            // back and get cut again within two pairs.
            if let last = previousEnd, pairs[k].day - pairs[last].day <= 2 * levels.pairDays {
                previousEnd = end; k = end + 1; continue
            }
            previousEnd = end
            let top = (k...end).max { levels.excess($0).share < levels.excess($1).share }!
            let e = levels.excess(top)
            let start = pairs[k].day - levels.pairDays
            out.append(Found(event: Event(start: pairs[k - 1].day - levels.pairDays, date: start - 2, end: pairs[end].day,
                                          valueStart: pairs[top].value - e.coherence, valueEnd: pairs[top].value, magnitude: e.coherence,
                                          confidence: min(1, max(e.share / (2 * minRise), step(k) / (2 * leastStep)))),
                             pairDays: levels.pairDays))
            k = end + 1
        }
        return out
    }

    /// Whether coherence watched the days from `a` to `b` closely enough to say that no cut
    /// happened there: pairs no more than `watchSpacing` days apart all the way, and none of
    /// them (nor the first after `b`) rises above its level by even `quietRise` (and 1.5× the
    /// parcel's noise) — a far weaker rise than a cut needs: absence needs the more sensitive
    /// test.
    ///
    /// Returns the test for one parcel's pairs, their levels worked out once for every hole.
    /// The pairs are read as they are: against the area's reference, spring pairs (when bare
    /// arable fields lift it) stop looking quiet and never-mown meadows turn yellow.
    public func watcher(_ input: [IndexPoint]) -> (_ from: Int, _ to: Int) -> Bool {
        guard let (levels, _, _) = levels(input, reference: [:]) else { return { _, _ in false } }
        let pairs = levels.pairs
        let quiet = max(quietRise, 1.5 * levels.noise)
        let isQuiet = pairs.indices.map { levels.excess($0).coherence < quiet }
        let spacing = watchSpacing
        return { a, b in
            var last = a
            for k in pairs.indices where pairs[k].day > a {
                guard pairs[k].day - last <= spacing, isQuiet[k] else { return false }
                last = pairs[k].day
                if last >= b { return true }
            }
            return false
        }
    }
}

/// What an area's sampled parcels say about coherence on each pair day (see `RegionalContext`):
/// its typical coherence (their median) and its weather (the median of their pairs as a share of
/// their own level around the day: about 0.6 after rain, 1 on an ordinary pair).
public struct AreaCoherence: Sendable {
    public var reference: [Int: Double]
    public var weather: [Int: Double]

    public init(reference: [Int: Double] = [:], weather: [Int: Double] = [:]) {
        self.reference = reference
        self.weather = weather
    }
}
