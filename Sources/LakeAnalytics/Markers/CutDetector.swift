/// Finds cuts (mowing) in a parcel's screened observations, without smoothing or gap splitting:
///
/// 1. **Candidates**: each fall of the series, a run of consecutive lower observations, whose
///    depth is at least `minDrop` and `noiseFactor` times the parcel's own noise, from a level
///    of at least `minStart`, and that deep already within `fallDays` of its first lower
///    observation (a slow decline over weeks is not a cut). A fall may span a cloudy
///    spell: it is measured between the observations on either side.
///    A fall back by three quarters of its depth within 8 days of its lowest observation, or by
///    half within 4 days, is no cut: no sward regrows that fast.
/// 2. **Confirmation by regrowth**: within `regrowDays` after the lowest observation the signal
///    climbs back by at least `regrowShare` of the depth (and `minRegrow`). A fall that stays low
///    while observations keep coming for `settleDays` is *not* a cut: it is a harvest or ploughing
///    (arable), reported as such. A fall with too little data after it to tell (a cloudy spell)
///    is a cut of lower confidence in the growing season (to 15 September) and unconfirmed
///    after it: an autumn decline is not a cut.
/// 3. **Dating**: the cut happened between the last high and the first low observation of the
///    fall's steepest step; it is dated 3 days before that first low one (never before the day
///    after the high one): NDVI falls on the day of the cut and stays low while the hay dries,
///    so the first low observation is at or after the cut.
///
/// 4. **A fall nobody saw**: the first observation after a gap of more than 20 days (or the
///    first of the season) that lies below the parcel's sward level (the median of the upper
///    half of its April–mid-September observations) by the depth a cut needs, in a season where
///    the sward had already reached that level, and that regrows by half of that deficit within
///    `regrowDays`: the cut fell in the gap (clouds over the high before it). Dated like a fall.
///
/// A rejected candidate blocks nothing, and there is no quiet period: the next cut needs only
/// the series to have climbed again.
public struct CutDetector: Sendable {
    /// The least depth of a cut …
    public var minDrop = 0.08
    /// … and at least this many times the parcel's own noise (see `noise`): a noisy parcel
    /// needs a deeper fall.
    public var noiseFactor = 4.0
    public var minStart = 0.45
    public var regrowDays = 50
    public var regrowShare = 0.2
    public var minRegrow = 0.04
    /// An unconfirmed fall (no data after it to see regrowth, e.g. a cloudy spell) before this
    /// day of the year still counts as a cut, of lower confidence: in the growing season a
    /// meadow's sward does not fall by itself; after it, senescence does.
    public var growingSeasonEnd = 258   // 15 September
    /// The sward's level is learned from observations from this day of the year on (1 April).
    public var growingSeasonStart = 91
    /// An observation this close to the sward level counts as having reached it.
    public var levelTolerance = 0.03
    public var settleDays = 30
    /// Observation noise: a step up smaller than this does not end a fall.
    public var tolerance = 0.02
    /// A cut's fall: the depth must be reached within this many days of the first lower
    /// observation (see `fastFall`).
    public var fallDays = 8
    /// … and that fast part must be at least this share of the fall's whole depth: a meadow
    /// drying over ten weeks in a Mediterranean summer (0.85 → 0.29, 0.20 of it within 10 days)
    /// is not a cut, however its autumn regrowth looks.
    public var fastShare = 0.6
    /// A fall whose lowest observation is below this is down to bare soil (NDVI of bare soils
    /// 0.05–0.2; a mown sward keeps its stubble, 0.3 and above): ploughing, not a cut.
    public var soilLevel = 0.22
    /// A fall that climbs back by `transientRecovery` of its depth within `transientDays` of its
    /// lowest observation is not a cut (the screening's dip rule, for falls of several observations).
    public var transientDays = 8
    public var transientRecovery = 0.75
    /// … nor one back by `quickRecovery` of its depth within `quickDays`: a mown sward lies low
    /// while the hay dries and is taken, and only then grows (at most a third back in 4 days
    /// where it regrows fastest). Where two orbits overlap, a meadow is seen every 2–3 days, and
    /// a haze or a sun angle that lowers one acquisition is back at the next.
    public var quickDays = 4
    public var quickRecovery = 0.5
    /// A fall down this soon after a cut's low, from before the sward grew, is the same cut's
    /// second step (the hay taken after the swath dried).
    public var hayDays = 10

    public init() {}

    /// A `cut` detector of an option file (its defaults where the file says nothing).
    init(_ d: MarkerOptions.Detector) {
        minDrop = d.min_drop ?? minDrop
        minStart = d.min_start ?? minStart
        regrowDays = d.regrow_days ?? regrowDays
        regrowShare = d.regrow_share ?? regrowShare
        settleDays = d.settle_days ?? settleDays
        fallDays = d.fall_days ?? fallDays
        fastShare = d.fast_share ?? fastShare
        soilLevel = d.soil_level ?? soilLevel
        noiseFactor = d.noise_factor ?? noiseFactor
    }

