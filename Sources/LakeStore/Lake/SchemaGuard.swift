import LakeSQLite
import LakeSupport

/// The policy for schema objects of a lake file that comes from someone else.
///
/// Tables hold data; everything else in a schema can hold code that SQLite runs on the reader's
/// behalf (triggers, views, generated columns, DEFAULT and CHECK expressions, expression
/// indexes, virtual tables). lake compares the file's schema with a reference lake built in
/// memory by its own migrations with the same SRID, object by object (type, name and SQL text):
///
/// - **lake's own objects** (its tables, indexes, triggers and views, and SpatiaLite's
///   metadata tables and triggers that its migrations create) must be exactly as lake writes
///   them: a column added with a DEFAULT, CHECK or GENERATED expression, a table redefined as a
///   view or a virtual table, a changed trigger — **refused**, naming the object;
/// - **foreign objects on lake's tables** — a trigger on a lake table, an index on a lake table
///   over an expression or with a WHERE clause — run on lake's own reads and writes:
///   **refused**;
/// - **everything users and GIS tools add beside lake's tables** — views (QGIS), new tables and
///   layers (`ogr2ogr -update`) with their spatial indexes and the triggers SpatiaLite puts on
///   them, `layer_styles`, plain column indexes — lake never reads through them: **tolerated**.
///
/// What SQLite itself keeps (`sqlite_stat1`, `sqlite_sequence`) is tolerated. The connection
/// also runs in defensive mode, without extension loading and with SpatiaLite's strict security
/// (see `Connection`), so a tolerated object cannot write files even when someone queries it.
public enum SchemaGuard {
    public struct Finding: Sendable {
        public let type: String, name: String, table: String
        public let refused: Bool
        public let reason: String
    }

    nonisolated(unsafe) private static var reference: [String: [String: SchemaObject]] = [:]

    struct SchemaObject {
        let type: String, name: String, table: String, sql: String
        /// The SQL without comments and with runs of white space as one space (outside quoted
        /// text and identifiers): the same schema written by an older lake whose migration
        /// comments were reworded compares equal; anything SQLite would parse differently does
        /// not. Worked out only when the texts differ (a lake's own objects are byte-identical).
        var code: String { SchemaGuard.normalized(sql) }
        var key: String { "\(type) \(name)" }

        /// Same code as `other`.
        func sameCode(_ other: SchemaObject) -> Bool { sql == other.sql || code == other.code }
    }

