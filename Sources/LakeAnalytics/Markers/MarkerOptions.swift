import Foundation
import LakeQuery
import LakeStore
import Yams

/// A markers option file (YAML): the whole chain from observations to decisions.
///
///     name: grassland-mowing
///     signal: ndvi                      # ndvi | bsi | vv | vh
///     parcels: {crops: ["6100"], groups: [grass]}
///     observations: {cloud_classes: [3, 8, 9, 10, 11], require_scl: true}
///     preprocessing: {spike: 0.25, max_gap_days: 20, smoothing_days: 10}
///     detectors:
///       - {name: mowing, type: drop, min_drop: 0.10, min_days: 14, from: "04-01", to: "10-31"}
///     decision: {scheme: mowing, window: {from: "04-01", to: "10-31"}, min_clear_observations: 6,
///                green: {detector: mowing, at_least: 1}}
///     phenology: {...}                  # crop rules on monthly composites (see PhenologyOptions)
public struct MarkerOptions: Decodable, Sendable {
    public var name: String
    public var signal: String = "ndvi"
    public var parcels: ParcelSelection?
    public var observations: Observations?
    public var preprocessing: Preprocessing?
    public var screening: Screening?
    private var detectorList: [Detector]?
    public var detectors: [Detector] { detectorList ?? [] }
    public var combine: [Combination]?
    public var decision: Decision?
    public var phenology: PhenologyOptions?
    /// The crop check against the lake's peer envelopes (`lake check crops`) as an option file.
    public var crop_check: CropCheckSection?

    public struct CropCheckSection: Decodable, Sendable {
        public var min_peers: Int?
        public var min_bins: Int?
        public var spreads: Double?
    }

    enum CodingKeys: String, CodingKey {
        case name, signal, parcels, observations, preprocessing, screening, combine, decision, phenology, crop_check
        case detectorList = "detectors"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        signal = try c.decodeIfPresent(String.self, forKey: .signal) ?? "ndvi"
        parcels = try c.decodeIfPresent(ParcelSelection.self, forKey: .parcels)
        observations = try c.decodeIfPresent(Observations.self, forKey: .observations)
        preprocessing = try c.decodeIfPresent(Preprocessing.self, forKey: .preprocessing)
        screening = try c.decodeIfPresent(Screening.self, forKey: .screening)
        detectorList = try c.decodeIfPresent([Detector].self, forKey: .detectorList)
        combine = try c.decodeIfPresent([Combination].self, forKey: .combine)
        decision = try c.decodeIfPresent(Decision.self, forKey: .decision)
        phenology = try c.decodeIfPresent(PhenologyOptions.self, forKey: .phenology)
        crop_check = try c.decodeIfPresent(CropCheckSection.self, forKey: .crop_check)
    }

    public struct ParcelSelection: Decodable, Sendable {
        /// Crop codes (exact).
        public var crops: [String]?
        /// Crop group or crop names containing one of these (case-insensitive).
        public var groups: [String]?
    }

    public struct Observations: Decodable, Sendable {
        public var cloud_classes: [Int]?
        /// Leave out observations without an SCL histogram (default true).
        public var require_scl: Bool?
    }

    public struct Preprocessing: Decodable, Sendable {
        /// Remove single observations that fall below both neighbours by more than this.
        public var spike: Double?
        /// Gaps longer than this (days) are not interpolated across (JRC default 20).
        public var max_gap_days: Int?
        /// Butterworth low-pass cut-off period in days (0: no smoothing).
        public var smoothing_days: Double?
    }

    /// Observation screening beyond SCL (see `ObservationScreen`): on by default for the
    /// detectors that read observations (`cut`, `spell`); `enabled: false` keeps SCL alone.
    public struct Screening: Decodable, Sendable {
        public var enabled: Bool?
        /// Blue above the parcel's clear line by at least this reflectance: haze.
        public var haze_rise: Double?
        /// NIR and SWIR both below this share of the parcel's medians: shadow.
        public var shadow_factor: Double?
        /// B02 within-parcel spread above this multiple of the parcel's usual: cloud edge.
        public var edge_factor: Double?
        /// A dip of at least `dip_drop` back within `dip_days`: not a real change.
        public var dip_drop: Double?
        public var dip_days: Int?
        /// Without SCL, an observation whose mean blue (B02, reflectance × 10 000) is above this is cloud.
        public var bright_blue: Double?
        /// SCL-flagged observations whose bands contradict SCL (on the parcel's clear line, as
        /// uniform as usual, not shadow-dark) are clear: Sen2Cor's false clouds on bright soil and
        /// drying hay. Default true.
        public var overrule_scl: Bool?
        /// An observation this much greener (NDVI) than the parcel's usual is not judged by its
        /// clear line: an arable parcel's line is its soil's, and its green crop lies above it.
        public var greener_than_usual: Double?
        /// Drops shared on one date by most parcels of the area (regional context).
        public var regional: Bool?
        /// Side of the square areas of the regional context, metres (degrees / 100 000 in a
        /// geographic lake).
        public var area_metres: Double?
    }

