import Foundation

/// Crops of the fixtures, each with a seasonal NDVI curve (day of year → NDVI).
enum Crop: Int, CaseIterable {
    case maize, winterBarley, sugarBeet, potato, soy, grassland, fallow

    /// The crops drawn for parcels (fallow is planted among the anomalies, so that a seed's
    /// original parcels keep their crops).
    static let drawn: [Crop] = [.maize, .winterBarley, .sugarBeet, .potato, .soy, .grassland]

    var code: String { ["1110", "1420", "1510", "1610", "1320", "6100", "9100"][rawValue] }
    var name: String { ["maize", "winter barley", "sugar beet", "potato", "soy", "grassland", "fallow"][rawValue] }
    var isArable: Bool { self != .grassland && self != .fallow }

    /// The crop's textbook curve. Green-up and senescence as logistic curves; grassland is mown
    /// on the `mowing` days (regrowth over about three weeks). `harvest`: the cereal harvest day.
    func ndvi(day: Double, mowing: [Double], harvest: Double = 185) -> Double {
        ndvi(day: day, mowing: mowing.map { ($0, 0.40) }, harvest: harvest, regrowth: 12)
    }

    /// The same with each cut's depth and the regrowth time constant (days) of the meadow.
    func ndvi(day: Double, mowing: [(day: Double, depth: Double)], harvest: Double, regrowth: Double) -> Double {
        func rise(_ d: Double, _ mid: Double, _ w: Double) -> Double { 1 / (1 + exp(-(d - mid) / w)) }
        switch self {
        case .maize: return 0.18 + 0.68 * rise(day, 170, 9) * (1 - rise(day, 265, 8))
        case .winterBarley: return 0.35 + 0.47 * rise(day, 90, 10) * (1 - rise(day, harvest - 20, 6)) - 0.15 * rise(day, harvest, 3)
        case .sugarBeet: return 0.18 + 0.70 * rise(day, 158, 9) * (1 - rise(day, 298, 6))
        case .potato: return 0.18 + 0.65 * rise(day, 150, 7) * (1 - rise(day, 225, 7))
        case .soy: return 0.18 + 0.66 * rise(day, 180, 8) * (1 - rise(day, 260, 6))
        case .fallow: return 0.24 + 0.34 * rise(day, 115, 14) * (1 - rise(day, 285, 14))
        case .grassland:
            var v = 0.45 + 0.33 * rise(day, 95, 12) * (1 - rise(day, 320, 10))
            for m in mowing where day >= m.day {
                // A cut removes the biomass, which grows back.
                v -= m.depth * exp(-(day - m.day) / regrowth)
            }
            return max(0.2, v)
        }
    }
}
