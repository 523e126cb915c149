import LakeSQLite

/// Each catalogue scene's acquisition day (see `Days`), radiometric offset and kind (optical,
/// Sentinel-1 backscatter or coherence, from the catalogue's `card`), by obsid: read once per
/// analysis. Obsids are usually dense (1…n), so they index arrays; sparse ones (a
/// catalogue with obsids in the billions) fall back to a dictionary.
public struct SceneCalendar: Sendable {
    private let days: [Int]          // Int.min: no such scene or no date
    private let offsets: [Float]
    private let kinds: [SceneKind]
    private let sparse: [Int64: (day: Int, offset: Float, kind: SceneKind)]

    public init(_ db: Connection) throws {
        var rows: [(Int64, Int, Float, SceneKind)] = []
        let s = try db.prepare("SELECT obsid, obstime, radiometric_offset, card FROM catalogue")
        while try s.step() {
            if let day = Days.number(s.text(1) ?? "") { rows.append((s.int(0), day, Float(s.double(2)), SceneKind(card: s.text(3)))) }
        }
        let maxObsid = rows.map(\.0).max() ?? 0
        if maxObsid >= 0 && maxObsid <= 4_000_000 && rows.allSatisfy({ $0.0 >= 0 }) {
            var d = [Int](repeating: Int.min, count: Int(maxObsid) + 1), o = [Float](repeating: 0, count: Int(maxObsid) + 1)
            var k = [SceneKind](repeating: .optical, count: Int(maxObsid) + 1)
            for (obsid, day, offset, kind) in rows { d[Int(obsid)] = day; o[Int(obsid)] = offset; k[Int(obsid)] = kind }
            days = d; offsets = o; kinds = k; sparse = [:]
        } else {
            days = []; offsets = []; kinds = []
            sparse = Dictionary(rows.map { ($0.0, (day: $0.1, offset: $0.2, kind: $0.3)) }, uniquingKeysWith: { a, _ in a })
        }
    }

    /// The scene's day number, nil for an unknown obsid.
    @inline(__always) public func day(_ obsid: Int64) -> Int? {
        if !days.isEmpty {
            guard obsid >= 0, obsid < days.count, days[Int(obsid)] != Int.min else { return nil }
            return days[Int(obsid)]
        }
        return sparse[obsid]?.day
    }

    /// The scene's kind (optical for an unknown obsid).
    @inline(__always) public func kind(_ obsid: Int64) -> SceneKind {
        if !kinds.isEmpty { return obsid >= 0 && obsid < kinds.count ? kinds[Int(obsid)] : .optical }
        return sparse[obsid]?.kind ?? .optical
    }

    /// The scene's radiometric offset (0 for an unknown obsid).
    @inline(__always) public func offset(_ obsid: Int64) -> Float {
        if !offsets.isEmpty { return obsid >= 0 && obsid < offsets.count ? offsets[Int(obsid)] : 0 }
        return sparse[obsid]?.offset ?? 0
    }
}

/// What a catalogue scene measures, from its JRC `card`: optical (s2, l1c and anything else),
/// Sentinel-1 backscatter (bs) or Sentinel-1 interferometric coherence (c6, c12: the pair's
/// coherence, dated at its later acquisition).
public enum SceneKind: UInt8, Sendable {
    case optical, backscatter, coherence

    public init(card: String?) {
        switch card?.lowercased() {
        case "bs"?: self = .backscatter
        case let c? where c.hasPrefix("c") && c.dropFirst().allSatisfy(\.isNumber) && c.count > 1: self = .coherence
        default: self = .optical
        }
    }
}
