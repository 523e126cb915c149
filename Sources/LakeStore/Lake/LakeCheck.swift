#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LakeSQLite
import LakeSupport

/// `lake check FILE`: what a receiver runs before trusting a lake file from someone else. It
/// opens the file read-only without running anything of it, and reports:
///
/// - **file**: a SQLite database with lake's application id, no interrupted write left behind;
/// - **integrity**: SQLite's `PRAGMA integrity_check`;
/// - **schema**: lake's schema version (not newer than this lake) and SRID;
/// - **objects**: every schema object that is not exactly lake's own, tolerated or refused
///   (`SchemaGuard`);
/// - **series** and **summaries**: every packed signature series and SCL summary decodes;
/// - **values**: every signature statistic is finite where it must be, counts are whole and
///   not negative, std ≥ 0 and min ≤ max.
///
/// Series and values are read only when no object is refused (nothing foreign runs while
/// lake reads). The file is *safe* without refused objects, *sound* when every check passes.
public enum LakeCheck {
    public struct Item: Sendable {
        public let check: String
        public let ok: Bool
        public let detail: String
    }

    public struct Report: Sendable {
        public let path: String
        public var items: [Item] = []
        public var objects: [SchemaGuard.Finding] = []
        public var safe: Bool { !objects.contains(where: \.refused) && items.first { $0.check == "file" }?.ok == true }
        public var sound: Bool { safe && items.allSatisfy(\.ok) }

        public var json: [String: Any] {
            ["path": path, "safe": safe, "sound": sound,
             "checks": items.map { ["check": $0.check, "ok": $0.ok, "detail": $0.detail] },
             "objects": objects.map { ["type": $0.type, "name": $0.name, "table": $0.table,
                                       "verdict": $0.refused ? "refused" : "tolerated", "reason": $0.reason] }]
        }
    }

    public static func run(path: String) throws -> Report {
        guard FileManager.default.fileExists(atPath: path) else {
            throw LakeError.lakeFile(path: path, reason: "no such file")
        }
        var report = Report(path: path)
        func add(_ check: String, _ ok: Bool, _ detail: String) { report.items.append(Item(check: check, ok: ok, detail: detail)) }
        let journal = fileSize(path + "-journal") ?? 0
        let wal = FileManager.default.fileExists(atPath: path + "-wal")
        let db: Connection
        let uriPath = path.replacing("%", with: "%25").replacing("?", with: "%3f").replacing("#", with: "%23")
        // A journal left by an interrupted write is hot: a read-only connection that sees it
        // cannot read at all (only a writer may roll it back, and check writes nothing). The
        // file is then read as it is on disk, ignoring the journal, and the report says so.
        do { db = try Connection(path: "file:\(uriPath)?mode=ro&immutable=\(wal ? 0 : 1)", mode: .readOnly) } catch {
            add("file", false, "cannot be opened as SQLite: \(error)"); return report
        }
        guard let appID = try? db.scalar("PRAGMA application_id")?.int else {
            add("file", false, "not a SQLite database"); return report
        }
        guard appID == Int64(Lake.applicationID) else {
            add("file", false, "not a lake file (SQLite application id \(appID))"); return report
        }
        add("file", journal == 0 && !wal, journal > 0 ? "an interrupted write left \(path)-journal (\(journal) bytes): the checks below read the file as it is on disk, half-written; open it once with write access (any lake ingest) to roll it back"
            : wal ? "\(path)-wal beside it: the lake is in WAL mode or was copied while open" : "a lake file")
        var problems: [String] = []
        do {
            let s = try db.prepare("PRAGMA integrity_check(20)")
            while try s.step() { if let t = s.text(0), t != "ok" { problems.append(t) } }
        } catch { problems.append("\(error)") }
        add("integrity", problems.isEmpty, problems.isEmpty ? "ok" : problems.prefix(5).joined(separator: "; "))
        let version = (try? Migrator.currentVersion(db)) ?? 0
        guard let srid = try? db.scalar("SELECT value FROM lake_meta WHERE key = 'srid'")?.int else {
            add("schema", false, "version \(version), no srid in lake_meta: the file is damaged"); return report
        }
        add("schema", version >= 1 && version <= Migrator.latestVersion,
            version > Migrator.latestVersion ? "version \(version) is newer than this lake (\(Migrator.latestVersion)); upgrade lake"
            : "version \(version) of \(Migrator.latestVersion), EPSG:\(srid)")
        do {
            report.objects = try SchemaGuard.inspect(db, srid: Int(srid))
        } catch {
            add("objects", false, "cannot be listed: \(error)"); return report
        }
        let refused = report.objects.filter(\.refused).count
        add("objects", refused == 0, "\(refused) refused, \(report.objects.count - refused) tolerated")
        guard refused == 0 else { return report }
        checkSeries(db, &report)
        checkSummaries(db, &report)
        return report
    }

