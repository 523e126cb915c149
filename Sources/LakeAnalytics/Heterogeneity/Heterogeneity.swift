import Foundation
import LakeQuery
import LakeSQLite
import LakeStore

/// A season window by month and day (applies to every year).
public struct SeasonWindow: Sendable, Equatable, CustomStringConvertible {
    public let from: (month: Int, day: Int)
    public let to: (month: Int, day: Int)
    public init(from: (Int, Int), to: (Int, Int)) { self.from = from; self.to = to }

    /// "04-01..06-30" or "04-01" "06-30".
    public init?(_ from: String, _ to: String) {
        guard let a = Self.monthDay(from), let b = Self.monthDay(to) else { return nil }
        self.init(from: a, to: b)
    }

    /// "MM-DD" or "YYYY-MM-DD" as (month, day) when it is a day of the year (29 February counts).
    public static func monthDay(_ s: String) -> (Int, Int)? {
        let p = s.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        guard p.count == 2 || p.count == 3, let m = p[p.count - 2], let d = p[p.count - 1], p.count == 2 || p[0] != nil else { return nil }
        let lengths = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...12).contains(m), (1...lengths[m - 1]).contains(d) else { return nil }
        return (m, d)
    }

    public func contains(day: Int) -> Bool {
        let (_, m, d) = Days.civil(day)
        let key = m * 100 + d
        return key >= from.month * 100 + from.day && key <= to.month * 100 + to.day
    }

    /// The window's days in `year`: for a day n of that year, `days(of: year).contains(n)` is
    /// `contains(day: n)`. What a loop over one year's observations tests instead of each date.
    public func days(of year: Int) -> Range<Int> {
        // 29 February of a common year: `Days.number` makes it 1 March, the first day of the
        // window for `from`; for `to`, the last is the 28th.
        let start = Days.number(year: year, month: from.month, day: from.day)
        var end = Days.number(year: year, month: to.month, day: to.day)
        if Days.civil(end).month != to.month { end -= 1 }
        return start <= end ? start..<(end + 1) : start..<start
    }

    public var description: String { String(format: "%02d-%02d..%02d-%02d", from.month, from.day, to.month, to.day) }
    public static func == (a: SeasonWindow, b: SeasonWindow) -> Bool { a.description == b.description }

    /// Parts of the names national LPIS lists give grassland, in their languages (English, Dutch
    /// and German "gras"/"grasland"/"Grünland", "Wiese", "Weide", French "prairie", Italian
    /// "prato"/"pascolo", Spanish and Portuguese "prado"/"pasto"/"pastagem"); the shipped
    /// `options/mowing.yaml` selects parcels with the same list.
    public static let grasslandWords = ["gras", "meadow", "pasture", "grünland", "wiese", "weide", "prairie", "prati", "prato",
                                        "pascol", "pasto", "prado", "pastagem"]

    /// The window where a crop group's canopy should cover the field: winter cereals April–June,
    /// grassland May–September, other (summer) crops July–August.
    public static func `default`(forGroup name: String) -> SeasonWindow {
        let n = name.lowercased()
        if n.contains("winter") || n.contains("barley") || n.contains("wheat") || n.contains("rye") || n.contains("triticale") {
            return SeasonWindow(from: (4, 1), to: (6, 30))
        }
        if grasslandWords.contains(where: n.contains) {
            return SeasonWindow(from: (5, 1), to: (9, 30))
        }
        return SeasonWindow(from: (7, 1), to: (8, 31))
    }
}

