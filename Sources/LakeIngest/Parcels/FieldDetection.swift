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

    /// The field of `fields` matching `candidates` first, skipping the names in `excluding`.
    static func find(_ candidates: [String], in fields: [FieldInfo], excluding: Set<String> = []) -> String? {
        let byLower = Dictionary(fields.map { ($0.name.lowercased(), $0.name) }, uniquingKeysWith: { a, _ in a })
        for candidate in candidates {
            if let name = byLower[candidate], !excluding.contains(name) { return name }
        }
        return nil
    }
}