    public enum Kind: String, Sendable {
        /// A fall confirmed by regrowth.
        case cut
        /// A fall that stayed low while observations continued: harvest or ploughing.
        case harvest
        /// A fall with too little data after it to tell (end of the season, clouds): not counted.
        case unconfirmed
    }

    public struct Found: Sendable {
        public let kind: Kind
        public let event: Event
        /// Days between the last high and the first low observation.
        public let uncertainty: Int
        public let regrowth: Double?
    }

    /// The observation noise of a series, from what a smooth curve cannot explain: for every
    /// three consecutive observations within `spanDays`, the middle one minus the line
    /// through its neighbours; 1.4826 · MAD of those / √1.5 (the spread of one observation).
    /// Only close triples count: over a long cloudy gap the canopy itself changes (green-up,
    /// cuts, senescence), and differences across such gaps would make a sparse series look
    /// noisy and hide its cuts. A triple whose middle lies `eventDepth` or more below its
    /// neighbours' line and whose next observation has made up less than half of the fall is an
    /// event's low (a cut; a dip that is back at once is not), not noise: it is left out, and so
    /// are the two triples that have that low at an end. Every
    /// cut touches three triples; at a 10-day revisit (one satellite) a meadow with three cuts
    /// has more such triples than quiet ones, and no robust spread survives that share.
    /// Fewer than `minTriples` close triples left: 0 (only `minDrop` holds).
    static func noise(_ points: [IndexPoint], spanDays: Int = 20, eventDepth: Double = 0.08) -> Double {
        guard points.count >= 3 else { return 0 }
        // residual[k - 1] is the triple centred on k (nan where the triple is not close).
        var residual = [Double](repeating: .nan, count: points.count - 2)
        var low = [Bool](repeating: false, count: points.count)
        for k in 1..<(points.count - 1) {
            let a = points[k - 1], b = points[k], c = points[k + 1]
            guard c.day - a.day <= spanDays, c.day > a.day else { continue }
            let w = Double(b.day - a.day) / Double(c.day - a.day)
            let r = b.value - (a.value + (c.value - a.value) * w)
            residual[k - 1] = r
            // An event's low stays low: the next observation has made up less than half of the
            // fall. A one-observation dip that is back at once is noise (or atmosphere) and counts.
            if r <= -eventDepth && a.value - c.value >= 0.5 * (a.value - b.value) { low[k] = true }
        }
        var r: [Double] = []
        r.reserveCapacity(residual.count)
        for k in 1..<(points.count - 1) where !residual[k - 1].isNaN && !low[k - 1] && !low[k] && !low[k + 1] {
            r.append(residual[k - 1])
        }
        guard r.count >= minTriples else { return 0 }
        return (RobustStatistics.spread(reordering: &r) ?? 0) / 1.5.squareRoot()
    }

    /// The fewest close triples a parcel's noise is estimated from. In a cloudy season the few
    /// close triples there are often hold the cuts themselves (the low and its regrowth within 20
    /// days): from 5 of them a meadow's noise came out at 0.13, four times that (0.52) exceeded
    /// its 0.51-deep cut, and the cut was lost. With fewer, only `minDrop` holds.
    static let minTriples = 10

    /// The deepest part of the fall from `top` to `bottom` that happened fast: from an
    /// observation to the lowest one at most `fallDays` after the next observation. A mower takes
    /// the canopy in a day and the hay is gone within a week, so a cut's fall is one step (across
    /// however long a cloudy gap) and at most a few days' drying after it; the same depth gathered
    /// step by step over weeks is senescence, drought, lodging or grazing.
    func fastFall(_ points: [IndexPoint], from top: Int, to bottom: Int) -> Double {
        var deepest = 0.0
        for j in top..<bottom {
            let reach = points[j + 1].day + fallDays
            var k = j + 1, lowest = points[j + 1].value
            while k + 1 <= bottom && points[k + 1].day <= reach { k += 1; lowest = min(lowest, points[k].value) }
            deepest = max(deepest, points[j].value - lowest)
        }
        return deepest
    }

