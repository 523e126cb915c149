/// Cuts seen by Sentinel-1 interferometric coherence, which clouds do not hide (the JRC
/// marker framework's use of 6-day coherence across Sentinel-2 gaps).
///
/// Coherence measures how much a surface stayed the same between two acquisitions: a standing
/// sward moves and grows and decorrelates (low coherence), stubble and bare soil keep (high).
/// After a cut, the pairs that follow are more coherent than the parcel's vegetated level until
/// the grass has grown back; the pair during which the cut happened decorrelates.
///
/// 1. **Level**: for each pair, the median of the parcel's pairs within `localDays` of it (its
///    immediate neighbours left out): what the standing sward gives at that time of the season,
///    learned per parcel, so soil, slope, crop stage and polarisation need no regional setting.
/// 2. **Rise**: a pair at least `minRise` and `spreads` times the parcel's pair-to-pair noise
///    (1.4826 · MAD of consecutive differences / √2) above its level, right after one that is
///    not (each run of high pairs is one event).
/// 3. **Dating**: the cut happened during the pair before the first high one (it decorrelated)
///    or just before: dated 2 days before the first high pair's earlier acquisition.
///
/// Rain between the acquisitions lowers coherence and can hide a cut; it does not make one.
/// What the rise means is decided with Sentinel-2 (see `MarkerEngine`): where clear optical
/// observations surround the date and show no cut, the optical evidence wins.
public struct CoherenceCutDetector: Sendable {
    public var minRise = 0.1
    public var spreads = 3.0
    /// The level of a pair: the median of the pairs within this many days.
    public var localDays = 30
    /// Pairs at least this many to judge a parcel at all.
    public var minPairs = 8
    /// Right after a pair that decorrelated below the level, a rise of this share of `minRise` suffices.
    public var dipRiseShare = 0.6
    /// `watcher`: the largest spacing of pairs, and the rise that is already too much to rule a cut out.
    public var watchSpacing = 13
    public var quietRise = 0.05

    public init() {}

    init(_ d: MarkerOptions.Detector) {
        minRise = d.coherence_rise ?? minRise
    }

    public struct Found: Sendable {
        public let event: Event
        /// Days between the acquisitions of a pair (the series' usual spacing).
        public let pairDays: Int
    }

    /// What is usual for a parcel's pairs: their spacing, pair-to-pair noise and local level.
    struct Levels {
        let pairs: [IndexPoint]
        let pairDays: Int
        let noise: Double
        let seasonLevel: Double
        let localDays: Int

        init?(_ pairs: [IndexPoint], localDays: Int) {
            guard pairs.count >= 2 else { return nil }
            self.pairs = pairs
            self.localDays = localDays
            var steps = zip(pairs, pairs.dropFirst()).map { Double($1.day - $0.day) }
            pairDays = max(1, RobustStatistics.median(reordering: &steps).map { Int($0.rounded()) } ?? 6)
            var diffs = zip(pairs, pairs.dropFirst()).map { $1.value - $0.value }
            guard let spread = RobustStatistics.spread(reordering: &diffs) else { return nil }
            noise = spread / 2.squareRoot()
            var all = pairs.map(\.value)
            seasonLevel = RobustStatistics.median(reordering: &all) ?? 0
        }

        /// The median of the pairs within `localDays` of pair k, its neighbours left out.
        func level(_ k: Int) -> Double {
            var near: [Double] = []
            let day = pairs[k].day
            for p in pairs where abs(p.day - day) <= localDays && Double(abs(p.day - day)) > 1.5 * Double(pairDays) { near.append(p.value) }
            return near.count >= 4 ? RobustStatistics.median(reordering: &near) ?? seasonLevel : seasonLevel
        }
    }

    /// `pairs`: one coherence value per pair, dated at its later acquisition, in day order.
    public func detect(_ pairs: [IndexPoint]) -> [Found] {
        guard pairs.count >= minPairs, let levels = Levels(pairs, localDays: localDays) else { return [] }
        let rise = max(minRise, spreads * levels.noise)
        let dipDepth = max(0.05, 2 * levels.noise)
        func high(_ k: Int, _ lvl: Double) -> Bool {
            if pairs[k].value >= lvl + rise { return true }
            // The pair of the cut decorrelates (the sward changed between its acquisitions) and
            // the next one is coherent: after such a dip a smaller rise shows the cut.
            return k > 0 && pairs[k].value >= lvl + rise * dipRiseShare && pairs[k - 1].value <= lvl - dipDepth
                && pairs[k].day - pairs[k - 1].day <= 2 * levels.pairDays
        }
        var out: [Found] = []
        var k = 1
        while k < pairs.count {
            let lvl = levels.level(k)
            guard high(k, lvl), !high(k - 1, lvl) else { k += 1; continue }
            var end = k
            while end + 1 < pairs.count && high(end + 1, lvl) { end += 1 }
            let top = pairs[k...end].max { $0.value < $1.value }!
            let start = pairs[k].day - levels.pairDays
            out.append(Found(event: Event(start: pairs[k - 1].day - levels.pairDays, date: start - 2, end: pairs[end].day,
                                          valueStart: lvl, valueEnd: top.value, magnitude: top.value - lvl,
                                          confidence: min(1, (top.value - lvl) / (2 * rise))),
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
    public func watcher(_ pairs: [IndexPoint]) -> (_ from: Int, _ to: Int) -> Bool {
        guard pairs.count >= minPairs, let levels = Levels(pairs, localDays: localDays) else { return { _, _ in false } }
        let quiet = max(quietRise, 1.5 * levels.noise)
        let isQuiet = pairs.indices.map { pairs[$0].value < levels.level($0) + quiet }
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