    static func checkSeries(_ db: Connection, _ report: inout Report) {
        var damaged: [Int64] = [], parcels = 0, rows = 0
        var bad: [String: Int] = [:], firstBad: [String: Int64] = [:]
        func flag(_ what: String, _ pid: Int64) { bad[what, default: 0] += 1; if firstBad[what] == nil { firstBad[what] = pid } }
        do {
            let s = try db.prepare("SELECT pid, data FROM signatures_packed")
            while try s.step() {
                parcels += 1
                let pid = s.int(0)
                let decoded: [SignatureRow]
                do { decoded = try s.withBlob(1) { try SeriesCodec.decode($0) } } catch { damaged.append(pid); continue }
                rows += decoded.count
                for r in decoded {
                    let t = r.stats
                    if !t.count.isFinite || t.count < 0 || t.count != t.count.rounded() { flag("count not a whole number ≥ 0", pid) }
                    if t.std.isFinite && t.std < 0 { flag("negative std", pid) }
                    if t.mean.isInfinite || t.min.isInfinite || t.max.isInfinite { flag("infinite statistic", pid) }
                    if t.min.isFinite && t.max.isFinite && t.min > t.max { flag("min above max", pid) }
                }
            }
        } catch {
            report.items.append(Item(check: "series", ok: false, detail: "cannot be read: \(error)")); return
        }
        report.items.append(Item(check: "series", ok: damaged.isEmpty,
                                 detail: damaged.isEmpty ? "\(parcels) parcels' series decode (\(rows) rows)"
                                     : "\(damaged.count) of \(parcels) series cannot be decoded (pid \(damaged.prefix(5).map(String.init).joined(separator: ", ")))"))
        report.items.append(Item(check: "values", ok: bad.isEmpty,
                                 detail: bad.isEmpty ? "statistics in range" : bad.sorted { $0.key < $1.key }
                                     .map { "\($0.value) rows with \($0.key) (first pid \(firstBad[$0.key]!))" }.joined(separator: "; ")))
    }

    static func checkSummaries(_ db: Connection, _ report: inout Report) {
        var damaged: [Int64] = [], count = 0
        do {
            let s = try db.prepare("SELECT pid, data FROM scl_summary")
            while try s.step() {
                count += 1
                do { try s.withBlob(1) { blob in try SCLSummary.forEach(blob) { _, _ in } } } catch { damaged.append(s.int(0)) }
            }
        } catch {
            report.items.append(Item(check: "summaries", ok: false, detail: "cannot be read: \(error)")); return
        }
        report.items.append(Item(check: "summaries", ok: damaged.isEmpty,
                                 detail: damaged.isEmpty ? "\(count) SCL summaries decode"
                                     : "\(damaged.count) of \(count) SCL summaries cannot be decoded (pid \(damaged.prefix(5).map(String.init).joined(separator: ", ")))"))
    }
}

