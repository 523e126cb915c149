import CSQLite
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A value bound to or read from a statement.
public enum SQLValue: Sendable, Equatable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])

    /// As a plain Swift value: nil, Int64, Double, String or a hex string for blobs.
    public var any: Any? {
        switch self {
        case .null: nil
        case .int(let v): v
        case .double(let v): v
        case .text(let s): s
        case .blob(let b): "x'" + hex(b) + "'"
        }
    }

    public var int: Int64? {
        switch self {
        case .int(let v): v
        case .double(let v): Int64(exactly: v.rounded()) 
        case .text(let s): Int64(s)
        default: nil
        }
    }
    public var double: Double? {
        switch self {
        case .int(let v): Double(v)
        case .double(let v): v
        case .text(let s): Double(s)
        default: nil
        }
    }
    public var text: String? {
        switch self {
        case .text(let s): s
        case .int(let v): String(v)
        case .double(let v): String(v)
        default: nil
        }
    }
}

/// A prepared statement. Not shared between threads.
public final class Statement {
    public let connection: Connection
    let handle: OpaquePointer
    public let sql: String
    /// What follows the first statement in `sql` (SQLite prepares one): white space, or more
    /// statements that were not prepared.
    public let trailing: String
    /// False for a statement lent from the connection's cache (the connection finalizes it).
    private let owned: Bool

    /// A statement of the connection's cache (see `Connection.cached`), reset and unbound.
    init(connection: Connection, cached handle: OpaquePointer, sql: String) {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        self.connection = connection
        self.handle = handle
        self.sql = sql
        self.trailing = ""
        owned = false
    }

    init(connection: Connection, sql: String) throws {
        var stmt: OpaquePointer?
        var rest = ""
        let rc = sql.withCString { text -> Int32 in
            var tail: UnsafePointer<CChar>?
            let rc = sqlite3_prepare_v3(connection.handle, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, &tail)
            if let tail { rest = String(cString: tail) }
            return rc
        }
        guard rc == SQLITE_OK, let stmt else { throw connection.error(rc, sql: sql) }
        self.connection = connection
        self.handle = stmt
        self.sql = sql
        self.trailing = rest
        owned = true
    }

    deinit { if owned { sqlite3_finalize(handle) } else { sqlite3_reset(handle) } }

    /// Binds values to parameters 1...n, after resetting the statement.
    public func bind(_ values: [SQLValue]) throws {
        sqlite3_reset(handle)
        for (i, value) in values.enumerated() { try bind(value, at: Int32(i + 1)) }
    }

    public func bind(_ value: SQLValue, at index: Int32) throws {
        let rc: Int32
        switch value {
        case .null: rc = sqlite3_bind_null(handle, index)
        case .int(let v): rc = sqlite3_bind_int64(handle, index, v)
        case .double(let v): rc = sqlite3_bind_double(handle, index, v)
        case .text(let s): rc = sqlite3_bind_text(handle, index, s, -1, lake_sqlite_transient())
        case .blob(let bytes):
            rc = bytes.withUnsafeBytes {
                sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), lake_sqlite_transient())
            }
        }
        if rc != SQLITE_OK { throw connection.error(rc, sql: sql) }
    }

    // Fast typed binders for hot loops.
    public func bind(int value: Int64, at index: Int32) { sqlite3_bind_int64(handle, index, value) }
    public func bind(double value: Double, at index: Int32) { sqlite3_bind_double(handle, index, value) }
    public func bind(blob bytes: UnsafeRawBufferPointer, at index: Int32) {
        sqlite3_bind_blob(handle, index, bytes.baseAddress, Int32(bytes.count), lake_sqlite_transient())
    }
    public func bind(text value: String, at index: Int32) {
        var s = value
        _ = s.withUTF8 { p in
            // An empty buffer may have no address, which SQLite would bind as NULL.
            if let base = p.baseAddress, p.count > 0 {
                sqlite3_bind_text(handle, index, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(p.count), lake_sqlite_transient())
            } else {
                sqlite3_bind_text(handle, index, "", 0, lake_sqlite_transient())
            }
        }
    }
    /// Binds UTF-8 text that the caller keeps alive and unchanged until the statement has been
    /// stepped and reset (SQLite does not copy it).
    public func bind(borrowedText text: UnsafeRawBufferPointer, at index: Int32) {
        if let base = text.baseAddress, text.count > 0 {
            sqlite3_bind_text(handle, index, base.assumingMemoryBound(to: CChar.self), Int32(text.count), nil)
        } else {
            sqlite3_bind_text(handle, index, "", 0, lake_sqlite_transient())
        }
    }
    public func reset() { sqlite3_reset(handle) }

    /// Advances to the next row: true when a row is available, false when done.
    @discardableResult
    public func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = connection.error(rc, sql: sql)
            sqlite3_reset(handle)
            throw error
        }
    }

    public var columnCount: Int32 { sqlite3_column_count(handle) }
    public func columnName(_ i: Int32) -> String { String(cString: sqlite3_column_name(handle, i)) }
    public func isNull(_ i: Int32) -> Bool { sqlite3_column_type(handle, i) == SQLITE_NULL }
    public func int(_ i: Int32) -> Int64 { sqlite3_column_int64(handle, i) }
    public func double(_ i: Int32) -> Double { sqlite3_column_double(handle, i) }
    public func text(_ i: Int32) -> String? {
        guard let p = sqlite3_column_text(handle, i) else { return nil }
        return String(cString: p)
    }
    /// Calls `body` with the bytes of a blob column, valid only during the call.
    public func withBlob<T>(_ i: Int32, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let p = sqlite3_column_blob(handle, i)
        let n = Int(sqlite3_column_bytes(handle, i))
        return try body(UnsafeRawBufferPointer(start: p, count: p == nil ? 0 : n))
    }
    public func blob(_ i: Int32) -> [UInt8] { withBlob(i) { Array($0) } }

    public func value(_ i: Int32) -> SQLValue {
        switch sqlite3_column_type(handle, i) {
        case SQLITE_INTEGER: .int(int(i))
        case SQLITE_FLOAT: .double(double(i))
        case SQLITE_TEXT: .text(text(i) ?? "")
        case SQLITE_BLOB: .blob(blob(i))
        default: .null
        }
    }

    /// All rows as arrays of values (for small results).
    public func rows() throws -> [[SQLValue]] {
        var out: [[SQLValue]] = []
        while try step() { out.append((0..<columnCount).map { value($0) }) }
        return out
    }
}

/// Lower-case hexadecimal digits of `bytes`.
func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
    return String(decoding: out, as: UTF8.self)
}
