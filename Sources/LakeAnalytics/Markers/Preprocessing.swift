import Foundation

/// Turns a parcel's clear observations into the series detectors work on: spikes removed,
/// linearly interpolated to a daily grid within gaps no longer than `maxGapDays`, smoothed with a
/// zero-phase Butterworth low-pass (second order, run forwards and backwards).
public struct Preprocessing: Sendable {
    public var spike: Double? = 0.25
    public var maxGapDays = 20
    public var smoothingDays: Double = 10

    public init() {}

    /// Observations kept for analysis, in day order (one per day: the mean of same-day values).
    public func clean(_ points: [IndexPoint], requireSCL: Bool) -> [IndexPoint] {
        let kept = Self.oneADay(points.keeping { $0.clear == true || ($0.clear == nil && !requireSCL) })
        guard let spike, kept.count >= 3 else { return kept }
        // A single observation far below both neighbours (undetected cloud or shadow).
        var out: [IndexPoint] = [kept[0]]
        for k in 1..<(kept.count - 1) {
            let v = kept[k].value
            if kept[k - 1].value - v > spike && kept[k + 1].value - v > spike { continue }
            out.append(kept[k])
        }
        out.append(kept[kept.count - 1])
        return out
    }

    /// One point per day, in day order: the mean of same-day values (two orbits or tiles).
    public static func oneADay(_ points: [IndexPoint]) -> [IndexPoint] {
        var merged: [IndexPoint] = []
        merged.reserveCapacity(points.count)
        var i = 0
        while i < points.count {
            var j = i, sum = 0.0
            while j < points.count && points[j].day == points[i].day { sum += points[j].value; j += 1 }
            merged.append(IndexPoint(day: points[i].day, value: sum / Double(j - i), clear: true))
            i = j
        }
        return merged
    }

    /// Daily segments: runs of observations no more than `maxGapDays` apart, interpolated and smoothed.
    public func daily(_ points: [IndexPoint]) -> [[IndexPoint]] {
        dailySeries(points).map(\.points)
    }

    /// The same as plain values from a first day: what detectors work on.
    public func dailySeries(_ points: [IndexPoint]) -> [DailySeries] {
        guard !points.isEmpty else { return [] }
        var segments: [DailySeries] = []
        var first = 0
        for k in 1...points.count {
            guard k == points.count || points[k].day - points[k - 1].day > maxGapDays else { continue }
            let segment = points[first..<k]
            var values: [Double] = []
            values.reserveCapacity(segment.last!.day - segment.first!.day + 1)
            var i = segment.startIndex
            while i < segment.endIndex {
                let a = segment[i]
                values.append(a.value)
                if i + 1 < segment.endIndex {
                    let b = segment[i + 1]
                    let slope = (b.value - a.value) / Double(b.day - a.day)
                    var d = 1
                    while d < b.day - a.day { values.append(a.value + slope * Double(d)); d += 1 }
                }
                i += 1
            }
            if smoothingDays > 0 { Butterworth.filter(&values, cutoffPeriod: smoothingDays) }
            segments.append(DailySeries(start: segment.first!.day, values: values))
            first = k
        }
        return segments
    }

    /// Gaps between consecutive kept observations longer than `days`: (last before, first after).
    public static func gaps(_ points: [IndexPoint], longerThan days: Int) -> [(Int, Int)] {
        zip(points, points.dropFirst()).compactMap { $1.day - $0.day > days ? ($0.day, $1.day) : nil }
    }
}

/// Second-order Butterworth low-pass on daily samples (bilinear transform), applied forwards
/// and backwards for zero phase, with the ends padded by odd reflection to tame transients.
public enum Butterworth {
    public static func filtfilt(_ x: [Double], cutoffPeriod: Double) -> [Double] {
        var y = x
        filter(&y, cutoffPeriod: cutoffPeriod)
        return y
    }

    /// Filters `x` in place.
    public static func filter(_ x: inout [Double], cutoffPeriod: Double) {
        let n = x.count
        guard n >= 4, cutoffPeriod > 2 else { return }
        let k = tan(Double.pi / cutoffPeriod)            // fc = 1/period cycles/day, fs = 1
        let norm = 1 / (1 + 2.squareRoot() * k + k * k)
        let b0 = k * k * norm, b1 = 2 * b0, b2 = b0
        let a1 = 2 * (k * k - 1) * norm, a2 = (1 - 2.squareRoot() * k + k * k) * norm
        let pad = min(n - 1, Int(cutoffPeriod * 3))
        // One buffer: padded input, filtered forwards then backwards in place.
        withUnsafeTemporaryAllocation(of: Double.self, capacity: n + 2 * pad) { s in
            x.withUnsafeMutableBufferPointer { x in
                for i in 0..<pad { s[i] = 2 * x[0] - x[pad - i] }
                for i in 0..<n { s[pad + i] = x[i] }
                for i in 1...pad { s[pad + n - 1 + i] = 2 * x[n - 1] - x[n - 1 - i] }
                // Each pass starts at steady state on its first sample.
                var x1 = s[0], x2 = s[0], y1 = s[0], y2 = s[0]
                for i in 0..<s.count {
                    let v = b0 * s[i] + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
                    x2 = x1; x1 = s[i]; y2 = y1; y1 = v
                    s[i] = v
                }
                let last = s.count - 1
                x1 = s[last]; x2 = s[last]; y1 = s[last]; y2 = s[last]
                for i in stride(from: last, through: 0, by: -1) {
                    let v = b0 * s[i] + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
                    x2 = x1; x1 = s[i]; y2 = y1; y1 = v
                    s[i] = v
                }
                for i in 0..<n { x[i] = s[pad + i] }
            }
        }
    }
}

/// A daily series: one value per day from `start`.
public struct DailySeries: Sendable {
    public let start: Int
    public let values: [Double]
    public var points: [IndexPoint] { values.enumerated().map { IndexPoint(day: start + $0.offset, value: $0.element, clear: true) } }
}
