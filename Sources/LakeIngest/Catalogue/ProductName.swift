import Foundation

/// What a Sentinel product name says about its scene, e.g.
/// `S2B_MSIL2A_20220413T150759_N0400_R025_T33XWJ_20220414T082126.SAFE` or
/// `S1A_IW_GRDH_1SDV_20210809T173953_20210809T174018_039156_049F13_8A2B`.
struct ProductName {
    var reference: String
    var sensor: String          // 2A, 2B, 2C, 1A, 1B, 1C
    var card: String            // s2, l1c, bs, c6
    var obstime: String         // ISO-8601 UTC
    var baseline: String?       // 04.00 (Sentinel-2)
    var relativeOrbit: Int?
    var tile: String?

    /// Strips archive and folder suffixes: .SAFE, .zip, .SAFE.zip, trailing slashes and paths.
    static func strip(_ name: String) -> String {
        var n = (name as NSString).lastPathComponent
        for suffix in [".zip", ".SAFE", ".safe", ".SEN3", ".tar", ".json"] where n.hasSuffix(suffix) {
            n = String(n.dropLast(suffix.count))
        }
        if n.hasSuffix(".SAFE") { n = String(n.dropLast(5)) }
        return n
    }

    init?(_ raw: String) {
        let name = ProductName.strip(raw)
        let parts = name.split(separator: "_").map(String.init)
        guard parts.count >= 3, let mission = parts.first, mission.count == 3,
              mission.hasPrefix("S1") || mission.hasPrefix("S2") else { return nil }
        reference = name
        sensor = String(mission.dropFirst())
        if mission.hasPrefix("S2") {
            // S2B_MSIL2A_20220413T150759_N0400_R025_T33XWJ_20220414T082126
            guard parts.count >= 7, let time = ProductName.isoTime(parts[2]) else { return nil }
            switch parts[1] {
            case "MSIL2A": card = "s2"
            case "MSIL1C": card = "l1c"
            default: return nil
            }
            obstime = time
            let n = parts[3]
            if n.hasPrefix("N"), n.count == 5 { baseline = "\(n.dropFirst().prefix(2)).\(n.suffix(2))" }
            if parts[4].hasPrefix("R") { relativeOrbit = Int(parts[4].dropFirst()) }
            if parts[5].hasPrefix("T") { tile = String(parts[5].dropFirst()) }
        } else {
            // S1A_IW_GRDH_1SDV_20210809T173953_20210809T174018_039156_049F13_8A2B
            guard let timeIndex = parts.firstIndex(where: { ProductName.isoTime($0) != nil }),
                  let time = ProductName.isoTime(parts[timeIndex]) else { return nil }
            obstime = time
            let kind = parts.dropFirst().prefix(3).joined(separator: "_")
            if kind.contains("GRD") { card = "bs" }
            else if kind.contains("SLC") { card = "c6" }
            else { return nil }
            if timeIndex + 2 < parts.count, let absolute = Int(parts[timeIndex + 2]) {
                // Relative orbit from the absolute orbit (each satellite repeats every 175 orbits).
                switch sensor {
                case "1A": relativeOrbit = (absolute - 73) %% 175 + 1
                case "1B": relativeOrbit = (absolute - 27) %% 175 + 1
                default: relativeOrbit = nil
                }
            }
            tile = timeIndex + 3 < parts.count ? parts[timeIndex + 3] : nil
        }
    }

    /// 20220413T150759 → 2022-04-13T15:07:59Z
    static func isoTime(_ compact: String) -> String? {
        let c = Array(compact)
        guard c.count == 15, c[8] == "T", c.enumerated().allSatisfy({ $0.offset == 8 || $0.element.isNumber }) else { return nil }
        func sub(_ a: Int, _ b: Int) -> String { String(c[a..<b]) }
        return "\(sub(0, 4))-\(sub(4, 6))-\(sub(6, 8))T\(sub(9, 11)):\(sub(11, 13)):\(sub(13, 15))Z"
    }
}

infix operator %% : MultiplicationPrecedence
/// Modulo with a non-negative result.
func %% (a: Int, b: Int) -> Int { ((a % b) + b) % b }
