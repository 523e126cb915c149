import LakeStore

/// Statistics of one parcel's valid pixel values, as the JRC signatures hold them: count, mean,
/// population standard deviation, min, max, and the 25th/50th/75th percentiles with numpy's
/// default (linear) interpolation between order statistics. Accumulated in double precision
/// and stored as float32.
public enum ZonalStatistics {
    /// `values` is sorted in place. Nil when there are no values.
    public static func compute(_ values: inout [Double], count n: Int) -> SignatureStats? {
        guard n > 0 else { return nil }
        var sum = 0.0
        for i in 0..<n { sum += values[i] }
        let mean = sum / Double(n)
        var squares = 0.0
        for i in 0..<n { let d = values[i] - mean; squares += d * d }
        values.withUnsafeMutableBufferPointer { p in
            var slice = p[0..<n]
            slice.sort()
        }
        func percentile(_ q: Double) -> Double {
            let position = q * Double(n - 1)
            let lower = Int(position.rounded(.down))
            let upper = min(lower + 1, n - 1)
            let t = position - Double(lower)
            let a = values[lower], b = values[upper]
            // numpy's _lerp: exact at both ends.
            return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t
        }
        return SignatureStats(count: Float(n), mean: Float(mean), std: Float((squares / Double(n)).squareRoot()),
                              min: Float(values[0]), max: Float(values[n - 1]),
                              p25: Float(percentile(0.25)), p50: Float(percentile(0.5)), p75: Float(percentile(0.75)))
    }
}
