#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Dates as lake's inputs and outputs write them: ISO 8601 in UTC.

/// True for a calendar date written YYYY-MM-DD (2024-02-29 yes, 2023-02-29 and 2024-13-01 no).
public func isCalendarDate(_ text: String) -> Bool {
    let bytes = Array(text.utf8)
    guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
          let year = digits(bytes, 0, 4), let month = digits(bytes, 5, 2), let day = digits(bytes, 8, 2),
          (1...12).contains(month) else { return false }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    return (1...days).contains(day)
}

/// Seconds since the Unix epoch of an ISO date or time in UTC (`2024-06-15`,
/// `2024-06-15T10:30:21Z`); nil when the text does not start with a date.
public func epochSeconds(_ iso: String) -> Double? {
    let b = Array(iso.utf8)
    guard let year = digits(b, 0, 4), let month = digits(b, 5, 2), let day = digits(b, 8, 2) else { return nil }
    var parts = tm()
    parts.tm_year = Int32(year - 1900); parts.tm_mon = Int32(month - 1); parts.tm_mday = Int32(day)
    parts.tm_hour = Int32(digits(b, 11, 2) ?? 0); parts.tm_min = Int32(digits(b, 14, 2) ?? 0); parts.tm_sec = Int32(digits(b, 17, 2) ?? 0)
    return Double(timegm(&parts))
}

/// The decimal number of `count` ASCII digits at `from`, nil when they are not all digits.
private func digits(_ b: [UInt8], _ from: Int, _ count: Int) -> Int? {
    guard b.count >= from + count else { return nil }
    var value = 0
    for c in b[from..<from + count] {
        guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) else { return nil }
        value = value * 10 + Int(c - UInt8(ascii: "0"))
    }
    return value
}

/// The current time in ISO 8601 UTC with seconds, e.g. 2026-12-04T21:09:29Z.
public func isoTimestampNow() -> String {
    var now = time(nil)
    var parts = tm()
    gmtime_r(&now, &parts)
    return Format.ints("%04d-%02d-%02dT%02d:%02d:%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                       Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
}

