import Foundation
import LakeStore

/// Crop phenology rules on monthly composites (the rule-based crop-type classification of the
/// EOPF notebook): monthly means of clear observations of NDVI (clipped to 0–1), B08 and B11,
/// gaps of at most `interpolate_gap_months` filled linearly; features `ndvi_jan … ndvi_dec`,
/// `b08_jan …`, `b11_jan …`. Each crop's rule holds when all its conditions (or `at_least` N)
/// hold.
public struct PhenologyOptions: Decodable, Sendable {
    public var interpolate_gap_months: Int?
    public var rules: [Rule]

    public struct Rule: Decodable, Sendable {
        public var crop: String
        /// Which declared parcels this rule checks: crop codes and/or group/crop name parts.
        public var declared_crops: [String]?
        public var declared_groups: [String]?
        public var conditions: [String]
        /// How many conditions must hold (default: all).
        public var at_least: Int?
    }

    func validate(path: String) throws {
        for rule in rules {
            for c in rule.conditions {
                do {
                    let e = try Expression(c)
                    for f in e.features where MonthlyFeatures.index(of: f) == nil {
                        throw LakeError.input(file: path, location: nil, reason: "phenology rule \(rule.crop): unknown feature \(f) (ndvi_jan … b11_dec)")
                    }
                } catch let error as Expression.ParseError {
                    throw LakeError.input(file: path, location: nil, reason: "phenology rule \(rule.crop): \(error)")
                }
            }
            if let n = rule.at_least, n < 1 || n > rule.conditions.count {
                throw LakeError.input(file: path, location: nil, reason: "phenology rule \(rule.crop): at_least must be 1…\(rule.conditions.count)")
            }
        }
    }
}

/// Monthly composites of one parcel-year.
public enum MonthlyFeatures {
    static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    static let signals = ["ndvi", "b08", "b11"]

    /// (signal index, month index) of a feature name like ndvi_may.
    static func index(of name: String) -> (Int, Int)? {
        let parts = name.split(separator: "_")
        guard parts.count == 2, let s = signals.firstIndex(of: String(parts[0])), let m = months.firstIndex(of: String(parts[1])) else { return nil }
        return (s, m)
    }

    /// `observations`: (day, ndvi, b08, b11) of clear observations; the composites of `year`.
    public static func compute(_ observations: [(day: Int, values: [Double?])], year: Int, gapMonths: Int) -> [String: Double] {
        var sums = [[Double]](repeating: [Double](repeating: 0, count: 12), count: 3)
        var counts = [[Int]](repeating: [Int](repeating: 0, count: 12), count: 3)
        for o in observations {
            let (y, m, _) = Days.civil(o.day)
            guard y == year else { continue }
            for s in 0..<3 { if let v = o.values[s] { sums[s][m - 1] += v; counts[s][m - 1] += 1 } }
        }
        var out: [String: Double] = [:]
        for s in 0..<3 {
            var monthly: [Double?] = (0..<12).map { counts[s][$0] > 0 ? sums[s][$0] / Double(counts[s][$0]) : nil }
            // Fill gaps of at most `gapMonths` months between two known months.
            var m = 0
            while m < 12 {
                guard monthly[m] == nil else { m += 1; continue }
                var e = m
                while e < 12 && monthly[e] == nil { e += 1 }
                if m > 0, e < 12, e - m <= gapMonths, let a = monthly[m - 1], let b = monthly[e] {
                    for k in m..<e { monthly[k] = a + (b - a) * Double(k - m + 1) / Double(e - m + 1) }
                }
                m = e
            }
            for (k, v) in monthly.enumerated() {
                guard var v else { continue }
                if s == 0 { v = min(1, max(0, v)) }
                out["\(signals[s])_\(months[k])"] = v
            }
        }
        return out
    }
}

/// The outcome of one crop's rule on one parcel.
public struct RuleOutcome: Sendable {
    public let crop: String
    public let held: Int
    public let failed: Int
    public let unknown: Int
    public let required: Int
    /// true: holds whatever the unknown conditions are; false: fails whatever they are; nil: undecided.
    public var holds: Bool? {
        if held >= required { return true }
        if held + unknown < required { return false }
        return nil
    }
    public let details: [(condition: String, result: Bool?)]
}

extension PhenologyOptions.Rule {
    func evaluate(_ features: [String: Double]) -> RuleOutcome {
        var held = 0, failed = 0, unknown = 0
        var details: [(String, Bool?)] = []
        for c in conditions {
            let r = (try? Expression(c))?.evaluate(features).map { $0 != 0 }
            switch r { case true?: held += 1; case false?: failed += 1; case nil: unknown += 1 }
            details.append((c, r))
        }
        return RuleOutcome(crop: crop, held: held, failed: failed, unknown: unknown, required: at_least ?? conditions.count, details: details)
    }

    func applies(cropCode: String?, names: [String]) -> Bool {
        if let codes = declared_crops, let cropCode, codes.contains(cropCode) { return true }
        if let groups = declared_groups {
            let lower = names.map { $0.lowercased() }
            return groups.contains { g in lower.contains { $0.contains(g.lowercased()) } }
        }
        return false
    }
}
