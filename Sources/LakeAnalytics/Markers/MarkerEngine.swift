import LakeStore
import LakeSupport

/// The per-parcel chain of a marker run, free of storage: series → pre-processing → detectors →
/// combinations → decision (and the crop phenology check).
struct MarkerEngine {
    let options: MarkerOptions
    let preprocessing: Preprocessing
    let requireSCL: Bool
    /// Season windows parsed once: per detector, and the decision's.
    let detectorWindows: [SeasonWindow?]
    let decisionWindow: SeasonWindow?
    /// Observation screening beyond SCL, when on (see `ObservationScreen`).
    let screen: ObservationScreen?
    /// Whether a detector works on the smoothed daily series (drop, rise, state).
    let smooths: Bool

    init(options: MarkerOptions) {
        self.options = options
        var p = Preprocessing()
        if let o = options.preprocessing {
            p.spike = o.spike ?? p.spike
            p.maxGapDays = o.max_gap_days ?? p.maxGapDays
            p.smoothingDays = o.smoothing_days ?? p.smoothingDays
        }
        preprocessing = p
        requireSCL = options.observations?.require_scl ?? true
        detectorWindows = options.detectors.map { Self.window($0.from, $0.to) }
        decisionWindow = options.decision?.window.flatMap { SeasonWindow($0.from, $0.to) }
        smooths = options.detectors.contains { ["drop", "rise", "state"].contains($0.type) }
        let readsObservations = options.detectors.contains { ["cut", "spell", "harvest"].contains($0.type) }
        if options.screening?.enabled ?? readsObservations {
            var sc = ObservationScreen()
            let o = options.screening
            sc.hazeRise = o?.haze_rise ?? sc.hazeRise
            sc.shadowFactor = o?.shadow_factor ?? sc.shadowFactor
            sc.edgeFactor = o?.edge_factor ?? sc.edgeFactor
            sc.dipDrop = o?.dip_drop ?? sc.dipDrop
            sc.dipDays = o?.dip_days ?? sc.dipDays
            sc.brightBlue = o?.bright_blue ?? sc.brightBlue
            sc.overruleSCL = o?.overrule_scl ?? sc.overruleSCL
            sc.greenerThanUsual = o?.greener_than_usual ?? sc.greenerThanUsual
            sc.requireSCL = requireSCL
            screen = sc
        } else {
            screen = nil
        }
    }

    /// The optical observations of the parcel's year with their verdicts, and the usable ones as
    /// index points of the signal (one per day). Radar scenes are not screened (no SCL, no haze).
    /// `withoutSCL`: the option file requires SCL but the parcel has no histogram at all that
    /// year (none was ingested or extracted): rather than drop every observation, lake's own
    /// tests (bright, haze, shadow, edge, regional, dip) screen them alone, and the decision says so.
    func screened(_ all: [Observed], year declared: Int, regional: RegionalDays)
        -> (observations: [Observed], verdicts: [Quality], usable: [IndexPoint], withoutSCL: Bool) {
        let year = Self.seasonYear(all, declared: declared)
        let days = Self.yearDays(year)
        // Usually every observation is an optical one of the year: then the series itself (no copy).
        var observations = all
        if !all.allSatisfy({ $0.kind == .optical && days.contains($0.day) }) {
            observations = []
            observations.reserveCapacity(all.count)
            for o in all where o.kind == .optical && days.contains(o.day) { observations.append(o) }
        }
        let withoutSCL = requireSCL && !observations.isEmpty && !observations.contains { $0.clear != nil }
        var parcelScreen = screen
        if withoutSCL { parcelScreen?.requireSCL = false }
        let verdicts = parcelScreen?.screen(observations, regional: regional)
            ?? observations.map { ObservationScreen.sclVerdict($0.clear, requireSCL: requireSCL && !withoutSCL) }
        let signal = options.signalKind   // (a string switch: once, not per observation)
        var usable: [IndexPoint] = []
        usable.reserveCapacity(observations.count)
        for (o, q) in zip(observations, verdicts) where q == .clear {
            if let v = o.value(signal) { usable.append(IndexPoint(day: o.day, value: v, clear: true)) }
        }
        return (observations, verdicts, Preprocessing.oneADay(usable), withoutSCL)
    }

    /// The observations of `year` (all when 0), keeping their order.
    static func ofYear<T>(_ items: [T], _ year: Int, day: (T) -> Int) -> [T] {
        guard year > 0 else { return items }
        let days = yearDays(year)
        return items.keeping { days.contains(day($0)) }
    }

