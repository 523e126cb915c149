import Foundation

// Usage: EmbedSchemaTool OUTPUT.swift schema/NNN_name.sql...
// Writes `let embeddedMigrations: [(version: Int, name: String, sql: String)]`.
let args = CommandLine.arguments.dropFirst()
guard let output = args.first else {
    FileHandle.standardError.write("usage: EmbedSchemaTool OUTPUT FILE...\n".data(using: .utf8)!)
    exit(2)
}
var swift = "// Generated from schema/*.sql by the EmbedSchema plugin. Do not edit.\n"
swift += "let embeddedMigrations: [(version: Int, name: String, sql: String)] = [\n"
for path in args.dropFirst() {
    let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    guard let version = Int(name.prefix { $0.isNumber }) else {
        FileHandle.standardError.write("schema file \(path) must start with its version number\n".data(using: .utf8)!)
        exit(1)
    }
    let sql = try String(contentsOfFile: path, encoding: .utf8)
    swift += "    (version: \(version), name: \"\(name)\", sql: #\"\"\"\n\(sql)\n\"\"\"#),\n"
}
swift += "]\n"
try swift.write(toFile: output, atomically: true, encoding: .utf8)
