import LakeGDAL

/// Finds the identifier, crop-code and crop-name fields of a parcel layer when the user did not
/// name them. Candidates are matched case-insensitively, in order: generic names first, then
/// the names used by national LPIS/GSAA downloads (NL gewascode, AT SNAR_CODE, FR CODE_CULTU…).
enum FieldDetection {
    static let identifier = [
        "parcel_id", "parcelid", "id_parcel", "parcel", "pid", "plot_id", "field_id", "id",
        "perceel_id", "ref_ident", "flik", "dpb_id", "gerk_pid", "fs_kennung", "schlag_id",
        "objectid", "object_id", "gml_id", "fid",
    ]
    static let cropCode = [
        "crop_code", "cropcode", "crop_id", "code_cultu", "gewascode", "snar_code", "gwscod_h",
        "lnf_code", "afgkode", "kasvikoodi", "cul_codigo", "grdkod_mar", "product_code", "kodkd",
        "land_use_id", "kultura", "cultiu", "ec_hcat_c", "code", "crop",
    ]
    static let cropName = [
        "crop_name", "cropname", "crop_label", "lib_cultu", "gewas", "snar_bezeichnung", "gwsnam_h",
        "nutzung", "afgroede", "kasvi", "cul_descri", "rastlina", "ec_trans_n", "ec_hcat_n", "crop_type",
    ]
    static let year = ["year", "jaar", "bezugsjahr", "antragjahr", "campanya", "campaign"]

    /// The first identifier candidate of the layer that identifies parcels, and the candidates
    /// passed over as block or farm ids: a candidate is passed over when its values name two
    /// different geometries for at least 3 features and 2 % of them (a parcel id with a stray
    /// duplicate stays the id, and the duplicate is rejected with its feature number; rows
    /// repeating a parcel with the same geometry, as long-format sample files have, are fine).
    /// One pass over the layer, keeping one geometry digest per value and candidate.
    static func uniqueIdentifier(in layer: VectorLayer, fields: [FieldInfo]) -> (field: String?, passedOver: [String]) {
        let byLower = Dictionary(fields.enumerated().map { ($1.name.lowercased(), ($1.name, Int32($0))) }, uniquingKeysWith: { a, _ in a })
        let present = identifier.compactMap { byLower[$0] }
        guard !present.isEmpty else { return (nil, []) }
        var seen = [[String: Int]](repeating: [:], count: present.count)
        var conflicts = [Int](repeating: 0, count: present.count)
        var features = 0
        try? layer.forEach { _, feature in
            features += 1
            let digest = feature.geometry()?.wkb().hashValue ?? 0
            for (k, (_, index)) in present.enumerated() {
                guard let value = feature.string(index)?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { continue }
                if let earlier = seen[k][value], earlier != digest { conflicts[k] += 1 } else { seen[k][value] = digest }
            }
        }
        let ambiguous = conflicts.map { $0 >= 3 && Double($0) >= 0.02 * Double(features) }
        let first = present.indices.first { !ambiguous[$0] }
        let passed = present.indices.filter { ambiguous[$0] && (first == nil || $0 < first!) }.map { present[$0].0 }
        return (first.map { present[$0].0 }, passed)
    }

    /// The field of `fields` matching `candidates` first, skipping the names in `excluding`.
    static func find(_ candidates: [String], in fields: [FieldInfo], excluding: Set<String> = []) -> String? {
        let byLower = Dictionary(fields.map { ($0.name.lowercased(), $0.name) }, uniquingKeysWith: { a, _ in a })
        for candidate in candidates {
            if let name = byLower[candidate], !excluding.contains(name) { return name }
        }
        return nil
    }
}
