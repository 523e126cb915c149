/// SpatiaLite's own geometry BLOB (the `geom` column of `parcels`) read in place, for the
/// point-in-polygon test of a point query: turning a polygon into a GEOS geometry for
/// `ST_Intersects` cost more than the rest of the lookup. Only uncompressed POLYGON and
/// MULTIPOLYGON, 2-D or with Z and/or M, are read (what lake writes); anything else is left to
/// SpatiaLite.
///
/// The format: 0x00, the byte order (1 little-endian, 0 big-endian), the SRID (int32), the
/// bounding box (four doubles), 0x7C, the class (int32: 3 polygon, 6 multipolygon; +1000 Z,
/// +2000 M, +3000 ZM; a million and more compressed), then for a polygon its ring count and each
/// ring's point count and points; for a multipolygon its polygon count and each polygon as
/// 0x69, its class and the polygon; 0xFE at the end.
enum SpatiaLiteBlob {
    /// Whether the polygon or multipolygon covers (x, y) — inside or on its boundary, as
    /// `ST_Intersects` with a point; nil when the blob is not one this reader knows.
    static func covers(_ blob: UnsafeRawBufferPointer, x: Double, y: Double) -> Bool? {
        var r = Reader(blob)
        guard blob.count >= 44, blob[0] == 0x00, blob[38] == 0x7C, blob[blob.count - 1] == 0xFE,
              blob[1] <= 1 else { return nil }
        r.little = blob[1] == 1
        r.at = 6
        guard let minX = r.double(), let minY = r.double(), let maxX = r.double(), let maxY = r.double() else { return nil }
        if x < minX || x > maxX || y < minY || y > maxY { return false }
        r.at = 39
        guard let cls = r.int32(), cls < 1_000_000 else { return nil }
        let base = cls % 1000, dims = cls / 1000
        guard dims <= 3 else { return nil }
        let stride = dims == 0 ? 2 : dims == 3 ? 4 : 3
        switch base {
        case 3:
            return r.polygon(stride: stride, x: x, y: y)
        case 6:
            guard let n = r.int32(), n >= 0 else { return nil }
            for _ in 0..<n {
                guard r.byte() == 0x69, r.int32() == 3 + dims * 1000, let inside = r.polygon(stride: stride, x: x, y: y) else { return nil }
                if inside { return true }   // (the reader may have stopped inside this polygon)
            }
            return false
        default:
            return nil
        }
    }

    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var at = 0
        var little = true
        init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        mutating func byte() -> UInt8? {
            guard at < bytes.count else { return nil }
            defer { at += 1 }
            return bytes[at]
        }

        mutating func int32() -> Int? {
            guard at + 4 <= bytes.count else { return nil }
            let raw = bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)
            at += 4
            return Int(Int32(bitPattern: little ? UInt32(littleEndian: raw) : UInt32(bigEndian: raw)))
        }

        mutating func double() -> Double? {
            guard at + 8 <= bytes.count else { return nil }
            let raw = bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)
            at += 8
            return Double(bitPattern: little ? UInt64(littleEndian: raw) : UInt64(bigEndian: raw))
        }

        /// One polygon's rings, the even-odd rule over all of them (holes included); true at
        /// once on a boundary.
        mutating func polygon(stride: Int, x: Double, y: Double) -> Bool? {
            guard let rings = int32(), rings >= 0 else { return nil }
            var inside = false
            for _ in 0..<rings {
                guard let points = int32(), points >= 0, at + points * stride * 8 <= bytes.count else { return nil }
                guard points > 0 else { continue }
                var px = double()!, py = double()!
                at += (stride - 2) * 8
                for _ in 1..<max(points, 1) {
                    let qx = double()!, qy = double()!
                    at += (stride - 2) * 8
                    // On the segment: collinear and within its box.
                    if (qx - px) * (y - py) == (qy - py) * (x - px),
                       x >= min(px, qx), x <= max(px, qx), y >= min(py, qy), y <= max(py, qy) { return true }
                    if (py > y) != (qy > y), x < px + (y - py) * (qx - px) / (qy - py) { inside.toggle() }
                    px = qx; py = qy
                }
            }
            return inside
        }
    }
}
