import Foundation
import LakeSupport
import LakeSQLite
import LakeStore

public struct CatalogueIngestOptions: Sendable {
    /// Refresh scenes already in the catalogue with this input's metadata (status is kept).
    public var update = false
    public var strict = false
    public init() {}
}

/// Loads scene metadata into the catalogue from STAC Items/ItemCollections/search pages
/// (Earth Search v0/v1, Planetary Computer, EOPF), CDSE OData and OpenSearch (resto) JSON,
/// OpenSearch Atom XML, Sentinel-2 SAFE metadata (MTD_MSIL2A.xml or the .SAFE folder), and
/// CSV in the JRC dias_catalogue form. A scene is identified by its product reference: the
/// same scene from two catalogues is one row, its missing metadata filled in from the second.
public struct CatalogueIngest {
    let lake: Lake

    public init(lake: Lake) { self.lake = lake }

    public func run(path: String, options: CatalogueIngestOptions) throws -> IngestSummary {
        try run(entries: CatalogueDocument.read(path: path), path: path, kind: "catalogue", options: options)
    }

    /// Loads scene entries read from `path` (one transaction).
    func run(entries: [CatalogueDocument.Entry], path: String, kind: String, options: CatalogueIngestOptions) throws -> IngestSummary {
        let started = Date()
        var summary = IngestSummary(kind: kind, source: path)
        let db = lake.db
        let progress = Progress("catalogue \(URL(fileURLWithPath: path).lastPathComponent)", total: entries.count)
        try db.transaction {
            let find = try db.prepare("""
                SELECT obsid, footprint IS NULL, assets, cloud_cover IS NULL, tile IS NULL, relative_orbit IS NULL
                FROM catalogue WHERE reference = ?
                """)
            let insert = try db.prepare("""
                INSERT INTO catalogue (reference, obstime, platform, sensor, card, tile, relative_orbit, cloud_cover,
                    processing_baseline, radiometric_offset, assets, source, footprint)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CastToMultiPolygon(GeomFromWKB(?, 4326)))
                """)
            let enrich = try db.prepare("""
                UPDATE catalogue SET
                    footprint = coalesce(footprint, CastToMultiPolygon(GeomFromWKB(?2, 4326))),
                    assets = json_patch(?3, assets),
                    cloud_cover = coalesce(cloud_cover, ?4), tile = coalesce(tile, ?5),
                    relative_orbit = coalesce(relative_orbit, ?6)
                WHERE obsid = ?1
                """)
            let replace = try db.prepare("""
                UPDATE catalogue SET obstime = ?2, platform = ?3, sensor = ?4, card = ?5, tile = ?6, relative_orbit = ?7,
                    cloud_cover = ?8, processing_baseline = ?9, radiometric_offset = ?10, assets = json_patch(assets, ?11),
                    source = ?12, footprint = coalesce(CastToMultiPolygon(GeomFromWKB(?13, 4326)), footprint)
                WHERE obsid = ?1
                """)
            // The catalogue's own ids (dias_catalogue `id`), set once every scene of the file is in.
            var sourceIDs: [(String, Int64)] = []
            var seenInFile = Set<String>()
            for (location, outcome) in entries {
                summary.read += 1
                progress.advance()
                var scene: SceneRecord
                switch outcome {
                case .rejected(let reason): summary.reject(location, reason); continue
                case .scene(let s): scene = s
                }
                scene.assets = Self.absolute(scene.assets, relativeTo: path)
                if !seenInFile.insert(scene.reference).inserted { summary.skipped += 1; continue }
                let values = columnValues(scene, source: path)
                if let id = scene.sourceID { sourceIDs.append((scene.reference, id)) }
                try find.bind([.text(scene.reference)])
                if try find.step() {
                    let obsid = find.int(0)
                    let missingFootprint = find.int(1) == 1 && scene.footprintWKB != nil
                    let storedAssets = find.text(2) ?? "{}"
                    let fillable = (find.int(3) == 1 && scene.cloudCover != nil) || (find.int(4) == 1 && scene.tile != nil)
                        || (find.int(5) == 1 && scene.relativeOrbit != nil)
                    find.reset()
                    if options.update {
                        try replace.bind([.int(obsid)] + values.dropFirst())
                        try replace.step()
                        summary.updated += 1
                    } else if missingFootprint || fillable || !assetsContained(scene.assets, in: storedAssets) {
                        try enrich.bind([.int(obsid), values[12], values[10],
                                         scene.cloudCover.map(SQLValue.double) ?? .null, scene.tile.map(SQLValue.text) ?? .null,
                                         scene.relativeOrbit.map { .int(Int64($0)) } ?? .null])
                        try enrich.step()
                        summary.updated += 1
                    } else {
                        summary.skipped += 1
                    }
                    continue
                }
                find.reset()
                try insert.bind(values)
                try insert.step()
                summary.inserted += 1
            }
            progress.finish()
            let setSourceID = try db.prepare("UPDATE catalogue SET source_id = ?2 WHERE reference = ?1")
            for (reference, id) in sourceIDs {
                try setSourceID.bind([.text(reference), .int(id)])
                try setSourceID.step()
                setSourceID.reset()
            }
            try summary.enforceStrict(options.strict, unit: "entries")
            summary.seconds = Date().timeIntervalSince(started)
            try IngestLog.record(db, summary, started: started, options: ["update": options.update])
        }
        return summary
    }

    /// The 13 values of an insert, in column order: reference … source, footprint.
    private func columnValues(_ scene: SceneRecord, source: String) -> [SQLValue] {
        [.text(scene.reference), .text(scene.obstime), scene.platform.map(SQLValue.text) ?? .null,
         .text(scene.sensor), .text(scene.card), scene.tile.map(SQLValue.text) ?? .null,
         scene.relativeOrbit.map { .int(Int64($0)) } ?? .null, scene.cloudCover.map(SQLValue.double) ?? .null,
         scene.baseline.map(SQLValue.text) ?? .null, .double(scene.offset), .text(JSONText.render(scene.assets, pretty: false)),
         .text(source), scene.footprintWKB.map(SQLValue.blob) ?? .null]
    }

    /// Local asset paths relative to the document are stored absolute, so that `lake extract`
    /// finds them whatever the working folder; URLs and absolute paths are kept as they are.
    static func absolute(_ assets: [String: String], relativeTo document: String) -> [String: String] {
        let folder = URL(fileURLWithPath: document).standardizedFileURL.deletingLastPathComponent()
        return assets.mapValues { href in
            if href.isEmpty || href.hasPrefix("/") || href.contains("://") { return href }
            return folder.appendingPathComponent(href).standardizedFileURL.path
        }
    }

    private func assetsContained(_ assets: [String: String], in stored: String) -> Bool {
        guard !assets.isEmpty else { return true }
        guard let data = stored.data(using: .utf8),
              let existing = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return assets.allSatisfy { existing[$0.key] as? String == $0.value }
    }
}
