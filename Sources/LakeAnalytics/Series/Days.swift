/// Calendar dates as day numbers (days since 1970-01-01, proleptic Gregorian), without
/// Foundation: series work runs over millions of observations.
public enum Days {
    /// "2024-06-15…" → day number; nil when the text does not start with a date.
    public static func number(_ text: String) -> Int? {
        var digits: [Int] = []
        digits.reserveCapacity(8)
        for (i, c) in text.utf8.prefix(10).enumerated() {
            if i == 4 || i == 7 { guard c == UInt8(ascii: "-") else { return nil }; continue }
            guard c >= 48 && c <= 57 else { return nil }
            digits.append(Int(c - 48))
        }
        guard digits.count == 8 else { return nil }
        let y = digits[0] * 1000 + digits[1] * 100 + digits[2] * 10 + digits[3]
        let m = digits[4] * 10 + digits[5], d = digits[6] * 10 + digits[7]
        guard (1...12).contains(m), (1...31).contains(d) else { return nil }
        return number(year: y, month: m, day: d)
    }

    /// Howard Hinnant's days_from_civil.
    public static func number(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Day number → (year, month, day).
    public static func civil(_ n: Int) -> (year: Int, month: Int, day: Int) {
        let z = n + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Day number → "YYYY-MM-DD".
    public static func text(_ n: Int) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(10)
        append(n, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends "YYYY-MM-DD" (years 0–9999; others in full with their sign) to `bytes`.
    /// (Digits by division by constants, which compile to multiplications: a markers run writes
    /// three dates for each of its tens of thousands of markers.)
    public static func append(_ n: Int, to bytes: inout [UInt8]) {
        let (y, m, d) = civil(n)
        func two(_ v: Int) { bytes.append(UInt8(48 + v / 10)); bytes.append(UInt8(48 + v % 10)) }
        if (0...9999).contains(y) { two(y / 100); two(y % 100) } else { bytes.append(contentsOf: Array(String(y).utf8)) }
        bytes.append(UInt8(ascii: "-")); two(m)
        bytes.append(UInt8(ascii: "-")); two(d)
    }

    /// Appends "MM-DD" of a day number to `bytes`.
    public static func appendMonthDay(_ n: Int, to bytes: inout [UInt8]) {
        let (_, m, d) = civil(n)
        bytes.append(UInt8(48 + m / 10)); bytes.append(UInt8(48 + m % 10))
        bytes.append(UInt8(ascii: "-"))
        bytes.append(UInt8(48 + d / 10)); bytes.append(UInt8(48 + d % 10))
    }

    /// Day of year (1-based) of a day number.
    public static func dayOfYear(_ n: Int) -> Int { n - number(year: civil(n).year, month: 1, day: 1) + 1 }

    /// `dayOfYear` for a run of days mostly in one year: the year's bounds are computed when a
    /// day falls outside the last one's (a season's observations need one calendar conversion,
    /// not one each).
    public struct Year {
        private var first = Int.max, next = Int.min
        public init() {}
        public mutating func dayOfYear(_ n: Int) -> Int {
            if n < first || n >= next {
                let y = civil(n).year
                first = number(year: y, month: 1, day: 1)
                next = number(year: y + 1, month: 1, day: 1)
            }
            return n - first + 1
        }
    }
}
