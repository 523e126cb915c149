import Foundation
import LakeTestSupport
import XCTest
import LakeIngest
@testable import LakeQuery
import LakeSQLite
import LakeStore

/// `lake query at` reads the polygon BLOBs itself and projects the point through a kept PROJ
/// transformation; SpatiaLite (`Transform`, `ST_Intersects` through GEOS) is the reference.
final class PointLookupTests: XCTestCase {
    /// SpatiaLite's answer: the parcels whose polygon intersects the point (parcel ids, sorted).
    func reference(_ lake: Lake, lon: Double, lat: Double) throws -> [String] {
        let s = try lake.db.cached("""
            SELECT parcel_id FROM parcels WHERE ROWID IN (SELECT pkid FROM idx_parcels_geom, (SELECT Transform(MakePoint(?1, ?2, 4326), \(lake.srid)) AS g)
                                                          WHERE xmin <= X(g) AND xmax >= X(g) AND ymin <= Y(g) AND ymax >= Y(g))
              AND ST_Intersects(geom, Transform(MakePoint(?1, ?2, 4326), \(lake.srid))) = 1 ORDER BY parcel_id
            """)
        try s.bind([.double(lon), .double(lat)])
        var out: [String] = []
        while try s.step() { out.append(s.text(0)!) }
        return out
    }

    /// The BLOB of a geometry in WKT as SpatiaLite writes it, and its intersection with (x, y).
    func spatialite(_ db: Connection, _ wkt: String, compressed: Bool = false) throws -> [UInt8] {
        let s = try db.prepare(compressed ? "SELECT CompressGeometry(GeomFromText(?1, 3035))" : "SELECT GeomFromText(?1, 3035)")
        try s.bind([.text(wkt)])
        XCTAssertTrue(try s.step())
        return s.blob(0)
    }

    func intersects(_ db: Connection, _ blob: [UInt8], _ x: Double, _ y: Double) throws -> Bool {
        let s = try db.prepare("SELECT ST_Intersects(?1, MakePoint(?2, ?3, 3035))")
        try s.bind([.blob(blob), .double(x), .double(y)])
        XCTAssertTrue(try s.step())
        return s.int(0) == 1
    }

    /// The reader against GEOS on a grid through a polygon with a hole, a multipolygon, a polygon
    /// with Z and M, and the same in big-endian order: every point, vertices and points on
    /// edges (outer and hole) included, gets GEOS's answer.
    func testBlobReaderAgreesWithGEOSInsideOutsideAndOnEdges() throws {
        let lake = try temporaryLake(self)
        try lake.db.loadSpatiaLite()
        let shapes = [
            "POLYGON((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 6 2, 6 6, 2 6, 2 2))",
            "MULTIPOLYGON(((0 0, 4 0, 4 4, 0 4, 0 0)), ((6 6, 12 6, 9 11, 6 6), (8 7, 10 7, 9 9, 8 7)))",
            "POLYGON Z((0 0 1, 10 0 2, 5 10 3, 0 0 1))",
            "MULTIPOLYGON ZM(((1 1 0 0, 9 1 0 0, 9 9 0 0, 1 9 0 0, 1 1 0 0)))",
            "POLYGON M((0 0 5, 10 2 5, 3 9 5, 0 0 5))",
        ]
        var checked = 0
        for wkt in shapes {
            let blob = try spatialite(lake.db, wkt)
            let big = Self.bigEndian(blob)
            for i in -2...26 {
                for j in -2...26 {
                    let x = Double(i) / 2, y = Double(j) / 2
                    let truth = try intersects(lake.db, blob, x, y)
                    XCTAssertEqual(blob.withUnsafeBytes { SpatiaLiteBlob.covers($0, x: x, y: y) }, truth, "\(wkt) at \(x) \(y)")
                    XCTAssertEqual(big.withUnsafeBytes { SpatiaLiteBlob.covers($0, x: x, y: y) }, truth, "big-endian \(wkt) at \(x) \(y)")
                    checked += 1
                }
            }
        }
        XCTAssertEqual(checked, 5 * 29 * 29)
        // What the reader does not know, it leaves to SpatiaLite: compressed geometries, other
        // classes, a cut or damaged BLOB (never a crash, never a guess).
        let square = try spatialite(lake.db, "POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))")
        XCTAssertNil(try spatialite(lake.db, "POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))", compressed: true).withUnsafeBytes { SpatiaLiteBlob.covers($0, x: 5, y: 5) })
        XCTAssertNil(try spatialite(lake.db, "LINESTRING(0 0, 10 10)").withUnsafeBytes { SpatiaLiteBlob.covers($0, x: 5, y: 5) })
        for cut in [0, 10, 43, 50, square.count - 9, square.count - 1] {
            XCTAssertNil(Array(square.prefix(cut)).withUnsafeBytes { SpatiaLiteBlob.covers($0, x: 5, y: 5) }, "cut at \(cut)")
        }
        var lying = square
        lying[43] = 0xFF   // a ring count of 2^31 - 1 + 256 (little-endian low byte): more than the BLOB holds
        lying[46] = 0x7F
        XCTAssertNil(lying.withUnsafeBytes { SpatiaLiteBlob.covers($0, x: 5, y: 5) })
    }

