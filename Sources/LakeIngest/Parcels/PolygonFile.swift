import Foundation
import LakeGDAL
import LakeStore

/// The first polygon of a file (any GDAL vector source, or a WKT text file) as WKT in WGS 84.
public enum PolygonFile {
    public static func wgs84WKT(_ path: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else { throw LakeError.input(file: path, location: nil, reason: "no such file") }
        if let text = try? String(contentsOfFile: path, encoding: .utf8),
           text.trimmingCharacters(in: .whitespacesAndNewlines).uppercased().hasPrefix("POLYGON") || text.uppercased().hasPrefix("MULTIPOLYGON") {
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let dataset: VectorDataset
        do { dataset = try VectorDataset(path: path) } catch { throw LakeError.input(file: path, location: nil, reason: "\(error)") }
        guard let layer = dataset.layers.first(where: { $0.hasGeometry }) else {
            throw LakeError.input(file: path, location: nil, reason: "no layer with geometries")
        }
        var found: Geometry?
        try layer.forEach { _, feature in if found == nil, let g = feature.geometry(), g.isAreal { found = g } }
        guard let geometry = found else { throw LakeError.input(file: path, location: nil, reason: "no polygon") }
        let source = try layer.spatialReference ?? SpatialReference(epsg: 4326)
        let wgs84 = try SpatialReference(epsg: 4326)
        if !source.isSame(as: wgs84) { try geometry.transform(CoordinateTransform(from: source, to: wgs84)) }
        return geometry.wkt()
    }
}