public struct HeterogeneityOptions: Sendable {
    public enum Method: String, Sendable, CaseIterable {
        /// Per date against peers of the same crop group and size, flagged when a split shows
        /// on several dates (default).
        case persistent
        /// The JRC ranking: the median CV in the crop group's window, robust z within the group.
        case median
    }
    public var method = Method.persistent
    public var band = "B08"
    /// One window for every parcel; nil: each crop group's default window.
    public var window: SeasonWindow?
    public var cloudScreen = CloudScreen()
    /// Robust z-score above which a parcel is flagged.
    public var threshold = 3.5
    public var minObservations = 1
    /// persistent: a date is split-like when its robust z against its peers of that date exceeds
    /// `dateThreshold`; a parcel is flagged with at least `minSplitDates` such dates that are
    /// at least `minSplitShare` of its clear dates in the season (04-01..10-31 unless `window`).
    public var dateThreshold = 3.0
    public var minSplitDates = 3
    public var minSplitShare = 0.25
    public init() {}
}

public struct HeterogeneityRow: Sendable {
    public let pid: Int64
    public let parcelID: String
    public let aoi: String
    public let group: String
    public let observations: Int
    public let cv: Double?, qd: Double?, qskew: Double?
    public var score: Double?
    public var rank = 0
    public var flag = false
    /// persistent: dates on which the parcel looked split.
    public var splitDates: Int?
}

/// Within-field heterogeneity from signatures (the JRC analytics case): over the cloud-free
/// observations in the crop group's window, the medians of std/mean (CV), the quartile
/// dispersion (p75 − p25)/(p75 + p25) and the quartile skew (p75 + p25 − 2·p50)/(p75 − p25); the
/// CV scored against the parcel's crop group in its AOI (robust z: median and MAD), ranked, and
/// flagged above a threshold.
public struct Heterogeneity {
    let lake: Lake
    public init(lake: Lake) { self.lake = lake }

    public func compute(_ options: HeterogeneityOptions) throws -> [HeterogeneityRow] {
        options.method == .persistent ? try persistent(options) : try medianRanking(options)
    }

    /// Split fields that last: per clear date in the season, the parcel's CV (std / mean of the
    /// band) scored against the same date's CVs of its peers as a robust z. Peers are the parcels
    /// of the same AOI that looked alike on that date — the same fifth of the band's level among
    /// the parcels seen that day — and are of the same size class (terciles of pixel count: small
    /// fields have more boundary pixels and look less uniform). Peers by look, not by declared
    /// crop: a field declared as wheat that is really maize is bare while its declared peers are
    /// green, and a bare field's CV is not a green one's; a field of two crops has a spread that
    /// fields of its level do not. A quartile spread wider than a normal distribution's for that
    /// std ((p75 − p25) / std above 1.349·1.1: two populations of pixels) lowers the bar to two
    /// thirds of it. Flagged when the split shows on several dates, not one noisy date.
    func persistent(_ options: HeterogeneityOptions) throws -> [HeterogeneityRow] {
        let db = lake.db
        let (info, bandID, calendar) = try inputs(options)
        let window = options.window ?? SeasonWindow(from: (4, 1), to: (10, 31))
        var series: [Int64: ParcelCVs] = [:]
        let fields: Set<Int> = [0, 1, 2, 5, 7]
        try db.transaction { try SCLSummary.refresh(db) }
        try PackedScan.forEach(lake, screen: options.cloudScreen) { pid, blob, clearList in
            guard let parcel = info[pid] else { return }
            let clear = Dictionary(clearList, uniquingKeysWith: { a, _ in a })
            guard let column = try SeriesCodec.decode(blob, bands: [bandID], fields: fields).first else { return }
            let count = column.values[0]!, mean = column.values[1]!, std = column.values[2]!, p25 = column.values[5]!, p75 = column.values[7]!
            var obs: [DateCV] = [], pixels: [Double] = []
            for (k, obsid) in column.obsids.enumerated() {
                guard clear[obsid] == true, let day = calendar.day(obsid), window.contains(day: day) else { continue }
                if parcel.year > 0, Days.civil(day).year != parcel.year { continue }
                guard mean[k] > 0, std[k] >= 0 else { continue }
                obs.append(DateCV(obsid: obsid, cv: Double(std[k] / mean[k]), level: mean[k],
                               bimodal: std[k] > 0 && (p75[k] - p25[k]) > 1.349 * 1.1 * std[k]))
                pixels.append(Double(count[k]))
            }
            guard obs.count >= options.minObservations else { return }
            series[pid] = ParcelCVs(id: parcel.id, aoi: parcel.aoi, group: parcel.group, pixels: RobustStatistics.median(pixels) ?? 0, obs: obs)
        }
        return Self.scorePersistent(series, options)
    }

