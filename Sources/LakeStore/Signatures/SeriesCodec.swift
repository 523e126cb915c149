/// The packed, column-encoded form of one parcel's whole signature series.
///
/// Layout (version 1), all integers LEB128 varints unless noted:
///
///     u8 version (1) · groups
///     per band group: u8 band_id · n · obsid column · 8 statistic columns
///     obsid column: first obsid, then n-1 positive deltas (rows sorted by obsid)
///     statistic column: u8 mode · n values
///
/// Statistics are stored exactly (bit for bit as float32). Each column picks whichever mode is
/// smallest for its values:
///
///     0 raw       4 bytes little-endian
///     1 xor-prev  bits XOR the previous row's bits (close values share sign, exponent and
///                 leading mantissa bits, so the XOR is a small integer)
///     2 xor-p50   bits XOR this row's p50 bits (mean and quartiles sit near the median)
///     3 q-prev    value × 4 is an integer: zigzag delta from the previous row's
///     4 q-p50     value × 4 is an integer: zigzag delta from this row's p50 × 4
///
/// Digital numbers (integers) and their linear-interpolated percentiles (multiples of 0.25)
/// take modes 3/4; means and standard deviations take 1/2. The median column is written first
/// because other columns refer to it.
public enum SeriesCodec {
    static let version: UInt8 = 1
    /// Statistic columns in storage order: p50 first (others refer to it), then the rest.
    static let columnOrder = [6, 0, 3, 4, 5, 7, 1, 2]
    static let p50 = 6

