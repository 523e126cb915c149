import CLibPQ
import LakeStore
import LakeSupport
import Foundation

/// One connection to a PostgreSQL server through libpq (PostgreSQL's own client library): the
/// connection string or URI, PGPASSWORD, ~/.pgpass, PGSERVICE and TLS settings all work as they
/// do for psql. A password written into the connection string is refused: it would be seen in
/// the shell history and the process list.
public final class PostgreSQL {
    private let conn: OpaquePointer
    /// user@host:port/database, never with a password: what lake names in messages and logs.
    public let target: String

    public init(_ conninfo: String) throws {
        var parseError: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &parseError) else {
            let reason = parseError.map { String(cString: $0) } ?? "cannot parse it"
            if let parseError { PQfreemem(parseError) }
            throw LakeError.usage("the connection string: \(reason.trimmed())")
        }
        var option = options
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "password", let value = option.pointee.val, value.pointee != 0 {
                PQconninfoFree(options)
                throw LakeError.usage("the connection string holds a password; give it in PGPASSWORD or ~/.pgpass instead (never on the command line)")
            }
            option += 1
        }
        PQconninfoFree(options)
        guard let conn = PQconnectdb(conninfo) else { throw LakeError.remote("libpq cannot allocate a connection") }
        self.conn = conn
        func text(_ value: UnsafeMutablePointer<CChar>?) -> String { value.map { String(cString: $0) } ?? "" }
        let host = text(PQhost(conn))
        target = "\(text(PQuser(conn)))@\(host.hasPrefix("/") ? "[\(host)]" : host):\(text(PQport(conn)))/\(text(PQdb(conn)))"
        guard PQstatus(conn) == CONNECTION_OK else {   // (deinit closes the connection)
            throw LakeError.remote("cannot connect to \(target): \(text(PQerrorMessage(conn)).trimmed())")
        }
        try execute("SET client_encoding = 'UTF8'; SET application_name = 'lake'; SET client_min_messages = warning")
    }

    deinit { PQfinish(conn) }

    private var lastError: String { String(cString: PQerrorMessage(conn)).trimmed() }

    /// Runs SQL (one or more statements, no parameters); the rows of the last one, as text.
    @discardableResult
    public func execute(_ sql: String) throws -> [[String?]] {
        try result(PQexec(conn, sql), sql: sql)
    }

    /// One statement (INSERT, UPDATE, DELETE) whose count of rows it changed is returned.
    @discardableResult
    public func count(_ sql: String, _ parameters: [String?] = []) throws -> Int {
        let result = exec(sql, parameters)
        let n = result.map { Int(String(cString: PQcmdTuples($0))) ?? 0 } ?? 0
        _ = try self.result(result, sql: sql)   // clears it; throws on error
        return n
    }

    /// One statement with text parameters ($1, $2, …); its rows as text (NULL as nil).
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?]) throws -> [[String?]] {
        try result(exec(sql, parameters), sql: sql)
    }

    private func exec(_ sql: String, _ parameters: [String?]) -> OpaquePointer? {
        let copies = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { for p in copies { free(p) } }
        let values = copies.map { UnsafePointer($0) }
        return values.withUnsafeBufferPointer {
            PQexecParams(conn, sql, Int32(parameters.count), nil, $0.baseAddress, nil, nil, 0)
        }
    }

    private func result(_ result: OpaquePointer?, sql: String) throws -> [[String?]] {
        guard let result else { throw LakeError.remote(lastError) }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY: return []
        case PGRES_TUPLES_OK:
            let rows = PQntuples(result), columns = PQnfields(result)
            return (0..<rows).map { r in
                (0..<columns).map { c in PQgetisnull(result, r, c) == 1 ? nil : String(cString: PQgetvalue(result, r, c)) }
            }
        default:
            let message = PQresultErrorMessage(result).map { String(cString: $0) }?.trimmed() ?? lastError
            throw LakeError.remote("\(message)\n  in: \(Self.abbreviated(sql))")
        }
    }

    static func abbreviated(_ sql: String) -> String {
        let flat = sql.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return flat.count > 160 ? String(flat.prefix(160)) + " …" : flat
    }

    /// `COPY … FROM STDIN`: `body` writes the data through the writer; returns the rows the
    /// server loaded. An error thrown by `body` ends the COPY with that error (nothing loaded).
    @discardableResult
    public func copyIn(_ sql: String, _ body: (CopyWriter) throws -> Void) throws -> Int {
        guard let start = PQexec(conn, sql) else { throw LakeError.remote(lastError) }
        guard PQresultStatus(start) == PGRES_COPY_IN else { _ = try result(start, sql: sql); throw LakeError.remote("not a COPY FROM STDIN: \(sql)") }
        PQclear(start)
        let writer = CopyWriter(conn: conn)
        do {
            try body(writer)
            try writer.flush()
        } catch {
            PQputCopyEnd(conn, "lake stopped: \(error)")
            while let r = PQgetResult(conn) { PQclear(r) }
            throw error
        }
        guard PQputCopyEnd(conn, nil) == 1 else { throw LakeError.remote(lastError) }
        var loaded = 0
        var failure: String?
        while let r = PQgetResult(conn) {
            if PQresultStatus(r) == PGRES_COMMAND_OK { loaded = Int(String(cString: PQcmdTuples(r))) ?? 0 }
            else { failure = PQresultErrorMessage(r).map { String(cString: $0) }?.trimmed() }
            PQclear(r)
        }
        if let failure { throw LakeError.remote("\(failure)\n  in: \(Self.abbreviated(sql))") }
        return loaded
    }

    /// `COPY … TO STDOUT`: `body` gets each data message (one row per message).
    public func copyOut(_ sql: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let start = PQexec(conn, sql) else { throw LakeError.remote(lastError) }
        guard PQresultStatus(start) == PGRES_COPY_OUT else { _ = try result(start, sql: sql); throw LakeError.remote("not a COPY TO STDOUT: \(sql)") }
        PQclear(start)
        var failure: Error?
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let n = PQgetCopyData(conn, &buffer, 0)
            if n > 0, let buffer {
                if failure == nil {
                    do { try body(UnsafeRawBufferPointer(start: buffer, count: Int(n))) } catch { failure = error }
                }
                PQfreemem(buffer)
                continue
            }
            if n == -2 { throw LakeError.remote(lastError) }
            break
        }
        var message: String?
        while let r = PQgetResult(conn) {
            if PQresultStatus(r) != PGRES_COMMAND_OK { message = PQresultErrorMessage(r).map { String(cString: $0) }?.trimmed() }
            PQclear(r)
        }
        if let failure { throw failure }
        if let message { throw LakeError.remote("\(message)\n  in: \(Self.abbreviated(sql))") }
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    @discardableResult
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            _ = try? execute("ROLLBACK")
            throw error
        }
    }
}