    /// Worked on the UTF-8 bytes: SQLite's tokenizer knows only ASCII white space, and
    /// every lake command pays this for each object of the file.
    static func normalized(_ sql: String) -> String {
        let c = Array(sql.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(c.count)
        var i = 0
        var pendingSpace = false
        let dash = UInt8(ascii: "-"), slash = UInt8(ascii: "/"), star = UInt8(ascii: "*"), newline = UInt8(ascii: "\n")
        while i < c.count {
            let ch = c[i]
            if ch == dash && i + 1 < c.count && c[i + 1] == dash {
                while i < c.count && c[i] != newline { i += 1 }
                pendingSpace = true; continue
            }
            if ch == slash && i + 1 < c.count && c[i + 1] == star {
                i += 2
                while i + 1 < c.count && !(c[i] == star && c[i + 1] == slash) { i += 1 }
                i += 2; pendingSpace = true; continue
            }
            if ch == 0x20 || (0x09...0x0D).contains(ch) { pendingSpace = true; i += 1; continue }
            if pendingSpace && !out.isEmpty { out.append(0x20) }
            pendingSpace = false
            let close: UInt8? = switch ch {
            case UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "`"): ch
            case UInt8(ascii: "["): UInt8(ascii: "]")
            default: nil
            }
            if let close {
                out.append(ch); i += 1
                while i < c.count && c[i] != close { out.append(c[i]); i += 1 }
                if i < c.count { out.append(c[i]); i += 1 }
                continue
            }
            out.append(ch); i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func verify(_ db: Connection, srid: Int, path: String) throws {
        if let refused = try inspect(db, srid: srid).first(where: \.refused) {
            throw LakeError.lakeFile(path: path, reason:
                "contains \(refused.type) \(refused.name)\(refused.table.isEmpty || refused.table == refused.name ? "" : " on \(refused.table)"): \(refused.reason); refusing to open a file that could run foreign code")
        }
    }

    /// Every object of the file that is not exactly lake's own, tolerated or refused, with why.
    /// Compared with lake's schema at the file's own version (an older lake is checked as what
    /// lake wrote then, before any migration).
    ///
    /// The file is first compared with the reference embedded at build time (no SpatiaLite
    /// needed); a file that differs from it is compared again with a reference built now by the
    /// SpatiaLite lake runs with, whose verdict stands (a newer SpatiaLite may write its
    /// metadata differently from the one lake was built with).
    public static func inspect(_ db: Connection, srid: Int) throws -> [Finding] {
        let version = min(try Migrator.currentVersion(db), Migrator.latestVersion)
        let found = try objects(in: db)
        // A lake as lake wrote it (every command checks this): the same objects, byte for byte.
        if matchesEmbedded(found, version: version) { return [] }
        let findings = compare(found, with: embeddedReference(version: version))
        guard findings.contains(where: \.refused) else { return findings }
        return compare(found, with: try referenceObjects(srid: srid, version: version))
    }

    static func compare(_ found: [SchemaObject], with expected: [String: SchemaObject]) -> [Finding] {
        // A lake as lake wrote it: the same objects, byte for byte (every command checks this).
        if found.count == expected.count, found.allSatisfy({ expected[$0.key]?.sql == $0.sql }) { return [] }
        let lakeTables = Set(expected.values.filter { $0.type == "table" }.map { $0.name.lowercased() })
        let expectedNames = Dictionary(expected.values.map { ($0.name.lowercased(), $0) }, uniquingKeysWith: { a, _ in a })
        var findings: [Finding] = []
        for object in found {
            if let own = expected[object.key] {
                if !own.sameCode(object) {
                    findings.append(Finding(type: object.type, name: object.name, table: object.table, refused: true,
                                            reason: "differs from what lake creates (\(difference(own.code, object.code)))"))
                }
                continue
            }
            let name = object.name.lowercased(), table = object.table.lowercased()
            if let own = expectedNames[name], own.type != object.type || !own.sameCode(object) {
                findings.append(Finding(type: object.type, name: object.name, table: object.table, refused: true,
                                        reason: "lake's \(own.type) \(own.name) redefined as \(describe(object))"))
                continue
            }
            if name.hasPrefix("sqlite_") { continue }
            switch object.type {
            case "trigger" where lakeTables.contains(table):
                findings.append(Finding(type: "trigger", name: object.name, table: object.table, refused: true,
                                        reason: "a trigger lake did not create on lake's table \(object.table), which would run on lake's own writes"))
            case "index" where lakeTables.contains(table) && !plainIndex(object.sql):
                findings.append(Finding(type: "index", name: object.name, table: object.table, refused: true,
                                        reason: "an index lake did not create over an expression or with a WHERE clause on lake's table \(object.table)"))
            default:
                findings.append(Finding(type: object.type, name: object.name, table: object.table, refused: false,
                                        reason: "\(describe(object)) added beside lake's tables; lake never reads through it"))
            }
        }
        // One of lake's tables, indexes, triggers or views missing: damage or tampering (a
        // dropped trigger would leave summaries stale), not something to read through.
        let present = Set(found.map(\.key))
        for own in expected.values where !present.contains(own.key) && !own.name.hasPrefix("sqlite_") {
            findings.append(Finding(type: own.type, name: own.name, table: own.table, refused: true,
                                    reason: "missing: the file is damaged or was altered"))
        }
        return findings.sorted { ($0.refused ? 0 : 1, $0.type, $0.name) < ($1.refused ? 0 : 1, $1.type, $1.name) }
    }

    /// A foreign index that only lists columns (no expression, no WHERE): it runs no code.
    static func plainIndex(_ sql: String) -> Bool {
        guard let open = sql.firstIndex(of: "("), let close = sql.lastIndex(of: ")"), open < close else { return false }
        let columns = sql[sql.index(after: open)..<close]
        let tail = sql[sql.index(after: close)...].trimmed()
        return !columns.contains("(") && tail.isEmpty
    }

    static func describe(_ o: SchemaObject) -> String {
        let sql = o.sql.uppercased()
        if o.type == "table" && sql.contains("VIRTUAL TABLE") { return "a virtual table" }
        return o.type == "index" ? "an index" : "a \(o.type)"
    }

    /// Where two SQL texts first differ, for the message.
    static func difference(_ a: String, _ b: String) -> String {
        let x = Array(a), y = Array(b)
        var i = 0
        while i < min(x.count, y.count) && x[i] == y[i] { i += 1 }
        let found = String(y[i..<min(y.count, i + 60)]).replacing("\n", with: " ")
        return found.isEmpty ? "shorter than lake's" : "from: \(found)"
    }

    nonisolated(unsafe) private static var embedded: [Int: [String: SchemaObject]] = [:]
    /// Guards both reference caches (lake's readers open lakes on several threads).
    private static let referenceLock = Lock()

    /// lake's objects at schema `version` as the build machine's SpatiaLite made them.
    static func embeddedReference(version: Int) -> [String: SchemaObject] {
        referenceLock.withLock {
            if let cached = embedded[version] { return cached }
            var result: [String: SchemaObject] = [:]
            for o in embeddedReferenceObjects where (o.from...o.to).contains(version) {
                let object = SchemaObject(type: o.type, name: o.name, table: o.table, sql: o.sql)
                if result[object.key] == nil { result[object.key] = object }
            }
            embedded[version] = result
            return result
        }
    }

    /// Whether `found` are exactly lake's objects at `version` as embedded at build time: each
    /// found object looked up by name among them and compared by type and SQL text, without the
    /// keyed copies `compare` builds (a fifth of opening a lake for `lake query parcel`;
    /// BENCHMARKS, start-up). Names are unique within a schema except that a trigger may share
    /// one with a table: such a file takes the full comparison.
    static func matchesEmbedded(_ found: [SchemaObject], version: Int) -> Bool {
        var byName: [String: Int] = [:]
        byName.reserveCapacity(found.count)
        var count = 0
        for (k, o) in embeddedReferenceObjects.enumerated() where o.from <= version && version <= o.to {
            count += 1
            guard byName.updateValue(k, forKey: o.name) == nil else { return false }
        }
        guard count == found.count else { return false }
        for f in found {
            guard let k = byName[f.name] else { return false }
            let e = embeddedReferenceObjects[k]
            guard e.type == f.type, e.sql == f.sql else { return false }
        }
        return true
    }

    /// lake's objects at schema `version`, made now in memory by this process's SpatiaLite.
    static func referenceObjects(srid: Int, version: Int) throws -> [String: SchemaObject] {
        let key = "\(srid) \(version)"
        return try referenceLock.withLock {
            if let cached = reference[key] { return cached }
            let memory = try Connection(path: ":memory:", mode: .create)
            try Migrator.migrate(memory, srid: srid, path: ":memory:", upTo: version)
            let result = Dictionary(try objects(in: memory).map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
            reference[key] = result
            return result
        }
    }

    static func objects(in db: Connection) throws -> [SchemaObject] {
        let statement = try db.prepare("SELECT type, name, coalesce(tbl_name, ''), coalesce(sql, '') FROM sqlite_schema")
        var result: [SchemaObject] = []
        while try statement.step() {
            result.append(SchemaObject(type: statement.text(0) ?? "", name: statement.text(1) ?? "", table: statement.text(2) ?? "",
                                       sql: statement.text(3) ?? ""))
        }
        return result
    }
}
