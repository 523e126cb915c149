import Foundation
import LakeSQLite
import LakeStore

/// The spatial context of observations: a drop shared on the same date by most parcels of an
/// area, whatever their crop, is atmosphere (haze, thin cloud, shadow SCL missed), not
/// management — farmers do not all mow on one day.
///
/// The lake is cut into square areas (`size` metres, from each parcel's bounding-box centre in
/// the spatial index). From up to `samplePerArea` parcels of each area, each usable
/// observation's residual is taken: its value minus the line between its neighbours (each
/// within 30 days). An area's date is shared when at least `minParcels` parcels saw it, their
/// median residual is below `-minDrop`, and `minShare` of them dropped by at least
/// `minDrop / 2`. A date is **hazy** when the same holds once the observations each sampled
/// parcel's own screening took out as atmosphere (haze, shadow, edge, dip) count as drops: the
/// parcels left usable that day are those the haze was thinner over (`RegionalDays`). That
/// reasoning needs crops that farmers do not manage in step: an area whose sample is mostly one
/// crop (above `maxCropShare`, e.g. a lake of meadows alone, mown in the same dry week) learns
/// a shared date only where the drop was also back: `minShare` of the parcels recovered at
/// least `recoveryShare` of it at their next observation, within `recoveryDays`. A mown sward
/// lies in swaths and regrows after a lag, over weeks; haze is gone at the next clear scene. (By
/// its drop alone, a synchronized cut and a haze look alike there.)
///
/// The sampled parcels of the option file's own selection (e.g. the meadows) give each area's
/// **season**: their median signal per day. A meadow that is "bare" while most meadows of its area
/// are as low (a Mediterranean summer, a drought) shares the weather's curve, not an arable one.
///
/// The same sample gives each area's typical Sentinel-1 coherence on every pair (the median of
/// at least `minParcels` parcels): rain, wind, calm or frost between two acquisitions move the
/// coherence of every field of the area together, and the coherence cut detector divides it out.
/// And the area's **weather** on every pair: the median over the sampled parcels of the pair's
/// coherence as a share of the parcel's own level around it (the median of its pairs within
/// `weatherDays`), about 0.6 after rain, 1 on an ordinary pair. Unlike the typical coherence, it
/// does not follow the mix of crops: in spring, when bare arable fields lift the typical
/// coherence to 0.5–0.6, a meadow's 0.14 is as far from it as its cut's 0.35.
public struct RegionalContext: Sendable {
    public var size = 5_000.0
    public var samplePerArea = 32
    public var minParcels = 6
    public var minDrop = 0.04
    public var minShare = 0.6
    public var maxCropShare = 0.6
    /// In an area of one crop: a parcel's drop counts as back where its next observation, at
    /// most `recoveryDays` later, regained `recoveryShare` of it.
    public var recoveryShare = 0.75
    public var recoveryDays = 10

    /// Declared crop per parcel (pid → crop code), when known.
    var crops: [Int64: String] = [:]

    private(set) var area: [Int64: Int64] = [:]
    private(set) var shared: [Int64: Set<Int>] = [:] { didSet { contexts = nil } }
    private(set) var hazy: [Int64: Set<Int>] = [:] { didSet { contexts = nil } }
    /// The residual a parcel's atmospheric observation (taken out by its own screening) counts as.
    static let atmosphere = -1.0
    private(set) var coherence: [Int64: [Int: Double]] = [:] { didSet { contexts = nil } }
    private(set) var weather: [Int64: [Int: Double]] = [:] { didSet { contexts = nil } }
    public var weatherDays = 15
    private(set) var season: [Int64: SeasonLevels] = [:] { didSet { contexts = nil } }
    /// What each area's parcels read of the context, made once after learning (`seal`).
    private var contexts: [Int64: Area]?

    public init() {}

    /// An area's part of the context, as each of its parcels' analysis reads it.
    struct Area: Sendable {
        var days: RegionalDays = []
        var coherence = AreaCoherence()
        var season = SeasonLevels()
    }