extension LakeCheck {
    /// `lake check FILE --fix OUT`: a clean copy of a lake without the objects lake refuses.
    /// The copy is made by SQLite's `VACUUM INTO` (which copies records, not running any schema
    /// code), then, in the copy: foreign triggers and indexes on lake's tables are dropped; each of
    /// lake's tables that was altered is rebuilt as lake defines it, keeping the values of the
    /// columns lake knows (a generated or foreign column is not read; a table that was replaced by
    /// a view or a virtual table comes back empty, as what it would read is not lake's data);
    /// lake's missing triggers, indexes and views are created again. The copy is then checked like
    /// any received file. Returns what was done, one line per object.
    public static func fix(path: String, out: String) throws -> [String] {
        guard !FileManager.default.fileExists(atPath: out) else {
            throw LakeError.usage("\(out) exists; --fix writes a new file")
        }
        let report = try run(path: path)
        guard report.items.first(where: { $0.check == "file" })?.ok == true,
              let srid = try? Connection(path: path, mode: .readOnly).scalar("SELECT value FROM lake_meta WHERE key = 'srid'")?.int else {
            throw LakeError.lakeFile(path: path, reason: "cannot be fixed: " + (report.items.first { !$0.ok }?.detail ?? "not a lake"))
        }
        do {
            let source = try Connection(path: path, mode: .readOnly)
            try source.run("VACUUM INTO ?", .text(out))
        }
        var done: [String] = []
        do {
            let db = try Connection(path: out, mode: .readWrite)
            try db.execute("PRAGMA foreign_keys = OFF")
            let version = min(try Migrator.currentVersion(db), Migrator.latestVersion)
            let expected = try SchemaGuard.referenceObjects(srid: Int(srid), version: version)
            try db.transaction {
                for finding in report.objects where finding.refused {
                    let quoted = "\"" + finding.name.replacing("\"", with: "\"\"") + "\""
                    if let own = expected["\(finding.type) \(finding.name)"] ?? expected.values.first(where: { $0.name.lowercased() == finding.name.lowercased() }) {
                        guard own.type == "table" else {
                            // Altered or missing alike: whatever stands under the name goes, lake's own is written.
                            try db.execute("DROP \(finding.type.uppercased()) IF EXISTS \(quoted)")
                            try db.execute(own.sql)
                            done.append("\(own.type) \(own.name): written again as lake defines it")
                            continue
                        }
                        // Lake's table, altered (or replaced): rebuilt with lake's definition.
                        let existing = try SchemaGuard.objects(in: db).first { $0.name.lowercased() == finding.name.lowercased() }
                        let lakeColumns = try columns(of: own.sql, in: db)
                        var kept: [String] = []
                        if let existing, existing.type == "table", !existing.sql.uppercased().contains("VIRTUAL TABLE") {
                            let info = try db.prepare("SELECT name FROM pragma_table_xinfo(?) WHERE hidden = 0")
                            try info.bind([.text(existing.name)])
                            let present = Set(try info.rows().compactMap { $0.first?.text })
                            kept = lakeColumns.filter(present.contains)
                            try db.execute("ALTER TABLE \(quoted) RENAME TO lake_fix_old")
                        } else if let existing {
                            try db.execute("DROP \(existing.type == "table" ? "TABLE" : existing.type.uppercased()) IF EXISTS \(quoted)")
                        }
                        try db.execute(own.sql)
                        if !kept.isEmpty {
                            let list = kept.map { "\"\($0)\"" }.joined(separator: ", ")
                            try db.execute("INSERT INTO \(quoted) (\(list)) SELECT \(list) FROM lake_fix_old")
                            try db.execute("DROP TABLE lake_fix_old")
                        }
                        done.append("table \(own.name): rebuilt as lake defines it" + (kept.isEmpty ? ", empty (it was not lake's table)" : " with its columns \(kept.joined(separator: ", "))"))
                    } else {
                        try db.execute("DROP \(finding.type.uppercased()) IF EXISTS \(quoted)")
                        done.append("\(finding.type) \(finding.name): dropped (\(finding.reason))")
                    }
                }
                // Lake's triggers and indexes on rebuilt tables went with the old tables: written again.
                let present = Set(try SchemaGuard.objects(in: db).map(\.key))
                for own in expected.values.sorted(by: { $0.key < $1.key }) where !present.contains(own.key) && own.type != "table" && !own.name.hasPrefix("sqlite_") && !own.sql.isEmpty {
                    try db.execute(own.sql)
                    if !done.contains(where: { $0.hasPrefix("\(own.type) \(own.name):") }) { done.append("\(own.type) \(own.name): written again as lake defines it") }
                }
            }
            try db.execute("PRAGMA foreign_keys = ON")
        } catch {
            try? FileManager.default.removeItem(atPath: out)
            throw error
        }
        let after = try run(path: out)
        guard after.safe else {
            try? FileManager.default.removeItem(atPath: out)
            throw LakeError.lakeFile(path: path, reason: "the copy still holds refused objects: " + after.objects.filter(\.refused).map { "\($0.type) \($0.name)" }.joined(separator: ", "))
        }
        return done
    }

    /// The column names a CREATE TABLE statement defines, read from SQLite itself (a scratch
    /// in-memory table of that definition).
    static func columns(of createSQL: String, in db: Connection) throws -> [String] {
        let scratch = try Connection(path: ":memory:", mode: .create)
        guard let open = createSQL.firstIndex(of: "(") else { return [] }
        try scratch.execute("CREATE TABLE t " + createSQL[open...])
        return try scratch.prepare("SELECT name FROM pragma_table_xinfo('t') WHERE hidden = 0").rows().compactMap { $0.first?.text }
    }
}
