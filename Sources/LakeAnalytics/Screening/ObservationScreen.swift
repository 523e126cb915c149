import Foundation

/// What an observation is worth, with the reason: the first test that rejects it names it.
public enum Quality: String, Sendable, CaseIterable {
    /// Usable.
    case clear
    /// Its SCL histogram has pixels of an excluded class (cloud, shadow, cirrus, snow).
    case scl
    /// No SCL histogram, and the option file requires one.
    case noSCL = "no-scl"
    /// No SCL histogram, and brighter in blue than land ever is (B02 reflectance above 0.2
    /// over the parcel's mean): a cloud that nothing else flagged. Or, with or without SCL, red
    /// above 0.2 and three times the parcel's usual (a cloud SCL missed, seen without blue).
    case bright
    /// Bluer than the parcel's clear observations: haze or thin cloud over it (haze-optimised
    /// transform fitted per parcel), its NIR not well below the parcel's usual (a cut or bare soil
    /// lifts blue with red but darkens NIR). Or, between its neighbours: NDVI well below their
    /// line while NIR is not (haze adds light; a cut takes NIR away).
    case haze
    /// Darker in NIR and SWIR at once than usual: a cloud or terrain shadow (a cut or a harvest
    /// darkens NIR but brightens SWIR). Or, between its neighbours: NDVI well below their line
    /// with red darker too (a cut brightens red).
    case shadow
    /// Blue spread within the parcel far above its usual: a cloud edge over part of the field.
    case edge
    /// A drop shared on the same date by most nearby parcels, whatever their crop: atmosphere,
    /// not management (see `RegionalContext`).
    case regional
    /// A dip that is back at the next observation within a week: no canopy regrows that fast.
    case dip

    /// Whether the parcel's own bands or series found atmosphere SCL did not flag.
    var isAtmosphere: Bool {
        switch self {
        case .bright, .haze, .shadow, .edge, .dip: true
        case .clear, .scl, .noSCL, .regional: false
        }
    }
}

/// Screens a parcel's observations beyond SCL, from the parcel's own statistics, its temporal
/// context and the regional context. Each rule compares the observation with the parcel's
/// usual values (medians of its SCL-clear observations), so it needs no regional calibration;
/// rules whose bands are missing are skipped.
public struct ObservationScreen: Sendable {
    /// Haze: blue (B02, reflectance) above the parcel's own clear line (blue against red over its
    /// SCL-clear observations, the haze-optimised transform) by more than this and more than
    /// `spreads` robust deviations.
    public var hazeRise = 0.01
    /// An observation this much greener (NDVI) than the parcel's usual is not judged by its
    /// clear line (`greener_than_usual`; off by default). For arable crops, whose usual is their
    /// soil: measured on meadows, whose usual is green, it let haze through on the spring of
    /// Mediterranean meadows dry from June (second generator 7d: mowing F1 0.906 → 0.878).
    public var greenerThanUsual = Double.infinity
    /// Shadow: NIR and SWIR both below this fraction of the parcel's medians.
    public var shadowFactor = 0.78
    /// Edge: B02 standard deviation above this multiple of the parcel's median …
    public var edgeFactor = 3.0
    /// Dip: an NDVI drop of at least this below both neighbours …
    public var dipDrop = 0.08
    /// … that has recovered this share of the drop at the next observation …
    public var dipRecovery = 0.75
    /// … at most this many days later, or up to three times as long when it regrew faster than
    /// this (NDVI per day): no sward regrows 0.04 a day after a cut.
    public var dipDays = 8
    public var dipRate = 0.04
    /// On a hazy day of the parcel's area (`RegionalDays.hazy`), how far below its neighbours'
    /// line an observation is taken for that haze.
    public var hazyDrop = 0.04
    /// Haze between neighbours: NIR at least this share of the line through its neighbours' NIR.
    /// Haze adds light to NIR too, but the canopy under it varies by a few per cent between
    /// acquisitions; a cut or a harvest takes 20–50 % of NIR away.
    public var nirShare = 0.95
    /// Shadow between neighbours: red at most this share of the line through its neighbours'
    /// red (a shadow darkens red too; a cut raises it, bare ground and hay being brighter).
    public var redShare = 0.9
    /// Thin cloud between neighbours: red at least this multiple of its neighbours' line while
    /// NIR keeps at least `thinCloudNIR` of theirs. A thin cloud brightens red several times
    /// over (to the cloud's own 0.2 reflectance) and dims NIR little; a cut takes 20-50 % of NIR
    /// and less than doubles red (stubble and hay are not that bright).
    public var thinCloudRed = 2.0
    public var thinCloudNIR = 0.8
    /// Robust deviations beyond the parcel's usual a statistic must be to count.
    public var spreads = 3.0
    public var requireSCL = true
    /// Give SCL-flagged observations whose bands contradict SCL back (see `screen`).
    public var overruleSCL = true
    /// Bright: an observation without SCL whose mean blue (B02, DN = reflectance × 10 000) is
    /// above this is cloud. Vegetation reflects 0.02–0.06 in blue, bare and dry soils up to
    /// about 0.15; only cloud and snow reach 0.2.
    public var brightBlue = 2_000.0
    /// Bright in red: an observation whose mean red (B04) is above this (DN) and `brightRedFactor`
    /// times the parcel's usual red is cloud SCL missed, even where there is no blue band. Thin
    /// cloud over a meadow reads 0.2-0.5 in red; the sward 0.02-0.06, stubble, hay and most soils
    /// under 0.15 — and where the parcel's own soil is that bright, so is its usual red.
    public var brightRed = 2_000.0
    public var brightRedFactor = 3.0
    /// Edge: … and by at least this many DN.
    public var edgeExcess = 80.0

