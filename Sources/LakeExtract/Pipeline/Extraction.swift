import Foundation
import LakeSupport
import LakeGDAL
import LakeIngest
import LakeSQLite
import LakeStore

/// What one `lake extract` did.
public struct ExtractSummary: Sendable {
    public var scenesExtracted = 0
    public var scenesFailed: [(reference: String, reason: String)] = []
    public var scenesSkippedFailed = 0
    /// Scenes with no local band files (metadata only, or remote assets): left as they are.
    public var scenesWithoutFiles = 0
    public var parcelScenes = 0
    public var signatureRows = 0
    public var histograms = 0
    public var pixelsRead = 0
    public var pixelsUsed = 0
    public var seconds = 0.0
    public var reductionSeconds = 0.0

    public var line: String {
        var text = "extract: scenes \(scenesExtracted) extracted, \(scenesFailed.count) failed"
        if scenesSkippedFailed > 0 { text += ", \(scenesSkippedFailed) failed earlier and skipped (--retry-failed)" }
        if scenesWithoutFiles > 0 { text += ", \(scenesWithoutFiles) without local band files" }
        text += "; \(signatureRows) signature rows, \(histograms) SCL histograms over \(parcelScenes) parcel-scenes; "
        text += String(format: "%.1f Mpx in %.2f s (%.1f Mpx/s, %.0f parcel-scenes/s)", Double(pixelsUsed) / 1e6, seconds,
                       Double(pixelsUsed) / 1e6 / max(reductionSeconds, 1e-9), Double(parcelScenes) / max(seconds, 1e-9))
        return text
    }

    public var json: [String: Any] {
        ["scenes_extracted": scenesExtracted, "scenes_failed": scenesFailed.map { ["reference": $0.reference, "reason": $0.reason] },
         "scenes_skipped_failed": scenesSkippedFailed, "scenes_without_files": scenesWithoutFiles, "parcel_scenes": parcelScenes, "signature_rows": signatureRows,
         "scl_histograms": histograms, "pixels_read": pixelsRead, "pixels_used": pixelsUsed, "seconds": seconds]
    }
}

/// `lake extract`: computes signatures and SCL histograms from the scenes' band files.
///
/// Each scene goes ingested → inprogress (committed before any work) → extracted, committed in
/// the same transaction as its rows; a failure sets `failed: reason` and the run goes on.
/// A run killed at any point leaves no rows of the scene it was working on, and that scene
/// still `inprogress`, so the next run does it again. Rows go to the pending log and are merged
/// into the packed series at the end of the run (or at the next run, if this one is killed).
public struct Extraction {
    let lake: Lake
    public init(lake: Lake) { self.lake = lake }

    public func run(_ options: ExtractOptions, log: (String) -> Void = { _ in }) throws -> ExtractSummary {
        let started = Date()
        var summary = ExtractSummary()
        let (scenes, skipped) = try SceneSelection.select(lake, options)
        summary.scenesSkippedFailed = skipped
        let db = lake.db
        let store = SignatureStore(db: db)
        let extractor = SceneExtractor(lake: lake, options: options)
        let progress = Progress("extract", total: scenes.count)
        setGDALCacheSize(512 << 20)
        for scene in scenes {
            // Catalogue entries without local files are not work for extract unless named.
            if scene.bands.isEmpty && options.scenes.isEmpty {
                summary.scenesWithoutFiles += 1
                progress.advance()
                continue
            }
            try db.run("UPDATE catalogue SET status = 'inprogress' WHERE obsid = ?", .int(scene.obsid))
            let t0 = Date()
            do {
                let result = try extractor.extract(scene)
                summary.reductionSeconds += Date().timeIntervalSince(t0)
                try db.transaction {
                    let counts = try write(result, obsid: scene.obsid, store: store)
                    summary.signatureRows += counts.rows
                    summary.histograms += counts.histograms
                    summary.parcelScenes += counts.parcels
                    try db.run("UPDATE catalogue SET status = 'extracted' WHERE obsid = ?", .int(scene.obsid))
                }
                summary.scenesExtracted += 1
                summary.pixelsRead += result.pixelsRead
                summary.pixelsUsed += result.pixelsUsed
                log("\(scene.reference): \(result.pids.count) parcels, \(result.bands.map(\.name).joined(separator: ",")), \(String(format: "%.2f", Date().timeIntervalSince(t0))) s")
            } catch let failure as SceneFailure {
                try db.run("UPDATE catalogue SET status = ? WHERE obsid = ?", .text("failed: \(failure.reason)"), .int(scene.obsid))
                summary.scenesFailed.append((scene.reference, failure.reason))
                log("\(scene.reference): failed: \(failure.reason)")
            }
            progress.advance()
        }
        progress.finish()
        summary.seconds = Date().timeIntervalSince(started)
        try db.transaction {
            if try store.pendingCount() > 0 { _ = try store.mergePending() }
            try SCLSummary.refresh(db)
            // Analyses identify the data they read by the last ingest_log row.
            var logged = IngestSummary(kind: "extract", source: URL(fileURLWithPath: lake.path).lastPathComponent)
            logged.read = summary.scenesExtracted + summary.scenesFailed.count
            logged.inserted = summary.signatureRows + summary.histograms
            for failed in summary.scenesFailed { logged.reject("item \(failed.reference)", failed.reason) }
            try IngestLog.record(db, logged, started: started, options: summary.json)
        }
        return summary
    }

    /// Appends one scene's rows to the pending log and its SCL histograms to scl_hist.
    private func write(_ result: SceneResult, obsid: Int64, store: SignatureStore) throws -> (rows: Int, histograms: Int, parcels: Int) {
        let dictionary = try BandDictionary(db: lake.db)
        let ids = try result.bands.map { try dictionary.idAdding($0.name) }
        let scl = try SCLStore(db: lake.db)
        var rows = 0, histograms = 0, parcels = 0
        var group: [(UInt8, SignatureStats)] = []
        for (i, pid) in result.pids.enumerated() {
            group.removeAll(keepingCapacity: true)
            var any = false
            for (b, reductions) in result.reductions.enumerated() {
                switch reductions[i] {
                case .stats(let stats)?: group.append((ids[b], stats))
                case .histogram(let counts)?:
                    try scl.upsert(pid: pid, obsid: obsid, counts: counts)
                    histograms += 1
                    any = true
                case nil: break
                }
            }
            if !group.isEmpty {
                try store.append(pid: pid, obsid: obsid, bands: group)
                rows += group.count
                any = true
            }
            if any { parcels += 1 }
        }
        return (rows, histograms, parcels)
    }
}