    /// `points`: usable observations in day order (one per day). `floors`: observations screened
    /// out as haze, in day order, that can only understate the signal (haze adds light to red
    /// more than to NIR, so NDVI under it is lower than the canopy's): a hazy observation above
    /// a fall's low proves at least that much regrowth. They count for regrowth only; a cut
    /// whose one observation after the low was hazy (mild haze is common in September) was
    /// otherwise unconfirmed, and after the growing season not a cut.
    ///
    /// `season`: the area's median signal per day over parcels of the same selection (see
    /// `RegionalContext`). Where it lies below `minStart` for most of the `settleDays` after a
    /// fall, the area's meadows are dormant (a Mediterranean summer, a drought): a meadow cut
    /// just before stays low with them, and staying low is then no sign of a harvest.
    public func detect(_ points: [IndexPoint], floors: [IndexPoint] = [], season: SeasonLevels = [:]) -> [Found] {
        let n = points.count
        guard n >= 2 else { return [] }
        let minDrop = max(self.minDrop, noiseFactor * Self.noise(points, eventDepth: self.minDrop))
        var found: [Found] = []
        var i = 0
        while i < n - 1 {
            // A fall starts where the next observation is lower.
            guard points[i + 1].value < points[i].value - tolerance else { i += 1; continue }
            let s = i
            var e = s + 1
            // The lowest point of the run (small rises within noise do not end it).
            var k = e
            while k + 1 < n && points[k + 1].value < points[e].value + tolerance {
                k += 1
                if points[k].value < points[e].value { e = k }
            }
            // The level before the fall: the highest of the start and the observation before it
            // (a fall whose first step is slow still starts from the canopy).
            var top = s
            if s > 0 && points[s - 1].value > points[top].value && points[s].day - points[s - 1].day <= 20 { top = s - 1 }
            let depth = points[top].value - points[e].value
            defer { i = max(e, s + 1) }
            guard depth >= minDrop, points[top].value >= minStart, fastFall(points, from: top, to: e) >= max(minDrop, fastShare * depth) else { continue }
            // Back within a week: no sward regrows that fast. A fall of several observations that
            // recovers most of its depth this soon is atmosphere the screening missed (haze over
            // two acquisitions of overlapping orbits, a shadow, a cloud's edge), the dip rule's
            // case over more than one observation.
            if recovers(points, from: e, by: transientRecovery * depth, within: transientDays)
                || recovers(points, from: e, by: quickRecovery * depth, within: quickDays) { continue }
            // The steepest step dates the event.
            var step = top
            for j in top..<e where points[j].value - points[j + 1].value > points[step].value - points[step + 1].value { step = j }
            let high = points[step].day, low = points[step + 1].day
            let date = max(high + 1, low - 3)
            // Regrowth after the lowest observation.
            let low0 = points[e].value
            var best = low0
            var j = e + 1
            while j < n && points[j].day - points[e].day <= regrowDays {
                best = max(best, points[j].value); j += 1
            }
            for f in floors where f.day > points[e].day && f.day - points[e].day <= regrowDays { best = max(best, f.value) }
            let regrowth = best - low0
            let regrew = regrowth >= max(minRegrow, regrowShare * depth)
            // Stayed low: at least two observations over `settleDays` after the fall, none of
            // them back above the middle of the fall.
            let middle = points[top].value - depth / 2
            var lowAfter = 0, lastLow = points[e].day, stayedLow = true
            j = e + 1
            while j < n && points[j].day - points[e].day <= settleDays * 3 / 2 {
                if points[j].value > middle { stayedLow = false; break }
                lowAfter += 1; lastLow = points[j].day; j += 1
            }
            let settled = stayedLow && lowAfter >= 2 && lastLow - points[e].day >= settleDays
                && !dormant(season, from: points[e].day + 1, to: points[e].day + settleDays)
            let inSeason = Days.dayOfYear(date) <= growingSeasonEnd
            // Down to bare soil: ploughing (and resowing), not a cut — a mower leaves stubble.
            // Unless the area's meadows are dormant then (a dry sward can be as low).
            let ploughed = low0 < soilLevel && !dormant(season, from: points[e].day - 10, to: points[e].day + 10)
            let kind: Kind = ploughed ? .harvest : regrew || (!settled && inSeason) ? .cut : settled ? .harvest : .unconfirmed
            var confidence = min(1, depth / (2 * minDrop))
            if !regrew { confidence *= 0.6 }
            if low - high > 20 { confidence *= 0.8 }
            // The rest of the cut before it: a mown sward's swath lies a few days before the hay
            // is taken, so a cut can fall in two steps, and a noisy acquisition between them
            // splits the fall. A fall down within `hayDays` of a cut's low that started less than
            // a quarter of that cut's depth above it (the sward had not grown) deepens that cut.
            if kind != .harvest, let last = found.last, last.kind == .cut, points[e].day - last.event.end <= hayDays,
               points[top].value - last.event.valueEnd < last.event.magnitude / 4 {
                let bottom = min(last.event.valueEnd, low0)
                found[found.count - 1] = Found(kind: .cut,
                                               event: Event(start: last.event.start, date: last.event.date, end: points[e].day,
                                                            valueStart: last.event.valueStart, valueEnd: bottom,
                                                            magnitude: last.event.valueStart - bottom,
                                                            confidence: max(last.event.confidence, confidence), settled: last.event.settled),
                                               uncertainty: last.uncertainty, regrowth: regrowth)
                continue
            }
            found.append(Found(kind: kind,
                               event: Event(start: high, date: date, end: points[e].day, valueStart: points[top].value,
                                            valueEnd: low0, magnitude: depth, confidence: confidence, settled: low),
                               uncertainty: low - high, regrowth: regrowth))
        }
        return found + unseenFalls(points, depth: minDrop, near: found.map(\.event.date))
    }

