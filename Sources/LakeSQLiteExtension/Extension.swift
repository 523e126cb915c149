import LakeAnalytics
import LakeSQLite

/// lake's SQL functions as a SQLite loadable extension (liblake_functions.so):
///
///     sqlite3 lake.sqlite
///     sqlite> .load .build/release/liblake_functions
///     sqlite> SELECT ndvi(5000, 1000), median(area) FROM parcels;
///
/// The entry point follows SQLite's naming rule for the file name (sqlite3_lakefunctions_init).
/// The functions call the system libsqlite3 directly, so the host must use that same library
/// (the sqlite3 shell and Python's sqlite3 on Debian do).
@_cdecl("sqlite3_lakefunctions_init")
public func lakeFunctionsInit(_ db: OpaquePointer?, _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ api: UnsafeRawPointer?) -> Int32 {
    guard let db else { return 1 }
    do {
        try SQLFunctions.register(on: Connection(borrowing: db))
        return 0
    } catch {
        return 1
    }
}

/// SQLite tries this name first; without it, the search would find SpatiaLite's entry point
/// among this library's dependencies and load SpatiaLite instead of lake's functions.
@_cdecl("sqlite3_extension_init")
public func lakeDefaultInit(_ db: OpaquePointer?, _ error: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ api: UnsafeRawPointer?) -> Int32 {
    lakeFunctionsInit(db, error, api)
}