    /// Makes each area's `Area` once, after learning: a run's parcels then find theirs with two
    /// lookups (`area(for:)`), where each part looked up apart was seven a parcel.
    mutating func seal() {
        var out: [Int64: Area] = [:]
        for a in Set(shared.keys).union(hazy.keys).union(coherence.keys).union(weather.keys).union(season.keys) { out[a] = made(a) }
        contexts = out
    }

    /// The parcel's area's context (empty parts where the area learned nothing).
    func area(for pid: Int64) -> Area {
        guard let a = area[pid] else { return Area() }
        if let contexts { return contexts[a] ?? Area() }
        return made(a)
    }

    /// Area `a`'s parts from what was learned.
    private func made(_ a: Int64) -> Area {
        Area(days: RegionalDays(shared: shared[a] ?? [], hazy: hazy[a] ?? []),
             coherence: AreaCoherence(reference: coherence[a] ?? [:], weather: weather[a] ?? [:]),
             season: season[a] ?? SeasonLevels())
    }

    /// Days with a shared drop over the parcel's area.
    func days(for pid: Int64) -> RegionalDays { area(for: pid).days }

    public var sharedDates: Int { shared.values.reduce(0) { $0 + $1.count } }

    /// The area's typical coherence and weather per pair day, for the parcel's area (empty when unknown).
    func coherence(for pid: Int64) -> AreaCoherence { area(for: pid).coherence }

    /// The median signal of the selection's sampled parcels of the parcel's area per day (empty
    /// when unknown).
    func season(for pid: Int64) -> SeasonLevels { area(for: pid).season }

    /// Whether an area's season lies below `level` on at least half of the days of `from...to`
    /// it is known on, and is known on at least two.
    static func below(_ season: SeasonLevels, _ level: Double, from: Int, to: Int) -> Bool {
        season.below(level, from: from, to: to)
    }

    /// Days with a season level, over all areas.
    public var seasonDays: Int { season.values.reduce(0) { $0 + $1.count } }

    /// Pairs with an area reference, over all areas.
    public var referencePairs: Int { coherence.values.reduce(0) { $0 + $1.count } }

    /// Areas of the parcels in `pids`, and the sample to learn from: the first `samplePerArea`
    /// of each area (`first`: every crop, for the shared drops and coherence), and as many of
    /// those in `selected` (`season`).
    /// `all`: every parcel's area (`areas`, read on another connection while the plan ran),
    /// which becomes the context's table of areas. (`pids` and `selected` are tests of
    /// membership, so that a run's tables of parcels serve as they are, without a set made of each.)
    mutating func locate(_ all: [Int64: Int64], pids: (Int64) -> Bool, selected: ((Int64) -> Bool)?) -> (first: [Int64], season: [Int64]) {
        area = all
        var members: [Int64: [Int64]] = [:]
        for (pid, key) in all where pids(pid) { members[key, default: []].append(pid) }
        var first: [Int64] = [], season: [Int64] = []
        for parcels in members.values {
            let sorted = parcels.sorted()
            first += sorted.prefix(samplePerArea)
            if let selected { season += sorted.lazy.filter(selected).prefix(samplePerArea) }
        }
        return (first, season)
    }

    /// Every parcel's area (pid → key): the square of `size` metres (a `size` / 100,000 degrees
    /// square in a geographic lake) its bounding-box centre in the spatial index falls in. Reads
    /// `db` only, so it can run on a helper thread's connection.
    static func areas(_ db: Connection, size: Double) throws -> [Int64: Int64] {
        var boxes: [(Int64, Double, Double)] = []
        let s = try db.prepare("SELECT pkid, (xmin + xmax) / 2, (ymin + ymax) / 2 FROM idx_parcels_geom")
        var geographic = true
        while try s.step() {
            let x = s.double(1), y = s.double(2)
            if abs(x) > 180 || abs(y) > 90 { geographic = false }
            boxes.append((s.int(0), x, y))
        }
        let side = geographic ? size / 100_000 : size
        var area: [Int64: Int64] = [:]
        area.reserveCapacity(boxes.count)
        for (pid, x, y) in boxes {
            area[pid] = Int64((x / side).rounded(.down)) &* 1_000_003 &+ Int64((y / side).rounded(.down))
        }
        return area
    }

