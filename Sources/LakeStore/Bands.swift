import Foundation

/// Band names as lake stores them: Sentinel-2 bands zero-padded (B4 → B04, B8 → B08, B8A),
/// the scene classification as SCL (SC, SCL_20m → SCL), Sentinel-1 polarisations upper case.
public enum Bands {
    public static let scl = "SCL"

    public static func normalise(_ raw: String) -> String {
        var name = raw.trimmingCharacters(in: .whitespaces).uppercased()
        // Strip resolution suffixes used by SAFE products and STAC assets: B04_10m, SCL_20m.
        if let underscore = name.firstIndex(of: "_") { name = String(name[..<underscore]) }
        if name == "SC" || name == "SCL" { return scl }
        if name.hasPrefix("B"), name.count == 2, let d = name.last, d.isNumber { return "B0\(d)" }
        if name == "B8A" || name == "B08A" { return "B8A" }
        return name
    }

    /// Whether a radiometric offset applies to this band (reflectances; not SCL, not indices).
    public static func takesOffset(_ band: String) -> Bool {
        band.hasPrefix("B") && band.count == 3
    }
}