    public init() {}

    /// The verdict from SCL alone: scl (an excluded class), no-scl (none, and one is required) or clear.
    static func sclVerdict(_ clear: Bool?, requireSCL: Bool) -> Quality {
        switch clear {
        case true?: return .clear
        case false?: return .scl
        case nil: return requireSCL ? .noSCL : .clear
        }
    }

    /// 1 when the parcel's bands are digital numbers (reflectance × 10 000), 1e-4 when they are
    /// reflectances: the median NIR (B08) of its observations says which (vegetation and soil
    /// reflect 0.1–0.6 in NIR; as DN that is 1,000–6,000).
    static func unit(_ obs: [Observed]) -> Double {
        // Whether the median is below 5, in one pass and without sorting: with n values and
        // `below` of them under 5, the middle value(s) are under 5 when more than half are; for
        // an even count with exactly half under, the median is the mean of the largest value
        // under 5 and the smallest at or above it.
        var n = 0, below = 0
        var largestBelow = -Double.infinity, smallestAbove = Double.infinity
        for o in obs {
            guard let v = o.means[2] else { continue }
            n += 1
            if v < 5 { below += 1; largestBelow = max(largestBelow, v) } else { smallestAbove = min(smallestAbove, v) }
        }
        guard n > 0 else { return 1 }
        let medianBelow5 = 2 * below > n + 1 || (2 * below == n + 1) || (2 * below == n && (largestBelow + smallestAbove) / 2 < 5)
        return medianBelow5 ? 1e-4 : 1
    }

    /// Whether an observation's NDVI lies `greenerThanUsual` or more above the parcel's usual.
    func greener(_ o: Observed, than usual: Usual) -> Bool {
        guard let v = o.value(.ndvi), let u = usual.ndvi else { return false }
        return v >= u + greenerThanUsual
    }

    /// NIR not well below the usual (or unknown).
    static func nirHolds(_ nir: Double?, _ usual: Double?) -> Bool {
        guard let nir, let usual else { return true }
        return nir >= 0.85 * usual
    }

    /// What is usual for a parcel (or, with too few observations of its own, for its peers):
    /// the clear line of blue against red, and the medians of NIR, SWIR and blue spread.
    struct Usual {
        let line: ClearLine?
        let red: Double?, nir: Double?, swir: Double?, blueStd: Double?
        /// The median NDVI of the observations the line was learned from (with `withNDVI` only:
        /// the `greenerThanUsual` guard's, off by default, and every parcel of a run is screened).
        let ndvi: Double?