    public struct Detector: Decodable, Sendable {
        public var name: String
        /// drop | rise | state | threshold | gap
        public var type: String
        public var min_drop: Double?
        public var min_days: Int?
        public var min_start: Double?
        public var quiet_days: Int?
        /// Which day dates a drop or rise: steepest (default), start, or end (where the fall
        /// reached 90 % of its depth).
        public var date: String?
        /// Season window, MM-DD.
        public var from: String?
        public var to: String?
        /// state: the median of the `days` before a day and of the `days` after differ by at
        /// least `min_change` (a lasting change of state: emergence, ploughing, a new crop).
        public var min_change: Double?
        public var days: Int?
        /// threshold: the median of the clear values in the window `below` or `above` this.
        public var below: Double?
        public var above: Double?
        /// cut: regrowth within `regrow_days` of at least `regrow_share` of the depth confirms a
        /// cut; a fall that stays low while observations continue for `settle_days` is a harvest.
        public var regrow_days: Int?
        public var regrow_share: Double?
        public var settle_days: Int?
        /// cut: the depth must be reached within this many days of the first lower observation
        /// (default 8: a slow decline over weeks is not a cut).
        public var fall_days: Int?
        /// cut: that fast part at least this share of the fall's whole depth (default 0.5: a
        /// meadow drying over weeks is not a cut).
        public var fast_share: Double?
        /// cut: a fall whose lowest observation is below this is down to bare soil: ploughing
        /// (and resowing), not a cut (default 0.22; 0 turns it off).
        public var soil_level: Double?
        /// spell, cut: read the area's season (the median of its parcels of the same selection,
        /// default true). spell: a spell the area shares (a dry summer) is the season's, not the
        /// field's, and not kept. cut: a fall that stays low while the area's meadows are dormant
        /// is a cut, not a harvest.
        public var regional: Bool?
        /// cut: the depth must also be this many times the parcel's own noise.
        public var noise_factor: Double?
        /// cut: use Sentinel-1 coherence (scenes of card c6/c12) where the lake has it, to see
        /// cuts in Sentinel-2's cloudy gaps and to cover those gaps (default true).
        public var coherence: Bool?
        /// cut: the least rise of coherence above the parcel's vegetated level that shows a cut.
        public var coherence_rise: Double?
        /// cut: the same as a share of the area's typical coherence on the pair, where the
        /// regional context knows it (the weather divided out).
        public var coherence_regional_rise: Double?
        /// cut: coherence of pairs at most this many days apart is used (default 7: 6-day pairs;
        /// over 12 days the sward regrows within the pair and a cut seldom shows).
        public var coherence_max_pair_days: Int?
    }

    /// How markers of detectors are combined into new markers.
    public struct Combination: Decodable, Sendable {
        public var name: String
        /// Markers of `detector` kept only when a marker of `with` lies within `days`.
        public var confirm: String?
        public var with: String?
        /// Markers of these detectors within `days` of each other merged into one.
        public var merge: [String]?
        public var days: Int?
    }

    public struct Decision: Decodable, Sendable {
        public var scheme: String
        public var window: Window?
        public var min_clear_observations: Int?
        /// Yellow when a gap in the window is longer than this.
        public var max_gap_days: Int?
        public var green: Requirement
        /// Green on Sentinel-1 coherence alone (every green marker `seen_by` coherence, none
        /// seen by Sentinel-2) only with this much evidence; otherwise yellow, saying so.
        public var radar_only: RadarOnly?
        /// Checked first: red when one of these holds (e.g. a declared meadow whose curve is
        /// bare for weeks, as an arable field's is).
        public var reject: [Requirement]?
        /// When not given: red when the green requirement fails with enough evidence.
        public var red: Requirement?
    }

