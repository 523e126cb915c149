import Foundation
import LakeSQLite
import LakeStore
import LakeSupport

/// Records each ingest in the lake's `ingest_log` table, inside the ingest's transaction.
public enum IngestLog {
    public static func record(_ db: Connection, _ summary: IngestSummary, started: Date, options: [String: Any]) throws {
        let iso = ISO8601DateFormatter()
        let optionsJSON = JSONText.render(options, pretty: false)
        try db.run("""
            INSERT INTO ingest_log (kind, source, started, finished, options, read, inserted, updated, skipped, rejected)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            .text(summary.kind), .text(summary.source), .text(iso.string(from: started)),
            .text(iso.string(from: Date())), .text(optionsJSON), .int(Int64(summary.read)),
            .int(Int64(summary.inserted)), .int(Int64(summary.updated)), .int(Int64(summary.skipped)),
            .int(Int64(summary.rejected.count)))
    }
}
