/// SpatiaLite's own geometry BLOB (the `geom` column of `parcels`) read in place, for the
/// point-in-polygon test of a point query and the distances of a peers query: turning polygons
/// into GEOS geometries for `ST_Intersects` or `ST_Distance` cost more than the rest of either
/// query. Only uncompressed POLYGON and MULTIPOLYGON, 2-D or with Z and/or M, are read (what lake
/// writes); anything else is left to SpatiaLite.
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
        guard var r = Reader(blob) else { return nil }
        r.at = 6
        guard let minX = r.double(), let minY = r.double(), let maxX = r.double(), let maxY = r.double() else { return nil }
        if x < minX || x > maxX || y < minY || y > maxY { return false }
        var rule = EvenOdd(x: x, y: y)
        // Valid parts do not overlap: the even-odd rule holds over every ring of every part.
        let answered = r.walk { px, py, qx, qy in rule.edge(px, py, qx, qy) }
        return answered.map { $0 || rule.inside }
    }

    /// The even-odd rule for one point, fed edge by edge.
    struct EvenOdd {
        let x: Double, y: Double
        var inside = false

        /// Counts the edge (px, py)–(qx, qy); true when the point lies on it (collinear and
        /// within its box: covered, as `ST_Intersects` has it).
        mutating func edge(_ px: Double, _ py: Double, _ qx: Double, _ qy: Double) -> Bool {
            if (qx - px) * (y - py) == (qy - py) * (x - px),
               x >= min(px, qx), x <= max(px, qx), y >= min(py, qy), y <= max(py, qy) { return true }
            if (py > y) != (qy > y), x < px + (y - py) * (qx - px) / (qy - py) { inside.toggle() }
            return false
        }
    }

    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var at = 39
        let little: Bool

        /// A reader of `bytes` when they open and close as a SpatiaLite BLOB does.
        init?(_ bytes: UnsafeRawBufferPointer) {
            guard bytes.count >= 44, bytes[0] == 0x00, bytes[38] == 0x7C, bytes[bytes.count - 1] == 0xFE, bytes[1] <= 1 else { return nil }
            self.bytes = bytes
            little = bytes[1] == 1
        }

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

        /// Every edge of every ring of the polygon or multipolygon, in order, from the class on;
        /// `ring` is told where each ring starts (`part`: its polygon, `outer`: its first ring).
        /// `edge` returning true stops the walk: true. The end of the geometry: false; a BLOB
        /// this reader does not know or that lies about its counts: nil.
        mutating func walk(ring: (_ x: Double, _ y: Double, _ outer: Bool) -> Void = { _, _, _ in },
                           _ edge: (Double, Double, Double, Double) -> Bool) -> Bool? {
            at = 39
            guard let cls = int32(), cls >= 0, cls < 1_000_000, cls / 1000 <= 3 else { return nil }
            let dims = cls / 1000, stride = dims == 0 ? 2 : dims == 3 ? 4 : 3
            func polygon() -> Bool? {
                guard let rings = int32(), rings >= 0 else { return nil }
                for k in 0..<rings {
                    guard let points = int32(), points >= 0, at + points * stride * 8 <= bytes.count else { return nil }
                    guard points > 0 else { continue }
                    var px = double()!, py = double()!
                    at += (stride - 2) * 8
                    ring(px, py, k == 0)
                    for _ in 1..<max(points, 1) {
                        let qx = double()!, qy = double()!
                        at += (stride - 2) * 8
                        if edge(px, py, qx, qy) { return true }
                        px = qx; py = qy
                    }
                }
                return false
            }
            switch cls % 1000 {
            case 3:
                return polygon()
            case 6:
                guard let n = int32(), n >= 0 else { return nil }
                for _ in 0..<n {
                    guard byte() == 0x69, int32() == 3 + dims * 1000, let done = polygon() else { return nil }
                    if done { return true }
                }
                return false
            default:
                return nil
            }
        }
    }
}

extension SpatiaLiteBlob {
    /// A polygon or multipolygon's edges, read once for distances.
    public struct Rings: Sendable {
        typealias Point = (x: Double, y: Double)
        /// Every edge of every ring of every part (rings are closed: every vertex starts one).
        let edges: [(Point, Point)]
        /// The first point of each part's outer ring: a point of each part's outline.
        let firsts: [Point]

        /// The edges of `blob`; nil when it is not a polygon or multipolygon this reader knows.
        public init?(_ blob: UnsafeRawBufferPointer) {
            guard var r = Reader(blob) else { return nil }
            var edges: [(Point, Point)] = [], firsts: [Point] = []
            let end = r.walk(ring: { x, y, outer in if outer { firsts.append((x, y)) } }) { px, py, qx, qy in
                edges.append(((px, py), (qx, qy)))
                return false
            }
            guard end == false, !edges.isEmpty else { return nil }
            self.edges = edges; self.firsts = firsts
        }

        /// Whether the point lies inside or on the area (see `SpatiaLiteBlob.covers`).
        func covers(_ p: Point) -> Bool {
            var rule = EvenOdd(x: p.x, y: p.y)
            for (a, b) in edges where rule.edge(a.x, a.y, b.x, b.y) { return true }
            return rule.inside
        }

        /// The shortest distance between the two areas (0 where they touch, overlap or one holds
        /// the other), as GEOS's `ST_Distance` of two polygons: without crossing edges and
        /// without one inside the other, it is reached at a vertex of one and an edge of the other.
        public func distance(to other: Rings) -> Double {
            if firsts.contains(where: other.covers) || other.firsts.contains(where: covers) { return 0 }
            var best = Double.infinity
            for (p, q) in edges {
                for (u, v) in other.edges {
                    if Self.cross(p, q, u, v) { return 0 }
                    best = min(best, Self.pointSegment(p, u, v), Self.pointSegment(u, p, q))
                }
            }
            return best
        }

        /// Distance from point p to segment uv.
        static func pointSegment(_ p: Point, _ u: Point, _ v: Point) -> Double {
            let dx = v.x - u.x, dy = v.y - u.y
            let length = dx * dx + dy * dy
            var t = length > 0 ? ((p.x - u.x) * dx + (p.y - u.y) * dy) / length : 0
            t = min(1, max(0, t))
            let x = u.x + t * dx - p.x, y = u.y + t * dy - p.y
            return (x * x + y * y).squareRoot()
        }

        /// Whether segments pq and uv share a point (touching counts).
        static func cross(_ p: Point, _ q: Point, _ u: Point, _ v: Point) -> Bool {
            func orient(_ a: Point, _ b: Point, _ c: Point) -> Double { (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x) }
            func within(_ a: Point, _ b: Point, _ c: Point) -> Bool {
                c.x >= min(a.x, b.x) && c.x <= max(a.x, b.x) && c.y >= min(a.y, b.y) && c.y <= max(a.y, b.y)
            }
            let d1 = orient(u, v, p), d2 = orient(u, v, q), d3 = orient(p, q, u), d4 = orient(p, q, v)
            if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) { return true }
            return (d1 == 0 && within(u, v, p)) || (d2 == 0 && within(u, v, q)) || (d3 == 0 && within(p, q, u)) || (d4 == 0 && within(p, q, v))
        }
    }
}