    /// The day numbers of `year` (every day when 0).
    static func yearDays(_ year: Int) -> Range<Int> {
        year > 0 ? Days.number(year: year, month: 1, day: 1)..<Days.number(year: year + 1, month: 1, day: 1) : Int.min..<Int.max
    }
    static func ofYear(_ items: [Observed], _ year: Int) -> [Observed] { ofYear(items, year) { $0.day } }

    static func window(_ from: String?, _ to: String?) -> SeasonWindow? {
        guard from != nil || to != nil else { return nil }
        return SeasonWindow(from ?? "01-01", to ?? "12-31")
    }

    /// Whether a cut or harvest detector reads Sentinel-1 coherence (then the regional context
    /// learns each area's typical coherence per pair).
    var readsCoherence: Bool { options.detectors.contains { ($0.type == "cut" || $0.type == "harvest") && $0.coherence ?? true } }

    /// The year a parcel is analysed in: its declared year, else (a parcel list without years)
    /// the year most of its optical observations fall in — so that its season windows are that
    /// year's, and a season with no usable observation from the window's start is a hole, not
    /// nothing (a parcel without a year was red where the same parcel with one was yellow).
    static func seasonYear(_ observations: [Observed], declared: Int) -> Int {
        guard declared == 0 else { return declared }
        var counts: [Int: Int] = [:]
        for o in observations where o.kind == .optical { counts[Days.civil(o.day).year, default: 0] += 1 }
        return counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key < $1.key) }?.key ?? 0
    }

    /// The years a parcel without a declared year is analysed in: every calendar year its
    /// optical observations cover well (at least 6 observations and a third as many as its
    /// best-covered year), oldest first. A mowing data set's own polygons come without a year
    /// while their series and field records span several seasons: each season has its events.
    static func seasonYears(_ observations: [Observed]) -> [Int] {
        var counts: [Int: Int] = [:]
        for o in observations where o.kind == .optical { counts[Days.civil(o.day).year, default: 0] += 1 }
        let best = counts.values.max() ?? 0
        return counts.filter { $0.value >= 6 && 3 * $0.value >= best }.keys.sorted()
    }

    /// The years a parcel is analysed in: its declared year; without one, its `seasonYears`
    /// when there are several, else [0] (the year most of its observations fall in).
    static func seasons(_ observations: [Observed], declared: Int) -> [Int] {
        guard declared == 0 else { return [declared] }
        let years = seasonYears(observations)
        return years.count > 1 ? years : [0]
    }

    /// The usable observations (see `screened`) of each of the parcel's `seasons` in turn, and the
    /// days the parcel's own screening found atmosphere on (haze, shadow, a cloud's edge or
    /// brightness, a dip): what the regional context learns from.
    func usableAndAtmospheric(_ observations: [Observed], year declared: Int) -> (usable: [IndexPoint], atmospheric: [Int]) {
        var usable: [IndexPoint] = [], atmospheric: [Int] = []
        for year in Self.seasons(observations, declared: declared) {
            let s = screened(observations, year: year, regional: [])
            usable += s.usable
            for (o, q) in zip(s.observations, s.verdicts) where q.isAtmosphere { atmospheric.append(o.day) }
        }
        return (usable, atmospheric)
    }

    /// `regional`: days of drops shared by the area (atmosphere); `coherence`: the area's
    /// typical coherence and weather per pair day (see `CoherenceCutDetector`). A parcel without a
    /// declared year (year 0) whose observations cover several seasons is analysed season by
    /// season (`seasonYears`): the markers of every season, the decision of the best-observed
    /// one with the other seasons' lights among its reasons.
    func analyse(_ observations: [Observed], year declared: Int, crop: String?, names: [String], regional: RegionalDays = [],
                 coherence: AreaCoherence = AreaCoherence(), season: SeasonLevels = [:]) -> (markers: [Marker], decision: Decision?) {
        let years = Self.seasons(observations, declared: declared)
        guard years.count > 1 else {
            let result = analyseSeason(observations, year: declared, crop: crop, names: names, regional: regional,
                                       coherence: coherence, season: season)
            // A declared year the series does not reach (parcels ingested with another --year
            // than their signatures'): say so, the analyst cannot guess it from "0 observations".
            if declared != 0, let d = result.decision, d.clearObservations == 0 {
                let covered = Self.seasonYears(observations)
                if !covered.isEmpty && !covered.contains(declared) {
                    return (result.markers, Decision(scheme: d.scheme, colour: d.colour, clearObservations: 0, reasons: d.reasons + [
                        "the parcel is declared for \(declared) but its optical observations are of \(covered.map(String.init).joined(separator: ", ")): "
                        + "were the parcels ingested with the wrong --year?"]))
                }
            }
            return result
        }
        var markers: [Marker] = []
        var decisions: [(year: Int, decision: Decision)] = []
        for y in years {
            let r = analyseSeason(observations, year: y, crop: crop, names: names, regional: regional,
                                  coherence: coherence, season: season)
            markers += r.markers
            if let d = r.decision { decisions.append((y, d)) }
        }
        // The decision is the best-observed season's (the one a year-less parcel was decided on
        // before), the others' lights among its reasons.
        let main = Self.seasonYear(observations, declared: 0)
        guard let chosen = decisions.first(where: { $0.year == main })?.decision ?? decisions.last?.decision else { return (markers, nil) }
        let others = decisions.filter { $0.year != main }.map { "\($0.year): \($0.decision.colour) (\($0.decision.reasons.first ?? ""))" }
        let decision = Decision(scheme: chosen.scheme, colour: chosen.colour, clearObservations: chosen.clearObservations,
                                reasons: ["season \(main) (the best observed of the parcel's \(years.count) seasons; it declares no year)"] + chosen.reasons
                                    + (others.isEmpty ? [] : ["other seasons: " + others.joined(separator: "; ")]))
        return (markers, decision)
    }

    /// One season of `analyse`, in stages: the season's usable observations (`seasonInput`), every
    /// detector of the option file over them (`detect`), the markers combined, the decision
    /// (`decide`), and what the screening took away added to its reasons (`screeningReasons`).
    func analyseSeason(_ observations: [Observed], year declared: Int, crop: String?, names: [String], regional: RegionalDays,
                       coherence: AreaCoherence, season: SeasonLevels) -> (markers: [Marker], decision: Decision?) {
        let year = Self.seasonYear(observations, declared: declared)
        let input = seasonInput(observations, year: year, regional: regional)
        var (markers, watchers) = detect(input, observations, year: year, coherence: coherence, season: season)
        markers = combine(markers)
        markers.sort { ($0.event.date, $0.detector) < ($1.event.date, $1.detector) }
        // A parcel its own optical curve rejects (bare for weeks: an arable field) keeps no cut
        // that only coherence saw: there a coherence rise is tillage, sowing or a harvest.
        if rejection(markers, year: year) != nil { markers.removeAll { $0.details["seen_by"] == "coherence" } }

        var phenology: (outcome: RuleOutcome?, others: [String])?
        if let ph = options.phenology { phenology = checkPhenology(ph, observations, year: year, crop: crop, names: names) }
        guard let d = decide(input.clean, markers: markers, phenology: phenology, year: year, watched: { a, b in watchers.contains { $0(a, b) } })
        else { return (markers, nil) }
        let more = screeningReasons(input)
        guard !more.isEmpty else { return (markers, d) }
        return (markers, Decision(scheme: d.scheme, colour: d.colour, clearObservations: d.clearObservations, reasons: d.reasons + more))
    }

    /// A season's observations as the detectors read them, and what the screening took away.
    struct SeasonInput {
        /// The usable observations as index points of the signal (one per day).
        var clean: [IndexPoint]
        /// Hazy observations of NDVI: haze lowers NDVI, so each is a floor under the canopy's
        /// value that day (see `CutDetector.detect(_:floors:)`).
        var floors: [IndexPoint] = []
        /// The days each test screened out (by the test's place in `Quality.allCases`).
        var screening = [[Int]](repeating: [], count: Quality.allCases.count)
        /// Days SCL flagged that the parcel's bands showed clear (`overrule_scl`).
        var overruled: [Int] = []
        /// The option file requires SCL, the parcel has none this year (see `screened`).
        var withoutSCL = false
    }

    /// Stage 1: the season's usable observations — screened (`screened`) when the option file
    /// screens, else SCL-cleaned and pre-processed (`Preprocessing.clean`).
    func seasonInput(_ observations: [Observed], year: Int, regional: RegionalDays) -> SeasonInput {
        guard screen != nil else {
            let points = observations.compactMap { o in o.value(options.signalKind).map { IndexPoint(day: o.day, value: $0, clear: o.clear) } }
            return SeasonInput(clean: preprocessing.clean(Self.ofYear(points, year) { $0.day }, requireSCL: requireSCL))
        }
        let s = screened(observations, year: year, regional: regional)
        var input = SeasonInput(clean: s.usable, withoutSCL: s.withoutSCL)
        let ndvi = options.signalKind == .ndvi
        // Each list gets room for the whole season when its first day comes; appended to from
        // empty, it would grow through several allocations, for every parcel of a run.
        let room = s.observations.count
        for (o, q) in zip(s.observations, s.verdicts) {
            switch q {
            case .clear:
                if o.clear == false {
                    if input.overruled.isEmpty { input.overruled.reserveCapacity(room) }
                    input.overruled.append(o.day)
                }
            case .scl, .noSCL: continue
            default:
                let k = Quality.allCases.firstIndex(of: q)!
                if input.screening[k].isEmpty { input.screening[k].reserveCapacity(room) }
                input.screening[k].append(o.day)
                if q == .haze, ndvi, let v = o.value(.ndvi) {
                    if input.floors.isEmpty { input.floors.reserveCapacity(room) }
                    input.floors.append(IndexPoint(day: o.day, value: v, clear: false))
                }
            }
        }
        return input
    }

    /// Stage 2: the markers of every detector of the option file, by type, each within its own
    /// season window; and the coherence series that can rule a cut out of a Sentinel-2 hole
    /// (see `decide`). A new detector type is one more case here.
    func detect(_ input: SeasonInput, _ observations: [Observed], year: Int, coherence: AreaCoherence,
                season: SeasonLevels) -> (markers: [Marker], watchers: [(Int, Int) -> Bool]) {
        let clean = input.clean
        // Smoothed daily segments only for the detectors that want them.
        let segments = smooths ? preprocessing.dailySeries(clean) : []
        var markers: [Marker] = []
        markers.reserveCapacity(8)
        var watchers: [(Int, Int) -> Bool] = []
        for (index, d) in options.detectors.enumerated() {
            let w = DayTest(detectorWindows[index], year: year)
            switch d.type {
            case "cut":
                let radar = d.coherence ?? true ? coherencePairs(observations, year: year, window: w) : []
                markers += cuts(d, clean, floors: input.floors, season: d.regional ?? true ? season : [:], radar: radar, area: coherence, window: w)
                if !radar.isEmpty { watchers.append(CoherenceCutDetector(d).watcher(radar)) }
            case "spell": markers += spells(d, clean, w, season: season)
            case "harvest": markers += harvests(d, clean, observations, year: year, reference: coherence.reference, window: w)
            case "drop", "rise": markers += drops(d, segments, w)
            case "state":
                let detector = StateChangeDetector(minChange: d.min_change ?? 0.2, days: d.days ?? 30)
                for segment in segments {
                    for e in detector.detect(segment.points) where w(e.date) {
                        markers.append(Marker(detector: d.name, kind: "state", event: e))
                    }
                }
            case "threshold": if let m = threshold(d, clean, w) { markers.append(m) }
            case "gap":
                for (a, b) in Preprocessing.gaps(clean.keeping { w($0.day) }, longerThan: d.min_days ?? 20) {
                    markers.append(Marker(detector: d.name, kind: "gap",
                                          event: Event(start: a, date: (a + b) / 2, end: b, valueStart: 0, valueEnd: 0,
                                                       magnitude: Double(b - a), confidence: 1)))
                }
            default: continue
            }
        }
        return (markers, watchers)
    }

    /// Spells below the detector's level lasting its days; not where the area's parcels of the
    /// same selection were as low through the spell: the season's (a dry summer), not the field's.
    func spells(_ d: MarkerOptions.Detector, _ clean: [IndexPoint], _ w: DayTest, season: SeasonLevels) -> [Marker] {
        let below = d.below ?? 0.35
        return SpellDetector(below: below, minDays: d.min_days ?? 30).detect(clean.keeping { w($0.day) }).compactMap { event, n in
            if d.regional ?? true, SpellDetector.shared(event, season: season, below: below) { return nil }
            return Marker(detector: d.name, kind: "spell", event: event, details: ["observations": String(n)])
        }
    }

    /// A `harvest` detector's markers (see `HarvestDetector`): coherence pairs of the whole year
    /// (the standing crop's before the window too), where the lake has them and the detector
    /// does not say `coherence: false`.
    func harvests(_ d: MarkerOptions.Detector, _ clean: [IndexPoint], _ observations: [Observed], year: Int,
                  reference: [Int: Double], window w: DayTest) -> [Marker] {
        let radar = d.coherence ?? true ? coherencePairs(observations, year: year, window: DayTest(nil, year: year)) : []
        return HarvestDetector(d).detect(clean, radar: radar, reference: reference) { w($0) }.map { f in
            var details = ["uncertainty_days": String(f.event.end - f.event.start)]
            if f.byCoherence { details["dated_by"] = "coherence" }
            return Marker(detector: d.name, kind: "harvest", event: f.event, details: details)
        }
    }

    /// Drops (or rises) of the smoothed daily segments, dated as the detector says.
    func drops(_ d: MarkerOptions.Detector, _ segments: [DailySeries], _ w: DayTest) -> [Marker] {
        let detector = DropDetector(minDrop: d.min_drop ?? 0.1, minDays: d.min_days ?? 0, minStart: d.min_start ?? -.infinity,
                                    quietDays: d.quiet_days ?? 0, rising: d.type == "rise")
        var markers: [Marker] = []
        for segment in segments {
            for found in detector.detect(segment) {
                var e = found
                if d.date == "start" || d.date == "end" { e = e.dated(d.date == "start" ? e.start : (e.settled ?? e.end)) }
                if w(e.date) { markers.append(Marker(detector: d.name, kind: d.type, event: e)) }
            }
        }
        return markers
    }

    /// The season's median above or below the detector's level.
    func threshold(_ d: MarkerOptions.Detector, _ clean: [IndexPoint], _ w: DayTest) -> Marker? {
        let inWindow = clean.keeping { w($0.day) }
        guard let median = RobustStatistics.median(inWindow.map(\.value)) else { return nil }
        let hit = d.below.map { median < $0 } ?? d.above.map { median > $0 } ?? false
        guard hit, let first = inWindow.first, let last = inWindow.last else { return nil }
        let limit = d.below ?? d.above!
        return Marker(detector: d.name, kind: "threshold",
                      event: Event(start: first.day, date: (first.day + last.day) / 2, end: last.day, valueStart: median,
                                   valueEnd: median, magnitude: median, confidence: min(1, abs(median - limit) / 0.1)),
                      details: ["observations": String(inWindow.count)])
    }

    /// Stage 5: what the screening took away, as reasons of the decision: "2 haze (05-22,
    /// 07-31), 1 shadow (05-02)", so that an analyst can look at those observations (`lake query
    /// parcel`, chips). Written as bytes: a run writes this for most of its parcels.
    func screeningReasons(_ input: SeasonInput) -> [String] {
        let screenedOut = input.screening.contains { !$0.isEmpty }
        guard screenedOut || input.withoutSCL || !input.overruled.isEmpty else { return [] }
        func dates(_ days: [Int], _ what: String = "", to bytes: inout [UInt8]) {
            bytes.append(contentsOf: String(days.count).utf8)
            if !what.isEmpty { bytes.append(UInt8(ascii: " ")); bytes.append(contentsOf: what.utf8) }
            bytes.append(contentsOf: " (".utf8)
            for (k, day) in days.enumerated() {
                if k > 0 { bytes.append(contentsOf: ", ".utf8) }
                Days.appendMonthDay(day, to: &bytes)
            }
            bytes.append(UInt8(ascii: ")"))
        }
        func text(_ write: (inout [UInt8]) -> Void) -> String {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(96)
            write(&bytes)
            return String(decoding: bytes, as: UTF8.self)
        }
        var reasons: [String] = []
        if input.withoutSCL { reasons.append("no SCL histogram for the parcel this year: observations screened by lake's own tests only") }
        if screenedOut {
            reasons.append(text { bytes in
                bytes.append(contentsOf: "screened out beyond SCL: ".utf8)
                var first = true
                for (q, days) in zip(Quality.allCases, input.screening) where !days.isEmpty {
                    if !first { bytes.append(contentsOf: ", ".utf8) }
                    first = false
                    dates(days, q.rawValue, to: &bytes)
                }
            })
        }
        if !input.overruled.isEmpty {
            reasons.append(text { bytes in
                bytes.append(contentsOf: "SCL overruled by the bands (on the clear line, usual spread, no shadow): ".utf8)
                dates(input.overruled, to: &bytes)
            })
        }
        return reasons
    }

    /// The parcel's coherence pairs (VV) of `year` within the detector's season window.
    func coherencePairs(_ observations: [Observed], year: Int, window w: DayTest) -> [IndexPoint] {
        let days = Self.yearDays(year)
        return observations.compactMap { o in
            guard let c = o.coherence, days.contains(o.day), w(o.day) else { return nil }
            return IndexPoint(day: o.day, value: c, clear: true)
        }
    }

    /// A `cut` detector's markers: the cuts Sentinel-2 shows (and the falls it rejects as
    /// harvests), and, where coherence pairs exist, the cuts coherence shows in Sentinel-2's
    /// gaps. A coherence rise counts only where Sentinel-2 could not have seen the cut (no usable
    /// observation in the 20 days before or the 10 days after it) and found none near it; an
    /// optical cut that a coherence rise accompanies says so (`confirmed_by`).
    func cuts(_ d: MarkerOptions.Detector, _ clean: [IndexPoint], floors: [IndexPoint] = [], season: SeasonLevels = [:], radar: [IndexPoint],
              area: AreaCoherence = AreaCoherence(), window w: DayTest) -> [Marker] {
        var out: [Marker] = []
        // Unconfirmed falls (no data after them to tell) are not kept: they prove nothing.
        let cutDetector = CutDetector(d)
        let optical = cutDetector.detect(clean, floors: floors, season: season).filter { $0.kind != .unconfirmed && w($0.event.date) }
        // A rise after the growing season is the sward's senescence, not a cut (as for optical falls).
        let rises = radar.isEmpty ? [] : CoherenceCutDetector(d).detect(radar, reference: area.reference, weather: area.weather).filter { Days.dayOfYear($0.event.date) <= cutDetector.growingSeasonEnd }
        var opticalDates: [Int] = []
        for f in optical {
            var details = ["uncertainty_days": String(f.uncertainty)]
            if let r = f.regrowth { details["regrowth"] = Format.double("%.3f", r) }
            if f.kind == .harvest { details["reason"] = "no regrowth: a harvest or ploughing, not a cut" }
            var event = f.event
            if f.kind == .cut {
                if let rise = Self.datingRise(f, rises, others: optical) {
                    event = event.dated(max(event.start + 1, rise.event.date))
                    details["dated_by"] = "coherence"
                }
                if details["dated_by"] != nil || rises.contains(where: { abs($0.event.date - f.event.date) <= 12 }) { details["confirmed_by"] = "coherence" }
            }
            opticalDates.append(event.date)
            out.append(Marker(detector: f.kind == .cut ? d.name : d.name + "-rejected", kind: f.kind.rawValue, event: event, details: details))
        }
        for r in rises where w(r.event.date) {
            let date = r.event.date
            guard !opticalDates.contains(where: { abs($0 - date) <= 20 }) else { continue }
            let seenBefore = clean.contains { $0.day < date && $0.day >= date - 20 }
            let seenAfter = clean.contains { $0.day > date && $0.day <= date + 10 }
            guard !(seenBefore && seenAfter) else { continue }
            out.append(Marker(detector: d.name, kind: "cut", event: r.event,
                              details: ["seen_by": "coherence", "uncertainty_days": String(r.pairDays),
                                        "rise": Format.double("%.3f", r.event.magnitude)]))
        }
        return out
    }

    /// The coherence rise that dates an optical cut seen across a long Sentinel-2 gap: Sentinel-2
    /// only says the cut fell between its last high and first low observation (dated 3 days
    /// before the low one, see `CutDetector`); where that gap is wider than two coherence pairs
    /// and a rise of coherence starts inside it, the rise says when (to a pair), so the cut is
    /// dated there. Where there are several, the latest: the first low observation shows the
    /// last cut before it (an earlier one has regrown more), and the earlier rises stay cuts of
    /// their own. A rise that another optical cut explains (within 12 days of it, as
    /// `confirmed_by` counts) dates nothing else.
    static func datingRise(_ f: CutDetector.Found, _ rises: [CoherenceCutDetector.Found], others: [CutDetector.Found]) -> CoherenceCutDetector.Found? {
        let high = f.event.start, low = f.event.start + f.uncertainty
        return rises.filter { r in
            f.uncertainty > 2 * r.pairDays && r.event.date > high - 3 && r.event.date < low - 3
                && !others.contains { $0.event.date != f.event.date && abs($0.event.date - r.event.date) <= 12 }
        }.last
    }

    func combine(_ input: [Marker]) -> [Marker] {
        guard let combinations = options.combine else { return input }
        var markers = input
        for c in combinations {
            let days = c.days ?? 10
            if let confirm = c.confirm, let with = c.with {
                let others = markers.filter { $0.detector == with }
                for m in markers where m.detector == confirm && others.contains(where: { abs($0.event.date - m.event.date) <= days }) {
                    markers.append(Marker(detector: c.name, kind: m.kind, event: m.event, details: ["confirmed_by": with]))
                }
            } else if let merge = c.merge {
                let group = markers.filter { merge.contains($0.detector) }.sorted { $0.event.date < $1.event.date }
                var current: [Marker] = []
                func flush() {
                    guard let first = current.first else { return }
                    let e = Event(start: current.map(\.event.start).min()!, date: first.event.date, end: current.map(\.event.end).max()!,
                                  valueStart: first.event.valueStart, valueEnd: current.last!.event.valueEnd,
                                  magnitude: current.map(\.event.magnitude).max()!, confidence: current.map(\.event.confidence).max()!)
                    markers.append(Marker(detector: c.name, kind: first.kind, event: e,
                                          details: ["merged": current.map(\.detector).joined(separator: ",")]))
                    current = []
                }
                for m in group {
                    if let last = current.last, m.event.date - last.event.date > days { flush() }
                    current.append(m)
                }
                flush()
            }
        }
        return markers
    }

    func checkPhenology(_ ph: PhenologyOptions, _ observations: [Observed], year: Int, crop: String?, names: [String]) -> (outcome: RuleOutcome?, others: [String]) {
        let clear = observations.keeping { $0.clear == true || ($0.clear == nil && !requireSCL) }
        let features = MonthlyFeatures.compute(clear.map { o in (o.day, [o.value(.ndvi), o.means[2], o.means[3]]) }, year: year,
                                               gapMonths: ph.interpolate_gap_months ?? 1)
        var own: RuleOutcome?
        var others: [String] = []
        for rule in ph.rules {
            let outcome = rule.evaluate(features)
            if rule.applies(cropCode: crop, names: names) { own = outcome } else if outcome.holds == true { others.append(rule.crop) }
        }
        return (own, others)
    }

    static func count(_ r: MarkerOptions.Requirement, _ markers: [Marker], _ inWindow: DayTest) -> Int {
        markers.filter { $0.detector == r.detector && inWindow($0.event.date) }.count
    }

    static func satisfied(_ r: MarkerOptions.Requirement, _ markers: [Marker], _ inWindow: DayTest) -> Bool {
        let n = count(r, markers, inWindow)
        return n >= (r.at_least ?? 0) && n <= (r.at_most ?? Int.max)
    }

    /// The decision's first `reject` requirement that `markers` meet, if any.
    func rejection(_ markers: [Marker], year: Int) -> MarkerOptions.Requirement? {
        guard let reject = options.decision?.reject else { return nil }
        let inW = DayTest(decisionWindow, year: year)
        return reject.first { Self.satisfied($0, markers, inW) }
    }

    /// `watched(a, b)`: whether another sensor (coherence) watched the days from a to b closely
    /// enough to rule an event out there, so that a Sentinel-2 hole there hides nothing.
    func decide(_ clean: [IndexPoint], markers: [Marker], phenology: (outcome: RuleOutcome?, others: [String])?, year: Int,
                watched: (Int, Int) -> Bool = { _, _ in false }) -> Decision? {
        guard let d = options.decision else {
            guard let phenology else { return nil }
            return phenologyDecision("crop-phenology", phenology, clearObservations: clean.count)
        }
        let w = decisionWindow
        let inW = DayTest(w, year: year)
        let inWindow = clean.keeping { inW($0.day) }
        if d.green.detector == "phenology", let phenology {
            return phenologyDecision(d.scheme, phenology, clearObservations: inWindow.count)
        }
        var reasons: [String] = []
        let minClear = d.min_clear_observations ?? 0
        if inWindow.count < minClear {
            return Decision(scheme: d.scheme, colour: "yellow", clearObservations: inWindow.count,
                            reasons: ["\(inWindow.count) clear observations in the window, fewer than \(minClear)"])
        }
        func count(_ r: MarkerOptions.Requirement) -> Int { Self.count(r, markers, inW) }
        func satisfied(_ r: MarkerOptions.Requirement) -> Bool { Self.satisfied(r, markers, inW) }
        if let r = rejection(markers, year: year) {
            let found = markers.filter { $0.detector == r.detector }.map { Days.text($0.event.start) + ".." + Days.text($0.event.end) }
            return Decision(scheme: d.scheme, colour: "red", clearObservations: inWindow.count,
                            reasons: [(r.reason ?? "\(r.detector) found") + (found.isEmpty ? "" : ": " + found.joined(separator: ", ")),
                                      "\(inWindow.count) usable observations"])
        }
        let greenCount = count(d.green)
        let dates = markers.filter { $0.detector == d.green.detector }.map { Days.text($0.event.date) }
        if satisfied(d.green), let weak = radarOnlyShortfall(markers.filter { $0.detector == d.green.detector && inW($0.event.date) }) {
            return Decision(scheme: d.scheme, colour: "yellow", clearObservations: inWindow.count,
                            reasons: [weak, "\(greenCount) \(d.green.detector) marker(s): \(dates.joined(separator: ", "))", "\(inWindow.count) usable observations"])
        }
        if satisfied(d.green) {
            reasons.append("\(greenCount) \(d.green.detector) marker(s)\(dates.isEmpty ? "" : ": " + dates.joined(separator: ", "))")
            reasons.append("\(inWindow.count) usable observations")
            return Decision(scheme: d.scheme, colour: "green", clearObservations: inWindow.count, reasons: reasons)
        }
        // Not green: inconclusive where the evidence has a hole an event could hide in.
        if let maxGap = d.max_gap_days, let w, year > 0 {
            let start = Days.number(year: year, month: w.from.month, day: w.from.day)
            let end = Days.number(year: year, month: w.to.month, day: w.to.day)
            // A hole closes only where coherence watched it quietly (see `CoherenceCutDetector.watcher`).
            let edges = [start] + inWindow.map(\.day) + [end]
            let holes = zip(edges, edges.dropFirst()).filter { $0.1 - $0.0 > maxGap }.sorted { $0.1 - $0.0 > $1.1 - $1.0 }
            if let (a, b) = holes.first(where: { !watched($0.0, $0.1) }) {
                return Decision(scheme: d.scheme, colour: "yellow", clearObservations: inWindow.count,
                                reasons: ["no usable observation from \(Days.text(a)) to \(Days.text(b)) (\(b - a) days, more than \(maxGap)): an event could hide there",
                                          "\(greenCount) \(d.green.detector) marker(s)"])
            }
        }
        if let red = d.red, !satisfied(red) {
            return Decision(scheme: d.scheme, colour: "yellow", clearObservations: inWindow.count,
                            reasons: ["\(greenCount) \(d.green.detector) marker(s): neither the green nor the red rule holds"])
        }
        return Decision(scheme: d.scheme, colour: "red", clearObservations: inWindow.count,
                        reasons: ["\(greenCount) \(d.green.detector) marker(s) where at least \(d.green.at_least ?? 0) are required",
                                  "\(inWindow.count) usable observations"])
    }

    /// Why radar-only evidence is too weak for green (nil when it is not radar-only or is
    /// strong enough): a coherence rise also follows rain, wind or grazing, so a green that no
    /// optical observation supports needs repeated or strong rises.
    func radarOnlyShortfall(_ found: [Marker]) -> String? {
        guard let rule = options.decision?.radar_only, !found.isEmpty, found.allSatisfy({ $0.details["seen_by"] != nil }) else { return nil }
        let minCuts = rule.min_cuts ?? 2, minConfidence = rule.min_confidence ?? 0.8
        let strongest = found.map(\.event.confidence).max() ?? 0
        guard found.count < minCuts && strongest < minConfidence - 1e-9 else { return nil }
        return "cut(s) seen by Sentinel-1 coherence only (\(found.count), confidence at most \(String(format: "%.2f", strongest))): "
            + "green needs \(minCuts) such cuts or one of confidence \(String(format: "%.2f", minConfidence)); check with a photo or a field visit"
    }

    func phenologyDecision(_ scheme: String, _ p: (outcome: RuleOutcome?, others: [String]), clearObservations: Int) -> Decision {
        guard let outcome = p.outcome else {
            return Decision(scheme: scheme, colour: "yellow", clearObservations: clearObservations,
                            reasons: ["no phenology rule for the declared crop"] + (p.others.isEmpty ? [] : ["rules that hold: " + p.others.joined(separator: ", ")]))
        }
        let conditions = outcome.details.map { "\($0.condition): \($0.result.map { $0 ? "yes" : "no" } ?? "unknown")" }
        switch outcome.holds {
        case true?:
            return Decision(scheme: scheme, colour: "green", clearObservations: clearObservations,
                            reasons: ["\(outcome.crop) rule holds (\(outcome.held)/\(outcome.required))"] + conditions)
        case false?:
            return Decision(scheme: scheme, colour: "red", clearObservations: clearObservations,
                            reasons: ["\(outcome.crop) rule fails (\(outcome.held)/\(outcome.required))"] + conditions
                                + (p.others.isEmpty ? [] : ["rules that hold: " + p.others.joined(separator: ", ")]))
        case nil:
            return Decision(scheme: scheme, colour: "yellow", clearObservations: clearObservations,
                            reasons: ["\(outcome.crop) rule undecided: \(outcome.unknown) condition(s) without data"] + conditions)
        }
    }
}

/// A season window as a test of day numbers, for one parcel's year: a range comparison for the
/// days of that year (markers test every observation against several windows), the window's
/// month and day otherwise. No window: every day.
struct DayTest {
    private let window: SeasonWindow?
    private let year: Range<Int>
    private let days: Range<Int>

    init(_ window: SeasonWindow?, year: Int) {
        self.window = window
        if let window, year > 0 {
            self.year = MarkerEngine.yearDays(year)
            days = window.days(of: year)
        } else {
            self.year = 0..<0; days = 0..<0
        }
    }

    @inline(__always) func callAsFunction(_ day: Int) -> Bool {
        guard let window else { return true }
        return year.contains(day) ? days.contains(day) : window.contains(day: day)
    }
}
