import Foundation

/// Crops of the fixtures, each with a seasonal NDVI curve (day of year → NDVI).
enum Crop: Int, CaseIterable {
    case maize, winterBarley, sugarBeet, potato, soy, grassland

    var code: String { ["1110", "1420", "1510", "1610", "1320", "6100"][rawValue] }
    var name: String { ["maize", "winter barley", "sugar beet", "potato", "soy", "grassland"][rawValue] }

    /// Green-up and senescence as logistic curves; grassland is mown (see `mowingDays`).
    /// `harvest`: day of the cereal harvest (winter barley).
    func ndvi(day: Double, mowing: [Double], harvest: Double = 185) -> Double {
        func rise(_ d: Double, _ mid: Double, _ w: Double) -> Double { 1 / (1 + exp(-(d - mid) / w)) }
        switch self {
        case .maize: return 0.18 + 0.68 * rise(day, 170, 9) * (1 - rise(day, 265, 8))
        case .winterBarley: return 0.35 + 0.47 * rise(day, 90, 10) * (1 - rise(day, harvest - 20, 6)) - 0.15 * rise(day, harvest, 3)
        case .sugarBeet: return 0.18 + 0.70 * rise(day, 158, 9) * (1 - rise(day, 298, 6))
        case .potato: return 0.18 + 0.65 * rise(day, 150, 7) * (1 - rise(day, 225, 7))
        case .soy: return 0.18 + 0.66 * rise(day, 180, 8) * (1 - rise(day, 260, 6))
        case .grassland:
            var v = 0.45 + 0.33 * rise(day, 95, 12) * (1 - rise(day, 320, 10))
            for m in mowing where day >= m {
                // A cut removes the biomass, which grows back over about three weeks.
                v -= 0.40 * exp(-(day - m) / 12)
            }
            return max(0.2, v)
        }
    }
}
