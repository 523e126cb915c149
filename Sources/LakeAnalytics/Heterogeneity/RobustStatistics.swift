/// Median, percentiles (numpy's linear rule) and the median absolute deviation.
public enum RobustStatistics {
    public static func percentile(_ values: [Double], _ q: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let position = q / 100 * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down)), upper = min(lower + 1, sorted.count - 1)
        let t = position - Double(lower)
        let a = sorted[lower], b = sorted[upper]
        return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t
    }

    /// The median (the mean of the two middle values of an even count), by selection rather than
    /// sorting: markers take several medians per parcel.
    public static func median(_ values: [Double]) -> Double? {
        // Counting leaves the values in place: no copy of a few dozen.
        if values.count <= rankedUpTo, let m = values.withUnsafeBufferPointer(rankedMedian) { return m }
        var v = values
        return median(reordering: &v)
    }

    /// The median of `v`, reordering it (no copy).
    public static func median(reordering v: inout [Double]) -> Double? {
        v.withUnsafeMutableBufferPointer { median(in: $0) }
    }

    /// The median of the values in `b`, reordering them.
    static func median(in b: UnsafeMutableBufferPointer<Double>) -> Double? {
        let n = b.count, k = n / 2
        guard n > 0 else { return nil }
        // (Where NaN among the values leaves no rank at k: selection, as before.)
        if n <= rankedUpTo, let m = rankedMedian(UnsafeBufferPointer(b)) { return m }
        let upper = select(b, k)
        guard n % 2 == 0 else { return upper }
        // The lower middle value is the largest of those left of k.
        var lower = b[0]
        for i in 1..<k { lower = max(lower, b[i]) }
        return (lower + upper) / 2
    }

    /// The median by `ranked`, nil for no values or where NaN leaves no rank at the middle.
    static func rankedMedian(_ b: UnsafeBufferPointer<Double>) -> Double? {
        let n = b.count, k = n / 2
        guard n > 0, let (upper, below) = ranked(b, k) else { return nil }
        guard n % 2 == 0 else { return upper }
        // The lower middle value: the upper one again when it occurs more than once from k − 1
        // on, else the largest value below it.
        if below < k { return upper }
        var lower = -Double.infinity
        for x in b where x < upper { lower = max(lower, x) }
        return (lower + upper) / 2
    }

    /// Counts up to which `ranked` finds a median faster than `select` (measured on this
    /// machine: 12–40 values 2.1× faster, 20–70 values 1.2–1.7×; BENCHMARKS).
    static let rankedUpTo = 48

    /// The k-th smallest of `b` (0-based) and how many values are below it, by counting for each
    /// value in turn how many lie below and at it: n² comparisons, four at a time and without a
    /// branch, against selection's n log n that mispredict half their branches. Stops at the
    /// first value whose rank range holds k (on average halfway through). No reordering. NaN is
    /// below and equal to nothing, so takes no rank: nil when no value's range holds k.
    static func ranked(_ b: UnsafeBufferPointer<Double>, _ k: Int) -> (value: Double, below: Int)? {
        let n = b.count, whole = n & ~3
        guard let p = b.baseAddress else { return nil }
        let raw = UnsafeRawPointer(p)
        for i in 0..<n {
            let v = b[i], vv = SIMD4<Double>(repeating: v)
            var lt = SIMD4<Int64>(repeating: 0), le = SIMD4<Int64>(repeating: 0)
            var j = 0
            while j < whole {
                let w = raw.loadUnaligned(fromByteOffset: j &* 8, as: SIMD4<Double>.self)
                // A true lane of a comparison is all ones: −1 as an integer.
                lt &-= unsafeBitCast(w .< vv, to: SIMD4<Int64>.self)
                le &-= unsafeBitCast(w .<= vv, to: SIMD4<Int64>.self)
                j &+= 4
            }
            var below = Int(lt.wrappedSum()), atMost = Int(le.wrappedSum())
            while j < n {
                let w = b[j]
                below &+= w < v ? 1 : 0
                atMost &+= w <= v ? 1 : 0
                j &+= 1
            }
            if below <= k && k < atMost { return (v, below) }
        }
        return nil   // only with NaN among the values
    }

    /// For points in day order: the median of the values within `days` of each point's day (the
    /// point itself included), nil where fewer than `least` values are that near. A level that
    /// moves with the season, against which one day's value is read.
    static func localMedians(_ points: [(day: Int, value: Double)], days: Int, least: Int = 1) -> [Double?] {
        var out: [Double?] = [], near: [Double] = []
        out.reserveCapacity(points.count)
        var lo = 0
        for p in points {
            while points[lo].day < p.day - days { lo += 1 }
            near.removeAll(keepingCapacity: true)
            for q in points[lo...] { guard q.day <= p.day + days else { break }; near.append(q.value) }
            out.append(near.count >= least ? median(reordering: &near) : nil)
        }
        return out
    }

    /// Median absolute deviation from the median (unscaled).
    public static func mad(_ values: [Double]) -> Double? {
        guard let m = median(values) else { return nil }
        return median(values.map { abs($0 - m) })
    }

    /// 1.4826 · MAD of `v`, reordering and overwriting it (no copy): the standard deviation a
    /// normal sample of that spread would have, which outliers do not inflate.
    public static func spread(reordering v: inout [Double]) -> Double? {
        guard let m = median(reordering: &v) else { return nil }
        for i in v.indices { v[i] = abs(v[i] - m) }
        return median(reordering: &v).map { 1.4826 * $0 }
    }

    /// Hoare's selection: after it, b[k] is the k-th smallest, everything left of it no larger.
    /// The pivot is the median of the first, middle and last values; ranges of 16 or fewer are
    /// finished by insertion sort (markers take about ten medians of 20–70 values per parcel).
    private static func select(_ b: UnsafeMutableBufferPointer<Double>, _ k: Int) -> Double {
        var lo = 0, hi = b.count - 1
        while hi - lo > 16 {
            let mid = (lo + hi) / 2
            let x = b[lo], y = b[mid], z = b[hi]
            let pivot = max(min(x, y), min(max(x, y), z))
            var i = lo, j = hi
            while i <= j {
                while b[i] < pivot { i += 1 }
                while b[j] > pivot { j -= 1 }
                if i <= j { b.swapAt(i, j); i += 1; j -= 1 }
            }
            if k <= j { hi = j } else if k >= i { lo = i } else { return b[k] }
        }
        if lo < hi {
            for i in (lo + 1)...hi {
                let v = b[i]
                var j = i - 1
                while j >= lo && b[j] > v { b[j + 1] = b[j]; j -= 1 }
                b[j + 1] = v
            }
        }
        return b[k]
    }

    /// (x − median) / (1.4826 · MAD): a z-score that outliers do not inflate. Nil when the
    /// spread is zero.
    public static func robustZ(_ x: Double, median: Double, mad: Double) -> Double? {
        mad > 0 ? (x - median) / (1.4826 * mad) : nil
    }
}
