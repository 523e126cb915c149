import CSQLite
import Foundation

// Usage: EmbedSchemaTool OUTPUT.swift schema/NNN_name.sql...
// Writes `embeddedMigrations` (each migration's SQL) and `embeddedReferenceObjects`: lake's
// schema objects after each migration, as this machine's SpatiaLite creates them. SchemaGuard
// compares a received file with them without loading SpatiaLite (which costs more than a whole
// `lake query parcel`); only a file that differs is compared again with a reference built by the
// SpatiaLite lake runs with.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write((message + "\n").data(using: .utf8)!)
    exit(1)
}

var args = CommandLine.arguments.dropFirst()
// --plain: the files' text only, as `embeddedSQL` (name, sql), for SQL lake sends elsewhere
// (PostgreSQL); nothing is applied.
let plain = args.first == "--plain"
if plain { args = args.dropFirst() }
guard let output = args.first else { fail("usage: EmbedSchemaTool [--plain] OUTPUT FILE...") }

func literal(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\\": out += "\\\\"
        case "\"": out += "\\\""
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 { out += "\\u{\(String(scalar.value, radix: 16))}" } else { out.unicodeScalars.append(scalar) }
        }
    }
    return out + "\""
}

if plain {
    var swift = "// Generated from schema/postgis/*.sql by the EmbedSchema plugin. Do not edit.\n"
    swift += "let embeddedSQL: [(name: String, sql: String)] = [\n"
    for path in args.dropFirst().sorted() {
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        swift += "    (name: \(literal(name)), sql: \(literal(try String(contentsOfFile: path, encoding: .utf8)))),\n"
    }
    swift += "]\n"
    try swift.write(toFile: output, atomically: true, encoding: .utf8)
    exit(0)
}

var migrations: [(version: Int, name: String, sql: String)] = []
for path in args.dropFirst() {
    let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    guard let version = Int(name.prefix { $0.isNumber }) else { fail("schema file \(path) must start with its version number") }
    migrations.append((version, name, try String(contentsOfFile: path, encoding: .utf8)))
}
migrations.sort { $0.version < $1.version }

// The reference: every migration applied in turn to an empty database with SpatiaLite.
var db: OpaquePointer?
guard sqlite3_open(":memory:", &db) == SQLITE_OK, let db else { fail("EmbedSchemaTool: cannot open SQLite") }
var reason: UnsafePointer<CChar>?
guard lake_spatialite_attach(db, &reason) != nil else { fail("EmbedSchemaTool: \(reason.map { String(cString: $0) } ?? "no SpatiaLite")") }
func objects() -> [String] {
    var statement: OpaquePointer?
    sqlite3_prepare_v2(db, "SELECT type, name, coalesce(tbl_name, ''), coalesce(sql, '') FROM sqlite_schema", -1, &statement, nil)
    defer { sqlite3_finalize(statement) }
    var out: [String] = []
    while sqlite3_step(statement) == SQLITE_ROW {
        out.append((0..<4).map { String(cString: sqlite3_column_text(statement, $0)) }.joined(separator: "\t"))
    }
    return out
}
var ranges: [(object: String, from: Int, to: Int)] = []
var previous = 0
for migration in migrations {
    var message: UnsafeMutablePointer<CChar>?
    let sql = migration.sql.replacingOccurrences(of: "@SRID@", with: "3035")
    guard sqlite3_exec(db, sql, nil, nil, &message) == SQLITE_OK else {
        fail("EmbedSchemaTool: \(migration.name): \(message.map { String(cString: $0) } ?? "error")")
    }
    for object in objects() {
        if let i = ranges.lastIndex(where: { $0.object == object && $0.to == previous }) { ranges[i].to = migration.version }
        else { ranges.append((object, migration.version, migration.version)) }
    }
    previous = migration.version
}

var swift = "// Generated from schema/*.sql by the EmbedSchema plugin. Do not edit.\n"
swift += "let embeddedMigrations: [(version: Int, name: String, sql: String)] = [\n"
for m in migrations { swift += "    (version: \(m.version), name: \(literal(m.name)), sql: \(literal(m.sql))),\n" }
swift += "]\n\n"
swift += "/// lake's schema objects (from, to: the schema versions that have the object; type, name, table, sql).\n"
swift += "let embeddedReferenceObjects: [(from: Int, to: Int, type: String, name: String, table: String, sql: String)] = [\n"
for r in ranges {
    let f = r.object.split(separator: "\t", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
    swift += "    (\(r.from), \(r.to), \(literal(f[0])), \(literal(f[1])), \(literal(f[2])), \(literal(f[3]))),\n"
}
swift += "]\n"
try swift.write(toFile: output, atomically: true, encoding: .utf8)
