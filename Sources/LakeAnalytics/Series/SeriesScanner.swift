import LakeQuery
import LakeSQLite
import LakeStore

/// An index value of a parcel on one date.
public struct IndexPoint: Sendable, Equatable {
    public let day: Int          // Days.number
    public let value: Double
    /// From the SCL histogram; nil when the observation has none.
    public let clear: Bool?
    public init(day: Int, value: Double, clear: Bool?) { self.day = day; self.value = value; self.clear = clear }
}

/// The signals a series can be built from.
public enum Signal: String, Sendable, CaseIterable {
    case ndvi, bsi, vv, vh
    /// Bands each needs.
    var bands: [String] {
        switch self {
        case .ndvi: ["B04", "B08"]
        case .bsi: ["B02", "B04", "B08", "B11"]
        case .vv: ["VV"]
        case .vh: ["VH"]
        }
    }
}

/// Reads every parcel's signal series in one pass over the store: the catalogue (dates,
/// offsets) once, the packed series and SCL histograms in pid order. This is what lets markers
/// and heterogeneity run over hundreds of thousands of parcels in seconds.
public final class SeriesScanner {
    let lake: Lake
    public var cloudScreen = CloudScreen()
    public var from: Int?
    public var to: Int?
    /// Only these parcels (nil: all).
    public var pids: Set<Int64>?

    struct Scene { let day: Int; let offset: Float }
    private var scenes: [Int64: Scene] = [:]
    private let dictionary: BandDictionary

    public init(lake: Lake) throws {
        self.lake = lake
        dictionary = try BandDictionary(db: lake.db)
        let s = try lake.db.prepare("SELECT obsid, obstime, radiometric_offset FROM catalogue")
        while try s.step() {
            guard let day = Days.number(s.text(1) ?? "") else { continue }
            scenes[s.int(0)] = Scene(day: day, offset: Float(s.double(2)))
        }
    }

    /// Every parcel with signatures, in pid order, with the rows of its series (offsets applied
    /// to reflectance bands) and its SCL histograms by obsid.
    public func forEachParcel(_ body: (Int64, [SignatureRow], [Int64: [Int]]) throws -> Void) throws {
        let store = SignatureStore(db: lake.db)
        guard try store.pendingCount() == 0 else {
            throw LakeError.usage("signatures are waiting to be merged; run any `lake ingest signatures` or `lake extract` to completion first")
        }
        let packed = try lake.db.prepare("SELECT pid, data FROM signatures_packed ORDER BY pid")
        let hist = try lake.db.prepare("SELECT pid, obsid, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11 FROM scl_hist ORDER BY pid, obsid")
        var histPending = try hist.step()
        let offsetBands = Set((0...255).compactMap { id -> UInt8? in Bands.takesOffset(dictionary.name(UInt8(id))) ? UInt8(id) : nil })
        while try packed.step() {
            let pid = packed.int(0)
            var histograms: [Int64: [Int]] = [:]
            while histPending && hist.int(0) < pid { histPending = try hist.step() }
            while histPending && hist.int(0) == pid {
                histograms[hist.int(1)] = (2...13).map { Int(hist.int(Int32($0))) }
                histPending = try hist.step()
            }
            if let pids, !pids.contains(pid) { continue }
            var rows = try packed.withBlob(1, SeriesCodec.decode)
            for i in rows.indices where offsetBands.contains(rows[i].bandID) {
                if let scene = scenes[rows[i].obsid], scene.offset != 0 {
                    rows[i] = SignatureRow(obsid: rows[i].obsid, bandID: rows[i].bandID, stats: rows[i].stats.offset(by: scene.offset))
                }
            }
            try body(pid, rows, histograms)
        }
    }

    /// Every parcel's series of `signal` (band means), dated, with its clear flag; sorted by day.
    public func forEachSeries(_ signal: Signal, _ body: (Int64, [IndexPoint]) throws -> Void) throws {
        let ids = signal.bands.map { dictionary.id($0) }
        if ids.contains(where: { $0 == nil }) { return }   // the lake has no such band
        let wanted = ids.map { $0! }
        try forEachParcel { pid, rows, histograms in
            // Packed rows are band-major; gather each scene's band means.
            var means: [Int64: [Double?]] = [:]
            for row in rows {
                guard let k = wanted.firstIndex(of: row.bandID) else { continue }
                means[row.obsid, default: [Double?](repeating: nil, count: wanted.count)][k] = Double(row.stats.mean)
            }
            var points: [IndexPoint] = []
            points.reserveCapacity(means.count)
            for (obsid, m) in means {
                guard let scene = scenes[obsid] else { continue }
                if let from, scene.day < from { continue }
                if let to, scene.day > to { continue }
                guard let value = Self.value(signal, m) else { continue }
                let clear = histograms[obsid].map { cloudScreen.isClear($0) }
                points.append(IndexPoint(day: scene.day, value: value, clear: clear))
            }
            points.sort { $0.day < $1.day }
            try body(pid, points)
        }
    }

    static func value(_ signal: Signal, _ m: [Double?]) -> Double? {
        switch signal {
        case .ndvi:
            guard let red = m[0], let nir = m[1], nir + red != 0 else { return nil }
            return (nir - red) / (nir + red)
        case .bsi:
            guard let b02 = m[0], let b04 = m[1], let b08 = m[2], let b11 = m[3] else { return nil }
            let a = b11 + b04, b = b08 + b02
            return a + b == 0 ? nil : (a - b) / (a + b)
        case .vv, .vh:
            return m[0]
        }
    }
}
