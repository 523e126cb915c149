import Foundation
import LakeSupport
import LakeGDAL
import LakeSQLite
import LakeStore

/// How to read a parcel file.
public struct ParcelIngestOptions: Sendable {
    public var layer: String?
    public var idField: String?
    public var cropCodeField: String?
    public var cropNameField: String?
    public var aoi: String = ""
    public var year: Int?
    public var ptype: String = ""
    /// EPSG code of the source when the file does not say.
    public var sourceSRID: Int?
    /// Point samples (e.g. WorldCereal, field surveys) become parcels: a circle of this radius in
    /// metres around the point. Without it points are rejected.
    public var pointBuffer: Double?
    /// Replace parcels already in the lake whose geometry or attributes differ.
    public var update = false
    /// Roll the whole input back if any feature is rejected.
    public var strict = false

    public init() {}
}

/// Loads parcels from any vector format GDAL reads into the lake, reprojected to its SRID.
///
/// One transaction per input. Features are identified by (aoi, year, ptype, id): loading the
/// same file twice changes nothing; with `update`, changed parcels are replaced.
///
/// In stages, as a feature flows: the layer and its fields (`chooseLayer`, `ParcelFields`), the
/// coordinate transform (`makeTransform`), then per feature its identifier, its shape
/// (`ParcelGeometry`: a polygon in the lake's SRID, repaired where invalid) and its row
/// (`ParcelWriter`: inserted, kept or replaced). A new input format needs nothing here when GDAL
/// reads it; a new way to name the fields goes into `FieldDetection`.
public struct ParcelIngest {
    let lake: Lake

    public init(lake: Lake) { self.lake = lake }

    public func run(path: String, options: ParcelIngestOptions) throws -> IngestSummary {
        let started = Date()
        var summary = IngestSummary(kind: "parcels", source: path)
        guard FileManager.default.fileExists(atPath: path) || path.hasPrefix("/vsi") else {
            throw LakeError.input(file: path, location: nil, reason: "no such file")
        }
        let dataset: VectorDataset
        do { dataset = try VectorDataset(path: path) } catch {
            throw LakeError.input(file: path, location: nil, reason: "\(error)")
        }
        let layer = try chooseLayer(dataset, options: options, path: path)
        let fields = try ParcelFields(layer: layer, options: options, path: path)
        summary.notes += fields.notes

        let target = try SpatialReference(epsg: lake.srid)
        if options.pointBuffer != nil, target.isGeographic {
            throw LakeError.usage("--point-buffer needs a lake in a projected SRID (metres); this lake is EPSG:\(lake.srid)")
        }
        let shapes = ParcelGeometry(transform: try makeTransform(layer: layer, target: target, options: options, path: path, notes: &summary.notes),
                                    pointBuffer: options.pointBuffer, srid: lake.srid)

        let db = lake.db
        let progress = Progress("parcels \(URL(fileURLWithPath: path).lastPathComponent)", total: layer.featureCount)
        try db.transaction {
            let writer = try ParcelWriter(db, srid: lake.srid, geographic: target.isGeographic, source: path, options: options)
            var seen: [String: (number: Int, wkb: [UInt8])] = [:]
            var repeats = 0, differing = 0, repaired = 0
            try layer.forEach { number, feature in
                summary.read += 1
                progress.advance()
                let location = "feature \(number)"
                do {
                    let parcelID = try fields.identifier(of: feature, number: number)
                    let geometry = try shapes.geometry(of: feature, parcel: parcelID)
                    // Long-format sample files repeat a parcel on every row (one per date): the same
                    // identifier with the same geometry is the same parcel.
                    let raw = geometry.wkb()
                    if let first = seen[parcelID] {
                        guard first.wkb == raw else {
                            throw FeatureRejection("identifier \(parcelID) appears again with another geometry (first at feature \(first.number))")
                        }
                        repeats += 1; summary.skipped += 1; return
                    }
                    seen[parcelID] = (number, raw)
                    let shape = try shapes.polygons(geometry, parcel: parcelID)
                    if shape.repaired {
                        repaired += 1
                        if repaired <= 20 { summary.notes.append("\(location): parcel \(parcelID): invalid geometry repaired") }
                    }
                    switch try writer.write(fields.row(of: feature, parcel: parcelID, year: options.year), wkb: shape.wkb) {
                    case .inserted: summary.inserted += 1
                    case .updated: summary.updated += 1
                    case .unchanged: summary.skipped += 1
                    case .differs: summary.skipped += 1; differing += 1
                    }
                } catch let rejection as FeatureRejection {
                    summary.reject(location, rejection.text)
                }
            }
            progress.finish()
            if repaired > 20 { summary.notes.append("\(repaired) invalid geometries repaired in all") }
            if repeats > 0 { summary.notes.append("\(repeats) repeated rows of the same parcels skipped (long-format file)") }
            if differing > 0 {
                summary.notes.append("\(differing) parcels already in the lake differ from this file and were kept; --update replaces them")
            }
            try summary.enforceStrict(options.strict, unit: "features")
            summary.seconds = Date().timeIntervalSince(started)
            try IngestLog.record(db, summary, started: started, options: [
                "layer": layer.name, "id": fields.id ?? "(feature number)", "crop_code": fields.code ?? "",
                "crop_name": fields.name ?? "", "aoi": options.aoi, "year": options.year ?? 0, "ptype": options.ptype,
                "update": options.update])
        }
        return summary
    }

    private func chooseLayer(_ dataset: VectorDataset, options: ParcelIngestOptions, path: String) throws -> VectorLayer {
        let layers = dataset.layers
        if let name = options.layer {
            guard let layer = dataset.layer(named: name) else {
                throw LakeError.usage("\(path): no layer \(name); layers: \(layers.map(\.name).joined(separator: ", "))")
            }
            return layer
        }
        let polygonal = layers.filter { $0.hasGeometry && ($0.isPolygonal || (options.pointBuffer != nil && $0.isPoint)) }
        guard let first = polygonal.first else {
            throw LakeError.input(file: path, location: nil, reason: "no polygon layer (layers: \(layers.map(\.name).joined(separator: ", ")))")
        }
        // The first polygon layer that has features (a national GeoPackage may lead with an empty one).
        return polygonal.first { $0.featureCount > 0 } ?? first
    }

    private func makeTransform(layer: VectorLayer, target: SpatialReference, options: ParcelIngestOptions,
                               path: String, notes: inout [String]) throws -> CoordinateTransform? {
        let source: SpatialReference
        if let srid = options.sourceSRID {
            source = try SpatialReference(epsg: srid)
        } else if let srs = layer.spatialReference {
            source = srs
        } else if layer.driverName == "CSV", layer.isPoint {
            source = try SpatialReference(epsg: 4326)
            notes.append("points from lon/lat columns taken as WGS 84 (--source-srid to say otherwise)")
        } else {
            throw LakeError.input(file: path, location: "layer \(layer.name)",
                                  reason: "the file does not say its coordinate reference system; give it with --source-srid EPSG")
        }
        notes.append("layer \(layer.name): \(source.label) → EPSG:\(lake.srid)")
        if source.isSame(as: target) { return nil }
        return try CoordinateTransform(from: source, to: target)
    }
}