    /// Puts a parcel in an area, with its crop (tests).
    mutating func areaForTesting(pid: Int64, area key: Int64, crop: String? = nil) {
        area[pid] = key
        if let crop { crops[pid] = crop }
    }

    /// A parcel's area (tests).
    func areaForTesting(pid: Int64) -> Int64? { area[pid] }

    /// Areas whose sampled parcels are mostly one declared crop.
    func uniformAreas(_ pids: [Int64]) -> Set<Int64> {
        guard !crops.isEmpty else { return [] }
        var counts: [Int64: [String: Int]] = [:], totals: [Int64: Int] = [:]
        for pid in pids {
            guard let a = area[pid] else { continue }
            totals[a, default: 0] += 1
            counts[a, default: [:]][crops[pid] ?? "", default: 0] += 1
        }
        return Set(counts.compactMap { a, byCrop in
            Double(byCrop.values.max() ?? 0) > maxCropShare * Double(totals[a] ?? 1) ? a : nil
        })
    }

    /// Residuals of one parcel's usable observations: (day, value − its neighbours' line), and
    /// `atmosphere` on each of the `atmospheric` days (those its own screening took out).
    static func residuals(_ points: [IndexPoint], atmospheric: [Int] = []) -> [(Int, Double)] {
        var out: [(Int, Double)] = atmospheric.map { ($0, atmosphere) }
        forEachBetweenNeighbours(points) { a, v, b in
            let line = a.value + (b.value - a.value) * Double(v.day - a.day) / Double(b.day - a.day)
            out.append((v.day, v.value - line))
        }
        return out
    }

    /// Each observation with an observation before and after it, each within 30 days: the ones
    /// `residuals` and `recoveries` judge.
    private static func forEachBetweenNeighbours(_ points: [IndexPoint], _ body: (IndexPoint, IndexPoint, IndexPoint) -> Void) {
        guard points.count >= 3 else { return }
        for k in 1..<(points.count - 1) {
            let a = points[k - 1], v = points[k], b = points[k + 1]
            guard v.day - a.day <= 30, b.day - v.day <= 30, b.day > a.day else { continue }
            body(a, v, b)
        }
    }

    /// For the observations `residuals` gives a value (and the `atmospheric` days, which count
    /// as back): 1 where the observation dropped by at least `minDrop / 2` below the one before
    /// and the next, at most `recoveryDays` later, regained `recoveryShare` of the drop; else 0.
    func recoveries(_ points: [IndexPoint], atmospheric: [Int] = []) -> [(Int, Double)] {
        var out: [(Int, Double)] = atmospheric.map { ($0, 1) }
        Self.forEachBetweenNeighbours(points) { a, v, b in
            let drop = a.value - v.value
            let back = drop >= minDrop / 2 && b.day - v.day <= recoveryDays && b.value - v.value >= recoveryShare * drop
            out.append((v.day, back ? 1 : 0))
        }
        return out
    }