    /// One clear date of a parcel: the band's CV, its level (mean) and whether its quartiles
    /// spread wider than one population's.
    struct DateCV { let obsid: Int64; let cv: Double; let level: Float; let bimodal: Bool }
    struct ParcelCVs { let id: String, aoi: String, group: String; let pixels: Double; let obs: [DateCV] }

    /// The persistent method's scoring, apart from reading: each date against its peers by look
    /// and size, the dates that look split counted, the parcels ranked.
    static func scorePersistent(_ series: [Int64: ParcelCVs], _ options: HeterogeneityOptions) -> [HeterogeneityRow] {
        // Size classes: terciles of pixel count within the AOI.
        var sizeClass: [Int64: Int] = [:]
        for (_, pids) in Dictionary(grouping: series.keys, by: { series[$0]!.aoi }) {
            let sorted = pids.sorted { (series[$0]!.pixels, $0) < (series[$1]!.pixels, $1) }
            let classes = sorted.count >= 60 ? 3 : 1
            for (i, pid) in sorted.enumerated() { sizeClass[pid] = i * classes / sorted.count }
        }
        // Level classes: per AOI and date, the fifths of the band's mean over the parcels seen.
        // AOIs by number (a key per observation hashed a string three times: most of the run).
        var aoiNumber: [String: Int] = [:]
        for s in series.values where aoiNumber[s.aoi] == nil { aoiNumber[s.aoi] = aoiNumber.count }
        struct DateKey: Hashable { let aoi: Int; let obsid: Int64 }
        var levels: [DateKey: [Float]] = [:]
        for s in series.values {
            let a = aoiNumber[s.aoi]!
            for o in s.obs { levels[DateKey(aoi: a, obsid: o.obsid), default: []].append(o.level) }
        }
        for k in levels.keys { levels[k]!.sort() }
        func levelClass(_ key: DateKey, _ level: Float) -> Int {
            let sorted = levels[key]!
            var lo = 0, hi = sorted.count
            while lo < hi { let mid = (lo + hi) / 2; if sorted[mid] < level { lo = mid + 1 } else { hi = mid } }
            return sorted.count >= 40 ? min(4, lo * 5 / sorted.count) : 0
        }
        // Per date the reference (median and MAD of CV) of each peer class; where a class has too
        // few parcels, the level's across sizes, then the AOI's that day (a small lake still gets one).
        struct PeerKey: Hashable { let date: DateKey; let size: Int; let level: Int }
        // Each observation's three peer keys, worked out once (they serve twice: references, scores).
        var peerKeys: [Int64: [(PeerKey, PeerKey, PeerKey)]] = [:]
        peerKeys.reserveCapacity(series.count)
        for (pid, s) in series {
            let a = aoiNumber[s.aoi]!, size = sizeClass[pid]!
            peerKeys[pid] = s.obs.map { o in
                let d = DateKey(aoi: a, obsid: o.obsid), level = levelClass(d, o.level)
                return (PeerKey(date: d, size: size, level: level), PeerKey(date: d, size: -1, level: level), PeerKey(date: d, size: -1, level: -1))
            }
        }
        var cvs: [PeerKey: [Double]] = [:]
        for (pid, s) in series {
            for (o, k) in zip(s.obs, peerKeys[pid]!) {
                cvs[k.0, default: []].append(o.cv); cvs[k.1, default: []].append(o.cv); cvs[k.2, default: []].append(o.cv)
            }
        }
        var reference: [PeerKey: (Double, Double)] = [:]
        for (key, values) in cvs where values.count >= 8 {
            if let m = RobustStatistics.median(values), let mad = RobustStatistics.mad(values), mad > 0 { reference[key] = (m, mad) }
        }
        var rows: [HeterogeneityRow] = []
        for (pid, s) in series {
            var zs: [Double] = [], split = 0
            for (o, k) in zip(s.obs, peerKeys[pid]!) {
                guard let (m, mad) = reference[k.0] ?? reference[k.1] ?? reference[k.2],
                      let z = RobustStatistics.robustZ(o.cv, median: m, mad: mad) else { continue }
                zs.append(z)
                if z > options.dateThreshold || (o.bimodal && z > options.dateThreshold * 2 / 3) { split += 1 }
            }
            var row = HeterogeneityRow(pid: pid, parcelID: s.id, aoi: s.aoi, group: s.group, observations: s.obs.count,
                                       cv: RobustStatistics.median(s.obs.map(\.cv)), qd: nil, qskew: nil)
            row.score = RobustStatistics.median(zs)
            row.splitDates = split
            row.flag = split >= options.minSplitDates && Double(split) >= options.minSplitShare * Double(max(zs.count, 1))
            rows.append(row)
        }
        rows.sort { ($0.splitDates ?? 0, $0.score ?? -.infinity, -$0.pid) > ($1.splitDates ?? 0, $1.score ?? -.infinity, -$1.pid) }
        for i in rows.indices { rows[i].rank = i + 1 }
        return rows
    }

