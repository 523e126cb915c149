import Foundation
import LakeStore
import Yams

/// What an option file may say, checked before it runs: every key known (a misspelt key is an
/// error, not a silent default), every number finite and in its range, every MM-DD a real day,
/// every SCL class 0–11.
enum OptionFileCheck {
    indirect enum Shape: Sendable {
        case keys([String: Shape])
        case list(Shape)
        case number(ClosedRange<Double>)
        case integer(ClosedRange<Int>)
        case monthDay
        case scl
        case any
    }

    static let requirement: Shape = .keys(["detector": .any, "at_least": .integer(0...10_000), "at_most": .integer(0...10_000), "reason": .any])
    static let fraction = 0.0...1.0
    static let shape: Shape = .keys([
        "name": .any, "signal": .any,
        "parcels": .keys(["crops": .any, "groups": .any]),
        "observations": .keys(["cloud_classes": .list(.scl), "require_scl": .any]),
        "preprocessing": .keys(["spike": .number(0...2), "max_gap_days": .integer(1...366), "smoothing_days": .number(0...366)]),
        "screening": .keys(["enabled": .any, "haze_rise": .number(0...1), "shadow_factor": .number(fraction), "edge_factor": .number(1...1000),
                            "dip_drop": .number(0...2), "dip_days": .integer(1...366), "bright_blue": .number(100...100_000), "overrule_scl": .any, "greener_than_usual": .number(0...2), "regional": .any, "area_metres": .number(100...1_000_000)]),
        "detectors": .list(.keys([
            "name": .any, "type": .any, "min_drop": .number(0.000_001...2), "min_days": .integer(0...366), "min_start": .number(-2...2),
            "quiet_days": .integer(0...366), "date": .any, "from": .monthDay, "to": .monthDay, "min_change": .number(0.000_001...2),
            "days": .integer(1...366), "below": .number(-100_000...100_000), "above": .number(-100_000...100_000),
            "regrow_days": .integer(1...366), "regrow_share": .number(fraction), "settle_days": .integer(1...366), "fall_days": .integer(1...366), "fast_share": .number(fraction), "soil_level": .number(0...1), "regional": .any, "noise_factor": .number(0...100),
            "coherence": .any, "coherence_rise": .number(0.01...1), "coherence_regional_rise": .number(0.05...10), "coherence_max_pair_days": .integer(1...366)])),
        "combine": .list(.keys(["name": .any, "confirm": .any, "with": .any, "merge": .any, "days": .integer(0...366)])),
        "decision": .keys(["scheme": .any, "window": .keys(["from": .monthDay, "to": .monthDay]),
                           "min_clear_observations": .integer(0...10_000), "max_gap_days": .integer(1...366),
                           "green": requirement, "red": requirement, "reject": .list(requirement),
                           "radar_only": .keys(["min_cuts": .integer(1...100), "min_confidence": .number(fraction)])]),
        "phenology": .keys(["interpolate_gap_months": .integer(0...12),
                            "rules": .list(.keys(["crop": .any, "declared_crops": .any, "declared_groups": .any, "conditions": .any,
                                                  "at_least": .integer(0...100)]))]),
        "crop_check": .keys(["min_peers": .integer(3...1_000_000), "min_bins": .integer(1...37), "spreads": .number(0.01...100)]),
    ])

    static func check(_ text: String, path: String) throws {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch { throw LakeError.input(file: path, location: nil, reason: "not valid YAML: \(error)") }
        guard let node else { throw LakeError.input(file: path, location: nil, reason: "empty option file") }
        try walk(node, shape, at: "", path: path)
    }

    private static func walk(_ node: Node, _ shape: Shape, at key: String, path: String) throws {
        func fail(_ why: String) -> LakeError {
            LakeError.input(file: path, location: node.mark.map { "line \($0.line)" }, reason: (key.isEmpty ? "" : "\(key): ") + why)
        }
        switch shape {
        case .any: return
        case .keys(let allowed):
            guard let mapping = node.mapping else { throw fail("expected a mapping of keys") }
            for (k, v) in mapping {
                guard let name = k.string else { throw fail("a key that is not text") }
                guard let sub = allowed[name] else {
                    let near = allowed.keys.sorted().filter { $0.hasPrefix(String(name.prefix(3))) }
                    throw LakeError.input(file: path, location: k.mark.map { "line \($0.line)" },
                                          reason: "unknown key \(key.isEmpty ? name : key + "." + name)" + (near.isEmpty ? "" : " (did you mean \(near.joined(separator: " or "))?)"))
                }
                try walk(v, sub, at: key.isEmpty ? name : key + "." + name, path: path)
            }
        case .list(let item):
            guard let sequence = node.sequence else { throw fail("expected a list") }
            for (i, v) in sequence.enumerated() { try walk(v, item, at: "\(key)[\(i)]", path: path) }
        case .number(let range):
            guard let text = node.scalar?.string, let v = Double(text.trimmingCharacters(in: .whitespaces)), v.isFinite else {
                throw fail("\(node.scalar?.string ?? "this") is not a finite number")
            }
            guard range.contains(v) else { throw fail("\(text) is outside \(range.lowerBound)…\(range.upperBound)") }
        case .integer(let range):
            guard let text = node.scalar?.string, let v = Int(text.trimmingCharacters(in: .whitespaces)) else { throw fail("\(node.scalar?.string ?? "this") is not a whole number") }
            guard range.contains(v) else { throw fail("\(v) is outside \(range.lowerBound)…\(range.upperBound)") }
        case .scl:
            guard let text = node.scalar?.string, let v = Int(text), (0...11).contains(v) else {
                throw fail("\(node.scalar?.string ?? "this") is not an SCL class (0–11)")
            }
        case .monthDay:
            guard let text = node.scalar?.string else { throw fail("expected MM-DD") }
            guard SeasonWindow.monthDay(text) != nil else { throw fail("\(text) is not a day of the year (MM-DD)") }
        }
    }
}