        init?(_ obs: [Observed]) { self.init(obs, obs.indices) }

        /// From the observations of `obs` at `indices`. The columns are gathered in one pass
        /// into one scratch allocation (on the stack for a season's observations), where the
        /// medians and the clear line are computed in place: this runs for every parcel of a
        /// markers run, and its arrays, sort and copies were a sixth of the run's analysis.
        init?<C: Collection>(_ obs: [Observed], _ indices: C, withNDVI: Bool = false) where C.Element == Int {
            let n = indices.count
            guard n >= 4 else { return nil }
            (line, red, nir, swir, blueStd, ndvi) = withUnsafeTemporaryAllocation(of: Double.self, capacity: (7 + ClearLine.scratchPerPoint) * n) { s in
                let base = s.baseAddress!
                let red = base, nir = base + n, swir = base + 2 * n, blueStd = base + 3 * n, ndvi = base + 4 * n
                let x = base + 5 * n, y = base + 6 * n
                var counts = (red: 0, nir: 0, swir: 0, blueStd: 0, ndvi: 0, points: 0)
                obs.withUnsafeBufferPointer { o in
                    for i in indices {
                        let m = o[i].means
                        if let b = m[0], let r = m[1] { x[counts.points] = r; y[counts.points] = b; counts.points += 1 }
                        if let v = m[1] { red[counts.red] = v; counts.red += 1 }
                        if let v = m[2] { nir[counts.nir] = v; counts.nir += 1 }
                        if let v = m[3] { swir[counts.swir] = v; counts.swir += 1 }
                        if let v = m[BandMeans.blueStd] { blueStd[counts.blueStd] = v; counts.blueStd += 1 }
                        if withNDVI, let v = o[i].value(.ndvi) { ndvi[counts.ndvi] = v; counts.ndvi += 1 }
                    }
                }
                func median(_ p: UnsafeMutablePointer<Double>, _ count: Int) -> Double? {
                    RobustStatistics.median(in: UnsafeMutableBufferPointer(start: p, count: count))
                }
                let line = ClearLine(x: x, y: y, count: counts.points, scratch: base + 7 * n)
                return (line, median(red, counts.red), median(nir, counts.nir), median(swir, counts.swir), median(blueStd, counts.blueStd),
                        withNDVI ? median(ndvi, counts.ndvi) : nil)
            }
        }
    }

    /// Runs of `length` usable observations below the line through the usable observations
    /// around them (each within 30 days) by `dipDrop` in NDVI, each either not below that line in
    /// NIR (by more than `nirShare`): haze or thin cloud, which add light; or below it in red (at
    /// most `redShare` of it): shadow, which darkens red with NIR. A cut does neither: it takes
    /// NIR away and bares brighter ground in red. Observations without NDVI, red or NIR take no part.
    func betweenNeighbours(_ obs: [Observed], _ verdicts: inout [Quality], length: Int) {
        var kept: [(i: Int, day: Int, ndvi: Double, red: Double, nir: Double)] = []
        kept.reserveCapacity(verdicts.count)
        for i in verdicts.indices where verdicts[i] == .clear {
            if let v = obs[i].value(.ndvi), let r = obs[i].means[1], let n = obs[i].means[2] { kept.append((i, obs[i].day, v, r, n)) }
        }
        guard kept.count >= length + 2 else { return }
        var k = 1
        while k + length < kept.count {
            let a = kept[k - 1], b = kept[k + length]
            var verdict: Quality? = kept[k].day - a.day <= 30 && b.day - kept[k + length - 1].day <= 30 ? .clear : nil
            var j = k
            while verdict != nil && j < k + length {
                let o = kept[j], w = Double(o.day - a.day) / Double(b.day - a.day)
                if a.ndvi + (b.ndvi - a.ndvi) * w - o.ndvi < dipDrop {
                    verdict = nil
                } else if o.nir >= nirShare * (a.nir + (b.nir - a.nir) * w) {
                    verdict = .haze
                } else if o.red <= redShare * (a.red + (b.red - a.red) * w) {
                    verdict = verdict == .haze ? .haze : .shadow
                } else if o.red >= thinCloudRed * (a.red + (b.red - a.red) * w), o.nir >= thinCloudNIR * (a.nir + (b.nir - a.nir) * w) {
                    verdict = .haze
                } else {
                    verdict = nil
                }
                j += 1
            }
            if let verdict, verdict != .clear {
                for o in kept[k..<(k + length)] { verdicts[o.i] = verdict }
                k += length + 1
            } else {
                k += 1
            }
        }
    }

