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
        let fields = layer.fields
        let names = Set(fields.map(\.name))
        // `--id fid` names the feature number when the layer has no field of that name.
        let featureNumber = options.idField.map { $0.lowercased() == "fid" && !names.contains($0) } ?? false
        for (option, value) in [("--id", featureNumber ? nil : options.idField), ("--crop-code", options.cropCodeField), ("--crop-name", options.cropNameField)] {
            if let value, !names.contains(value) {
                throw LakeError.usage("\(path): layer \(layer.name) has no field \(value) (\(option)); fields: \(fields.map(\.name).joined(separator: ", "))")
            }
        }
        var idField = featureNumber ? nil : options.idField
        var idNote: String?
        if options.idField == nil {
            // The first candidate whose values name one geometry each: a field that repeats with
            // different geometries is a block or farm id, not a parcel id (AT FS_KENNUNG, CZ DPB_ID,
            // DE-BB ref_ident); with none, the feature number.
            let (chosen, passedOver) = FieldDetection.uniqueIdentifier(in: layer, fields: fields)
            idField = chosen
            if !passedOver.isEmpty {
                idNote = "\(passedOver.joined(separator: ", ")) repeat\(passedOver.count == 1 ? "s" : "") with different geometries (a block or farm id, not a parcel id)"
            }
        }
        let codeField = options.cropCodeField ?? FieldDetection.find(FieldDetection.cropCode, in: fields, excluding: Set([idField].compactMap { $0 }))
        let nameField = options.cropNameField ?? FieldDetection.find(FieldDetection.cropName, in: fields, excluding: Set([idField, codeField].compactMap { $0 }))
        let yearField = options.year == nil ? FieldDetection.find(FieldDetection.year, in: fields) : nil
        if options.idField == nil {
            summary.notes.append((idField.map { "identifier field: \($0) (detected; --id to choose another)" }
                                  ?? "identifier: feature number (no unique identifier field found; --id to choose one)")
                                 + (idNote.map { "; " + $0 } ?? ""))
        } else if featureNumber {
            summary.notes.append("identifier: feature number (--id fid)")
        }
        if options.cropCodeField == nil { summary.notes.append("crop code field: \(codeField ?? "none found") (detected; --crop-code to choose)") }
        if options.cropNameField == nil { summary.notes.append("crop name field: \(nameField ?? "none found") (detected; --crop-name to choose)") }
        if let yearField { summary.notes.append("year field: \(yearField) (detected; --year to set one year)") }

        let target = try SpatialReference(epsg: lake.srid)
        if options.pointBuffer != nil, target.isGeographic {
            throw LakeError.usage("--point-buffer needs a lake in a projected SRID (metres); this lake is EPSG:\(lake.srid)")
        }
        let transform = try makeTransform(layer: layer, target: target, options: options, path: path, notes: &summary.notes)
        let index = Dictionary(fields.enumerated().map { ($0.element.name, Int32($0.offset)) }, uniquingKeysWith: { a, _ in a })
        let areaSQL = target.isGeographic ? "ST_Area(GeomFromWKB(?9, \(lake.srid)), 1)" : "ST_Area(GeomFromWKB(?9, \(lake.srid)))"

        let db = lake.db
        let progress = Progress("parcels \(URL(fileURLWithPath: path).lastPathComponent)", total: layer.featureCount)
        try db.transaction {
            let find = try db.prepare("""
                SELECT pid, crop_code, crop_name, attributes, AsBinary(geom) FROM parcels
                WHERE aoi = ? AND year = ? AND ptype = ? AND parcel_id = ?
                """)
            let insert = try db.prepare("""
                INSERT INTO parcels (parcel_id, aoi, year, ptype, crop_code, crop_name, source, attributes, area, geom)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, \(areaSQL), GeomFromWKB(?9, \(lake.srid)))
                """)
            let update = try db.prepare("""
                UPDATE parcels SET crop_code = ?5, crop_name = ?6, source = ?7, attributes = ?8,
                    area = \(areaSQL), geom = GeomFromWKB(?9, \(lake.srid))
                WHERE pid = ?1
                """)
            var seen: [String: (number: Int, wkb: [UInt8])] = [:]
            var repeats = 0
            var differing = 0
            var repaired = 0
            try layer.forEach { number, feature in
                summary.read += 1
                progress.advance()
                let location = "feature \(number)"
                let parcelID: String
                if let idField, let i = index[idField] {
                    guard let value = feature.string(i), !value.trimmingCharacters(in: .whitespaces).isEmpty else {
                        summary.reject(location, "empty identifier (\(idField))"); return
                    }
                    parcelID = value.trimmingCharacters(in: .whitespaces)
                } else {
                    parcelID = String(number)
                }
                guard var geometry = feature.geometry(), !geometry.isEmpty else {
                    summary.reject(location, "parcel \(parcelID): empty geometry"); return
                }
                guard geometry.isAreal || (geometry.isPoint && options.pointBuffer != nil) else {
                    let hint = geometry.isPoint ? " (give --point-buffer METRES to keep point samples as small parcels)" : ""
                    summary.reject(location, "parcel \(parcelID): \(geometry.typeName) is not a polygon\(hint)"); return
                }
                if let transform {
                    do { try geometry.transform(transform) } catch {
                        summary.reject(location, "parcel \(parcelID): cannot reproject to EPSG:\(lake.srid)"); return
                    }
                }
                if geometry.isPoint, let radius = options.pointBuffer {
                    guard let circle = geometry.buffered(radius) else {
                        summary.reject(location, "parcel \(parcelID): cannot buffer the point"); return
                    }
                    geometry = circle
                }
                // Long-format sample files repeat a parcel on every row (one per date): the same
                // identifier with the same geometry is the same parcel.
                if let first = seen[parcelID] {
                    if first.wkb == geometry.wkb() { repeats += 1; summary.skipped += 1; return }
                    summary.reject(location, "identifier \(parcelID) appears again with another geometry (first at feature \(first.number))"); return
                }
                seen[parcelID] = (number, geometry.wkb())
                var shape = geometry.polygonalParts()
                if !shape.isValid {
                    guard let fixed = shape.madeValid()?.polygonalParts(), !fixed.isEmpty, fixed.isValid else {
                        summary.reject(location, "parcel \(parcelID): invalid geometry that cannot be repaired (a degenerate ring: no area left)"); return
                    }
                    shape = fixed
                    repaired += 1
                    if repaired <= 20 { summary.notes.append("\(location): parcel \(parcelID): invalid geometry repaired") }
                }
                guard !shape.isEmpty else {
                    summary.reject(location, "parcel \(parcelID): no polygon area"); return
                }
                let wkb = shape.wkb()
                var attributes: [String: Any] = [:]
                for (name, i) in index { if let v = feature.value(i) { attributes[name] = v } }
                let code = codeField.flatMap { index[$0] }.flatMap { feature.string($0) }
                let name = nameField.flatMap { index[$0] }.flatMap { feature.string($0) }
                let year = options.year ?? yearField.flatMap { index[$0] }.flatMap { feature.string($0) }.flatMap { Int($0) } ?? 0
                let attributesJSON = JSONText.render(attributes, pretty: false)
                let key: [SQLValue] = [.text(options.aoi), .int(Int64(year)), .text(options.ptype), .text(parcelID)]
                try find.bind(key)
                let values: [SQLValue] = [.text(parcelID), .text(options.aoi), .int(Int64(year)), .text(options.ptype),
                                          code.map(SQLValue.text) ?? .null, name.map(SQLValue.text) ?? .null,
                                          .text(path), .text(attributesJSON), .blob(wkb)]
                if try find.step() {
                    let same = find.text(1) == code && find.text(2) == name && find.text(3) == attributesJSON
                        && find.blob(4) == wkb
                    let pid = find.int(0)
                    find.reset()
                    if same { summary.skipped += 1; return }
                    guard options.update else { summary.skipped += 1; differing += 1; return }
                    var updateValues = values
                    updateValues[0] = .int(pid)
                    try update.bind(updateValues)
                    try update.step()
                    summary.updated += 1
                } else {
                    find.reset()
                    try insert.bind(values)
                    try insert.step()
                    summary.inserted += 1
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
                "layer": layer.name, "id": idField ?? "(feature number)", "crop_code": codeField ?? "",
                "crop_name": nameField ?? "", "aoi": options.aoi, "year": options.year ?? 0, "ptype": options.ptype,
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
