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

    public static func median(_ values: [Double]) -> Double? { percentile(values, 50) }

    /// Median absolute deviation from the median (unscaled).
    public static func mad(_ values: [Double]) -> Double? {
        guard let m = median(values) else { return nil }
        return median(values.map { abs($0 - m) })
    }

    /// (x − median) / (1.4826 · MAD): a z-score that outliers do not inflate. Nil when the
    /// spread is zero.
    public static func robustZ(_ x: Double, median: Double, mad: Double) -> Double? {
        mad > 0 ? (x - median) / (1.4826 * mad) : nil
    }
}