    /// One verdict per observation (same order). `regional`: days on which the parcel's area
    /// had a shared drop; `peers`: what is usual for the parcel's peers, used when the parcel has
    /// fewer than 4 clear observations of its own.
    func screen(_ obs: [Observed], regional: RegionalDays = [], peers: Usual? = nil) -> [Quality] {
        var verdicts = obs.map { Self.sclVerdict($0.clear, requireSCL: requireSCL) }
        // The thresholds in reflectance units are DN (reflectance × 10 000, as the JRC tables and
        // L2A products hold them); signatures given as reflectance (0–1) scale them down.
        let unit = Self.unit(obs)
        // Without SCL nothing has flagged thick cloud: the brightness of the blue band does.
        for i in obs.indices where verdicts[i] == .clear && obs[i].clear == nil {
            if let blue = obs[i].means[0], blue > brightBlue * unit { verdicts[i] = .bright }
        }
        let clearIdx = verdicts.indices.keeping { verdicts[$0] == .clear }
        guard let usual = Usual(obs, clearIdx, withNDVI: greenerThanUsual.isFinite) ?? peers else { return verdicts }
        let line = usual.line
        for i in clearIdx {
            let o = obs[i]
            if let red = o.means[1], let usualRed = usual.red, red > brightRed * unit, red > brightRedFactor * usualRed {
                verdicts[i] = .bright; continue
            }
            // Haze brightens NIR a little; a cut, a harvest or bare soil darken it and lift blue
            // and red together along the soil line: a blue excess with NIR well below usual is
            // the ground, not the air.
            // An arable parcel's line is learned mostly on its soil and stubble; its green crop,
            // bluer against red than soil, lies above that line without any haze. Haze lowers
            // NDVI, so where the option file says so, an observation greener than the parcel's
            // usual by `greenerThanUsual` is its crop, not haze (haze over a crop shows as a dip,
            // `betweenNeighbours`).
            if let line, let blue = o.means[0], let red = o.means[1],
               line.residual(x: red, y: blue) > max(hazeRise * 10_000 * unit, spreads * line.spread),
               Self.nirHolds(o.means[2], usual.nir), !greener(o, than: usual) { verdicts[i] = .haze; continue }
            if let nir = usual.nir, let swir = usual.swir, let n = o.means[2], let s = o.means[3], n < shadowFactor * nir, s < shadowFactor * swir {
                verdicts[i] = .shadow; continue
            }
            if let blueStd = usual.blueStd, let sd = o.blueStd, sd > edgeFactor * blueStd, sd - blueStd > edgeExcess * unit { verdicts[i] = .edge; continue }
            if regional.isShared(o.day) { verdicts[i] = .regional; continue }
        }
        // SCL's false clouds: Sen2Cor takes bright bare soil and dry cut grass for cloud, most
        // often right after a cut. An observation that SCL flagged but whose bands contradict it
        // (blue on the parcel's clear line, blue as uniform within the parcel as usual, NIR and
        // SWIR not shadow-dark) is clear. Needs the blue band, its spread and the line.
        if overruleSCL, let line, let blueStd = usual.blueStd {
            for i in obs.indices where verdicts[i] == .scl {
                let o = obs[i]
                guard let blue = o.means[0], let red = o.means[1], let sd = o.blueStd,
                      line.residual(x: red, y: blue) <= line.spread, sd <= 1.5 * blueStd + edgeExcess * unit else { continue }
                // Not even a little darker in both NIR and SWIR (a partial shadow); bright soil and
                // cut grass are brighter in SWIR than the sward.
                if let nir = usual.nir, let swir = usual.swir, let n = o.means[2], let s = o.means[3], n < 0.9 * nir, s < 0.9 * swir { continue }
                verdicts[i] = .clear
            }
        }
        // On a day most of the area's parcels were hazy: an observation below the line through
        // its usable neighbours (each within `dipDays`) by `hazyDrop` is that haze, thinner here.
        if !regional.hazy.isEmpty {
            let around = verdicts.indices.keeping { verdicts[$0] == .clear }
            for k in around.indices.dropFirst().dropLast() where regional.isHazy(obs[around[k]].day) {
                let a = obs[around[k - 1]], o = obs[around[k]], b = obs[around[k + 1]]
                guard o.day - a.day <= dipDays, b.day - o.day <= dipDays, let va = a.value(.ndvi), let v = o.value(.ndvi), let vb = b.value(.ndvi) else { continue }
                let line = va + (vb - va) * Double(o.day - a.day) / Double(b.day - a.day)
                if v <= line - hazyDrop { verdicts[around[k]] = .regional }
            }
        }
        // Temporal context on what is left: a dip back within a week.
        let kept = verdicts.indices.keeping { verdicts[$0] == .clear }
        let ndvi = kept.map { obs[$0].value(.ndvi) }
        if kept.count >= 3 {
            for k in 1..<(kept.count - 1) {
                guard let v = ndvi[k], let a = ndvi[k - 1], let b = ndvi[k + 1] else { continue }
                let drop = a - v
                let back = obs[kept[k + 1]].day - obs[kept[k]].day
                guard drop >= dipDrop, b - v >= dipDrop, b - v >= dipRecovery * drop,
                      back <= dipDays || (back <= 3 * dipDays && (b - v) / Double(back) >= dipRate) else { continue }
                verdicts[kept[k]] = .dip
            }
            // Haze and shadow in their temporal context, from red and NIR alone (the only such
            // tests where a lake has no blue or SWIR band): one observation, then two in a row
            // (haze over consecutive acquisitions), whose NDVI dips below the usable ones around
            // them while NIR holds (haze adds light) or red darkens with NIR (shadow); a cut takes
            // NIR away and brightens red (see `betweenNeighbours`).
            for length in 1...2 { betweenNeighbours(obs, &verdicts, length: length) }
        }
        return verdicts
    }

}

