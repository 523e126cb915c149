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
        var kept = points.filter { $0.clear == true || ($0.clear == nil && !requireSCL) }
        // Same day (two orbits or tiles): average.
        var merged: [IndexPoint] = []
        var i = 0
        while i < kept.count {
            var j = i, sum = 0.0
            while j < kept.count && kept[j].day == kept[i].day { sum += kept[j].value; j += 1 }
            merged.append(IndexPoint(day: kept[i].day, value: sum / Double(j - i), clear: true))
            i = j
        }
        kept = merged
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

    /// Daily segments: runs of observations no more than `maxGapDays` apart, interpolated and smoothed.
    public func daily(_ points: [IndexPoint]) -> [[IndexPoint]] {
        guard !points.isEmpty else { return [] }
        var segments: [[IndexPoint]] = []
        var current: [IndexPoint] = [points[0]]
        for p in points.dropFirst() {
            if p.day - current.last!.day > maxGapDays { segments.append(current); current = [p] } else { current.append(p) }
        }
        segments.append(current)
        return segments.map { segment in
            var values: [Double] = []
            values.reserveCapacity(segment.last!.day - segment[0].day + 1)
            for k in 0..<segment.count {
                values.append(segment[k].value)
                if k + 1 < segment.count {
                    let a = segment[k], b = segment[k + 1]
                    for d in 1..<max(1, b.day - a.day) { values.append(a.value + (b.value - a.value) * Double(d) / Double(b.day - a.day)) }
                }
            }
            let smooth = smoothingDays > 0 ? Butterworth.filtfilt(values, cutoffPeriod: smoothingDays) : values
            return smooth.enumerated().map { IndexPoint(day: segment[0].day + $0.offset, value: $0.element, clear: true) }
        }
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
        let n = x.count
        guard n >= 4, cutoffPeriod > 2 else { return x }
        let k = tan(Double.pi / cutoffPeriod)            // fc = 1/period cycles/day, fs = 1
        let norm = 1 / (1 + 2.squareRoot() * k + k * k)
        let b0 = k * k * norm, b1 = 2 * b0, b2 = b0
        let a1 = 2 * (k * k - 1) * norm, a2 = (1 - 2.squareRoot() * k + k * k) * norm
        func pass(_ s: [Double]) -> [Double] {
            var y = [Double](repeating: 0, count: s.count)
            var x1 = s[0], x2 = s[0], y1 = s[0], y2 = s[0]   // start at steady state
            for i in 0..<s.count {
                let v = b0 * s[i] + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
                x2 = x1; x1 = s[i]; y2 = y1; y1 = v
                y[i] = v
            }
            return y
        }
        let pad = min(n - 1, Int(cutoffPeriod * 3))
        var padded: [Double] = []
        padded.reserveCapacity(n + 2 * pad)
        for i in stride(from: pad, to: 0, by: -1) { padded.append(2 * x[0] - x[i]) }
        padded.append(contentsOf: x)
        for i in 1...pad { padded.append(2 * x[n - 1] - x[n - 1 - i]) }
        let forward = pass(padded)
        let backward = Array(pass(Array(forward.reversed())).reversed())
        return Array(backward[pad..<(pad + n)])
    }
}
