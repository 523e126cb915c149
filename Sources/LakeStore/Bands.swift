import LakeSupport
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Band names as lake stores them: Sentinel-2 bands zero-padded (B4 → B04, B8 → B08, B8A),
/// the scene classification as SCL (SC, SCL_20m → SCL), Sentinel-1 polarisations upper case.
public enum Bands {
    public static let scl = "SCL"
    /// A band of NDVI values (NDVI rasters extracted, NDVI series ingested as given).
    public static let ndvi = "NDVI"

    /// The factor that turns an NDVI band's values into NDVI: 1 as given (−1…1), 1e-4 when
    /// they are scaled by 10,000 (sen2r, openEO, the JRC's integer rasters) — which values
    /// beyond ±1.5 show. Given all of a parcel's values, one observation cannot be misread.
    public static func ndviFactor<S: Sequence>(_ values: S) -> Double where S.Element: BinaryFloatingPoint {
        values.contains { abs($0) > 1.5 } ? 1e-4 : 1
    }

    /// Whether a parcel's column of a reflectance band holds digital numbers (reflectance ×
    /// 10,000, as L2A products and the JRC tables give them), to which a scene's radiometric
    /// offset applies: some value beyond ±2. A column of reflectances (0–1: openEO, Sentinel Hub,
    /// Earth Engine exports) was converted with the offset already taken off — subtracting
    /// 1,000 DN from it would make every value −1,000.
    @inlinable
    public static func holdsDigitalNumbers<S: Sequence>(_ values: S) -> Bool where S.Element: BinaryFloatingPoint {
        values.contains { abs($0) > 2 }
    }

    /// Whether a parcel's digital numbers already have the scenes' radiometric offsets taken
    /// off though its scenes carry one (products of processing baseline 04.00 and later named
    /// in the catalogue, statistics exported harmonised: Earth Engine's S2_SR_HARMONIZED,
    /// openEO, Sentinel Hub). As the products hold them, digital numbers are reflectance ×
    /// 10,000 plus 1,000, so no surface gives less than ~1,000 in the visible bands; offset
    /// applied, a quarter or more of the darkest band's values on scenes with an offset below
    /// zero means the offset was already taken off (harmonised vegetation reads 100–800 in blue
    /// and red; only cloud is brighter). `darkest`: the (stored value, scene offset) pairs of
    /// the parcel's B02 (else B03, else B04) in digital numbers.
    @inlinable
    public static func offsetsTakenOff<S: Sequence>(darkest: S) -> Bool where S.Element == (Float, Float) {
        var n = 0, negative = 0
        for (value, offset) in darkest where offset != 0 {
            n += 1
            if value + offset < 0 { negative += 1 }
        }
        return n > 0 && 4 * negative >= n
    }

    /// The bands of a parcel's series to which the scenes' radiometric offsets apply: those held
    /// in digital numbers (`holdsDigitalNumbers` over each band's means), and none where the
    /// darkest visible band present (B02, else B03, else B04) shows the offsets were taken off
    /// already (`offsetsTakenOff`). `name` gives a band id's name, `offset` a scene's offset.
    public static func offsetBands(_ rows: [SignatureRow], name: (UInt8) -> String, offset: (Int64) -> Float) -> Set<UInt8> {
        var bands = Set<UInt8>()
        for row in rows where !bands.contains(row.bandID) && holdsDigitalNumbers(CollectionOfOne(row.stats.mean)) { bands.insert(row.bandID) }
        let names = Dictionary(uniqueKeysWithValues: bands.map { ($0, name($0)) })
        guard let darkest = ["B02", "B03", "B04"].lazy.compactMap({ band in names.first { $0.value == band }?.key }).first else { return bands }
        return withoutActuallyEscaping(offset) { offset in
            offsetsTakenOff(darkest: rows.lazy.filter { $0.bandID == darkest }.map { ($0.stats.mean, offset($0.obsid)) })
        } ? [] : bands
    }

    /// Sentinel-2's bands as lake names them.
    public static let sentinel2: Set<String> = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12"]

    public static func normalise(_ raw: String) -> String {
        var name = raw.trimmed().uppercased()
        // Colour names as many exports write them (Sentinel-2's 10 and 20 m bands), whole names
        // only (RED_EDGE_1 is not red).
        switch name {
        case "BLUE": return "B02"
        case "GREEN": return "B03"
        case "RED": return "B04"
        case "NIR": return "B08"
        case "SWIR1", "SWIR16": return "B11"
        case "SWIR2", "SWIR22": return "B12"
        default: break
        }
        // Strip resolution suffixes used by SAFE products and STAC assets: B04_10m, SCL_20m.
        if let underscore = name.firstIndex(of: "_") { name = String(name[..<underscore]) }
        if name == "SC" || name == "SCL" { return scl }
        if name.hasPrefix("B"), name.count == 2, let d = name.last, d.isNumber { return "B0\(d)" }
        if name == "B8A" || name == "B08A" { return "B8A" }
        // JRC Sentinel-1 names: VVb/VHb backscatter, VVc/VHc coherence; the scene's card says which.
        if radarProduct(name) != nil { return String(name.prefix(2)) }
        return name
    }

    /// The catalogue card a JRC Sentinel-1 band name implies: `VVc`/`VHc` coherence ("c6"),
    /// `VVb`/`VHb` backscatter ("bs"); nil for other names (plain `VV` may be either).
    public static func radarProduct(_ raw: String) -> String? {
        let name = raw.trimmed().uppercased()
        guard name.count == 3, ["VV", "VH", "HH", "HV"].contains(String(name.prefix(2))) else { return nil }
        switch name.last { case "C": return "c6" case "B": return "bs" default: return nil }
    }

    /// Whether a radiometric offset applies to this band (reflectances; not SCL, not indices).
    public static func takesOffset(_ band: String) -> Bool {
        band.hasPrefix("B") && band.count == 3
    }
}