/// A robust line y = a + b·x through points (a Theil–Sen median of slopes), with
/// the robust spread of the residuals: the parcel's clear line of blue against red, from which
/// haze lifts an observation (Zhang et al.'s haze-optimised transform, fitted per parcel).
struct ClearLine {
    let intercept: Double, slope: Double, spread: Double

    /// Scratch doubles a fit needs per point besides the points' own x and y (see `init(x:y:count:scratch:)`).
    static let scratchPerPoint = 3

    init?(_ points: [(x: Double, y: Double)]) {
        let n = points.count
        guard let line = withUnsafeTemporaryAllocation(of: Double.self, capacity: (2 + Self.scratchPerPoint) * max(1, n), { s -> ClearLine? in
            let x = s.baseAddress!, y = x + n
            for (i, p) in points.enumerated() { x[i] = p.x; y[i] = p.y }
            return ClearLine(x: x, y: y, count: n, scratch: y + n)
        }) else { return nil }
        self = line
    }

    /// The line through the `count` points (`x[i]`, `y[i]`), which it puts in x order (a
    /// stable order: points of equal x keep theirs); `scratch` holds `scratchPerPoint` doubles
    /// a point.
    init?(x: UnsafeMutablePointer<Double>, y: UnsafeMutablePointer<Double>, count n: Int, scratch: UnsafeMutablePointer<Double>) {
        Self.sortByX(x, y, n)
        guard let first = Self.fit(x, y, n, scratch) else { return nil }
        // Haze only lifts blue: the SCL-clear observations it touched (a third of a hazy region's
        // scenes, twice as many where two orbits overlap) lie above the line and tilt and lift
        // it. Fitted again without those more than two spreads above, the line is the clear
        // ground's, the lower boundary the haze-optimised transform looks for; the spread stays
        // that of all points around it (the kept ones alone would make it too tight).
        let limit = 2 * first.spread
        let keptX = scratch + n, keptY = scratch + 2 * n
        var kept = 0
        for i in 0..<n where !(y[i] - first.intercept - first.slope * x[i] > limit) {   // keeps the x order
            keptX[kept] = x[i]; keptY[kept] = y[i]; kept += 1
        }
        guard kept < n, let line = Self.fit(keptX, keptY, kept, scratch, spread: false) else {
            self = first
            return
        }
        intercept = line.intercept; slope = line.slope
        spread = Self.residuals(x, y, n, slope: line.slope, intercept: line.intercept, scratch)?.spread ?? 0
    }

