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

/// Reads every parcel's series in one pass over the store (see `PackedScan`), decoded, with
/// offsets applied to reflectances and each observation's clear flag.
public final class SeriesScanner {
    let lake: Lake
    public var cloudScreen = CloudScreen()
    public var from: Int?
    public var to: Int?
    /// Only these parcels (nil: all).
    public var pids: Set<Int64>?
    public let calendar: SceneCalendar
    private let dictionary: BandDictionary

    public init(lake: Lake) throws {
        self.lake = lake
        dictionary = try BandDictionary(db: lake.db)
        calendar = try SceneCalendar(lake.db)
    }

    /// Every parcel with signatures, in pid order, with the rows of its series (offsets applied
    /// to reflectance bands given in digital numbers) and the clear flag of each observation
    /// that has an SCL histogram.
    public func forEachParcel(_ body: (Int64, [SignatureRow], [Int64: Bool]) throws -> Void) throws {
        let offsetBands = Set((0...255).compactMap { id -> UInt8? in Bands.takesOffset(dictionary.name(UInt8(id))) ? UInt8(id) : nil })
        try PackedScan.forEach(lake, screen: cloudScreen) { pid, blob, clearList in
            if let pids, !pids.contains(pid) { return }
            var rows = try SeriesCodec.decode(blob)
            // Offsets apply to the bands this parcel has in digital numbers (not in reflectance,
            // nor where they were taken off before the statistics came).
            let inDN = Bands.offsetBands(rows, name: { dictionary.name($0) }, offset: { calendar.offset($0) })
            for i in rows.indices where offsetBands.contains(rows[i].bandID) && inDN.contains(rows[i].bandID) {
                let offset = calendar.offset(rows[i].obsid)
                if offset != 0 { rows[i] = SignatureRow(obsid: rows[i].obsid, bandID: rows[i].bandID, stats: rows[i].stats.offset(by: offset)) }
            }
            try body(pid, rows, Dictionary(clearList, uniquingKeysWith: { a, _ in a }))
        }
    }

    /// Every parcel's series of `signal` (band means), dated, with its clear flag; sorted by day.
    public func forEachSeries(_ signal: Signal, _ body: (Int64, [IndexPoint]) throws -> Void) throws {
        let ids = signal.bands.map { dictionary.id($0) }
        if ids.contains(where: { $0 == nil }) { return }   // the lake has no such band
        let wanted = ids.map { $0! }
        try forEachParcel { pid, rows, clear in
            // Packed rows are band-major; gather each scene's band means.
            var means: [Int64: [Double?]] = [:]
            for row in rows {
                guard let k = wanted.firstIndex(of: row.bandID) else { continue }
                means[row.obsid, default: [Double?](repeating: nil, count: wanted.count)][k] = Double(row.stats.mean)
            }
            var points: [IndexPoint] = []
            points.reserveCapacity(means.count)
            for (obsid, m) in means {
                guard let day = calendar.day(obsid) else { continue }
                if let from, day < from { continue }
                if let to, day > to { continue }
                guard let value = Self.value(signal, m) else { continue }
                points.append(IndexPoint(day: day, value: value, clear: clear[obsid]))
            }
            points.sort { $0.day < $1.day }
            try body(pid, points)
        }
    }
    static func value(_ signal: Signal, _ m: [Double?]) -> Double? {
        switch signal {
        case .ndvi: return ndvi(red: m[0], nir: m[1])
        case .bsi: return bsi(b02: m[0], b04: m[1], b08: m[2], b11: m[3])
        case .vv, .vh: return m[0]
        }
    }
    @inline(__always) static func ndvi(red: Double?, nir: Double?) -> Double? {
        guard let red, let nir, nir + red != 0 else { return nil }
        return (nir - red) / (nir + red)
    }
    @inline(__always) static func bsi(b02: Double?, b04: Double?, b08: Double?, b11: Double?) -> Double? {
        guard let b02, let b04, let b08, let b11 else { return nil }
        let a = b11 + b04, b = b08 + b02
        return a + b == 0 ? nil : (a - b) / (a + b)
    }
}