    /// How much radar-only evidence a green needs: at least `min_cuts` cuts, or one of
    /// confidence `min_confidence` or more.
    public struct RadarOnly: Decodable, Sendable {
        public var min_cuts: Int?
        public var min_confidence: Double?
    }

    public struct Window: Decodable, Sendable {
        public var from: String
        public var to: String
    }

    public struct Requirement: Decodable, Sendable {
        public var detector: String
        public var at_least: Int?
        public var at_most: Int?
        /// Said in the decision's reasons when the requirement decides it.
        public var reason: String?
    }

    /// Reads and checks an option file; errors name the file and the problem.
    public static func load(path: String) throws -> (options: MarkerOptions, text: String) {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw LakeError.input(file: path, location: nil, reason: "cannot read: \(error.localizedDescription)")
        }
        try OptionFileCheck.check(text, path: path)
        let options: MarkerOptions
        do { options = try YAMLDecoder().decode(MarkerOptions.self, from: text) } catch let error as DecodingError {
            throw LakeError.input(file: path, location: nil, reason: describe(error))
        } catch {
            throw LakeError.input(file: path, location: nil, reason: "not valid YAML: \(error)")
        }
        try options.validate(path: path)
        return (options, text)
    }

    static func describe(_ error: DecodingError) -> String {
        func at(_ path: [CodingKey]) -> String { path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".") }
        switch error {
        case .keyNotFound(let key, let c): return "missing \(at(c.codingPath + [key]))"
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            return "\(at(c.codingPath)): \(c.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    public var signalKind: Signal { Signal(rawValue: signal) ?? .ndvi }

    func validate(path: String) throws {
        func fail(_ why: String) -> LakeError { LakeError.input(file: path, location: nil, reason: why) }
        guard Signal(rawValue: signal) != nil else { throw fail("signal must be one of \(Signal.allCases.map(\.rawValue).joined(separator: ", ")), not \(signal)") }
        let names = Set(detectors.map(\.name) + detectors.filter { $0.type == "cut" }.map { $0.name + "-rejected" } + (combine ?? []).map(\.name))
        for d in detectors {
            switch d.type {
            case "drop", "rise": guard d.min_drop != nil else { throw fail("detector \(d.name): \(d.type) needs min_drop") }
            case "threshold": guard (d.below == nil) != (d.above == nil) else { throw fail("detector \(d.name): threshold needs one of below and above") }
            case "gap": guard d.min_days != nil else { throw fail("detector \(d.name): gap needs min_days") }
            case "state": guard d.min_change != nil else { throw fail("detector \(d.name): state needs min_change") }
            case "cut", "harvest": break
            case "spell": guard d.below != nil, d.min_days != nil else { throw fail("detector \(d.name): spell needs below and min_days") }
            default: throw fail("detector \(d.name): unknown type \(d.type) (drop, rise, cut, harvest, spell, state, threshold, gap)")
            }
            if let date = d.date, !["steepest", "start", "end"].contains(date) { throw fail("detector \(d.name): date is steepest, start or end, not \(date)") }
            for md in [d.from, d.to].compactMap({ $0 }) where SeasonWindow(md, md) == nil { throw fail("detector \(d.name): \(md) is not MM-DD") }
        }
        for c in combine ?? [] {
            for ref in [c.confirm, c.with].compactMap({ $0 }) + (c.merge ?? []) where !names.contains(ref) {
                throw fail("combine \(c.name): no detector \(ref)")
            }
        }
        if let decision {
            for r in [decision.green, decision.red].compactMap({ $0 }) + (decision.reject ?? []) where !names.contains(r.detector) && r.detector != "phenology" {
                throw fail("decision \(decision.scheme): no detector \(r.detector)")
            }
            if let w = decision.window, SeasonWindow(w.from, w.to) == nil { throw fail("decision window: \(w.from)..\(w.to) is not MM-DD..MM-DD") }
        }
        if crop_check != nil { return }   // its ranges: OptionFileCheck
        if detectors.isEmpty && phenology == nil { throw fail("no detectors, no phenology rules and no crop_check: nothing to run") }
        try phenology?.validate(path: path)
    }
}