    /// The same BLOB with every number in big-endian order.
    static func bigEndian(_ blob: [UInt8]) -> [UInt8] {
        var out = blob
        out[1] = 0
        func swap(_ at: Int, _ width: Int) { out.replaceSubrange(at..<(at + width), with: blob[at..<(at + width)].reversed()) }
        swap(2, 4)
        for k in 0..<4 { swap(6 + 8 * k, 8) }
        func int(_ at: Int) -> Int { Int(Int32(bitPattern: UInt32(blob[at]) | UInt32(blob[at + 1]) << 8 | UInt32(blob[at + 2]) << 16 | UInt32(blob[at + 3]) << 24)) }
        var at = 39
        let cls = int(at); swap(at, 4); at += 4
        let stride = [2, 3, 3, 4][cls / 1000]
        func polygon() {
            let rings = int(at); swap(at, 4); at += 4
            for _ in 0..<rings {
                let points = int(at); swap(at, 4); at += 4
                for _ in 0..<(points * stride) { swap(at, 8); at += 8 }
            }
        }
        if cls % 1000 == 3 { polygon() } else {
            let n = int(at); swap(at, 4); at += 4
            for _ in 0..<n { at += 1; swap(at, 4); at += 4; polygon() }
        }
        return out
    }

    /// The real Zurich parcels (4,781, 200 of them with holes), lake in ETRS89-LAEA: every
    /// parcel's own point, a point in each hole and 3,000 points scattered over the area find
    /// the same parcels as SpatiaLite's `Transform` and GEOS, and the point lands where
    /// SpatiaLite's `Transform` puts it (within a micrometre: the same PROJ operation).
    func testPointLookupAgreesWithSpatiaLiteOnTheRealZurichParcels() throws {
        let lake = try zurichLake(self)
        var points: [(Double, Double)] = []
        let own = try lake.db.prepare("SELECT lon, lat FROM parcels")
        while try own.step() { points.append((own.double(0), own.double(1))) }
        let holes = try lake.db.prepare("""
            SELECT X(p), Y(p) FROM (SELECT Transform(ST_PointOnSurface(MakePolygon(InteriorRingN(GeometryN(geom, 1), 1))), 4326) AS p
                                    FROM parcels WHERE NumInteriorRings(GeometryN(geom, 1)) > 0)
            """)
        var holeCount = 0
        while try holes.step() { points.append((holes.double(0), holes.double(1))); holeCount += 1 }
        XCTAssertGreaterThan(holeCount, 100)
        let box = try lake.db.prepare("SELECT min(lon), max(lon), min(lat), max(lat) FROM parcels")
        XCTAssertTrue(try box.step())
        var random = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            points.append((Double.random(in: box.double(0)...box.double(1), using: &random), Double.random(in: box.double(2)...box.double(3), using: &random)))
        }
        var found = 0, mismatches: [String] = []
        for (lon, lat) in points {
            let got = try ParcelLookup.at(lake, lon: lon, lat: lat).map(\.parcelID).sorted()
            let truth = try reference(lake, lon: lon, lat: lat)
            if got != truth { mismatches.append("\(lon) \(lat): \(got) vs \(truth)") }
            found += got.count
        }
        XCTAssertEqual(mismatches, [])
        XCTAssertGreaterThan(found, 4781)
        // The projected point against SpatiaLite's.
        let projection = try XCTUnwrap(PointProjection.fromWGS84(to: lake.srid))
        let transform = try lake.db.prepare("SELECT X(g), Y(g) FROM (SELECT Transform(MakePoint(?1, ?2, 4326), \(lake.srid)) AS g)")
        var worst = 0.0
        for (lon, lat) in points.prefix(500) {
            try transform.bind([.double(lon), .double(lat)])
            XCTAssertTrue(try transform.step())
            let p = try XCTUnwrap(projection.forward(lon: lon, lat: lat))
            worst = max(worst, abs(p.x - transform.double(0)), abs(p.y - transform.double(1)))
            transform.reset()
        }
        XCTAssertLessThan(worst, 1e-6)
    }
}
