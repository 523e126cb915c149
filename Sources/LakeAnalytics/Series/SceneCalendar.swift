import LakeSQLite

/// Each catalogue scene's acquisition day (see `Days`) and radiometric offset, by obsid: read
/// once per analysis. Obsids are usually dense (1…n), so they index arrays; sparse ones (a
/// catalogue with obsids in the billions) fall back to a dictionary.
public struct SceneCalendar: Sendable {
    private let days: [Int]          // Int.min: no such scene or no date
    private let offsets: [Float]
    private let sparse: [Int64: (day: Int, offset: Float)]

    public init(_ db: Connection) throws {
        var rows: [(Int64, Int, Float)] = []
        let s = try db.prepare("SELECT obsid, obstime, radiometric_offset FROM catalogue")
        while try s.step() {
            if let day = Days.number(s.text(1) ?? "") { rows.append((s.int(0), day, Float(s.double(2)))) }
        }
        let maxObsid = rows.map(\.0).max() ?? 0
        if maxObsid >= 0 && maxObsid <= 4_000_000 && rows.allSatisfy({ $0.0 >= 0 }) {
            var d = [Int](repeating: Int.min, count: Int(maxObsid) + 1), o = [Float](repeating: 0, count: Int(maxObsid) + 1)
            for (obsid, day, offset) in rows { d[Int(obsid)] = day; o[Int(obsid)] = offset }
            days = d; offsets = o; sparse = [:]
        } else {
            days = []; offsets = []
            sparse = Dictionary(rows.map { ($0.0, (day: $0.1, offset: $0.2)) }, uniquingKeysWith: { a, _ in a })
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

    /// The scene's radiometric offset (0 for an unknown obsid).
    @inline(__always) public func offset(_ obsid: Int64) -> Float {
        if !offsets.isEmpty { return obsid >= 0 && obsid < offsets.count ? offsets[Int(obsid)] : 0 }
        return sparse[obsid]?.offset ?? 0
    }
}
