#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LakeSQLite
import LakeStore
import LakeSupport

/// A summary of what a lake holds.
public struct LakeInfo {
    public var path: String
    public var fileBytes: Int64
    public var srid: Int
    public var schemaVersion: Int
    public var lakeVersion: String
    public var parcels: Int
    public var aois: [(aoi: String, year: Int, ptype: String, parcels: Int)]
    public var scenes: [(card: String, count: Int)]
    public var sceneStatus: [(status: String, count: Int)]
    public var firstDate: String?
    public var lastDate: String?
    public var signatureRows: Int
    public var pendingRows: Int
    public var bands: [String]
    public var sclHistograms: Int

    public static func read(_ lake: Lake) throws -> LakeInfo {
        let db = lake.db
        func int(_ sql: String) throws -> Int { Int(try db.scalar(sql)?.int ?? 0) }
        let size = fileSize(atPath: lake.path) ?? 0
        let aois = try db.prepare("SELECT aoi, year, ptype, count(*) FROM parcels GROUP BY 1, 2, 3 ORDER BY 1, 2, 3").rows().map {
            (aoi: $0[0].text ?? "", year: Int($0[1].int ?? 0), ptype: $0[2].text ?? "", parcels: Int($0[3].int ?? 0))
        }
        let scenes = try db.prepare("SELECT card, count(*) FROM catalogue GROUP BY 1 ORDER BY 1").rows().map {
            (card: $0[0].text ?? "", count: Int($0[1].int ?? 0))
        }
        let status = try db.prepare("SELECT status, count(*) FROM catalogue GROUP BY 1 ORDER BY 1").rows().map {
            (status: $0[0].text ?? "", count: Int($0[1].int ?? 0))
        }
        let range = try db.prepare("SELECT min(obstime), max(obstime) FROM catalogue").rows().first
        let store = SignatureStore(db: db)
        return LakeInfo(
            path: lake.path, fileBytes: size, srid: lake.srid, schemaVersion: lake.schemaVersion,
            lakeVersion: try lake.meta("lake_version") ?? "?",
            parcels: try int("SELECT count(*) FROM parcels"), aois: aois, scenes: scenes, sceneStatus: status,
            firstDate: range?[0].text.map { String($0.prefix(10)) }, lastDate: range?[1].text.map { String($0.prefix(10)) },
            signatureRows: try store.rowCount(), pendingRows: try store.pendingCount(),
            bands: try store.bandNames(), sclHistograms: try int("SELECT count(*) FROM scl_hist"))
    }

    public var text: String {
        var lines: [String] = []
        lines.append("lake        \(path) (\(formatBytes(fileBytes)))")
        lines.append("schema      version \(schemaVersion) (written by lake \(lakeVersion)), EPSG:\(srid)")
        lines.append("parcels     \(parcels)")
        for a in aois {
            lines.append("            aoi \(a.aoi.isEmpty ? "-" : a.aoi)  year \(a.year)  ptype \(a.ptype.isEmpty ? "-" : a.ptype): \(a.parcels)")
        }
        let sceneTotal = scenes.reduce(0) { $0 + $1.count }
        lines.append("scenes      \(sceneTotal)" + (scenes.isEmpty ? "" : " (" + scenes.map { "\($0.card) \($0.count)" }.joined(separator: ", ") + ")"))
        if let firstDate, let lastDate { lines.append("dates       \(firstDate) … \(lastDate)") }
        if !sceneStatus.isEmpty { lines.append("status      " + sceneStatus.map { "\($0.status) \($0.count)" }.joined(separator: ", ")) }
        lines.append("signatures  \(signatureRows) rows" + (pendingRows > 0 ? " (\(pendingRows) scene rows not yet packed)" : ""))
        lines.append("bands       " + (bands.isEmpty ? "-" : bands.joined(separator: " ")))
        lines.append("scl         \(sclHistograms) histograms")
        return lines.joined(separator: "\n")
    }

    public var json: [String: Any] {
        var out: [String: Any] = [
            "path": path, "file_bytes": fileBytes, "srid": srid, "schema_version": schemaVersion,
            "lake_version": lakeVersion, "parcels": parcels,
            "aois": aois.map { ["aoi": $0.aoi, "year": $0.year, "ptype": $0.ptype, "parcels": $0.parcels] },
            "scenes": Dictionary(uniqueKeysWithValues: scenes.map { ($0.card, $0.count) }),
            "scene_status": Dictionary(uniqueKeysWithValues: sceneStatus.map { ($0.status, $0.count) }),
            "signature_rows": signatureRows, "pending_scene_rows": pendingRows, "bands": bands,
            "scl_histograms": sclHistograms,
        ]
        out["first_date"] = firstDate
        out["last_date"] = lastDate
        return out
    }
}

func formatBytes(_ bytes: Int64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes), unit = 0
    while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
    return unit == 0 ? "\(bytes) B" : Format.double("%.1f", value) + " " + units[unit]
}