/// Buffers COPY data and hands it to libpq in large pieces. Text (`text`, `tab`, `newline`) and
/// binary-format (`int16`, `int32`, `float32`, `field`) helpers write straight into the buffer.
public final class CopyWriter {
    private let conn: OpaquePointer
    private var buffer: [UInt8] = []
    private static let chunk = 1 << 20

    init(conn: OpaquePointer) {
        self.conn = conn
        buffer.reserveCapacity(Self.chunk + 4096)
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        let ok = buffer.withUnsafeBufferPointer { p in
            p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: p.count) { PQputCopyData(conn, $0, Int32(p.count)) }
        }
        guard ok == 1 else { throw LakeError.remote(String(cString: PQerrorMessage(conn)).trimmed()) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func maybeFlush() throws { if buffer.count >= Self.chunk { try flush() } }

    // Text format: fields separated by tabs, rows ended by newlines, NULL as \N.

    /// A text field, escaped for COPY's text format.
    public func text(_ value: String?) {
        guard let value else { buffer.append(contentsOf: [0x5C, 0x4E]); return }
        for byte in value.utf8 {
            switch byte {
            case 0x5C: buffer.append(contentsOf: [0x5C, 0x5C])
            case 0x09: buffer.append(contentsOf: [0x5C, 0x74])
            case 0x0A: buffer.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: buffer.append(contentsOf: [0x5C, 0x72])
            default: buffer.append(byte)
            }
        }
    }
    public func tab() { buffer.append(0x09) }
    public func endRow() throws { buffer.append(0x0A); try maybeFlush() }

    // Binary format (big-endian): header, per row a field count and length-prefixed fields.

    public func binaryHeader() {
        buffer.append(contentsOf: Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00])
        int32(0); int32(0)
    }
    public func binaryTrailer() { int16(-1) }
    public func int16(_ v: Int16) { let u = UInt16(bitPattern: v); buffer.append(UInt8(u >> 8)); buffer.append(UInt8(u & 0xFF)) }
    public func int32(_ v: Int32) {
        let u = UInt32(bitPattern: v)
        buffer.append(UInt8(u >> 24)); buffer.append(UInt8((u >> 16) & 0xFF)); buffer.append(UInt8((u >> 8) & 0xFF)); buffer.append(UInt8(u & 0xFF))
    }
    /// A row of `fields` fields begins.
    public func beginRow(fields: Int16) throws { try maybeFlush(); int16(fields) }
    public func int32Field(_ v: Int32) { int32(4); int32(v) }
    public func float32Field(_ v: Float) { int32(4); int32(Int32(bitPattern: v.bitPattern)) }
    public func textField(_ v: String) { let u = Array(v.utf8); int32(Int32(u.count)); buffer.append(contentsOf: u) }
    public func nullField() { int32(-1) }
}