    /// The sampled parcels' values gathered per area and day, where at least `minParcels` saw the day.
    ///
    /// Each value's (area, day) cell is found by arithmetic, not by hashing: areas are numbered
    /// as they are met (one lookup per parcel), days by their place among the days the samples
    /// have (a table indexed by the day's offset from the earliest), and the values are gathered
    /// by a counting sort into one buffer. A table hashed once per value was most of the
    /// learning's time (see BENCHMARKS); the cells are as many as areas × distinct days.
    func byAreaAndDay(_ samples: [(pid: Int64, values: [(Int, Double)])]) -> [(area: Int64, day: Int, values: [Double])] {
        var areas: [Int64] = [], number: [Int64: Int] = [:]
        var slot = [Int](repeating: -1, count: samples.count)
        var first = Int.max, last = Int.min
        for (i, sample) in samples.enumerated() {
            guard !sample.values.isEmpty, let a = area[sample.pid] else { continue }
            if let k = number[a] { slot[i] = k } else { slot[i] = areas.count; number[a] = areas.count; areas.append(a) }
            for (day, _) in sample.values { first = min(first, day); last = max(last, day) }
        }
        guard first <= last else { return [] }
        // The days the samples have, numbered in day order.
        var place = [Int32](repeating: -1, count: last - first + 1)
        for (i, sample) in samples.enumerated() where slot[i] >= 0 { for (day, _) in sample.values { place[day - first] = 0 } }
        var days: [Int] = []
        for k in place.indices where place[k] == 0 { place[k] = Int32(days.count); days.append(first + k) }
        // Counting sort: each cell's count, its start in the buffer, then the values in place.
        var start = [Int](repeating: 0, count: areas.count * days.count + 1)
        for (i, sample) in samples.enumerated() where slot[i] >= 0 {
            let row = slot[i] * days.count
            for (day, _) in sample.values { start[row + Int(place[day - first]) + 1] += 1 }
        }
        for c in 1..<start.count { start[c] += start[c - 1] }
        var next = start
        var buffer = [Double](repeating: 0, count: start[start.count - 1])
        for (i, sample) in samples.enumerated() where slot[i] >= 0 {
            let row = slot[i] * days.count
            for (day, v) in sample.values {
                let c = row + Int(place[day - first])
                buffer[next[c]] = v
                next[c] += 1
            }
        }
        var lists: [(area: Int64, day: Int, values: [Double])] = []
        for (k, a) in areas.enumerated() {
            for (j, day) in days.enumerated() {
                let c = k * days.count + j
                if start[c + 1] - start[c] >= minParcels { lists.append((a, day, Array(buffer[start[c]..<start[c + 1]]))) }
            }
        }
        return lists
    }

    /// The median of the sampled parcels' values per area and day (see `byAreaAndDay`).
    func medians(_ samples: [(pid: Int64, values: [(Int, Double)])]) -> [Int64: [Int: Double]] {
        var out: [Int64: [Int: Double]] = [:]
        for (a, day, values) in byAreaAndDay(samples) { out[a, default: [:]][day] = RobustStatistics.median(values) }
        return out
    }

    /// Learns each area's typical coherence and weather per pair day from the sampled parcels' pairs.
    mutating func learnCoherence(_ samples: [(pid: Int64, values: [(Int, Double)])]) {
        coherence = medians(samples)
        weather = medians(samples.map { ($0.pid, Self.relative($0.values, days: weatherDays)) })
    }

    /// Each of a parcel's pairs as a share of its own level around it: the median of its pairs
    /// within `days` (itself included), where that level is above 0.02.
    static func relative(_ values: [(Int, Double)], days: Int) -> [(Int, Double)] {
        let sorted = values.map { (day: $0.0, value: $0.1) }.sorted { $0.day < $1.day }
        return zip(sorted, RobustStatistics.localMedians(sorted, days: days)).compactMap { p, level in
            guard let level, level > 0.02 else { return nil }
            return (p.day, p.value / level)
        }
    }

    /// Learns each area's season from the usable values of its sampled parcels of the selection.
    mutating func learnSeason(_ samples: [(pid: Int64, values: [(Int, Double)])]) { season = medians(samples).mapValues(SeasonLevels.init) }

    /// Learns the shared dates from the sampled parcels' residuals.
    /// A day is shared where the usable observations dropped; it is hazy where they did once
    /// the observations the parcels' own screening took out as atmosphere count as drops. In an
    /// area of one crop, only where most of the parcels were also back: `recoveries` holds the
    /// same sampled parcels' `recoveries(_:atmospheric:)` (without them such an area learns nothing).
    mutating func learn(_ residuals: [(pid: Int64, values: [(Int, Double)])], recoveries: [(pid: Int64, values: [(Int, Double)])] = []) {
        let uniform = uniformAreas(residuals.map(\.pid))
        func drop(_ rs: [Double]) -> Bool {
            guard rs.count >= minParcels, let median = RobustStatistics.median(rs), median < -minDrop else { return false }
            return Double(rs.filter { $0 < -minDrop / 2 }.count) >= minShare * Double(rs.count)
        }
        // The share of parcels back after their drop, per area of one crop and day.
        var back: [Int64: [Int: Double]] = [:]
        if !uniform.isEmpty && !recoveries.isEmpty {
            for (a, day, values) in byAreaAndDay(recoveries.filter { area[$0.pid].map(uniform.contains) ?? false }) {
                back[a, default: [:]][day] = values.reduce(0, +) / Double(values.count)
            }
        }
        for (a, day, rs) in byAreaAndDay(residuals) {
            if uniform.contains(a) && !(back[a]?[day].map { $0 >= minShare } ?? false) { continue }
            if drop(rs.filter { $0 != Self.atmosphere }) { shared[a, default: []].insert(day) }
            else if drop(rs) { hazy[a, default: []].insert(day) }
        }
    }
}

