import Foundation
import LakeSupport
import LakeGDAL
import LakeSQLite
import LakeStore

/// Why one feature of a parcel file is rejected, thrown by the stages (the caller adds the file
/// and the feature number, and goes on with the next feature).
struct FeatureRejection: Error {
    let text: String
    init(_ text: String) { self.text = text }
}

/// Stage 1 of a parcel ingest: which of a layer's fields hold the parcel identifier, the crop
/// code, the crop name and the year (given, or detected by `FieldDetection`), with the notes
/// that say what was detected; and each feature's values of them.
struct ParcelFields {
    let id: String?
    let code: String?
    let name: String?
    let year: String?
    let notes: [String]
    /// Each field's index in the layer, by name.
    let index: [String: Int32]

    init(layer: VectorLayer, options: ParcelIngestOptions, path: String) throws {
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
        var notes: [String] = []
        if options.idField == nil {
            notes.append((idField.map { "identifier field: \($0) (detected; --id to choose another)" }
                          ?? "identifier: feature number (no unique identifier field found; --id to choose one)")
                         + (idNote.map { "; " + $0 } ?? ""))
        } else if featureNumber {
            notes.append("identifier: feature number (--id fid)")
        }
        if options.cropCodeField == nil { notes.append("crop code field: \(codeField ?? "none found") (detected; --crop-code to choose)") }
        if options.cropNameField == nil { notes.append("crop name field: \(nameField ?? "none found") (detected; --crop-name to choose)") }
        if let yearField { notes.append("year field: \(yearField) (detected; --year to set one year)") }
        id = idField; code = codeField; name = nameField; year = yearField
        self.notes = notes
        index = Dictionary(fields.enumerated().map { ($0.element.name, Int32($0.offset)) }, uniquingKeysWith: { a, _ in a })
    }

    /// The feature's parcel identifier: its identifier field, trimmed, or its feature number.
    func identifier(of feature: Feature, number: Int) throws -> String {
        guard let id, let i = index[id] else { return String(number) }
        guard let value = feature.string(i)?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
            throw FeatureRejection("empty identifier (\(id))")
        }
        return value
    }

    /// What a parcel row holds besides its geometry.
    struct Row {
        let parcelID: String
        let code: String?
        let name: String?
        let year: Int
        /// Every field of the feature, as JSON.
        let attributes: String
    }

    /// The feature's row: its crop code and name, its year (`--year`, else the year field, else
    /// 0) and all its fields as attributes.
    func row(of feature: Feature, parcel: String, year given: Int?) -> Row {
        var attributes: [String: Any] = [:]
        for (name, i) in index { if let v = feature.value(i) { attributes[name] = v } }
        return Row(parcelID: parcel,
                   code: code.flatMap { index[$0] }.flatMap { feature.string($0) },
                   name: name.flatMap { index[$0] }.flatMap { feature.string($0) },
                   year: given ?? year.flatMap { index[$0] }.flatMap { feature.string($0) }.flatMap { Int($0) } ?? 0,
                   attributes: JSONText.render(attributes, pretty: false))
    }
}

/// Stage 2: a feature's geometry as a parcel — a polygon (or a point sample buffered into a
/// circle) in the lake's SRID; then its polygonal parts, repaired where invalid.
struct ParcelGeometry {
    let transform: CoordinateTransform?
    let pointBuffer: Double?
    let srid: Int

    /// The feature's geometry reprojected (and buffered, for point samples), or why not.
    func geometry(of feature: Feature, parcel: String) throws -> Geometry {
        guard var geometry = feature.geometry(), !geometry.isEmpty else {
            throw FeatureRejection("parcel \(parcel): empty geometry")
        }
        guard geometry.isAreal || (geometry.isPoint && pointBuffer != nil) else {
            let hint = geometry.isPoint ? " (give --point-buffer METRES to keep point samples as small parcels)" : ""
            throw FeatureRejection("parcel \(parcel): \(geometry.typeName) is not a polygon\(hint)")
        }
        if let transform {
            do { try geometry.transform(transform) } catch {
                throw FeatureRejection("parcel \(parcel): cannot reproject to EPSG:\(srid)")
            }
        }
        if geometry.isPoint, let radius = pointBuffer {
            guard let circle = geometry.buffered(radius) else { throw FeatureRejection("parcel \(parcel): cannot buffer the point") }
            geometry = circle
        }
        return geometry
    }

    /// The polygonal parts of a parcel's geometry as WKB, `repaired` when it was invalid and
    /// made valid; or why it has no polygon left.
    func polygons(_ geometry: Geometry, parcel: String) throws -> (wkb: [UInt8], repaired: Bool) {
        var shape = geometry.polygonalParts()
        var repaired = false
        if !shape.isValid {
            guard let fixed = shape.madeValid()?.polygonalParts(), !fixed.isEmpty, fixed.isValid else {
                throw FeatureRejection("parcel \(parcel): invalid geometry that cannot be repaired (a degenerate ring: no area left)")
            }
            shape = fixed
            repaired = true
        }
        guard !shape.isEmpty else { throw FeatureRejection("parcel \(parcel): no polygon area") }
        return (shape.wkb(), repaired)
    }
}

/// Stage 3: a parcel's row in the lake, by (aoi, year, ptype, id): inserted when new, kept when
/// the same, replaced when different and `--update` says so (else kept and counted).
struct ParcelWriter {
    enum Outcome { case inserted, updated, unchanged, differs }

    private let find: Statement, insert: Statement, update: Statement
    private let options: ParcelIngestOptions
    private let source: String

    init(_ db: Connection, srid: Int, geographic: Bool, source: String, options: ParcelIngestOptions) throws {
        let area = geographic ? "ST_Area(GeomFromWKB(?9, \(srid)), 1)" : "ST_Area(GeomFromWKB(?9, \(srid)))"
        find = try db.prepare("""
            SELECT pid, crop_code, crop_name, attributes, AsBinary(geom) FROM parcels
            WHERE aoi = ? AND year = ? AND ptype = ? AND parcel_id = ?
            """)
        insert = try db.prepare("""
            INSERT INTO parcels (parcel_id, aoi, year, ptype, crop_code, crop_name, source, attributes, area, geom)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, \(area), GeomFromWKB(?9, \(srid)))
            """)
        update = try db.prepare("""
            UPDATE parcels SET crop_code = ?5, crop_name = ?6, source = ?7, attributes = ?8,
                area = \(area), geom = GeomFromWKB(?9, \(srid))
            WHERE pid = ?1
            """)
        self.options = options
        self.source = source
    }

    func write(_ row: ParcelFields.Row, wkb: [UInt8]) throws -> Outcome {
        try find.bind([.text(options.aoi), .int(Int64(row.year)), .text(options.ptype), .text(row.parcelID)])
        var values: [SQLValue] = [.text(row.parcelID), .text(options.aoi), .int(Int64(row.year)), .text(options.ptype),
                                  row.code.map(SQLValue.text) ?? .null, row.name.map(SQLValue.text) ?? .null,
                                  .text(source), .text(row.attributes), .blob(wkb)]
        guard try find.step() else {
            find.reset()
            try insert.bind(values)
            try insert.step()
            return .inserted
        }
        let same = find.text(1) == row.code && find.text(2) == row.name && find.text(3) == row.attributes && find.blob(4) == wkb
        let pid = find.int(0)
        find.reset()
        if same { return .unchanged }
        guard options.update else { return .differs }
        values[0] = .int(pid)
        try update.bind(values)
        try update.step()
        return .updated
    }
}
