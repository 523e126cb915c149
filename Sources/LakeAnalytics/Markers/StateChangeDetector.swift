/// Finds lasting changes of state on a daily series: days where the median of the `days` before
/// and the median of the `days` after differ by at least `minChange`. Each run of such days
/// gives one event, dated at the middle of its largest differences; start and end are the two windows' edges.
public struct StateChangeDetector: Sendable {
    public var minChange: Double
    public var days: Int

    public init(minChange: Double, days: Int) { self.minChange = minChange; self.days = days }

    public func detect(_ points: [IndexPoint]) -> [Event] {
        let n = points.count
        guard days > 0, n > 2 * days else { return [] }
        var diffs = [Double](repeating: 0, count: n)
        for t in days..<(n - days) {
            let before = points[(t - days)..<t].map(\.value).sorted(), after = points[(t + 1)...(t + days)].map(\.value).sorted()
            diffs[t] = after[after.count / 2] - before[before.count / 2]
        }
        var events: [Event] = []
        var t = days
        while t < n - days {
            guard abs(diffs[t]) >= minChange else { t += 1; continue }
            let sign = diffs[t] > 0
            var u = t
            var peak = 0.0
            while u < n - days && abs(diffs[u]) >= minChange && (diffs[u] > 0) == sign { peak = max(peak, abs(diffs[u])); u += 1 }
            // The middle of the days at the largest difference (medians flip over a plateau).
            let top = (t..<u).filter { abs(diffs[$0]) >= peak - 1e-12 }
            let best = top[top.count / 2]
            let before = points[(best - days)..<best].map(\.value).sorted(), after = points[(best + 1)...(best + days)].map(\.value).sorted()
            events.append(Event(start: points[best - days].day, date: points[best].day, end: points[best + days].day,
                                valueStart: before[before.count / 2], valueEnd: after[after.count / 2], magnitude: diffs[best],
                                confidence: min(1, abs(diffs[best]) / (2 * minChange))))
            t = u
        }
        return events
    }
}
