import CSQLite

/// The state of one aggregate function over one group of rows.
public protocol SQLAggregate: AnyObject {
    func step(_ arguments: [SQLValue]) throws
    func final() throws -> SQLValue
}

/// Raised by a function body to report a SQL error with a message.
public struct SQLFunctionError: Error {
    public let message: String
    public init(_ message: String) { self.message = message }
}

private final class ScalarBox {
    let body: ([SQLValue]) throws -> SQLValue
    init(_ body: @escaping ([SQLValue]) throws -> SQLValue) { self.body = body }
}

private final class AggregateBox {
    let make: () -> SQLAggregate
    init(_ make: @escaping () -> SQLAggregate) { self.make = make }
}

private func arguments(_ count: Int32, _ values: UnsafeMutablePointer<OpaquePointer?>?) -> [SQLValue] {
    (0..<Int(count)).map { i in
        guard let value = values?[i] else { return .null }
        switch sqlite3_value_type(value) {
        case SQLITE_INTEGER: return .int(sqlite3_value_int64(value))
        case SQLITE_FLOAT: return .double(sqlite3_value_double(value))
        case SQLITE_TEXT: return .text(String(cString: sqlite3_value_text(value)))
        case SQLITE_BLOB:
            let n = Int(sqlite3_value_bytes(value))
            guard n > 0, let p = sqlite3_value_blob(value) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: p, count: n)))
        default: return .null
        }
    }
}

private func setResult(_ context: OpaquePointer?, _ result: Result<SQLValue, Error>) {
    switch result {
    case .success(.null): sqlite3_result_null(context)
    case .success(.int(let v)): sqlite3_result_int64(context, v)
    case .success(.double(let v)): v.isFinite ? sqlite3_result_double(context, v) : sqlite3_result_null(context)
    case .success(.text(let s)): sqlite3_result_text(context, s, -1, lake_sqlite_transient())
    case .success(.blob(let b)): b.withUnsafeBytes { sqlite3_result_blob(context, $0.baseAddress, Int32(b.count), lake_sqlite_transient()) }
    case .failure(let error):
        let message = (error as? SQLFunctionError)?.message ?? "\(error)"
        sqlite3_result_error(context, message, -1)
    }
}

extension Connection {
    /// Registers a deterministic scalar function (`argumentCount` −1: any number).
    public func createFunction(_ name: String, argumentCount: Int32, _ body: @escaping ([SQLValue]) throws -> SQLValue) throws {
        let box = Unmanaged.passRetained(ScalarBox(body)).toOpaque()
        let rc = sqlite3_create_function_v2(
            handle, name, argumentCount, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, box,
            { context, count, values in
                let box = Unmanaged<ScalarBox>.fromOpaque(sqlite3_user_data(context)).takeUnretainedValue()
                setResult(context, Result { try box.body(arguments(count, values)) })
            }, nil, nil,
            { pointer in if let pointer { Unmanaged<ScalarBox>.fromOpaque(pointer).release() } })
        guard rc == SQLITE_OK else { throw SQLiteError(code: rc, message: "cannot register function \(name)", sql: nil) }
    }

    /// Registers an aggregate function; `make` creates the state of one group.
    public func createAggregate(_ name: String, argumentCount: Int32, _ make: @escaping () -> SQLAggregate) throws {
        let box = Unmanaged.passRetained(AggregateBox(make)).toOpaque()
        let rc = sqlite3_create_function_v2(
            handle, name, argumentCount, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, box, nil,
            { context, count, values in
                guard let memory = sqlite3_aggregate_context(context, Int32(MemoryLayout<UnsafeMutableRawPointer?>.size))?.assumingMemoryBound(to: UnsafeMutableRawPointer?.self) else {
                    sqlite3_result_error_nomem(context); return
                }
                if memory.pointee == nil {
                    let box = Unmanaged<AggregateBox>.fromOpaque(sqlite3_user_data(context)).takeUnretainedValue()
                    memory.pointee = Unmanaged.passRetained(box.make() as AnyObject).toOpaque()
                }
                let state = Unmanaged<AnyObject>.fromOpaque(memory.pointee!).takeUnretainedValue() as! SQLAggregate
                do { try state.step(arguments(count, values)) } catch { setResult(context, .failure(error)) }
            },
            { context in
                let memory = sqlite3_aggregate_context(context, 0)?.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
                guard let memory, let pointer = memory.pointee else {
                    // No rows: a fresh state's final value.
                    let box = Unmanaged<AggregateBox>.fromOpaque(sqlite3_user_data(context)).takeUnretainedValue()
                    setResult(context, Result { try box.make().final() })
                    return
                }
                let state = Unmanaged<AnyObject>.fromOpaque(pointer).takeRetainedValue() as! SQLAggregate
                memory.pointee = nil
                setResult(context, Result { try state.final() })
            },
            { pointer in if let pointer { Unmanaged<AggregateBox>.fromOpaque(pointer).release() } })
        guard rc == SQLITE_OK else { throw SQLiteError(code: rc, message: "cannot register aggregate \(name)", sql: nil) }
    }
}
