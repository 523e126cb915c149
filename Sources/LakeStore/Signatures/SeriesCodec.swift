/// The packed, column-encoded form of one parcel's whole signature series.
///
/// Layout (version 2), all integers LEB128 varints unless noted:
///
///     u8 version (2) · groups
///     per band group: u8 band_id · n · 9 columns, each as: byte length · bytes
///     column 1, obsids: first obsid, then n-1 positive deltas (rows sorted by obsid)
///     columns 2–9, statistics in storage order (p50 count min max p25 p75 mean std): u8 mode · n values
///
/// The byte lengths let a reader that wants only B04/B08 means jump over every other band and
/// column without parsing it. Version 1 (written before lake 0.3) is the same without the
/// lengths; it is still read, and rewritten as version 2 when the parcel's series is next merged.
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
    static let version: UInt8 = 2
    /// Statistic columns in storage order: p50 first (others refer to it), then the rest.
    static let columnOrder = [6, 0, 3, 4, 5, 7, 1, 2]
    static let p50 = 6
    /// Column index in a group (0 = obsids) of each statistic, in SignatureStats order.
    static let storageIndex: [Int] = (0..<8).map { field in 1 + columnOrder.firstIndex(of: field)! }

    public struct Corrupt: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { "damaged signature series: \(reason)" }
    }

    // MARK: encoding

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
        var part = ByteWriter(capacity: rows.count * 4)
        func emit() {
            w.varint(UInt64(part.bytes.count))
            w.bytes.append(contentsOf: part.bytes)
            part.bytes.removeAll(keepingCapacity: true)
        }
        for g in groups {
            let n = g.count
            w.u8(rows[g.lowerBound].bandID)
            w.varint(UInt64(n))
            var previous: Int64 = 0
            for (k, i) in g.enumerated() {
                let obsid = rows[i].obsid
                part.varint(k == 0 ? UInt64(obsid) : UInt64(obsid - previous))
                previous = obsid
            }
            emit()
            for k in 0..<n { reference[k] = rows[g.lowerBound + k].stats.p50 }
            for field in columnOrder {
                for k in 0..<n { column[k] = rows[g.lowerBound + k].stats[field] }
                writeColumn(&part, column[0..<n], reference: field == p50 ? nil : reference[0..<n])
                emit()
            }
        }
        return w.bytes
    }

    // MARK: layout

    /// Where one band group's columns lie in a blob: column 0 holds the obsids, columns 1–8 the
    /// statistics in storage order.
    struct Group {
        let band: UInt8
        let n: Int
        var columns: InlineArray<9, Range<Int>>
        func column(field: Int) -> Range<Int> { columns[SeriesCodec.storageIndex[field]] }
    }

    /// Walks the band groups of a blob of either version, bounds-checked; columns are located,
    /// not decoded (in version 1 this means skipping over them value by value).
    static func forEachGroup(_ blob: UnsafeRawBufferPointer, _ body: (Group) throws -> Void) throws {
        var r = ByteReader(blob)
        do {
            let v = try r.u8()
            guard v == 1 || v == 2 else { throw Corrupt(reason: "unknown version \(v)") }
            let groupCount = try r.varint()
            guard groupCount <= UInt64(blob.count) else { throw Corrupt(reason: "bad group count") }
            for _ in 0..<Int(groupCount) {
                let band = try r.u8()
                let count = try r.varint()
                guard count > 0, count <= UInt64(blob.count) else { throw Corrupt(reason: "bad row count") }
                let n = Int(count)
                var columns = InlineArray<9, Range<Int>>(repeating: 0..<0)
                if v == 2 {
                    for c in 0..<9 {
                        let length = try r.varint()
                        guard length <= UInt64(blob.count - r.offset) else { throw ByteReader.Truncated() }
                        columns[c] = r.offset..<(r.offset + Int(length))
                        r.offset += Int(length)
                    }
                } else {
                    let start = r.offset
                    for _ in 0..<n { _ = try r.varint() }
                    columns[0] = start..<r.offset
                    for c in 1..<9 {
                        let s = r.offset
                        try skipColumn(&r, n: n)
                        columns[c] = s..<r.offset
                    }
                }
                try body(Group(band: band, n: n, columns: columns))
            }
            guard r.atEnd else { throw Corrupt(reason: "trailing bytes") }
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

    /// Reads a group's obsids into `out` (n values).
    static func readObsids(_ blob: UnsafeRawBufferPointer, _ group: Group, into out: UnsafeMutableBufferPointer<Int64>) throws {
        var r = ByteReader(UnsafeRawBufferPointer(rebasing: blob[group.columns[0]]))
        var obsid: Int64 = 0
        for k in 0..<group.n {
            let v = Int64(bitPattern: try r.varint())
            obsid = k == 0 ? v : obsid &+ v
            out[k] = obsid
        }
        guard r.atEnd else { throw Corrupt(reason: "obsid column longer than its rows") }
    }

    /// Decodes statistic `field` of a group into `out`; `median` must hold the decoded p50
    /// column unless `field` is p50 itself.
    static func readField(_ blob: UnsafeRawBufferPointer, _ group: Group, field: Int, median: UnsafeBufferPointer<Float>?,
                          into out: UnsafeMutableBufferPointer<Float>) throws {
        var r = ByteReader(UnsafeRawBufferPointer(rebasing: blob[group.column(field: field)]))
        try readColumn(&r, n: group.n, reference: field == p50 ? nil : median, into: out)
        guard r.atEnd else { throw Corrupt(reason: "column longer than its rows") }
    }

    // MARK: decoding

    public static func decode(_ blob: UnsafeRawBufferPointer) throws -> [SignatureRow] {
        var rows: [SignatureRow] = []
        try forEachGroup(blob) { g in
            let base = rows.count
            var obsids = [Int64](repeating: 0, count: g.n)
            try obsids.withUnsafeMutableBufferPointer { try readObsids(blob, g, into: $0) }
            for obsid in obsids { rows.append(SignatureRow(obsid: obsid, bandID: g.band, stats: .zero)) }
            var median = [Float](repeating: 0, count: g.n)
            var values = [Float](repeating: 0, count: g.n)
            try median.withUnsafeMutableBufferPointer { try readField(blob, g, field: p50, median: nil, into: $0) }
            for field in columnOrder {
                if field == p50 {
                    for k in 0..<g.n { rows[base + k].stats.p50 = median[k] }
                    continue
                }
                try median.withUnsafeBufferPointer { m in
                    try values.withUnsafeMutableBufferPointer { try readField(blob, g, field: field, median: m, into: $0) }
                }
                for k in 0..<g.n { rows[base + k].stats[field] = values[k] }
            }
        }
        return rows
    }

    public static func decode(_ bytes: [UInt8]) throws -> [SignatureRow] {
        try bytes.withUnsafeBytes { try decode($0) }
    }

    /// One band's observations with only the statistics asked for.
    public struct BandColumns: Sendable {
        public let band: UInt8
        public let obsids: [Int64]
        /// By statistic index (SignatureStats order); only the requested ones.
        public let values: [Int: [Float]]
    }

    /// Decodes only `fields` of `bands` and skips everything else without materialising it.
    public static func decode(_ blob: UnsafeRawBufferPointer, bands: Set<UInt8>, fields: Set<Int>) throws -> [BandColumns] {
        var out: [BandColumns] = []
        try forEachGroup(blob) { g in
            guard bands.contains(g.band) else { return }
            var obsids = [Int64](repeating: 0, count: g.n)
            try obsids.withUnsafeMutableBufferPointer { try readObsids(blob, g, into: $0) }
            var values: [Int: [Float]] = [:]
            if !fields.isEmpty {
                var median = [Float](repeating: 0, count: g.n)
                try median.withUnsafeMutableBufferPointer { try readField(blob, g, field: p50, median: nil, into: $0) }
                for field in fields.sorted() {
                    if field == p50 { values[field] = median; continue }
                    var column = [Float](repeating: 0, count: g.n)
                    try median.withUnsafeBufferPointer { m in
                        try column.withUnsafeMutableBufferPointer { try readField(blob, g, field: field, median: m, into: $0) }
                    }
                    values[field] = column
                }
            }
            out.append(BandColumns(band: g.band, obsids: obsids, values: values))
        }
        return out
    }

    /// The fast path of whole-lake analyses: for each band of `bands` in the blob, its obsids
    /// and one statistic, decoded into temporary buffers that are valid only during `body`.
    public static func forEachColumn(_ blob: UnsafeRawBufferPointer, bands: Set<UInt8>, field: Int,
                                     _ body: (UInt8, UnsafeBufferPointer<Int64>, UnsafeBufferPointer<Float>) throws -> Void) throws {
        try forEachColumn(blob, bands: bands, field: field, also: nil) { band, obsids, values, _ in try body(band, obsids, values) }
    }

    /// The same, with a second statistic of one band (`also`: the band and the statistic),
    /// decoded in the same pass: passed as the fourth argument for that band, nil for the others.
    ///
    /// Two temporary buffers serve every band (sized by a first walk over the group headers), and
    /// a band whose obsid column is byte for byte the previous band's (every band of a parcel
    /// usually has the same scenes) reuses its decoded obsids: a marker run reads five columns
    /// of each of 20,000 parcels, and the obsids were a third of the decoding.
    public static func forEachColumn(_ blob: UnsafeRawBufferPointer, bands: Set<UInt8>, field: Int, also: (band: UInt8, field: Int)?,
                                     _ body: (UInt8, UnsafeBufferPointer<Int64>, UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>?) throws -> Void) throws {
        // The bands as a bit set: tested twice per group without hashing or allocating.
        var mask = InlineArray<4, UInt64>(repeating: 0)
        for b in bands { mask[Int(b >> 6)] |= 1 << UInt64(b & 63) }
        let wanted = { (b: UInt8) in mask[Int(b >> 6)] & (1 << UInt64(b & 63)) != 0 }
        var largest = 0
        try forEachGroup(blob) { g in if wanted(g.band) { largest = max(largest, g.n) } }
        guard largest > 0 else { return }
        try withUnsafeTemporaryAllocation(of: Int64.self, capacity: largest) { obsidBuffer in
            try withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * largest) { floats in
                var decoded: Range<Int>? = nil   // the obsid column whose values obsidBuffer holds
                try forEachGroup(blob) { g in
                    guard wanted(g.band) else { return }
                    let n = g.n
                    let obsids = UnsafeMutableBufferPointer(rebasing: obsidBuffer[0..<n])
                    let column = g.columns[0]
                    if decoded.map({ !sameBytes(blob, $0, column) }) ?? true { try readObsids(blob, g, into: obsids) }
                    decoded = column
                    let median = UnsafeMutableBufferPointer(rebasing: floats[0..<n])
                    let values = UnsafeMutableBufferPointer(rebasing: floats[n..<(2 * n)])
                    let extra = UnsafeMutableBufferPointer(rebasing: floats[(2 * n)..<(3 * n)])
                    // The median column only where it is asked for or another column refers to it.
                    let second = also.flatMap { $0.band == g.band ? $0.field : nil }
                    if field == p50 || second == p50 || refersToMedian(blob, g, field) || second.map({ refersToMedian(blob, g, $0) }) == true {
                        try readField(blob, g, field: p50, median: nil, into: median)
                    }
                    if field != p50 { try readField(blob, g, field: field, median: UnsafeBufferPointer(median), into: values) }
                    var secondValues: UnsafeBufferPointer<Float>? = nil
                    if let also, also.band == g.band {
                        if also.field == p50 { secondValues = UnsafeBufferPointer(median) }
                        else if also.field == field { secondValues = UnsafeBufferPointer(values) }
                        else {
                            try readField(blob, g, field: also.field, median: UnsafeBufferPointer(median), into: extra)
                            secondValues = UnsafeBufferPointer(extra)
                        }
                    }
                    try body(g.band, UnsafeBufferPointer(obsids), UnsafeBufferPointer(field == p50 ? median : values), secondValues)
                }
            }
        }
    }

    /// Whether a statistic's column is coded against the median column (modes 2 and 4).
    @inline(__always) private static func refersToMedian(_ blob: UnsafeRawBufferPointer, _ g: Group, _ field: Int) -> Bool {
        let column = g.column(field: field)
        guard field != p50, !column.isEmpty else { return false }
        let mode = blob[column.lowerBound]
        return mode == 2 || mode == 4
    }

    /// Whether two ranges of `blob` hold the same bytes.
    @inline(__always) private static func sameBytes(_ blob: UnsafeRawBufferPointer, _ a: Range<Int>, _ b: Range<Int>) -> Bool {
        guard a.count == b.count else { return false }
        if a == b { return true }
        var i = 0
        while i + 8 <= a.count {
            if blob.loadUnaligned(fromByteOffset: a.lowerBound + i, as: UInt64.self)
                != blob.loadUnaligned(fromByteOffset: b.lowerBound + i, as: UInt64.self) { return false }
            i += 8
        }
        while i < a.count { if blob[a.lowerBound + i] != blob[b.lowerBound + i] { return false }; i += 1 }
        return true
    }

    // MARK: columns

    @inline(__always) private static func quarter(_ v: Float) -> Int64? {
        let q = v * 4
        guard q.isFinite, q == q.rounded(), abs(q) < 16_777_216, !(v == 0 && v.sign == .minus) else { return nil }
        return Int64(q)
    }

    /// Writes one column in the smallest of five encodings (raw; XOR with the previous value;
    /// XOR with the median column; quarter units as deltas; quarter units less the median's).
    /// The sizes are counted in one pass over the values, without copies (this runs eight times
    /// per band and parcel on every ingest and pull: BENCHMARKS, push and pull).
    private static func writeColumn(_ w: inout ByteWriter, _ values: ArraySlice<Float>, reference: ArraySlice<Float>?) {
        values.withUnsafeBufferPointer { vs in
            if let reference { reference.withUnsafeBufferPointer { writeColumn(&w, vs, reference: $0) } }
            else { writeColumn(&w, vs, reference: nil) }
        }
    }

    private static func writeColumn(_ w: inout ByteWriter, _ vs: UnsafeBufferPointer<Float>, reference refs: UnsafeBufferPointer<Float>?) {
        let n = vs.count
        var xorPrevious = 0, xorReference = 0, quarterDeltas = 0, quarterReference = 0
        var quartersOK = true, referenceQuartersOK = refs != nil
        var previousBits: UInt32 = 0, previousQuarter: Int64 = 0
        for k in 0..<n {
            let v = vs[k]
            xorPrevious += ByteWriter.varintSize(UInt64(v.bitPattern ^ previousBits))
            previousBits = v.bitPattern
            if let refs { xorReference += ByteWriter.varintSize(UInt64(v.bitPattern ^ refs[k].bitPattern)) }
            guard quartersOK else { continue }
            guard let q = quarter(v) else { quartersOK = false; continue }
            quarterDeltas += ByteWriter.varintSize(ByteWriter.zigzagValue(q - previousQuarter))
            previousQuarter = q
            if referenceQuartersOK {
                if let rq = quarter(refs![k]) { quarterReference += ByteWriter.varintSize(ByteWriter.zigzagValue(q - rq)) }
                else { referenceQuartersOK = false }
            }
        }
        // The first smallest, in the order of the modes (as the format has always chosen).
        let sizes = (4 * n, xorPrevious, refs != nil ? xorReference : Int.max,
                     quartersOK ? quarterDeltas : Int.max, quartersOK && referenceQuartersOK ? quarterReference : Int.max)
        var mode = 0, best = sizes.0
        if sizes.1 < best { mode = 1; best = sizes.1 }
        if sizes.2 < best { mode = 2; best = sizes.2 }
        if sizes.3 < best { mode = 3; best = sizes.3 }
        if sizes.4 < best { mode = 4; best = sizes.4 }
        w.u8(UInt8(mode))
        switch mode {
        case 0: for v in vs { w.f32(v) }
        case 1:
            var previous: UInt32 = 0
            for v in vs { w.varint(UInt64(v.bitPattern ^ previous)); previous = v.bitPattern }
        case 2: for k in 0..<n { w.varint(UInt64(vs[k].bitPattern ^ refs![k].bitPattern)) }
        case 3:
            var previous: Int64 = 0
            for v in vs { let q = quarter(v)!; w.zigzag(q - previous); previous = q }
        default: for k in 0..<n { w.zigzag(quarter(vs[k])! - quarter(refs![k])!) }
        }
    }

    /// Reads n varints of 32 bits (the XOR modes), handing each to `put` with its index: the
    /// bytes walked in one loop, a bounds check a byte, instead of a throwing call and a range
    /// check a value (means and spreads are most of what whole-lake analyses decode). A value
    /// beyond 32 bits is damage. (`readZigzags` is the same loop for 64 bits. One generic loop
    /// over the width, or one 64-bit loop with a range check, cost the markers run 1–4 % more
    /// instructions: callgrind, BENCHMARKS.)
    @inline(__always) private static func readBits(_ r: inout ByteReader, n: Int, _ put: (Int, UInt32) -> Void) throws {
        let bytes = r.bytes, end = bytes.count
        var p = r.offset
        for k in 0..<n {
            guard p < end else { throw ByteReader.Truncated() }
            var b = bytes[p]; p += 1
            var x = UInt32(b & 0x7F), shift: UInt32 = 7
            while b >= 0x80 {
                guard p < end else { throw ByteReader.Truncated() }
                b = bytes[p]; p += 1
                // The fifth byte holds the last four bits, and ends the value.
                guard shift < 28 || b <= 0x0F else { throw Corrupt(reason: "value out of range") }
                x |= UInt32(b & 0x7F) << shift
                shift += 7
            }
            put(k, x)
        }
        r.offset = p
    }

    /// Reads n zigzag varints (the quarter-unit modes) as `readBits` does, at most ten bytes a
    /// value.
    @inline(__always) private static func readZigzags(_ r: inout ByteReader, n: Int, _ put: (Int, Int64) -> Void) throws {
        let bytes = r.bytes, end = bytes.count
        var p = r.offset
        for k in 0..<n {
            guard p < end else { throw ByteReader.Truncated() }
            var b = bytes[p]; p += 1
            var u = UInt64(b & 0x7F), shift: UInt64 = 7
            while b >= 0x80 {
                guard p < end, shift < 64 else { throw ByteReader.Truncated() }
                b = bytes[p]; p += 1
                u |= UInt64(b & 0x7F) << shift
                shift += 7
            }
            put(k, ByteReader.unzigzag(u))
        }
        r.offset = p
    }

    private static func readColumn(_ r: inout ByteReader, n: Int, reference: UnsafeBufferPointer<Float>?,
                                   into out: UnsafeMutableBufferPointer<Float>) throws {
        let mode = try r.u8()
        switch mode {
        case 0: for k in 0..<n { out[k] = try r.f32() }
        case 1:
            var prev: UInt32 = 0
            try readBits(&r, n: n) { k, x in prev ^= x; out[k] = Float(bitPattern: prev) }
        case 2:
            guard let reference else { throw Corrupt(reason: "median column refers to itself") }
            try readBits(&r, n: n) { k, x in out[k] = Float(bitPattern: x ^ reference[k].bitPattern) }
        // Quarter units: × 0.25 is the same float as ÷ 4 (a power of two), and no division.
        case 4:
            guard let reference else { throw Corrupt(reason: "median column refers to itself") }
            var bad = false
            try readZigzags(&r, n: n) { k, z in
                guard let base = quarter(reference[k]) else { bad = true; return }
                out[k] = Float(z &+ base) * 0.25
            }
            if bad { throw Corrupt(reason: "median is not a quarter value") }
        case 3:
            var prev: Int64 = 0
            try readZigzags(&r, n: n) { k, z in prev &+= z; out[k] = Float(prev) * 0.25 }
        default: throw Corrupt(reason: "unknown column mode \(mode)")
        }
    }
}

/// The form of a `signatures_pending` row: all bands of one (parcel, scene) as they arrived.
/// Per band: u8 band_id, then the 8 statistics as float32 little-endian.
public enum PendingCodec {
    /// Bytes per band: the band id and eight float32.
    public static let bytesPerBand = 33

    public static func encode(_ bands: [(UInt8, SignatureStats)]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(bands.count * bytesPerBand)
        append(bands, to: &bytes)
        return bytes
    }

    /// Appends the encoded bands to `bytes` (a load's sort keeps many rows in one buffer).
    public static func append(_ bands: [(UInt8, SignatureStats)], to bytes: inout [UInt8]) {
        var w = ByteWriter()
        swap(&w.bytes, &bytes)   // moved, not copied: the buffer stays uniquely held
        for (band, stats) in bands {
            w.u8(band)
            for i in 0..<8 { w.f32(stats[i]) }
        }
        swap(&w.bytes, &bytes)
    }

    public static func decode(_ blob: UnsafeRawBufferPointer) throws -> [(UInt8, SignatureStats)] {
        guard blob.count % bytesPerBand == 0 else { throw SeriesCodec.Corrupt(reason: "pending row of \(blob.count) bytes") }
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
