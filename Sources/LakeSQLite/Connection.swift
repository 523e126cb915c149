import CSQLite
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One connection to a SQLite file, with SpatiaLite's functions loaded when asked for.
///
/// The connection is hardened for files that come from someone else: defensive mode (no writes
/// to the schema table or the b-tree internals through SQL), no extension loading, SpatiaLite's
/// strict security (no function that touches files exists), and limits on lengths so that a
/// crafted file cannot exhaust memory. Which schema objects a lake may contain is
/// `SchemaGuard`'s business.
public final class Connection {
    public let handle: OpaquePointer
    public let path: String
    private var spatialiteCache: UnsafeMutableRawPointer?
    /// False for a connection lake was handed (a loadable extension's host): not closed here.
    private var owned = true

    public enum Mode: Sendable { case readOnly, readWrite, create }

    /// Opens `path`. With `spatial` (the default) SpatiaLite's functions are registered at once;
    /// without, the first `loadSpatiaLite()` does it (commands that read no geometry never load
    /// the library and its dependencies: see BENCHMARKS, start-up).
    public init(path: String, mode: Mode = .readWrite, spatial: Bool = true) throws {
        Self.secureSpatiaLite()
        var db: OpaquePointer?
        var flags: Int32 = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI
        switch mode {
        case .readOnly: flags |= SQLITE_OPEN_READONLY
        case .readWrite: flags |= SQLITE_OPEN_READWRITE
        case .create: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        }
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: message, sql: nil)
        }
        self.handle = db
        self.path = path
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, 5000)
        // Defensive mode: the file cannot corrupt itself through SQL, whatever it contains.
        sqlite3_db_config_int(db, SQLITE_DBCONFIG_DEFENSIVE, 1)
        sqlite3_db_config_int(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0)
        sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 256 * 1024 * 1024)
        if spatial { try loadSpatiaLite() }
    }

    /// SpatiaLite registers the functions that read and write files (BlobToFile, ImportSHP,
    /// ExportDXF, …) only when the environment says SPATIALITE_SECURITY=relaxed; lake sets it to
    /// strict for its whole process (GDAL's SpatiaLite connections included) before every
    /// connection, whatever the user's environment says.
    private static func secureSpatiaLite() {
        setenv("SPATIALITE_SECURITY", "strict", 1)
    }

    /// Stops any statement of this connection that runs past `deadline` (CLOCK_MONOTONIC
    /// nanoseconds; nil: no limit) with SQLITE_INTERRUPT — a server's time limit per request.
    public func interrupt(after seconds: Double?) {
        guard let seconds else {
            sqlite3_progress_handler(handle, 0, nil, nil)
            deadlineBox = nil
            return
        }
        let box = DeadlineBox(nanoseconds: monotonicNanoseconds() + UInt64(seconds * 1e9))
        deadlineBox = box
        sqlite3_progress_handler(handle, 10_000, { context in
            guard let context else { return 0 }
            let box = Unmanaged<DeadlineBox>.fromOpaque(context).takeUnretainedValue()
            return monotonicNanoseconds() > box.nanoseconds ? 1 : 0
        }, Unmanaged.passUnretained(box).toOpaque())
    }

    private var deadlineBox: DeadlineBox?

    /// True once SpatiaLite's functions are registered on this connection.
    public var hasSpatiaLite: Bool { spatialiteCache != nil || !owned }

    /// Registers SpatiaLite's functions (geometry, transformation, spatial index) on this
    /// connection, loading the library on first use in the process. Idempotent.
    public func loadSpatiaLite() throws {
        guard !hasSpatiaLite else { return }
        Self.secureSpatiaLite()
        var reason: UnsafePointer<CChar>?
        guard let cache = lake_spatialite_attach(handle, &reason) else {
            throw SQLiteError(code: SQLITE_ERROR, message: reason.map { String(cString: $0) } ?? "cannot load SpatiaLite", sql: nil)
        }
        spatialiteCache = cache
    }

    /// Wraps a connection opened by someone else (SQLite loading lake's functions as an
    /// extension); lake neither configures nor closes it.
    public init(borrowing handle: OpaquePointer) {
        self.handle = handle
        self.path = sqlite3_db_filename(handle, "main").map { String(cString: $0) } ?? ""
        owned = false
    }

    deinit {
        for stmt in statementCache.values { sqlite3_finalize(stmt) }
        guard owned else { return }
        sqlite3_close_v2(handle)
        if let spatialiteCache { lake_spatialite_detach(spatialiteCache) }
    }

    /// True when the connection cannot write (opened read-only, or the file is read-only).
    public var isReadOnly: Bool { sqlite3_db_readonly(handle, "main") == 1 }

    /// Runs one or more statements that return no rows.
    public func execute(_ sql: String) throws {
        var errmsg: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errmsg)
        if rc != SQLITE_OK {
            let message = errmsg.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(errmsg)
            throw SQLiteError(code: rc, message: message, sql: sql)
        }
    }

    public func prepare(_ sql: String) throws -> Statement {
        try Statement(connection: self, sql: sql)
    }

    /// Prepared statements kept by their SQL text (finalized with the connection).
    private var statementCache: [String: OpaquePointer] = [:]

    /// `sql` prepared once per connection and lent out reset: for the point queries a server
    /// answers thousands of times (parsing and planning cost more than the query). One use at a
    /// time: a statement taken again before the previous one is done resets it.
    public func cached(_ sql: String) throws -> Statement {
        if let handle = statementCache[sql] { return Statement(connection: self, cached: handle, sql: sql) }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, sql: sql) }
        statementCache[sql] = stmt
        return Statement(connection: self, cached: stmt, sql: sql)
    }

    /// Runs `sql` with `bindings` and returns the first column of the first row, if any.
    public func scalar(_ sql: String, _ bindings: SQLValue...) throws -> SQLValue? {
        let statement = try prepare(sql)
        try statement.bind(bindings)
        return try statement.step() ? statement.value(0) : nil
    }

    /// Runs `sql` once per call with `bindings`; for statements without result rows.
    public func run(_ sql: String, _ bindings: SQLValue...) throws {
        let statement = try prepare(sql)
        try statement.bind(bindings)
        while try statement.step() {}
    }

    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    public var changes: Int { Int(sqlite3_changes(handle)) }
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Runs `body` in one read transaction: one snapshot and one shared lock for all of its
    /// statements (each statement outside a transaction takes and drops the file lock).
    /// Inside a transaction already, just runs `body`.
    public func read<T>(_ body: () throws -> T) throws -> T {
        guard !isInTransaction else { return try body() }
        try execute("BEGIN DEFERRED")
        defer { try? execute("COMMIT") }
        return try body()
    }

    /// Runs `body` in one write transaction: all of it is committed, or none of it.
    @discardableResult
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    func error(_ rc: Int32, sql: String?) -> SQLiteError {
        SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }
}

// sqlite3_db_config is variadic and not imported into Swift; this helper wraps the int form.
@discardableResult
private func sqlite3_db_config_int(_ db: OpaquePointer, _ op: Int32, _ value: Int32) -> Int32 {
    lake_sqlite_db_config_int(db, op, value)
}

/// The deadline a progress handler compares with (kept alive by its connection).
final class DeadlineBox {
    let nanoseconds: UInt64
    init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }
}

func monotonicNanoseconds() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}
