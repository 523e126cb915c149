/// Harvests (type `harvest`): the day an arable crop's field became the stubble it keeps.
///
/// A cereal's NDVI falls in two parts: weeks of ripening (the canopy yellows, 0.8 → 0.35) and
/// then the harvest itself, a short step to stubble (0.35 → 0.2) that the field keeps until it
/// is tilled or a catch crop comes up. Dating "the middle of the fall" lands in the ripening,
/// weeks early; a fall detector broken by one noisy or hazy value finds nothing. This detector
/// reads the usable observations as they are (no smoothing):
///
/// 1. **Settled**: the harvest's first stubble observation is the first one that
///    - lies at least `minDrop` below the highest observation before it, which is at least
///      `minStart` (the crop was there);
///    - has nothing lower to come: the median of the observations of the next `settleDays` is
///      not below it by more than the tolerance (a ripe crop still standing falls further at
///      the harvest; stubble does not);
///    - is no dip: that median is not above it by more than twice the tolerance (a shadow or
///      thin cloud the screening missed is back at the next clear observation).
///    The tolerance is `tolerance` or 1.5× the parcel's observation noise (`CutDetector.noise`),
///    whichever is larger. A ripe crop's last weeks can fall by less than that, and a cloudy
///    spell can hide the harvest: an observation within 3 × `settleDays` that lies a harvest's
///    step lower (twice the tolerance, at least half of `minDrop`) and settles there is the
///    first stubble observation instead. The harvest happened after the observation before it
///    (`start`, the crop still stood) and by that first stubble observation (`end`).
/// 2. **Dated by Sentinel-2**: the middle of that interval, but no later than `dateBefore` days
///    before the first stubble observation. Stubble stays, so a harvest behind a long cloudy gap
///    is as likely early in the gap as late (unlike a cut, which regrows).
/// 3. **Dated by Sentinel-1 coherence across a gap** (interval longer than `radarGap` days and
///    coherence pairs at most `maxPairDays` apart): standing crop decorrelates between two
///    acquisitions, stubble keeps, and the pair that spans the harvest decorrelates most. The
///    first stubble pair that best shows both (`step`) dates the harvest 2 days before its
///    earlier acquisition, kept within the interval. Rain and frost are divided out against the
///    area's own level (`weatherFree`).
///
/// After a harvest a new crop must grow to `minStart` before the next.
public struct HarvestDetector: Sendable {
    public var minDrop = 0.25
    public var minStart = 0.45
    public var settleDays = 20
    public var tolerance = 0.05
    /// … or this many times the parcel's observation noise, if larger. Not 3× as for cuts: the
    /// noise is learned from close triples, and on an arable curve those include the ripening's
    /// and the green-up's bends, so a larger multiple let a ripe crop still standing pass for
    /// stubble (the second generator's wheat, seed 8a: F1 0.793 with 3×, 0.888 with 1.5× or
    /// none; lake-fixtures 0.921 / 0.888 and 0.918 / 0.886).
    public var noiseFactor = 1.5
    public var dateBefore = 3
    public var radarGap = 10
    public var maxPairDays = 12
    public var coherenceStep = 0.1
    /// Days of pairs on each side of a candidate step that are compared.
    public var stepDays = 24
    /// The area's level a pair's weather is judged against: its typical coherence over the
    /// pairs within this many days.
    public var weatherDays = 15

    public init() {}

    init(_ d: MarkerOptions.Detector) {
        minDrop = d.min_drop ?? minDrop
        minStart = d.min_start ?? minStart
        settleDays = d.settle_days ?? settleDays
        coherenceStep = d.coherence_rise ?? coherenceStep
        maxPairDays = d.coherence_max_pair_days ?? maxPairDays
    }

    public struct Found: Sendable {
        public let event: Event
        /// Whether coherence dated it (else the Sentinel-2 interval did).
        public let byCoherence: Bool
    }

    /// `points`: the usable optical observations; `radar`: coherence pairs dated at their later
    /// acquisition (empty: none); `reference`: the area's typical coherence per pair day.
    /// Harvests whose first stubble observation passes `window`.
    public func detect(_ points: [IndexPoint], radar: [IndexPoint] = [], reference: [Int: Double] = [:],
                       window: (Int) -> Bool = { _ in true }) -> [Found] {
        guard points.count >= 3 else { return [] }
        let tol = max(tolerance, noiseFactor * CutDetector.noise(points))
        let coherence = Self.weatherFree(radar, reference, weatherDays: weatherDays)
        var found: [Found] = []
        var peak = -Double.infinity
        var later: [Double] = []
        later.reserveCapacity(8)
        var k = 0
        while k < points.count {
            defer { peak = max(peak, points[k].value); k += 1 }
            guard k > 0, peak >= minStart else { continue }
            guard peak - points[k].value >= minDrop, settles(points, k, tol: tol, &later) else { continue }
            // A ripe crop's last weeks fall slowly, within the tolerance, and a cloudy spell can
            // hide the harvest itself: the field seen again lower by a harvest's step, and
            // settled there, is the stubble (the first such one; a new crop rising ends the search).
            let stubbleStep = max(2 * tol, minDrop / 2)
            var j = k + 1
            while j < points.count && points[j].day <= points[k].day + 3 * settleDays && points[j].value <= points[k].value + 2 * tol {
                if points[k].value - points[j].value >= stubbleStep && settles(points, j, tol: tol, &later) { k = j; break }
                j += 1
            }
            let v = points[k].value
            let a = points[k - 1].day, b = points[k].day
            if window(b) {
                var date = max(a + 1, min(b - dateBefore, (a + b) / 2))
                var byCoherence = false
                if b - a > radarGap, let step = step(coherence, after: a, by: b) {
                    date = max(a + 1, min(b - 1, step)); byCoherence = true
                }
                found.append(Found(event: Event(start: a, date: date, end: b, valueStart: peak, valueEnd: v, magnitude: peak - v,
                                                confidence: min(1, (peak - v) / (2 * minDrop)), settled: b),
                                   byCoherence: byCoherence))
            }
            // A new crop must grow (to `minStart`) before the next harvest.
            peak = -.infinity
        }
        return found
    }