    init(intercept: Double, slope: Double, spread: Double) {
        self.intercept = intercept; self.slope = slope; self.spread = spread
    }

    /// One Theil–Sen fit with the robust spread of its residuals (any order).
    static func fit(_ points: [(x: Double, y: Double)]) -> ClearLine? {
        let n = points.count
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: 3 * max(1, n)) { s in
            let x = s.baseAddress!, y = x + n
            for (i, p) in points.enumerated() { x[i] = p.x; y[i] = p.y }
            sortByX(x, y, n)
            return fit(x, y, n, y + n)
        }
    }

    /// Puts the points in x order, stably: insertion sort for a season's points (no allocation,
    /// no comparator calls), Swift's stable sort beyond.
    static func sortByX(_ x: UnsafeMutablePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int) {
        guard n > 1 else { return }
        guard n <= 80 else {
            var points = (0..<n).map { (x: x[$0], y: y[$0]) }
            points.sort { $0.x < $1.x }
            for (i, p) in points.enumerated() { x[i] = p.x; y[i] = p.y }
            return
        }
        for i in 1..<n {
            let vx = x[i], vy = y[i]
            var j = i
            while j > 0 && x[j - 1] > vx { x[j] = x[j - 1]; y[j] = y[j - 1]; j -= 1 }
            x[j] = vx; y[j] = vy
        }
    }

    /// One Theil–Sen fit of `n` points in x order, `scratch` (n doubles) its working space;
    /// without `spread`, the fit's spread is left 0 (a refit whose spread is measured afterwards
    /// over other points).
    private static func fit(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ n: Int, _ scratch: UnsafeMutablePointer<Double>,
                            spread: Bool = true) -> ClearLine? {
        guard n >= 4 else { return nil }
        // Slopes between the i-th and the (i + n/2)-th point in x order: n/2 slopes of widely
        // separated pairs, as robust as all pairs for a line and O(n log n).
        let half = n / 2
        var m = 0
        for i in 0..<half where x[i + half] - x[i] > 1e-9 {
            scratch[m] = (y[i + half] - y[i]) / (x[i + half] - x[i]); m += 1
        }
        // Physically the clear line rises (soil is brighter in blue and red alike); clamp so a
        // few points cannot tilt it absurdly.
        let b = min(2, max(0, RobustStatistics.median(in: UnsafeMutableBufferPointer(start: scratch, count: m)) ?? 0))
        guard let r = residuals(x, y, n, slope: b, intercept: 0, scratch, spread: spread) else { return nil }
        return ClearLine(intercept: r.centre, slope: b, spread: r.spread)
    }

    /// The median of the points' residuals from the line, and their robust spread (1.4826 ·
    /// MAD; 0 without `spread`); `scratch` (n doubles) is working space.
    private static func residuals(_ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>, _ n: Int, slope: Double, intercept: Double,
                                  _ scratch: UnsafeMutablePointer<Double>, spread: Bool = true) -> (centre: Double, spread: Double)? {
        let r = UnsafeMutableBufferPointer(start: scratch, count: n)
        for i in 0..<n { r[i] = y[i] - intercept - slope * x[i] }
        guard let centre = RobustStatistics.median(in: r) else { return nil }
        guard spread else { return (centre, 0) }
        for i in 0..<n { r[i] = abs(r[i] - centre) }
        guard let mad = RobustStatistics.median(in: r) else { return nil }
        return (centre, 1.4826 * mad)
    }

    func residual(x: Double, y: Double) -> Double { y - intercept - slope * x }
}