/// A parcel's area's atmospheric days: `shared`, a drop of most of its parcels' usable
/// observations (every observation of the day is taken out), and `hazy`, most of its parcels
/// hazy once their own screening's verdicts count (an observation of the day is taken out where
/// it lies below its neighbours, see `ObservationScreen.hazyDrop`).
public struct RegionalDays: Sendable, Equatable, ExpressibleByArrayLiteral {
    public var shared: Set<Int> = [] { didSet { sharedDays = shared.sorted() } }
    public var hazy: Set<Int> = [] { didSet { hazyDays = hazy.sorted() } }
    /// The same days in order: the screening asks of every observation whether its day is one,
    /// and a search of a few sorted days costs less than hashing it.
    private(set) var sharedDays: [Int] = [], hazyDays: [Int] = []
    public init(shared: Set<Int> = [], hazy: Set<Int> = []) {
        self.shared = shared; self.hazy = hazy
        sharedDays = shared.sorted(); hazyDays = hazy.sorted()
    }
    public init(arrayLiteral days: Int...) { self.init(shared: Set(days)) }

    /// Whether `day` is one of the area's shared (or hazy) days.
    func isShared(_ day: Int) -> Bool { Self.holds(sharedDays, day) }
    func isHazy(_ day: Int) -> Bool { Self.holds(hazyDays, day) }

    private static func holds(_ days: [Int], _ day: Int) -> Bool {
        let k = firstIndex(of: days, atOrAfter: day)
        return k < days.count && days[k] == day
    }
}

/// An area's season: the median signal of its sampled parcels of the selection per day, in day
/// order. Spell and cut detectors ask whether it lies low over a range of days (a dry summer);
/// walking a sorted range replaced a lookup per day of the range.
public struct SeasonLevels: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    private(set) var days: [Int] = []
    private(set) var values: [Double] = []

    public init() {}
    public init(_ levels: [Int: Double]) {
        for (day, value) in levels.sorted(by: { $0.key < $1.key }) { days.append(day); values.append(value) }
    }
    public init(dictionaryLiteral elements: (Int, Double)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    public var isEmpty: Bool { days.isEmpty }
    public var count: Int { days.count }

    /// The level on `day`, nil where the area's season is not known that day.
    public subscript(day: Int) -> Double? {
        let k = firstIndex(atOrAfter: day)
        return k < days.count && days[k] == day ? values[k] : nil
    }

    /// Whether the season lies below `level` on at least half of the days of `from...to` it is
    /// known on, and is known on at least two.
    func below(_ level: Double, from: Int, to: Int) -> Bool {
        guard !days.isEmpty, from <= to else { return false }
        var known = 0, low = 0
        var k = firstIndex(atOrAfter: from)
        while k < days.count && days[k] <= to {
            known += 1
            if values[k] < level { low += 1 }
            k += 1
        }
        return known >= 2 && 2 * low >= known
    }

    private func firstIndex(atOrAfter day: Int) -> Int { LakeAnalytics.firstIndex(of: days, atOrAfter: day) }
}

/// The place of the first of `days` (ascending) at or after `day` (`days.count` when none is).
private func firstIndex(of days: [Int], atOrAfter day: Int) -> Int {
    var lo = 0, hi = days.count
    while lo < hi {
        let mid = (lo + hi) / 2
        if days[mid] < day { lo = mid + 1 } else { hi = mid }
    }
    return lo
}