    /// Every parcel with its crop group, the band's id and the scene calendar.
    private func inputs(_ options: HeterogeneityOptions) throws
        -> (info: [Int64: (id: String, aoi: String, year: Int, group: String)], band: UInt8, calendar: SceneCalendar) {
        let db = lake.db
        var info: [Int64: (id: String, aoi: String, year: Int, group: String)] = [:]
        let p = try db.prepare("SELECT pid, parcel_id, aoi, year, coalesce(group_name, '') FROM parcel_groups")
        while try p.step() { info[p.int(0)] = (p.text(1) ?? "", p.text(2) ?? "", Int(p.int(3)), p.text(4) ?? "") }
        guard let bandID = try BandDictionary(db: db).id(options.band) else {
            throw LakeError.notFound("no signatures of band \(options.band) in the lake")
        }
        return (info, bandID, try SceneCalendar(db))
    }

    /// The JRC ranking (method `median`).
    func medianRanking(_ options: HeterogeneityOptions) throws -> [HeterogeneityRow] {
        let db = lake.db
        let (info, bandID, calendar) = try inputs(options)
        var windows: [String: SeasonWindow] = [:]   // crop group → its default window, worked out once

        var rows: [HeterogeneityRow] = []
        // std, p25, p50, p75 and mean of one band: five of the 64 columns of a series.
        let fields: Set<Int> = [1, 2, 5, 6, 7]
        try db.transaction { try SCLSummary.refresh(db) }
        try PackedScan.forEach(lake, screen: options.cloudScreen) { pid, blob, clearList in
            guard let parcel = info[pid] else { return }
            let window = options.window ?? windows[parcel.group] ?? {
                let w = SeasonWindow.default(forGroup: parcel.group)
                windows[parcel.group] = w
                return w
            }()
            let clear = Dictionary(clearList, uniquingKeysWith: { a, _ in a })
            guard let column = try SeriesCodec.decode(blob, bands: [bandID], fields: fields).first else { return }
            var cvs: [Double] = [], qds: [Double] = [], skews: [Double] = []
            let mean = column.values[1]!, std = column.values[2]!, p25 = column.values[5]!, p50 = column.values[6]!, p75 = column.values[7]!
            for (k, obsid) in column.obsids.enumerated() {
                guard let day = calendar.day(obsid), window.contains(day: day) else { continue }
                if parcel.year > 0, Days.civil(day).year != parcel.year { continue }
                guard clear[obsid] == true else { continue }
                if mean[k] > 0 { cvs.append(Double(std[k] / mean[k])) }
                if p75[k] + p25[k] > 0 { qds.append(Double((p75[k] - p25[k]) / (p75[k] + p25[k]))) }
                if p75[k] > p25[k] { skews.append(Double((p75[k] + p25[k] - 2 * p50[k]) / (p75[k] - p25[k]))) }
            }
            guard cvs.count >= options.minObservations else { return }
            rows.append(HeterogeneityRow(pid: pid, parcelID: parcel.id, aoi: parcel.aoi, group: parcel.group,
                                         observations: cvs.count, cv: RobustStatistics.median(cvs),
                                         qd: RobustStatistics.median(qds), qskew: RobustStatistics.median(skews)))
        }
        // Score within (aoi, crop group).
        let groups = Dictionary(grouping: rows.indices) { "\(rows[$0].aoi)\u{1}\(rows[$0].group)" }
        for members in groups.values {
            let values = members.compactMap { rows[$0].cv }
            guard let median = RobustStatistics.median(values), let mad = RobustStatistics.mad(values) else { continue }
            for i in members {
                if let cv = rows[i].cv { rows[i].score = RobustStatistics.robustZ(cv, median: median, mad: mad) }
                rows[i].flag = (rows[i].score ?? 0) > options.threshold
            }
        }
        rows.sort { ($0.score ?? -.infinity, $0.cv ?? 0, -$0.pid) > ($1.score ?? -.infinity, $1.cv ?? 0, -$1.pid) }
        for i in rows.indices { rows[i].rank = i + 1 }
        return rows
    }

