import Foundation
import LakeTestSupport
import XCTest
import LakeAnalytics
import LakeIngest
import LakeQuery
import LakeSQLite
import LakeStore

/// Peers in a projected lake measure the distance between two polygons read in place
/// (`SpatiaLiteBlob.Rings`); GEOS through SpatiaLite's `ST_Distance` is the reference.
final class PeerDistanceTests: XCTestCase {
    func blob(_ db: Connection, _ wkt: String) throws -> [UInt8] {
        let s = try db.prepare("SELECT GeomFromText(?1, 3035)")
        try s.bind([.text(wkt)])
        XCTAssertTrue(try s.step())
        return s.blob(0)
    }

    func geos(_ db: Connection, _ a: [UInt8], _ b: [UInt8]) throws -> Double {
        let s = try db.prepare("SELECT ST_Distance(?1, ?2)")
        try s.bind([.blob(a), .blob(b)])
        XCTAssertTrue(try s.step())
        return s.double(0)
    }

    /// Disjoint, touching at a vertex or along an edge, overlapping, one inside the other, one in
    /// the other's hole, multipolygons, Z: each pair's distance is GEOS's, both ways round.
    func testDistanceBetweenPolygonsIsGEOSs() throws {
        let lake = try temporaryLake(self)
        try lake.db.loadSpatiaLite()
        let shapes = [
            "POLYGON((0 0, 10 0, 10 10, 0 10, 0 0), (3 3, 7 3, 7 7, 3 7, 3 3))",
            "POLYGON((4 4, 6 4, 6 6, 4 6, 4 4))",                       // in the hole
            "POLYGON((1 1, 2 1, 2 2, 1 2, 1 1))",                       // inside the outline
            "POLYGON((10 10, 12 10, 12 12, 10 12, 10 10))",             // touches at a vertex
            "POLYGON((10 2, 14 2, 14 5, 10 5, 10 2))",                  // shares part of an edge
            "POLYGON((8 8, 15 8, 15 15, 8 15, 8 8))",                   // overlaps
            "POLYGON((13 -4, 20 -1, 17 3, 13 -4))",                     // disjoint, a slanted edge nearest
            "MULTIPOLYGON(((30 30, 31 30, 31 31, 30 30)), ((-5 4, -1 5, -2 9, -5 4)))",
            "POLYGON Z((20 20 1, 25 21 1, 22 26 1, 20 20 1))",
            "POLYGON((-20 40, 20 40, 20 42, -20 42, -20 40))",          // a bar …
            "POLYGON((0 30, 2 30, 2 50, 0 50, 0 30))",                  // … crossed: no vertex inside the other
        ]
        let blobs = try shapes.map { try blob(lake.db, $0) }
        var pairs = 0
        for (i, a) in blobs.enumerated() {
            for (j, b) in blobs.enumerated() where i != j {
                let ra = try XCTUnwrap(a.withUnsafeBytes { SpatiaLiteBlob.Rings($0) }), rb = try XCTUnwrap(b.withUnsafeBytes { SpatiaLiteBlob.Rings($0) })
                XCTAssertEqual(ra.distance(to: rb), try geos(lake.db, a, b), accuracy: 1e-9, "\(shapes[i]) to \(shapes[j])")
                pairs += 1
            }
        }
        XCTAssertEqual(pairs, 110)
        XCTAssertNil(try blob(lake.db, "LINESTRING(0 0, 1 1)").withUnsafeBytes { SpatiaLiteBlob.Rings($0) })
    }

    /// The real Zurich parcels (4,781, 200 with holes, many sharing edges): the ten nearest peers
    /// of every twentieth parcel within 300 m are those `ST_Distance` gives, in the same order,
    /// at the same distances.
    func testPeersOfTheRealZurichParcelsAreGEOSs() throws {
        let lake = try zurichLake(self)
        let queries = PeerQueries(lake: lake)
        var peerOptions = PeerOptions(); peerOptions.same = .any; peerOptions.distance = 300; peerOptions.max = 10
        let reference = try lake.db.prepare("""
            SELECT p.pid, ST_Distance(p.geom, t.geom) AS d FROM parcels p, parcels t
            WHERE t.pid = ?1 AND p.pid <> t.pid AND p.year = t.year AND ST_Distance(p.geom, t.geom) <= 300
              AND p.ROWID IN (SELECT pkid FROM idx_parcels_geom WHERE xmin <= MbrMaxX(t.geom) + 300 AND xmax >= MbrMinX(t.geom) - 300
                                                                   AND ymin <= MbrMaxY(t.geom) + 300 AND ymax >= MbrMinY(t.geom) - 300)
            ORDER BY d, p.pid LIMIT 10
            """)
        var parcels = 0, peers = 0, touching = 0
        for pid in stride(from: Int64(1), through: 4781, by: 20) {
            let parcel = try ParcelLookup.byPid(lake, pid: pid)
            let got = try queries.peers(of: parcel, peerOptions)
            try reference.bind([.int(pid)])
            var expected: [(Int64, Double)] = []
            while try reference.step() { expected.append((reference.int(0), reference.double(1))) }
            XCTAssertEqual(got.map(\.parcel.pid), expected.map(\.0), "peers of pid \(pid)")
            for (g, e) in zip(got, expected) { XCTAssertEqual(g.distance, e.1, accuracy: 1e-6, "pid \(pid) to \(e.0)") }
            parcels += 1; peers += got.count; touching += got.filter { $0.distance == 0 }.count
        }
        XCTAssertEqual(parcels, 240)
        XCTAssertGreaterThan(peers, 1000)
        XCTAssertGreaterThan(touching, 50)   // neighbours sharing an edge
    }
}
