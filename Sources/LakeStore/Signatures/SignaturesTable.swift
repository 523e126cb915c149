import CSQLite
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LakeSQLite
import LakeSupport

/// `signatures`: the packed series as rows for SQL — an eponymous virtual table on lake's own
/// connections (`lake sql`, and any SQLite session that loads `liblake_functions`):
///
///     SELECT band, avg(mean) FROM signatures WHERE pid = 7 GROUP BY band;
///
/// Columns: pid, obsid, band (name), count, mean, std, min, max, p25, p50, p75 — the stored
/// statistics (digital numbers, no radiometric offset applied), pending rows applied, in pid,
/// obsid and band order. A `pid = ?` constraint reads only that parcel's series; without one
/// every parcel is decoded in turn (constant memory: one parcel at a time). Read-only.
public enum SignaturesTable {
    /// One parcel's rows at a time, and where the scan is.
    final class Cursor {
        let store: SignatureStore
        let names: BandDictionary
        var pids: [Int64] = []
        var next = 0
        var rows: [SignatureRow] = []
        var index = 0
        var pid: Int64 = 0
        var rowid: Int64 = 0
        init(_ db: Connection) throws { store = SignatureStore(db: db); names = try BandDictionary(db: db) }

        /// Moves to the next row, loading the next parcel's series when one runs out.
        func advance() throws {
            index += 1
            rowid += 1
            while index >= rows.count && next < pids.count {
                pid = pids[next]; next += 1
                rows = try store.series(pid: pid)
                index = 0
            }
        }
        var eof: Bool { index >= rows.count }
    }

    /// Swift state kept beside a C struct SQLite hands around (which carries no Swift payload),
    /// by the struct's address.
    final class Payloads<Value>: @unchecked Sendable {
        private var values: [UnsafeMutableRawPointer: Value] = [:]
        private let lock = Lock()
        subscript(_ key: UnsafeMutableRawPointer) -> Value? {
            get { lock.withLock { values[key] } }
            set { lock.withLock { values[key] = newValue } }
        }
    }
    /// The connection each virtual table was opened on, and each cursor's scan.
    static let connections = Payloads<Connection>()
    static let cursors = Payloads<Cursor>()

    /// A zeroed C struct whose Swift state is `payload`, kept in `payloads` until `release`.
    static func allocate<T, V>(_ type: T.Type, zero: T, payload: V, in payloads: Payloads<V>) -> UnsafeMutablePointer<T> {
        let p = UnsafeMutablePointer<T>.allocate(capacity: 1)
        p.initialize(to: zero)
        payloads[UnsafeMutableRawPointer(p)] = payload
        return p
    }

    static func release<T, V>(_ p: UnsafeMutablePointer<T>?, from payloads: Payloads<V>) -> Int32 {
        guard let p else { return SQLITE_OK }
        payloads[UnsafeMutableRawPointer(p)] = nil
        p.deallocate()
        return SQLITE_OK
    }

    nonisolated(unsafe) static var module: sqlite3_module = {
        var m = sqlite3_module()
        m.iVersion = 0
        m.xCreate = nil    // eponymous only: exists in every schema without CREATE VIRTUAL TABLE
        m.xConnect = { db, _, _, _, vtab, _ in
            guard let db else { return SQLITE_ERROR }
            let rc = sqlite3_declare_vtab(db, """
                CREATE TABLE x (pid INTEGER, obsid INTEGER, band TEXT, count REAL, mean REAL, std REAL, min REAL, max REAL,
                                p25 REAL, p50 REAL, p75 REAL)
                """)
            guard rc == SQLITE_OK else { return rc }
            vtab?.pointee = allocate(sqlite3_vtab.self, zero: sqlite3_vtab(), payload: Connection(borrowing: db), in: connections)
            return SQLITE_OK
        }
        m.xBestIndex = { _, info in
            guard let info else { return SQLITE_ERROR }
            info.pointee.idxNum = 0
            info.pointee.estimatedCost = 1e9
            for i in 0..<Int(info.pointee.nConstraint) {
                let c = info.pointee.aConstraint[i]
                if c.iColumn == 0 && c.op == UInt8(SQLITE_INDEX_CONSTRAINT_EQ) && c.usable != 0 {
                    info.pointee.aConstraintUsage[i].argvIndex = 1
                    info.pointee.aConstraintUsage[i].omit = 1
                    info.pointee.idxNum = 1
                    info.pointee.estimatedCost = 100
                    break
                }
            }
            return SQLITE_OK
        }
        m.xDisconnect = { table in release(table, from: connections) }
        m.xDestroy = m.xDisconnect
        m.xOpen = { table, out in
            guard let table, let db = connections[UnsafeMutableRawPointer(table)], let cursor = try? Cursor(db) else { return SQLITE_ERROR }
            out?.pointee = allocate(sqlite3_vtab_cursor.self, zero: sqlite3_vtab_cursor(), payload: cursor, in: cursors)
            return SQLITE_OK
        }
        m.xClose = { c in release(c, from: cursors) }
        m.xFilter = { c, idxNum, _, argc, argv in
            guard let c, let cursor = cursor(c) else { return SQLITE_ERROR }
            do {
                if idxNum == 1, argc >= 1, let value = argv?[0] {
                    cursor.pids = sqlite3_value_type(value) == SQLITE_NULL ? [] : [sqlite3_value_int64(value)]
                } else {
                    var pids: [Int64] = []
                    let s = try cursor.store.db.prepare("SELECT pid FROM signatures_packed UNION SELECT pid FROM signatures_pending ORDER BY 1")
                    while try s.step() { pids.append(s.int(0)) }
                    cursor.pids = pids
                }
                cursor.next = 0; cursor.rows = []; cursor.index = -1; cursor.rowid = 0
                try cursor.advance()
                return SQLITE_OK
            } catch { return SQLITE_ERROR }
        }
        m.xNext = { c in
            guard let c, let cursor = cursor(c) else { return SQLITE_ERROR }
            do { try cursor.advance(); return SQLITE_OK } catch { return SQLITE_ERROR }
        }
        m.xEof = { c in
            guard let c, let cursor = cursor(c) else { return 1 }
            return cursor.eof ? 1 : 0
        }
        m.xColumn = { c, context, column in
            guard let c, let cursor = cursor(c), !cursor.eof else { return SQLITE_ERROR }
            let row = cursor.rows[cursor.index]
            switch column {
            case 0: sqlite3_result_int64(context, cursor.pid)
            case 1: sqlite3_result_int64(context, row.obsid)
            case 2: sqlite3_result_text(context, cursor.names.name(row.bandID), -1, lake_sqlite_transient())
            default:
                let v = row.stats[Int(column) - 3]
                if v.isNaN { sqlite3_result_null(context) } else { sqlite3_result_double(context, Double(v)) }
            }
            return SQLITE_OK
        }
        m.xRowid = { c, rowid in
            guard let c, let cursor = cursor(c) else { return SQLITE_ERROR }
            rowid?.pointee = cursor.rowid
            return SQLITE_OK
        }
        return m
    }()

    static func cursor(_ c: UnsafeMutablePointer<sqlite3_vtab_cursor>) -> Cursor? { cursors[UnsafeMutableRawPointer(c)] }

    /// Makes `signatures` available on `db`.
    public static func register(on db: Connection) throws {
        let rc = sqlite3_create_module(db.handle, "signatures", &module, nil)
        guard rc == SQLITE_OK else { throw LakeError.database("cannot register the signatures table (SQLite error \(rc))") }
    }
}
