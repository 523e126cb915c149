import LakeStore

/// Statistics of one parcel's valid pixel values, as the JRC signatures hold them: count, mean,
/// population standard deviation, min, max, and the 25th/50th/75th percentiles with numpy's
/// default (linear) interpolation between order statistics. Accumulated in double precision
/// and stored as float32.
public enum ZonalStatistics {
    /// `values[0..<count]` is reordered in place. Nil when there are no values.
    public static func compute(_ values: inout [Double], count n: Int) -> SignatureStats? {
        guard n > 0 else { return nil }
        var sum = 0.0, lowest = Double.infinity, highest = -Double.infinity
        for i in 0..<n {
            let v = values[i]
            sum += v
            if v < lowest { lowest = v }
            if v > highest { highest = v }
        }
        let mean = sum / Double(n)
        var squares = 0.0
        for i in 0..<n { let d = values[i] - mean; squares += d * d }
        // The order statistics the percentiles interpolate between, found by selection (O(n))
        // rather than a full sort, which was a quarter of extraction time.
        let positions = (0.25 * Double(n - 1), 0.5 * Double(n - 1), 0.75 * Double(n - 1))
        var p25 = 0.0, p50 = 0.0, p75 = 0.0
        values.withUnsafeMutableBufferPointer { buffer in
            var lower = 0
            func percentile(_ position: Double) -> Double {
                let k = Int(position.rounded(.down))
                Self.select(buffer, k, from: lower, to: n - 1)
                lower = k
                let t = position - Double(k)
                let a = buffer[k]
                guard t > 0 else { return a }
                // The next order statistic is the smallest value right of k.
                var b = buffer[k + 1]
                for i in (k + 2)..<max(k + 2, n) where buffer[i] < b { b = buffer[i] }
                // numpy's _lerp: exact at both ends.
                return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t
            }
            p25 = percentile(positions.0); p50 = percentile(positions.1); p75 = percentile(positions.2)
        }
        return SignatureStats(count: Float(n), mean: Float(mean), std: Float((squares / Double(n)).squareRoot()),
                              min: Float(lowest), max: Float(highest),
                              p25: Float(p25), p50: Float(p50), p75: Float(p75))
    }

    /// Quickselect: afterwards buffer[k] holds the k-th smallest of buffer[lo...hi], smaller
    /// values before it and larger after (median-of-three pivots, Hoare partitioning).
    static func select(_ buffer: UnsafeMutableBufferPointer<Double>, _ k: Int, from lo: Int, to hi: Int) {
        var lo = lo, hi = hi
        while hi > lo {
            let mid = lo + (hi - lo) / 2
            if buffer[mid] < buffer[lo] { buffer.swapAt(mid, lo) }
            if buffer[hi] < buffer[lo] { buffer.swapAt(hi, lo) }
            if buffer[hi] < buffer[mid] { buffer.swapAt(hi, mid) }
            let pivot = buffer[mid]
            var i = lo, j = hi
            while i <= j {
                while buffer[i] < pivot { i += 1 }
                while buffer[j] > pivot { j -= 1 }
                if i <= j { buffer.swapAt(i, j); i += 1; j -= 1 }
            }
            if k <= j { hi = j } else if k >= i { lo = i } else { return }
        }
    }
}
