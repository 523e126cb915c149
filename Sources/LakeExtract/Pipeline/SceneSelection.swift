import Foundation
import LakeSQLite
import LakeStore

/// Which catalogue scenes an extraction works on.
enum SceneSelection {
    static func select(_ lake: Lake, _ options: ExtractOptions) throws -> (scenes: [SceneToExtract], skippedFailed: Int) {
        var clauses: [String] = []
        var bindings: [SQLValue] = []
        if !options.scenes.isEmpty {
            clauses.append("reference IN (\(options.scenes.map { _ in "?" }.joined(separator: ", ")))")
            bindings += options.scenes.map(SQLValue.text)
        } else {
            clauses.append(options.retryFailed ? "(status IN ('ingested', 'inprogress') OR status LIKE 'failed:%')"
                                               : "status IN ('ingested', 'inprogress')")
        }
        if let from = options.from { clauses.append("obstime >= ?"); bindings.append(.text(from)) }
        if let to = options.to { clauses.append("substr(obstime, 1, 10) <= ?"); bindings.append(.text(to)) }
        let statement = try lake.db.prepare("""
            SELECT obsid, reference, obstime, status, AsBinary(footprint), coalesce(assets, '{}'), source
            FROM catalogue WHERE \(clauses.joined(separator: " AND ")) ORDER BY obstime, reference
            """)
        try statement.bind(bindings)
        var scenes: [SceneToExtract] = []
        while try statement.step() {
            let (bands, problem) = SceneBands.resolve(assets: SceneBands.hrefs(json: statement.text(5)), source: statement.text(6), wanted: options.bands)
            scenes.append(SceneToExtract(obsid: statement.int(0), reference: statement.text(1) ?? "",
                                         obstime: statement.text(2) ?? "", status: statement.text(3) ?? "",
                                         footprintWKB: { let b = statement.blob(4); return b.isEmpty ? nil : b }(), bands: bands, problem: problem))
        }
        if !options.scenes.isEmpty {
            let missing = Set(options.scenes).subtracting(scenes.map(\.reference))
            if let first = missing.sorted().first { throw LakeError.notFound("no scene \(first) in the catalogue") }
        }
        let failed = options.scenes.isEmpty && !options.retryFailed
            ? Int(try lake.db.scalar("SELECT count(*) FROM catalogue WHERE status LIKE 'failed:%'")?.int ?? 0) : 0
        return (scenes, failed)
    }
}
