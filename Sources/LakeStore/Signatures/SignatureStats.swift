/// The statistics of one band of one parcel in one scene, exact to float32 as in the JRC
/// signature tables (`count real, mean real, ...`).
public struct SignatureStats: Equatable, Sendable {
    public var count: Float
    public var mean: Float
    public var std: Float
    public var min: Float
    public var max: Float
    public var p25: Float
    public var p50: Float
    public var p75: Float

    public static let fieldNames = ["count", "mean", "std", "min", "max", "p25", "p50", "p75"]

    /// Why these statistics cannot be a band's statistics over a parcel, or nil: the mean is
    /// required and every value given must be finite; count is a whole number ≥ 0; std ≥ 0;
    /// min ≤ p25 ≤ p50 ≤ p75 ≤ max and min ≤ mean ≤ max, within float32 rounding. Statistics not
    /// given (NaN) are allowed, except the mean.
    public var problem: String? {
        if mean.isNaN { return "mean is missing (or NaN)" }
        for k in 0..<8 where self[k].isInfinite { return "\(Self.fieldNames[k]) is not a finite number (\(self[k]))" }
        if !count.isNaN && (count < 0 || count != count.rounded()) { return "count is not a whole number ≥ 0: \(count)" }
        if std < 0 { return "std is negative: \(std)" }
        let scale = Swift.max(1, abs(min.isNaN ? 0 : min), abs(max.isNaN ? 0 : max), abs(mean))
        let slack = 1e-4 * scale
        // min ≤ p25 ≤ p50 ≤ p75 ≤ max over the ones given, without building anything per row
        // (this runs for every row of every load).
        let ordered = (min, p25, p50, p75, max)
        var previous: (index: Int, value: Float)?
        for (index, value) in [ordered.0, ordered.1, ordered.2, ordered.3, ordered.4].enumerated() where !value.isNaN {
            if let p = previous, p.value > value + slack {
                let names = ["min", "p25", "p50", "p75", "max"]
                return "\(names[p.index]) \(p.value) is above \(names[index]) \(value)"
            }
            previous = (index, value)
        }
        if !min.isNaN && mean < min - slack { return "mean \(mean) is below min \(min)" }
        if !max.isNaN && mean > max + slack { return "mean \(mean) is above max \(max)" }
        return nil
    }

    public init(count: Float, mean: Float, std: Float, min: Float, max: Float,
                p25: Float, p50: Float, p75: Float) {
        self.count = count; self.mean = mean; self.std = std; self.min = min; self.max = max
        self.p25 = p25; self.p50 = p50; self.p75 = p75
    }

    /// Field `i` in `fieldNames` order.
    public subscript(i: Int) -> Float {
        get {
            switch i {
            case 0: count case 1: mean case 2: std case 3: min
            case 4: max case 5: p25 case 6: p50 default: p75
            }
        }
        set {
            switch i {
            case 0: count = newValue case 1: mean = newValue case 2: std = newValue
            case 3: min = newValue case 4: max = newValue case 5: p25 = newValue
            case 6: p50 = newValue default: p75 = newValue
            }
        }
    }

    public static let zero = SignatureStats(count: 0, mean: 0, std: 0, min: 0, max: 0, p25: 0, p50: 0, p75: 0)

    /// Bitwise equality (NaN equals NaN with the same payload): "the same row again".
    public func identical(to other: SignatureStats) -> Bool {
        (0..<8).allSatisfy { self[$0].bitPattern == other[$0].bitPattern }
    }

    /// These statistics with a radiometric offset added to the location statistics
    /// (mean, min, max, percentiles); count and std are unchanged by an offset.
    public func offset(by delta: Float) -> SignatureStats {
        guard delta != 0 else { return self }
        var s = self
        for i in [1, 3, 4, 5, 6, 7] { s[i] += delta }
        return s
    }
}

/// One signature row of a parcel's series: scene, band and statistics.
public struct SignatureRow: Equatable, Sendable {
    public var obsid: Int64
    public var bandID: UInt8
    public var stats: SignatureStats

    public init(obsid: Int64, bandID: UInt8, stats: SignatureStats) {
        self.obsid = obsid; self.bandID = bandID; self.stats = stats
    }
}