    public struct Corrupt: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { "damaged signature series: \(reason)" }
    }

    /// Encodes rows that are sorted by (bandID, obsid) with no (bandID, obsid) twice.
    public static func encode(_ rows: [SignatureRow]) -> [UInt8] {
        var w = ByteWriter(capacity: rows.count * 24 + 16)
        w.u8(version)
        var start = 0
        var groups: [Range<Int>] = []
        while start < rows.count {
            var end = start + 1
            while end < rows.count && rows[end].bandID == rows[start].bandID { end += 1 }
            groups.append(start..<end)
            start = end
        }
        w.varint(UInt64(groups.count))
        var column = [Float](repeating: 0, count: rows.count)
        var reference = [Float](repeating: 0, count: rows.count)
        for g in groups {
            let n = g.count
            w.u8(rows[g.lowerBound].bandID)
            w.varint(UInt64(n))
            var previous: Int64 = 0
            for (k, i) in g.enumerated() {
                let obsid = rows[i].obsid
                w.varint(k == 0 ? UInt64(obsid) : UInt64(obsid - previous))
                previous = obsid
            }
            for k in 0..<n { reference[k] = rows[g.lowerBound + k].stats.p50 }
            for field in columnOrder {
                for k in 0..<n { column[k] = rows[g.lowerBound + k].stats[field] }
                writeColumn(&w, column[0..<n], reference: field == p50 ? nil : reference[0..<n])
            }
        }
        return w.bytes
    }

    public static func decode(_ blob: UnsafeRawBufferPointer) throws -> [SignatureRow] {
        var r = ByteReader(blob)
        do {
            guard try r.u8() == version else { throw Corrupt(reason: "unknown version") }
            let groupCount = Int(try r.varint())
            var rows: [SignatureRow] = []
            for _ in 0..<groupCount {
                let band = try r.u8()
                let n = Int(try r.varint())
                guard n > 0, n <= blob.count else { throw Corrupt(reason: "bad row count") }
                let base = rows.count
                var obsid: Int64 = 0
                for k in 0..<n {
                    let v = Int64(bitPattern: try r.varint())
                    obsid = k == 0 ? v : obsid &+ v
                    rows.append(SignatureRow(obsid: obsid, bandID: band, stats: .zero))
                }
                var reference = [Float](repeating: 0, count: n)
                for field in columnOrder {
                    let values = try readColumn(&r, n: n, reference: field == p50 ? nil : reference)
                    if field == p50 { reference = values }
                    for k in 0..<n { rows[base + k].stats[field] = values[k] }
                }
            }
            guard r.atEnd else { throw Corrupt(reason: "trailing bytes") }
            return rows
        } catch is ByteReader.Truncated {
            throw Corrupt(reason: "truncated")
        }
    }

    /// One band's observations with only the statistics asked for.
    public struct BandColumns: Sendable {
        public let band: UInt8
        public let obsids: [Int64]
        /// By statistic index (SignatureStats order); only the requested ones.
        public let values: [Int: [Float]]
    }

    /// Decodes only `fields` of `bands` and skips everything else without materialising it:
    /// analyses that need the B04/B08 means of every parcel read a fraction of each series.
    public static func decode(_ blob: UnsafeRawBufferPointer, bands: Set<UInt8>, fields: Set<Int>) throws -> [BandColumns] {
        var r = ByteReader(blob)
        do {
            guard try r.u8() == version else { throw Corrupt(reason: "unknown version") }
            let groupCount = Int(try r.varint())
            var out: [BandColumns] = []
            for _ in 0..<groupCount {
                let band = try r.u8()
                let n = Int(try r.varint())
                guard n > 0, n <= blob.count else { throw Corrupt(reason: "bad row count") }
                let wanted = bands.contains(band)
                var obsids: [Int64] = []
                if wanted { obsids.reserveCapacity(n) }
                var obsid: Int64 = 0
                for k in 0..<n {
                    let v = Int64(bitPattern: try r.varint())
                    obsid = k == 0 ? v : obsid &+ v
                    if wanted { obsids.append(obsid) }
                }
                var reference: [Float]?
                var values: [Int: [Float]] = [:]
                for field in columnOrder {
                    let needReference = wanted && field == p50 && !fields.isEmpty
                    if wanted && (fields.contains(field) || needReference) {
                        let column = try readColumn(&r, n: n, reference: field == p50 ? nil : reference)
                        if field == p50 { reference = column }
                        if fields.contains(field) { values[field] = column }
                    } else {
                        try skipColumn(&r, n: n)
                    }
                }
                if wanted { out.append(BandColumns(band: band, obsids: obsids, values: values)) }
            }
            guard r.atEnd else { throw Corrupt(reason: "trailing bytes") }
            return out
        } catch is ByteReader.Truncated {
            throw Corrupt(reason: "truncated")
        }
    }

    private static func skipColumn(_ r: inout ByteReader, n: Int) throws {
        let mode = try r.u8()
        if mode == 0 {
            guard r.offset + 4 * n <= r.bytes.count else { throw ByteReader.Truncated() }
            r.offset += 4 * n
        } else {
            guard mode <= 4 else { throw Corrupt(reason: "unknown column mode \(mode)") }
            for _ in 0..<n { _ = try r.varint() }
        }
    }

    public static func decode(_ bytes: [UInt8]) throws -> [SignatureRow] {
        try bytes.withUnsafeBytes { try decode($0) }
    }

    // MARK: columns

    private static func quarter(_ v: Float) -> Int64? {
        let q = v * 4
        guard q.isFinite, q == q.rounded(), abs(q) < 16_777_216, !(v == 0 && v.sign == .minus) else { return nil }
        return Int64(q)
    }

    private static func writeColumn(_ w: inout ByteWriter, _ values: ArraySlice<Float>, reference: ArraySlice<Float>?) {
        let n = values.count
        let vs = Array(values)
        let refs = reference.map(Array.init)
        var sizes = [4 * n, 0, Int.max, Int.max, Int.max]
        var prevBits: UInt32 = 0
        for v in vs { sizes[1] += ByteWriter.varintSize(UInt64(v.bitPattern ^ prevBits)); prevBits = v.bitPattern }
        if let refs {
            sizes[2] = 0
            for k in 0..<n { sizes[2] += ByteWriter.varintSize(UInt64(vs[k].bitPattern ^ refs[k].bitPattern)) }
        }
        let qs = vs.map(quarter)
        if qs.allSatisfy({ $0 != nil }) {
            sizes[3] = 0
            var prev: Int64 = 0
            for q in qs { sizes[3] += ByteWriter.varintSize(ByteWriter.zigzagValue(q! - prev)); prev = q! }
            if let refs {
                let rq = refs.map(quarter)
                if rq.allSatisfy({ $0 != nil }) {
                    sizes[4] = 0
                    for k in 0..<n { sizes[4] += ByteWriter.varintSize(ByteWriter.zigzagValue(qs[k]! - rq[k]!)) }
                }
            }
        }
        let mode = sizes.indices.min { sizes[$0] < sizes[$1] }!
        w.u8(UInt8(mode))
        switch mode {
        case 0: for v in vs { w.f32(v) }
        case 1:
            var prev: UInt32 = 0
            for v in vs { w.varint(UInt64(v.bitPattern ^ prev)); prev = v.bitPattern }
        case 2: for k in 0..<n { w.varint(UInt64(vs[k].bitPattern ^ refs![k].bitPattern)) }
        case 3:
            var prev: Int64 = 0
            for q in qs { w.zigzag(q! - prev); prev = q! }
        default: for k in 0..<n { w.zigzag(qs[k]! - quarter(refs![k])!) }
        }
    }

    private static func readColumn(_ r: inout ByteReader, n: Int, reference: [Float]?) throws -> [Float] {
        let mode = try r.u8()
        var out = [Float](repeating: 0, count: n)
        switch mode {
        case 0: for k in 0..<n { out[k] = try r.f32() }
        case 1:
            var prev: UInt32 = 0
            for k in 0..<n {
                let x = try r.varint()
                guard x <= UInt64(UInt32.max) else { throw Corrupt(reason: "value out of range") }
                prev ^= UInt32(x); out[k] = Float(bitPattern: prev)
            }
        case 2, 4:
            guard let reference else { throw Corrupt(reason: "median column refers to itself") }
            for k in 0..<n {
                if mode == 2 {
                    let x = try r.varint()
                    guard x <= UInt64(UInt32.max) else { throw Corrupt(reason: "value out of range") }
                    out[k] = Float(bitPattern: UInt32(x) ^ reference[k].bitPattern)
                } else {
                    guard let base = quarter(reference[k]) else { throw Corrupt(reason: "median is not a quarter value") }
                    out[k] = Float(try r.zigzag() &+ base) / 4
                }
            }
        case 3:
            var prev: Int64 = 0
            for k in 0..<n { prev &+= try r.zigzag(); out[k] = Float(prev) / 4 }
        default: throw Corrupt(reason: "unknown column mode \(mode)")
        }
        return out
    }
}

/// The form of a `signatures_pending` row: all bands of one (parcel, scene) as they arrived.
/// Per band: u8 band_id, then the 8 statistics as float32 little-endian.
public enum PendingCodec {
    public static func encode(_ bands: [(UInt8, SignatureStats)]) -> [UInt8] {
        var w = ByteWriter(capacity: bands.count * 33)
        for (band, stats) in bands {
            w.u8(band)
            for i in 0..<8 { w.f32(stats[i]) }
        }
        return w.bytes
    }

    public static func decode(_ blob: UnsafeRawBufferPointer) throws -> [(UInt8, SignatureStats)] {
        guard blob.count % 33 == 0 else { throw SeriesCodec.Corrupt(reason: "pending row of \(blob.count) bytes") }
        var r = ByteReader(blob)
        var out: [(UInt8, SignatureStats)] = []
        while !r.atEnd {
            let band = try r.u8()
            var s = SignatureStats.zero
            for i in 0..<8 { s[i] = try r.f32() }
            out.append((band, s))
        }
        return out
    }
}
