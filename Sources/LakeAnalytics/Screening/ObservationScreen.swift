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

        /// From the observations of `obs` at `indices`.
        init?<C: Collection>(_ obs: [Observed], _ indices: C, withNDVI: Bool = false) where C.Element == Int {
            guard indices.count >= 4 else { return nil }
            var scratch: [Double] = []
            scratch.reserveCapacity(indices.count)
            func median(_ k: Int) -> Double? {
                scratch.removeAll(keepingCapacity: true)
                for i in indices { if let v = obs[i].means[k] { scratch.append(v) } }
                return RobustStatistics.median(reordering: &scratch)
            }
            var points: [(x: Double, y: Double)] = []
            points.reserveCapacity(indices.count)
            for i in indices { if let b = obs[i].means[0], let r = obs[i].means[1] { points.append((r, b)) } }
            line = ClearLine(points)
            red = median(1); nir = median(2); swir = median(3); blueStd = median(BandMeans.blueStd)
            if withNDVI {
                scratch.removeAll(keepingCapacity: true)
                for i in indices { if let v = obs[i].value(.ndvi) { scratch.append(v) } }
                ndvi = RobustStatistics.median(reordering: &scratch)
            } else {
                ndvi = nil
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
            if !regional.shared.isEmpty && regional.shared.contains(o.day) { verdicts[i] = .regional; continue }
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
            for k in around.indices.dropFirst().dropLast() where regional.hazy.contains(obs[around[k]].day) {
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

    init?(_ points: [(x: Double, y: Double)]) {
        var buffer: [Double] = []
        buffer.reserveCapacity(points.count)
        var sorted = points.sorted { $0.x < $1.x }
        guard let first = Self.fit(sorted, &buffer) else { return nil }
        // Haze only lifts blue: the SCL-clear observations it touched (a third of a hazy region's
        // scenes, twice as many where two orbits overlap) lie above the line and tilt and lift
        // it. Fitted again without those more than two spreads above, the line is the clear
        // ground's, the lower boundary the haze-optimised transform looks for; the spread stays
        // that of all points around it (the kept ones alone would make it too tight).
        let limit = 2 * first.spread
        sorted.removeAll { $0.y - first.intercept - first.slope * $0.x > limit }   // keeps the x order
        guard sorted.count < points.count, let line = Self.fit(sorted, &buffer, spread: false) else {
            intercept = first.intercept; slope = first.slope; spread = first.spread
            return
        }
        intercept = line.intercept; slope = line.slope
        spread = Self.residuals(points, slope: line.slope, intercept: line.intercept, &buffer)?.spread ?? 0
    }

    private init(intercept: Double, slope: Double, spread: Double) {
        self.intercept = intercept; self.slope = slope; self.spread = spread
    }

    /// One Theil–Sen fit with the robust spread of its residuals (any order).
    static func fit(_ points: [(x: Double, y: Double)]) -> ClearLine? {
        var buffer: [Double] = []
        return fit(points.sorted { $0.x < $1.x }, &buffer)
    }

    /// One Theil–Sen fit of points in x order, `buffer` its scratch space; without `spread`, the
    /// fit's spread is left 0 (a refit whose spread is measured afterwards over other points).
    private static func fit(_ sorted: [(x: Double, y: Double)], _ buffer: inout [Double], spread: Bool = true) -> ClearLine? {
        guard sorted.count >= 4 else { return nil }
        // Slopes between the i-th and the (i + n/2)-th point in x order: n/2 slopes of widely
        // separated pairs, as robust as all pairs for a line and O(n log n).
        let half = sorted.count / 2
        buffer.removeAll(keepingCapacity: true)
        for i in 0..<half where sorted[i + half].x - sorted[i].x > 1e-9 {
            buffer.append((sorted[i + half].y - sorted[i].y) / (sorted[i + half].x - sorted[i].x))
        }
        // Physically the clear line rises (soil is brighter in blue and red alike); clamp so a
        // few points cannot tilt it absurdly.
        let b = min(2, max(0, RobustStatistics.median(reordering: &buffer) ?? 0))
        guard let r = residuals(sorted, slope: b, intercept: 0, &buffer, spread: spread) else { return nil }
        return ClearLine(intercept: r.centre, slope: b, spread: r.spread)
    }

    /// The median of the points' residuals from the line, and their robust spread (1.4826 ·
    /// MAD; 0 without `spread`); `buffer` is scratch space.
    private static func residuals(_ points: [(x: Double, y: Double)], slope: Double, intercept: Double,
                                  _ buffer: inout [Double], spread: Bool = true) -> (centre: Double, spread: Double)? {
        buffer.removeAll(keepingCapacity: true)
        for p in points { buffer.append(p.y - intercept - slope * p.x) }
        guard let centre = RobustStatistics.median(reordering: &buffer) else { return nil }
        guard spread else { return (centre, 0) }
        for i in buffer.indices { buffer[i] = abs(buffer[i] - centre) }
        guard let mad = RobustStatistics.median(reordering: &buffer) else { return nil }
        return (centre, 1.4826 * mad)
    }

    func residual(x: Double, y: Double) -> Double { y - intercept - slope * x }
}