    /// Whether an observation within `days` after `low` lies at least `rise` above it.
    func recovers(_ points: [IndexPoint], from low: Int, by rise: Double, within days: Int) -> Bool {
        var j = low + 1
        while j < points.count && points[j].day - points[low].day <= days {
            if points[j].value - points[low].value >= rise { return true }
            j += 1
        }
        return false
    }

    /// Whether the area's season lies below `minStart` over `from...to` (see `RegionalContext.below`).
    func dormant(_ season: SeasonLevels, from: Int, to: Int) -> Bool {
        RegionalContext.below(season, minStart, from: from, to: to)
    }

    /// Step 4: lows after a gap that regrow, where the fall itself fell in the gap.
    func unseenFalls(_ points: [IndexPoint], depth: Double, near known: [Int]) -> [Found] {
        // Each point's place in the growing season, computed once.
        var year = Days.Year()
        let inSeason = points.map { (growingSeasonStart...growingSeasonEnd).contains(year.dayOfYear($0.day)) }
        var season: [Double] = []
        season.reserveCapacity(points.count)
        for (p, s) in zip(points, inSeason) where s { season.append(p.value) }
        guard season.count >= 4 else { return [] }
        season.sort()
        // The median of the upper half, read from the sorted values.
        let upper = season[(season.count / 2)...]
        let middle = upper.startIndex + upper.count / 2
        let level = upper.count % 2 == 1 ? upper[middle] : (upper[middle - 1] + upper[middle]) / 2
        guard let firstOfSeason = inSeason.firstIndex(of: true).map({ points[$0].day }) else { return [] }
        var out: [Found] = []
        for i in points.indices where inSeason[i] && points[i].value <= level - depth {
            let p = points[i]
            if i > 0 && p.day - points[i - 1].day <= 20 { continue }
            guard points[..<i].contains(where: { $0.day >= firstOfSeason - 30 && $0.value >= level - levelTolerance }) else { continue }
            var best = p.value
            for q in points[(i + 1)...] where q.day - p.day <= regrowDays { best = max(best, q.value) }
            let deficit = level - p.value
            guard best - p.value >= max(minRegrow, 0.5 * deficit) else { continue }
            let before = i > 0 ? points[i - 1].day : p.day - 30
            let date = max(before + 1, p.day - 3)
            guard !known.contains(where: { abs($0 - date) <= 20 }) else { continue }
            out.append(Found(kind: .cut,
                             event: Event(start: before, date: date, end: p.day, valueStart: level, valueEnd: p.value, magnitude: deficit,
                                          confidence: 0.6 * min(1, deficit / (2 * depth)), settled: p.day),
                             uncertainty: p.day - before, regrowth: best - p.value))
        }
        return out
    }
}

/// Runs of usable observations below `below` lasting at least `minDays` (bare soil for weeks:
/// an arable curve), each as an event dated at its middle with its number of observations.
public struct SpellDetector: Sendable {
    public var below: Double
    public var minDays: Int
    public init(below: Double, minDays: Int) { self.below = below; self.minDays = minDays }

    /// Whether the parcel's area shared a spell: on the days of the spell the area's season
    /// (the median of its sampled parcels of the same selection, see `RegionalContext`) was
    /// itself below `below + margin` on at least half of the days it is known, and known on at
    /// least two. A meadow that is as dry as its area's meadows in a Mediterranean summer is not
    /// an arable field; one that is bare while they are green is.
    static func shared(_ event: Event, season: SeasonLevels, below: Double, margin: Double = 0.1) -> Bool {
        RegionalContext.below(season, below + margin, from: event.start, to: event.end)
    }

    public func detect(_ points: [IndexPoint]) -> [(event: Event, observations: Int)] {
        var out: [(Event, Int)] = []
        var k = 0
        while k < points.count {
            guard points[k].value < below else { k += 1; continue }
            var j = k
            while j + 1 < points.count && points[j + 1].value < below { j += 1 }
            let length = points[j].day - points[k].day
            if j > k && length >= minDays {
                out.append((Event(start: points[k].day, date: (points[k].day + points[j].day) / 2, end: points[j].day,
                                  valueStart: points[k].value, valueEnd: points[j].value,
                                  magnitude: Double(length), confidence: min(1, Double(j - k + 1) / 4)), j - k + 1))
            }
            k = j + 1
        }
        return out
    }
}