    /// Computes and records a run; returns its id and rows.
    public func run(_ options: HeterogeneityOptions, optionsText: String) throws -> (run: Int64, rows: [HeterogeneityRow]) {
        let rows = try compute(options)
        var run: Int64 = 0
        try lake.db.transaction {
            run = try RunLog.begin(lake.db, kind: "heterogeneity", options: optionsText, inputs: try RunInputs.describe(lake))
            let insert = try lake.db.prepare("""
                INSERT INTO heterogeneity (run_id, pid, crop_group, n_obs, cv, qd, qskew, score, rank, flag, split_dates)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for r in rows {
                try insert.bind([.int(run), .int(r.pid), .text(r.group), .int(Int64(r.observations)),
                                 r.cv.map(SQLValue.double) ?? .null, r.qd.map(SQLValue.double) ?? .null,
                                 r.qskew.map(SQLValue.double) ?? .null, r.score.map(SQLValue.double) ?? .null,
                                 .int(Int64(r.rank)), .int(r.flag ? 1 : 0), r.splitDates.map { .int(Int64($0)) } ?? .null])
                try insert.step()
                insert.reset()
            }
            try RunLog.finish(lake.db, run: run, summary: ["parcels": rows.count, "flagged": rows.filter(\.flag).count])
        }
        return (run, rows)
    }
}

/// What a run read: the state of the lake it ran on. Every change of parcels, scenes,
/// signatures or histograms is an ingest or extraction with its own `ingest_log` row, so the last
/// one (with the counts that are cheap to take) identifies the data. Counting signature rows or
/// histograms would read the whole file and cost more than a markers run.
public enum RunInputs {
    public static func describe(_ lake: Lake) throws -> [String: Any] {
        let db = lake.db
        return ["parcels": try db.scalar("SELECT count(*) FROM parcels")?.int ?? 0,
                "scenes": try db.scalar("SELECT count(*) FROM catalogue")?.int ?? 0,
                "last_ingest": try db.scalar("SELECT coalesce(max(id), 0) FROM ingest_log")?.int ?? 0,
                "last_ingest_finished": try db.scalar("SELECT finished FROM ingest_log ORDER BY id DESC LIMIT 1")?.text ?? "",
                "lake": URL(fileURLWithPath: lake.path).lastPathComponent]
    }
}
