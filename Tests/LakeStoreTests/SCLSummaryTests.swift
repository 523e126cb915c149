import Foundation
import XCTest
import LakeSQLite
@testable import LakeStore

final class SCLSummaryTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("lake-scl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func lake(_ name: String) throws -> Lake {
        let lake = try Lake.create(path: dir.appendingPathComponent(name).path)
        try lake.db.execute("""
            INSERT INTO parcels (pid, parcel_id, area, source, geom) VALUES
              (1, 'a', 1, 't', CastToMultiPolygon(GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))', 3035))),
              (2, 'b', 1, 't', CastToMultiPolygon(GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))', 3035)));
            INSERT INTO catalogue (obsid, reference, obstime, sensor, card, source) VALUES
              (1, 'r1', '2024-01-01T00:00:00Z', '2A', 's2', 't'), (2, 'r2', '2024-01-06T00:00:00Z', '2B', 's2', 't'),
              (300, 'r3', '2024-01-11T00:00:00Z', '2B', 's2', 't');
            """)
        return lake
    }

    func summary(_ lake: Lake, _ pid: Int64) throws -> [SCLSummary.Entry]? {
        guard case .blob(let b)? = try lake.db.scalar("SELECT data FROM scl_summary WHERE pid = ?", .int(pid)) else { return nil }
        return try SCLSummary.decode(b)
    }

    func dirty(_ lake: Lake) throws -> [Int64] {
        try lake.db.prepare("SELECT pid FROM scl_dirty ORDER BY pid").rows().compactMap { $0.first?.int }
    }

    func testSummariesFollowEveryChangeOfTheHistograms() throws {
        let lake = try lake("a.sqlite")
        let store = try SCLStore(db: lake.db)
        var clear = [Int](repeating: 0, count: 12); clear[4] = 90; clear[5] = 10
        var cloudy = clear; cloudy[9] = 3
        try store.upsert(pid: 1, obsid: 300, counts: clear)
        try store.upsert(pid: 1, obsid: 1, counts: cloudy)
        try store.upsert(pid: 2, obsid: 2, counts: clear)
        XCTAssertEqual(try dirty(lake), [1, 2])
        XCTAssertEqual(try SCLSummary.refresh(lake.db), 2)
        XCTAssertEqual(try dirty(lake), [])
        // Bits 4 and 5 (vegetation, bare soil), plus 9 (cloud) where cloudy; sorted by obsid.
        XCTAssertEqual(try summary(lake, 1), [.init(obsid: 1, classes: 0b10_0011_0000), .init(obsid: 300, classes: 0b11_0000)])
        XCTAssertEqual(try summary(lake, 2), [.init(obsid: 2, classes: 0b11_0000)])

        // Someone else's SQL: the triggers mark the parcel, whatever the statement.
        try lake.db.execute("UPDATE scl_hist SET c9 = 0 WHERE pid = 1 AND obsid = 1")
        XCTAssertEqual(try dirty(lake), [1])
        try SCLSummary.refresh(lake.db)
        XCTAssertEqual(try summary(lake, 1)?.first, .init(obsid: 1, classes: 0b11_0000))
        try lake.db.execute("DELETE FROM scl_hist WHERE pid = 2")
        XCTAssertEqual(try dirty(lake), [2])
        try SCLSummary.refresh(lake.db)
        XCTAssertNil(try summary(lake, 2))
        XCTAssertEqual(try SCLSummary.refresh(lake.db), 0)
    }

    /// A bulk load writes the summaries of the parcels it touched as a rebuild from `scl_hist`
    /// would (new, changed, and a batch of new and known histograms; a parcel marked dirty before
    /// it, or past the memory limit, is marked for the rebuild instead), with the triggers off,
    /// and puts the triggers back byte for byte; one that fails rolls back with the triggers and
    /// summaries in place.
    func testABulkLoadKeepsSummariesAsARebuildWouldAndRestoresTheTriggers() throws {
        let lake = try lake("b.sqlite")
        func triggers() throws -> [[SQLValue]] {
            try lake.db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'scl_hist' ORDER BY name").rows()
        }
        func summaries() throws -> [[SQLValue]] { try lake.db.prepare("SELECT pid, data FROM scl_summary ORDER BY pid").rows() }
        /// The summaries as a rebuild of every parcel from scl_hist makes them.
        func rebuilt() throws -> [[SQLValue]] {
            let kept = try summaries()
            var out: [[SQLValue]] = []
            // Rebuilt inside a transaction that is then rolled back.
            _ = try? lake.db.transaction { () throws -> Void in
                try lake.db.execute("INSERT OR IGNORE INTO scl_dirty SELECT pid FROM parcels")
                try SCLSummary.refresh(lake.db)
                out = try summaries()
                throw LakeError.usage("back to what the load wrote")
            }
            XCTAssertFalse(out.isEmpty)
            XCTAssertEqual(try summaries(), kept)
            return out
        }
        let before = try triggers()
        XCTAssertEqual(before.count, 3)
        var clear = [Int](repeating: 0, count: 12); clear[4] = 90
        var cloudy = clear; cloudy[9] = 5
        try SCLStore(db: lake.db).upsert(pid: 2, obsid: 2, counts: clear)
        try SCLSummary.refresh(lake.db)
        try lake.db.transaction {
            let store = try SCLStore(db: lake.db)
            try store.beginBulk()
            XCTAssertEqual(try triggers().count, 0)
            let new = try store.upsert(batch: [(1, 1, clear), (1, 300, clear)])
            let known = try store.upsert(batch: [(2, 2, clear)])   // pid 2 unchanged
            XCTAssertEqual([new.inserted, new.updated, new.unchanged, known.inserted, known.updated, known.unchanged], [2, 0, 0, 0, 0, 1])
            try store.endBulk()
        }
        XCTAssertEqual(try triggers(), before)
        XCTAssertEqual(try dirty(lake), [])
        XCTAssertEqual(try summary(lake, 1), [SCLSummary.Entry(obsid: 1, classes: 1 << 4), SCLSummary.Entry(obsid: 300, classes: 1 << 4)])
        XCTAssertEqual(try summaries(), try rebuilt())
        // One changed (pid 1), one unchanged and one new (pid 2) in one batch; then pid 1 again.
        try lake.db.transaction {
            let store = try SCLStore(db: lake.db)
            try store.beginBulk()
            let mixed = try store.upsert(batch: [(1, 1, cloudy), (2, 2, clear), (2, 300, clear)])
            XCTAssertEqual([mixed.inserted, mixed.updated, mixed.unchanged], [1, 1, 1])
            _ = try store.upsert(batch: [(1, 300, cloudy)])
            try store.endBulk()
        }
        XCTAssertEqual(try dirty(lake), [])
        XCTAssertEqual(try summary(lake, 1)?.map(\.classes), [1 << 4 | 1 << 9, 1 << 4 | 1 << 9])
        XCTAssertEqual(try summaries(), try rebuilt())
        // A parcel marked dirty before the load (someone's SQL), and a load past the memory
        // limit: marked for the rebuild, which gives the same summaries.
        try lake.db.execute("DELETE FROM scl_hist WHERE pid = 2 AND obsid = 300")
        XCTAssertEqual(try dirty(lake), [2])
        let limit = SCLStore.recordLimit
        SCLStore.recordLimit = 1
        defer { SCLStore.recordLimit = limit }
        try lake.db.transaction {
            let store = try SCLStore(db: lake.db)
            try store.beginBulk()
            _ = try store.upsert(batch: [(1, 2, cloudy), (1, 1, clear), (2, 1, clear)])
            try store.endBulk()
        }
        XCTAssertEqual(try dirty(lake), [1, 2])
        try SCLSummary.refresh(lake.db)
        XCTAssertEqual(try summaries(), try rebuilt())
        XCTAssertEqual(try summary(lake, 2)?.map(\.obsid), [1, 2])
        SCLStore.recordLimit = limit
        let kept = try summaries()
        XCTAssertThrowsError(try lake.db.transaction {
            let store = try SCLStore(db: lake.db)
            try store.beginBulk()
            _ = try store.upsert(batch: [(2, 300, cloudy)])
            try store.endBulk()
            throw LakeError.usage("the load fails half-way")
        })
        XCTAssertEqual(try triggers(), before)
        XCTAssertEqual(try summaries(), kept)
        XCTAssertEqual(try lake.db.scalar("SELECT count(*) FROM scl_hist WHERE pid = 2 AND obsid = 300")?.int, 0)
        // The triggers work again for everyone's SQL.
        try lake.db.execute("DELETE FROM scl_hist WHERE pid = 2")
        XCTAssertEqual(try dirty(lake), [2])
    }

    func testLakesFromBeforeSummariesGetThemOnUpgrade() throws {
        let path = dir.appendingPathComponent("old.sqlite").path
        do {
            // A lake as lake wrote it at schema 2 (no summary tables or triggers), with a histogram.
            let db = try Connection(path: path, mode: .create)
            try db.execute("PRAGMA application_id = \(Lake.applicationID)")
            try Migrator.migrate(db, srid: 3035, path: path, upTo: 2)
            try db.execute("""
                INSERT INTO lake_meta (key, value) VALUES ('srid', '3035');
                INSERT INTO parcels (pid, parcel_id, area, source, geom) VALUES
                  (2, 'b', 1, 't', CastToMultiPolygon(GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))', 3035)));
                INSERT INTO catalogue (obsid, reference, obstime, sensor, card, source) VALUES (1, 'r1', '2024-01-01T00:00:00Z', '2A', 's2', 't');
                """)
            var counts = [Int](repeating: 0, count: 12); counts[4] = 5
            try SCLStore(db: db).upsert(pid: 2, obsid: 1, counts: counts)
            XCTAssertEqual(try Migrator.currentVersion(db), 2)
        }
        // Read-only, it is checked against schema 2 as lake wrote it, not refused as altered.
        XCTAssertEqual(try Lake.open(path: path).schemaVersion, 2)
        let upgraded = try Lake.open(path: path, writable: true)
        XCTAssertEqual(upgraded.schemaVersion, Lake.latestSchemaVersion)
        XCTAssertEqual(try dirty(upgraded), [2])
        try SCLSummary.refresh(upgraded.db)
        XCTAssertEqual(try summary(upgraded, 2), [.init(obsid: 1, classes: 1 << 4)])
    }

    func testDamagedSummariesThrow() {
        let blob = SCLSummary.encode([.init(obsid: 5, classes: 17), .init(obsid: 9, classes: 1)])
        XCTAssertEqual(try SCLSummary.decode(blob), [.init(obsid: 5, classes: 17), .init(obsid: 9, classes: 1)])
        for cut in 0..<blob.count { XCTAssertThrowsError(try SCLSummary.decode(Array(blob.prefix(cut))), "prefix \(cut)") }
        XCTAssertThrowsError(try SCLSummary.decode(blob + [0]))
        XCTAssertThrowsError(try SCLSummary.decode([1, 1, 2, 0x80, 0x40]))   // a class mask beyond class 11
    }
}
