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
public enum SpatiaLiteBlob {
    /// Whether the polygon or multipolygon covers (x, y) — inside or on its boundary, as
    /// `ST_Intersects` with a point; nil when the blob is not one this reader knows.
    public static func covers(_ blob: UnsafeRawBufferPointer, x: Double, y: Double) -> Bool? {
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

extension SpatiaLiteBlob {
    /// A polygon or multipolygon's rings (x, y), read once for distances.
    public struct Rings: Sendable {
        /// Every ring of every part, closed (first point repeated last).
        let rings: [[(x: Double, y: Double)]]
        /// The first point of each part's outer ring: one point inside each part's outline.
        let firsts: [(x: Double, y: Double)]
        let blob: [UInt8]

        /// The rings of `blob`; nil when it is not a polygon or multipolygon `covers` reads.
        public init?(_ blob: UnsafeRawBufferPointer) {
            var r = Reader(blob)
            guard blob.count >= 44, blob[0] == 0x00, blob[38] == 0x7C, blob[blob.count - 1] == 0xFE, blob[1] <= 1 else { return nil }
            r.little = blob[1] == 1
            r.at = 39
            guard let cls = r.int32(), cls < 1_000_000, cls / 1000 <= 3 else { return nil }
            let dims = cls / 1000, stride = dims == 0 ? 2 : dims == 3 ? 4 : 3
            var rings: [[(x: Double, y: Double)]] = [], firsts: [(x: Double, y: Double)] = []
            func polygon() -> Bool {
                guard let n = r.int32(), n >= 0 else { return false }
                for k in 0..<n {
                    guard let points = r.int32(), points >= 0, r.at + points * stride * 8 <= blob.count else { return false }
                    var ring: [(x: Double, y: Double)] = []
                    ring.reserveCapacity(points)
                    for _ in 0..<points {
                        let x = r.double()!, y = r.double()!
                        r.at += (stride - 2) * 8
                        ring.append((x, y))
                    }
                    if k == 0, let first = ring.first { firsts.append(first) }
                    if !ring.isEmpty { rings.append(ring) }
                }
                return true
            }
            switch cls % 1000 {
            case 3:
                guard polygon() else { return nil }
            case 6:
                guard let n = r.int32(), n >= 0 else { return nil }
                for _ in 0..<n {
                    guard r.byte() == 0x69, r.int32() == 3 + dims * 1000, polygon() else { return nil }
                }
            default:
                return nil
            }
            guard !rings.isEmpty else { return nil }
            self.rings = rings; self.firsts = firsts; self.blob = Array(blob)
        }

        /// Whether the point lies inside or on the area.
        func covers(_ x: Double, _ y: Double) -> Bool {
            blob.withUnsafeBytes { SpatiaLiteBlob.covers($0, x: x, y: y) } ?? false
        }

        /// The shortest distance between the two areas (0 where they touch, overlap or one holds
        /// the other), as GEOS's `ST_Distance` of two polygons: without crossing edges and
        /// without one inside the other, it is reached at a vertex of one and an edge of the other.
        public func distance(to other: Rings) -> Double {
            if firsts.contains(where: { other.covers($0.x, $0.y) }) || other.firsts.contains(where: { covers($0.x, $0.y) }) { return 0 }
            var best = Double.infinity
            for a in rings {
                for b in other.rings {
                    for i in 1..<max(a.count, 1) {
                        let p = a[i - 1], q = a[i]
                        for j in 1..<max(b.count, 1) {
                            let u = b[j - 1], v = b[j]
                            if Self.cross(p, q, u, v) { return 0 }
                            best = min(best, Self.pointSegment(p, u, v), Self.pointSegment(u, p, q))
                        }
                    }
                    // The last vertices (each segment above measured its first end only).
                    if let p = a.last { for j in 1..<max(b.count, 1) { best = min(best, Self.pointSegment(p, b[j - 1], b[j])) } }
                    if let u = b.last { for i in 1..<max(a.count, 1) { best = min(best, Self.pointSegment(u, a[i - 1], a[i])) } }
                }
            }
            return best
        }

        /// Distance from point p to segment uv.
        static func pointSegment(_ p: (x: Double, y: Double), _ u: (x: Double, y: Double), _ v: (x: Double, y: Double)) -> Double {
            let dx = v.x - u.x, dy = v.y - u.y
            let length = dx * dx + dy * dy
            var t = length > 0 ? ((p.x - u.x) * dx + (p.y - u.y) * dy) / length : 0
            t = min(1, max(0, t))
            let x = u.x + t * dx - p.x, y = u.y + t * dy - p.y
            return (x * x + y * y).squareRoot()
        }

        /// Whether segments pq and uv share a point (touching counts).
        static func cross(_ p: (x: Double, y: Double), _ q: (x: Double, y: Double), _ u: (x: Double, y: Double), _ v: (x: Double, y: Double)) -> Bool {
            func orient(_ a: (x: Double, y: Double), _ b: (x: Double, y: Double), _ c: (x: Double, y: Double)) -> Double {
                (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
            }
            func within(_ a: (x: Double, y: Double), _ b: (x: Double, y: Double), _ c: (x: Double, y: Double)) -> Bool {
                c.x >= min(a.x, b.x) && c.x <= max(a.x, b.x) && c.y >= min(a.y, b.y) && c.y <= max(a.y, b.y)
            }
            let d1 = orient(u, v, p), d2 = orient(u, v, q), d3 = orient(p, q, u), d4 = orient(p, q, v)
            if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) { return true }
            return (d1 == 0 && within(u, v, p)) || (d2 == 0 && within(u, v, q)) || (d3 == 0 && within(p, q, u)) || (d4 == 0 && within(p, q, v))
        }
    }
}
