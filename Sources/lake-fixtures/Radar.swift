import Foundation

/// Sentinel-1 interferometric coherence as the JRC `c6` signatures: one catalogue entry per
/// pair of acquisitions `pairDays` apart (named after the later SLC product), and per parcel and
/// pair the VV and VH coherence statistics.
///
/// What drives coherence over a field, as the fixtures model it: the surface's stability between
/// the two acquisitions. A dense canopy moves and grows (0.1–0.2), bare soil and stubble keep
/// (0.5–0.65), so a cut lifts coherence for the pairs after it until the sward has grown back.
/// The pair during which a field is mown, harvested or grazed decorrelates. And the nasty part:
/// rain between the acquisitions lowers coherence over the whole area (a third of the pairs),
/// calm dry weather lifts it a little, frost in winter lifts it a lot, acquisitions go missing,
/// and every parcel's estimate is noisy.
extension FixtureGenerator {
    struct RadarPair {
        let reference: String
        let obstime: String
        /// Day of year of the earlier and the later acquisition.
        let start: Double, end: Double
        /// Area-wide weather between the acquisitions: a factor (rain) and an addition (calm, frost).
        let factor: Double, lift: Double
    }

    func makeRadarPairs(pairDays: Int) -> [RadarPair] {
        var rng = SeededRandom(seed: seed ^ 0x51C0_4E4E)
        var out: [RadarPair] = []
        var end = 3.0 + Double(pairDays)
        var orbit = 51_000 + Int(seed % 1000)
        let utc = TimeZone(identifier: "UTC")!
        var calendar = Calendar(identifier: .gregorian); calendar.timeZone = utc
        let f = DateFormatter(); f.timeZone = utc; f.locale = Locale(identifier: "en_US_POSIX")
        while end <= 365 {
            defer { end += Double(pairDays); orbit += 175 * pairDays / 12 }
            // A missing acquisition now and then (an anomaly, a conflict in the plan).
            if rng.uniform() < 0.04 { continue }
            var factor = 1.0, lift = 0.0
            if rng.uniform() < 0.33 { factor = rng.uniform(0.45, 0.85) }          // rain
            else if rng.uniform() < 0.12 { lift = rng.uniform(0.03, 0.08) }       // calm and dry
            if (end < 60 || end > 335) && rng.uniform() < 0.3 { lift += rng.uniform(0.15, 0.3) }   // frost
            let date = calendar.date(byAdding: .day, value: Int(end) - 1, to: calendar.date(from: DateComponents(year: year, month: 1, day: 1))!)!
            let time = date.addingTimeInterval(17 * 3600 + 25 * 60 + Double(rng.next() % 60))
            f.dateFormat = "yyyyMMdd'T'HHmmss"
            let compact = f.string(from: time), compact2 = f.string(from: time.addingTimeInterval(27))
            f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss'Z'"
            let reference = "S1A_IW_SLC__1SDV_\(compact)_\(compact2)_\(String(format: "%06d", orbit))_\(String(format: "%06X", (orbit * 7) & 0xFFFFFF))_\(String(format: "%04X", rng.next() & 0xFFFF))"
            out.append(RadarPair(reference: reference, obstime: f.string(from: time), start: end - Double(pairDays), end: end,
                                 factor: factor, lift: lift))
        }
        return out
    }

    /// The dias_catalogue CSV of the pairs.
    func writeRadarCatalogue(_ pairs: [RadarPair], to path: String) throws {
        let out = try TextFile(path)
        out.write("reference,obstime,card,footprint\n")
        for p in pairs {
            out.write("\(p.reference),\(p.obstime),c6,\"POLYGON((7.6 47.3, 9.1 47.3, 9.1 48.3, 7.6 48.3, 7.6 47.3))\"\n")
        }
        out.close()
    }

    /// The coherence of a field over one pair, before noise.
    func coherence(_ parcel: Parcel, _ pair: RadarPair) -> Double {
        func stability(_ ndvi: Double) -> Double { 0.62 - 0.5 * min(1, max(0, (ndvi - 0.2) / 0.6)) }
        let mid = (pair.start + pair.end) / 2
        var c = stability(parcel.ndvi(day: mid))
        if let second = parcel.secondNDVI(day: mid) { c = (1 - parcel.splitShare) * c + parcel.splitShare * stability(second) }
        let during = { (day: Double) in day > pair.start && day <= pair.end }
        if parcel.crop == .grassland && parcel.mowing.contains(where: during) { c = 0.1 }
        if parcel.crop == .winterBarley && during(parcel.harvest) { c = 0.12 }
        if parcel.grazed { c -= 0.06 }
        return c * pair.factor + pair.lift
    }

    /// Coherence signatures (VV and VH) in the JRC signature-table form, parcel by parcel.
    func writeRadarSignatures(_ parcels: [Parcel], _ pairs: [RadarPair], to path: String) throws {
        let out = try TextFile(path)
        out.write("parcel_id,reference,band,count,mean,std,min,max,p25,p50,p75\n")
        for (p, parcel) in parcels.enumerated() {
            let n = max(1, Int(parcel.area / 400 * 0.8))
            for (k, pair) in pairs.enumerated() {
                var rng = SeededRandom(seed: seed ^ 0xC0E ^ UInt64(p) &* 0x1_0000_0001 ^ UInt64(k) &* 0x9E37)
                let vv = min(0.95, max(0.02, coherence(parcel, pair) + rng.normal() * 0.04))
                let vh = min(0.95, max(0.02, vv * 0.78 + rng.normal() * 0.03))
                for (band, mean) in [("VV", vv), ("VH", vh)] {
                    let std = 0.08 + 0.15 * mean
                    out.write("\(parcel.id),\(pair.reference),\(band),\(n),\(decimal(mean, places: 4)),\(decimal(std, places: 4)),")
                    out.write("\(decimal(max(0, mean - 2.5 * std), places: 4)),\(decimal(min(1, mean + 2.5 * std), places: 4)),")
                    out.write("\(decimal(max(0, mean - 0.674 * std), places: 4)),\(decimal(mean, places: 4)),\(decimal(min(1, mean + 0.674 * std), places: 4))\n")
                }
            }
        }
        out.close()
    }
}
