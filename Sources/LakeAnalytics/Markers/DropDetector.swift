/// A dated event in a series (day numbers, see `Days`).
public struct Event: Sendable, Equatable {
    public let start: Int
    public let date: Int
    public let end: Int
    public let valueStart: Double
    public let valueEnd: Double
    public let magnitude: Double
    public let confidence: Double
    /// The first day the fall reached 90 % of its depth (a harvest is dated there: the field has
    /// reached stubble; the rest of the fall is smoothing and slow decay).
    public var settled: Int? = nil

    /// The same event with its main date moved (another reading of when it happened).
    public func dated(_ day: Int) -> Event {
        Event(start: start, date: day, end: end, valueStart: valueStart, valueEnd: valueEnd, magnitude: magnitude,
              confidence: confidence, settled: settled)
    }
}

/// Finds falls of the signal: from a local maximum down to the next local minimum, by at least
/// `minDrop`, starting from at least `minStart`, with the signal staying below the start level
/// minus half the drop for at least `minDays` (`minStart` applies to falls); after a detection, `quietDays` pass before the
/// next (Sen4CAP L4B). The main date is the middle of the steepest step of the fall.
/// Works on any dated series; on a daily smoothed series (see `Preprocessing`) steps are days.
public struct DropDetector: Sendable {
    public var minDrop: Double
    public var minDays: Int
    public var minStart: Double = -.infinity
    public var quietDays: Int = 0
    /// Fall of the opposite sign: rises (emergence, regrowth).
    public var rising = false

    public init(minDrop: Double, minDays: Int, minStart: Double = -.infinity, quietDays: Int = 0, rising: Bool = false) {
        self.minDrop = minDrop; self.minDays = minDays; self.minStart = minStart; self.quietDays = quietDays; self.rising = rising
    }

    public func detect(_ points: [IndexPoint]) -> [Event] {
        let values = points.map(\.value)
        return values.withUnsafeBufferPointer { detect($0) { points[$0].day } }
    }

    public func detect(_ series: DailySeries) -> [Event] {
        series.values.withUnsafeBufferPointer { detect($0) { series.start + $0 } }
    }

    @inline(__always)
    private func detect(_ values: UnsafeBufferPointer<Double>, day: (Int) -> Int) -> [Event] {
        let sign = rising ? -1.0 : 1.0
        let n = values.count
        guard n >= 2 else { return [] }
        @inline(__always) func v(_ i: Int) -> Double { values[i] * sign }
        var events: [Event] = []
        var i = 0
        var quietUntil = Int.min
        while i < n - 1 {
            // Climb to a local maximum.
            guard v(i + 1) < v(i) else { i += 1; continue }
            let s = i
            var e = s
            var steepest = s
            while e + 1 < n && v(e + 1) <= v(e) {
                if v(e) - v(e + 1) > v(steepest) - v(steepest + 1) { steepest = e }
                e += 1
            }
            let drop = v(s) - v(e)
            defer { i = max(e, s + 1) }
            guard drop >= minDrop, rising || values[s] >= minStart, day(s) >= quietUntil else { continue }
            // How long the signal stays low.
            let level = v(s) - drop / 2
            var k = e
            while k + 1 < n && v(k + 1) < level { k += 1 }
            let lowUntil = k + 1 < n ? day(k + 1) : day(k)
            let lasting = lowUntil - day(s)
            guard lasting >= minDays else { continue }
            let date = (day(steepest) + day(steepest + 1)) / 2
            var settled = e
            while settled > s && v(s) - v(settled - 1) >= 0.9 * drop { settled -= 1 }
            let confidence = min(1, drop / (2 * minDrop)) * (day(e) - day(s) <= 30 ? 1 : 0.7)
            events.append(Event(start: day(s), date: date, end: day(e),
                                valueStart: values[s], valueEnd: values[e], magnitude: drop, confidence: confidence,
                                settled: day(settled)))
            quietUntil = date + quietDays
        }
        return events
    }
}
