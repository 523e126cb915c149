import Foundation
import LakeSQLite
import LakeStore

public struct CropMapOptions: Sendable {
    /// The AOI the mapping applies to ('' = every AOI).
    public var aoi = ""
    public var codeColumn: String?
    public var nameColumn: String?
    public var groupColumn: String?
    public var groupNameColumn: String?
    public init() {}
}

/// Loads a crop mapping table (national crop code → crop group) into `crop_map`: the fiboa /
/// EuroCrops tables (original_code, original_name, HCAT3_code, HCAT3_name) or any CSV with
/// code and group columns. Idempotent; a code mapped again is updated.
public struct CropMapIngest {
    let lake: Lake
    public init(lake: Lake) { self.lake = lake }

    public func run(path: String, options: CropMapOptions) throws -> IngestSummary {
        let started = Date()
        var summary = IngestSummary(kind: "crops", source: path)
        let reader: CSVReader
        do { reader = try CSVReader(path: path) } catch { throw LakeError.input(file: path, location: nil, reason: "\(error)") }
        guard let header = try reader.next()?.map({ $0.trimmingCharacters(in: .whitespaces) }) else {
            throw LakeError.input(file: path, location: "line 1", reason: "empty file")
        }
        let lower = header.map { $0.lowercased() }
        func column(_ given: String?, _ candidates: [String], _ what: String, required: Bool) throws -> Int? {
            if let given {
                guard let i = header.firstIndex(of: given) ?? lower.firstIndex(of: given.lowercased()) else {
                    throw LakeError.usage("\(path): no column \(given) for the \(what); columns: \(header.joined(separator: ", "))")
                }
                return i
            }
            let found = candidates.lazy.compactMap { lower.firstIndex(of: $0) }.first
            if found == nil && required {
                throw LakeError.input(file: path, location: "line 1", reason: "no \(what) column (looked for \(candidates.joined(separator: ", ")))")
            }
            return found
        }
        let code = try column(options.codeColumn, ["original_code", "crop_code", "code"], "crop code", required: true)!
        let name = try column(options.nameColumn, ["original_name", "crop_name", "name", "translated_name"], "crop name", required: false)
        let group = try column(options.groupColumn, ["hcat3_code", "hcat_code", "hcat4_code", "group_code", "hcat2_code"], "group code", required: true)!
        let groupName = try column(options.groupNameColumn, ["hcat3_name", "hcat_name", "hcat4_name", "group_name", "hcat2_name"], "group name", required: false)
        summary.notes.append("crop code: \(header[code]), group: \(header[group])\(groupName.map { " / \(header[$0])" } ?? "")")
        let db = lake.db
        try db.transaction {
            let find = try db.prepare("SELECT crop_name, group_code, group_name FROM crop_map WHERE aoi = ? AND crop_code = ?")
            let write = try db.prepare("""
                INSERT OR REPLACE INTO crop_map (aoi, crop_code, crop_name, group_code, group_name, source) VALUES (?, ?, ?, ?, ?, ?)
                """)
            while let fields = try reader.next() {
                summary.read += 1
                func value(_ i: Int?) -> String? {
                    guard let i, i < fields.count else { return nil }
                    let v = fields[i].trimmingCharacters(in: .whitespaces)
                    return v.isEmpty ? nil : v
                }
                guard let c = value(code) else { summary.reject("line \(reader.line)", "empty crop code"); continue }
                guard let g = value(group) else { summary.reject("line \(reader.line)", "crop \(c): empty group code"); continue }
                try find.bind([.text(options.aoi), .text(c)])
                let existed = try find.step()
                let same = existed && find.text(0) == value(name) && find.text(1) == g && find.text(2) == value(groupName)
                find.reset()
                if same { summary.skipped += 1; continue }
                try write.bind([.text(options.aoi), .text(c), value(name).map(SQLValue.text) ?? .null, .text(g),
                                value(groupName).map(SQLValue.text) ?? .null, .text(path)])
                try write.step()
                write.reset()
                if existed { summary.updated += 1 } else { summary.inserted += 1 }
            }
            summary.seconds = Date().timeIntervalSince(started)
            try IngestLog.record(db, summary, started: started, options: ["aoi": options.aoi])
        }
        return summary
    }
}