    /// Whether the field settled at observation `k`: the median of the observations of the next
    /// `settleDays` (at least two, up to 3 × `settleDays`) is neither below it by more than `tol`
    /// (nothing lower to come) nor above it by more than twice that (no dip). `later` is scratch.
    func settles(_ points: [IndexPoint], _ k: Int, tol: Double, _ later: inout [Double]) -> Bool {
        let v = points[k].value
        later.removeAll(keepingCapacity: true)
        var j = k + 1
        while j < points.count && (points[j].day <= points[k].day + settleDays || (later.count < 2 && points[j].day <= points[k].day + 3 * settleDays)) {
            later.append(points[j].value); j += 1
        }
        guard let settled = RobustStatistics.median(reordering: &later) else { return false }
        return settled >= v - tol && settled <= v + 2 * tol
    }

    /// Coherence with the area's weather divided out: each pair times the area's local level
    /// (the median of its typical coherence over the pairs within `weatherDays`) over its
    /// typical coherence on that pair. Rain or frost moves the whole area for one pair and is
    /// taken out; the slow drift of the area's crops through the season (its meadows and maize
    /// growing up, its cereals ripening) is kept out of the correction, so that it does not
    /// make a standing crop look like stubble. Pairs without the area's value stay as they are.
    static func weatherFree(_ radar: [IndexPoint], _ reference: [Int: Double], weatherDays: Int) -> [IndexPoint] {
        guard !radar.isEmpty, !reference.isEmpty else { return radar }
        let known = radar.compactMap { p in reference[p.day].map { (day: p.day, value: $0) } }
        let levels = RobustStatistics.localMedians(known, days: weatherDays, least: 3)
        var k = 0   // the pair's place in `known`
        return radar.map { p in
            guard let r = reference[p.day] else { return p }
            defer { k += 1 }
            guard r >= 0.02, let level = levels[k] else { return p }
            return IndexPoint(day: p.day, value: p.value * level / r, clear: p.clear)
        }
    }

    /// The day of the harvest in coherence between optical days `a` and `b` (see the type's
    /// comment), or nil when the pairs do not show it. Each candidate first stubble pair (both
    /// its acquisitions after `a`, by `b`) is scored by the two marks a harvest leaves: the
    /// lasting step (the median of the pairs of the `stepDays` from it, less the median of
    /// those of the `stepDays` before the pair that spans the harvest) and that spanning pair's
    /// decorrelation (how far it lies below both its neighbours). A ripening crop's coherence
    /// creeps up for weeks without either. A candidate counts if its step is at least half of
    /// `coherenceStep` and it lies above the spanning pair; the best score wins.
    func step(_ pairs: [IndexPoint], after a: Int, by b: Int) -> Int? {
        guard pairs.count >= 4 else { return nil }
        var spacing = zip(pairs, pairs.dropFirst()).map { Double($1.day - $0.day) }
        guard let pairDays = RobustStatistics.median(reordering: &spacing).map({ Int($0.rounded()) }), pairDays <= maxPairDays else { return nil }
        var best: (score: Double, day: Int)?
        var before: [Double] = [], after: [Double] = []
        for j in 2..<pairs.count {
            let p = pairs[j], spanning = pairs[j - 1]
            guard p.day - pairDays > a, p.day <= b + pairDays else { continue }
            before.removeAll(keepingCapacity: true); after.removeAll(keepingCapacity: true)
            for q in pairs[..<(j - 1)] where q.day >= spanning.day - stepDays { before.append(q.value) }
            for q in pairs[j...] where q.day <= p.day + stepDays { after.append(q.value) }
            guard before.count >= 2, after.count >= 2, p.value > spanning.value,
                  let low = RobustStatistics.median(reordering: &before), let high = RobustStatistics.median(reordering: &after),
                  high - low >= coherenceStep / 2 else { continue }
            let dip = max(0, min(pairs[j - 2].value, p.value) - spanning.value)
            let score = high - low + dip
            if score > best?.score ?? -.infinity { best = (score, p.day - pairDays - 2) }
        }
        return best?.day
    }
}