/// Reads PostgreSQL's binary COPY format, one data message (row) at a time.
public struct BinaryCopyRow {
    private let bytes: UnsafeRawBufferPointer
    private var at: Int
    public private(set) var isTrailer = false
    public let fieldCount: Int

    /// `first`: the first message also carries the 19-byte header (and maybe an extension).
    public init(_ bytes: UnsafeRawBufferPointer, first: Bool) throws {
        self.bytes = bytes
        var at = 0
        if first {
            guard bytes.count >= 19, bytes[0] == 0x50, bytes[1] == 0x47 else { throw LakeError.remote("COPY data is not PostgreSQL's binary format") }
            let extensionLength = Int(Self.be32(bytes, 15))
            at = 19 + extensionLength
        }
        guard bytes.count >= at + 2 else { throw LakeError.remote("COPY data ends inside a row") }
        let n = Int16(bitPattern: UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]))
        at += 2
        self.at = at
        isTrailer = n == -1
        fieldCount = max(0, Int(n))
    }

    static func be32(_ b: UnsafeRawBufferPointer, _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    /// The next field's bytes (nil for NULL).
    public mutating func next() throws -> UnsafeRawBufferPointer? {
        guard at + 4 <= bytes.count else { throw LakeError.remote("COPY data ends inside a row") }
        let length = Int(Int32(bitPattern: Self.be32(bytes, at)))
        at += 4
        if length < 0 { return nil }
        guard at + length <= bytes.count else { throw LakeError.remote("COPY data ends inside a field") }
        defer { at += length }
        return UnsafeRawBufferPointer(rebasing: bytes[at..<(at + length)])
    }
    public mutating func int32() throws -> Int32? {
        guard let f = try next() else { return nil }
        guard f.count == 4 else { throw LakeError.remote("an int4 field of \(f.count) bytes") }
        return Int32(bitPattern: Self.be32(f, 0))
    }
    public mutating func float32() throws -> Float {
        guard let f = try next() else { return .nan }
        guard f.count == 4 else { throw LakeError.remote("a float4 field of \(f.count) bytes") }
        return Float(bitPattern: Self.be32(f, 0))
    }
    public mutating func float64() throws -> Double {
        guard let f = try next() else { return .nan }
        guard f.count == 8 else { throw LakeError.remote("a float8 field of \(f.count) bytes") }
        return Double(bitPattern: UInt64(Self.be32(f, 0)) << 32 | UInt64(Self.be32(f, 4)))
    }
    public mutating func int64() throws -> Int64? {
        guard let f = try next() else { return nil }
        guard f.count == 8 else { throw LakeError.remote("an int8 field of \(f.count) bytes") }
        return Int64(bitPattern: UInt64(Self.be32(f, 0)) << 32 | UInt64(Self.be32(f, 4)))
    }
    public mutating func text() throws -> String? {
        guard let f = try next() else { return nil }
        return String(decoding: f, as: UTF8.self)
    }
    public mutating func fieldBytes() throws -> [UInt8]? {
        guard let f = try next() else { return nil }
        return Array(f)
    }
}
