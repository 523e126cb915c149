import LakeSQLite

/// Per parcel, which SCL classes have pixels in each scene (schema/003_scl_summary.sql): one
/// row per parcel, so whole-lake analyses screen clouds without reading every histogram row.
public enum SCLSummary {
    static let version: UInt8 = 1

    /// One scene of a parcel: bit k of `classes` is set when class k has pixels.
    public struct Entry: Equatable, Sendable {
        public let obsid: Int64
        public let classes: UInt16
        public init(obsid: Int64, classes: UInt16) { self.obsid = obsid; self.classes = classes }
    }

    /// The class mask of a histogram (counts of classes 0–11).
    public static func mask(_ counts: [Int]) -> UInt16 {
        var m: UInt16 = 0
        for (k, c) in counts.prefix(12).enumerated() where c > 0 { m |= 1 << UInt16(k) }
        return m
    }

    /// Encodes entries sorted by obsid.
    public static func encode(_ entries: [Entry]) -> [UInt8] {
        var w = ByteWriter(capacity: 2 + 3 * entries.count)
        w.u8(version)
        w.varint(UInt64(entries.count))
        var previous: Int64 = 0
        for e in entries {
            w.zigzag(e.obsid &- previous)
            previous = e.obsid
            w.varint(UInt64(e.classes))
        }
        return w.bytes
    }

    /// Calls `body` with each entry, in obsid order; throws on a damaged blob.
    public static func forEach(_ blob: UnsafeRawBufferPointer, _ body: (Int64, UInt16) throws -> Void) throws {
        var r = ByteReader(blob)
        do {
            guard try r.u8() == version else { throw SeriesCodec.Corrupt(reason: "unknown SCL summary version") }
            let n = try r.varint()
            guard n <= UInt64(blob.count) else { throw SeriesCodec.Corrupt(reason: "bad SCL summary count") }
            var obsid: Int64 = 0
            for _ in 0..<Int(n) {
                obsid &+= try r.zigzag()
                let classes = try r.varint()
                guard classes < 1 << 12 else { throw SeriesCodec.Corrupt(reason: "bad SCL class mask") }
                try body(obsid, UInt16(classes))
            }
            guard r.atEnd else { throw SeriesCodec.Corrupt(reason: "trailing bytes in SCL summary") }
        } catch is ByteReader.Truncated {
            throw SeriesCodec.Corrupt(reason: "truncated SCL summary")
        }
    }

    public static func decode(_ blob: [UInt8]) throws -> [Entry] {
        var out: [Entry] = []
        try blob.withUnsafeBytes { try forEach($0) { out.append(Entry(obsid: $0, classes: $1)) } }
        return out
    }

    /// Rebuilds the summaries of every parcel whose histograms changed (`scl_dirty`) from
    /// `scl_hist`; call inside a write transaction. Returns how many parcels it rebuilt.
    @discardableResult
    public static func refresh(_ db: Connection) throws -> Int {
        var dirty: [Int64] = []
        let list = try db.prepare("SELECT pid FROM scl_dirty ORDER BY pid")
        while try list.step() { dirty.append(list.int(0)) }
        guard !dirty.isEmpty else { return 0 }
        let columns = (0...11).map { "c\($0)" }.joined(separator: ", ")
        let read = try db.prepare("SELECT obsid, \(columns) FROM scl_hist WHERE pid = ? ORDER BY obsid")
        let write = try db.prepare("INSERT OR REPLACE INTO scl_summary (pid, data) VALUES (?, ?)")
        let remove = try db.prepare("DELETE FROM scl_summary WHERE pid = ?")
        var entries: [Entry] = []
        var counts = [Int](repeating: 0, count: 12)
        for pid in dirty {
            entries.removeAll(keepingCapacity: true)
            try read.bind([.int(pid)])
            while try read.step() {
                for k in 0..<12 { counts[k] = Int(read.int(Int32(k + 1))) }
                entries.append(Entry(obsid: read.int(0), classes: mask(counts)))
            }
            if entries.isEmpty {
                try remove.bind([.int(pid)]); try remove.step()
            } else {
                try write.bind([.int(pid), .blob(encode(entries))]); try write.step()
            }
        }
        try db.execute("DELETE FROM scl_dirty")
        return dirty.count
    }
}
