#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Text helpers for the modules that the fast `lake` front-end links (store, query, command
// line): they use the standard library and libc only, not Foundation's full text API, whose
// loading (ICU) costs more than a `lake query parcel` (BENCHMARKS, start-up).

/// printf-style formatting of one number, exactly as `String(format:)` renders it.
public enum Format {
    /// `value` with a C format for one double, e.g. `"%.4f"`, `"%3.0f%%"`.
    public static func double(_ format: String, _ value: Double) -> String {
        if let decimals = fixedDecimals(format), let text = fixed(value, decimals: decimals) { return text }
        return render(format, [value])
    }

    /// N when `format` is exactly `%.Nf` with N in 0...9 (the formats of tables and reports).
    static func fixedDecimals(_ format: String) -> Int? {
        var u = format.utf8.makeIterator()
        guard u.next() == UInt8(ascii: "%"), u.next() == UInt8(ascii: "."), let d = u.next(),
              (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(d), u.next() == UInt8(ascii: "f"), u.next() == nil else { return nil }
        return Int(d - UInt8(ascii: "0"))
    }

    /// `%.Nf` without `vsnprintf` (its variadic call and locale handling were a fifth of a `lake
    /// query parcel`; BENCHMARKS, start-up), or nil where this cannot promise printf's digits:
    /// beyond ±10¹¹ units of the last digit, and within 10⁻⁴ of a half unit, where the product
    /// `value × 10^N` (rounded by at most 2⁻¹⁶ there) may have crossed the half (printf rounds
    /// the exact binary value).
    /// The sign is printf's too: "-0.000" for a small negative number and for −0.
    static func fixed(_ value: Double, decimals: Int) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        return appendFixed(value, decimals: decimals, to: &bytes) ? String(decoding: bytes, as: UTF8.self) : nil
    }

    /// `value` as `%.Nf` (N = `decimals`, 0...9) appended to `bytes`, as printf writes it.
    public static func append(_ value: Double, decimals: Int, to bytes: inout [UInt8]) {
        if !appendFixed(value, decimals: decimals, to: &bytes) { bytes.append(contentsOf: render("%.\(decimals)f", [value]).utf8) }
    }

    /// `fixed`'s digits appended to `bytes`; false (nothing appended) where it leaves them to printf.
    static func appendFixed(_ value: Double, decimals: Int, to bytes: inout [UInt8]) -> Bool {
        let scale = powersOfTen[decimals]
        let scaled = abs(value) * scale
        guard scaled < 1e11 else { return false }   // also nan and infinity
        let whole = scaled.rounded(.down)
        let fraction = scaled - whole
        guard abs(fraction - 0.5) > 1e-4 else { return false }
        let units = UInt64(whole) + (fraction > 0.5 ? 1 : 0)
        let unit = UInt64(scale)
        if value.sign == .minus { bytes.append(UInt8(ascii: "-")) }
        appendDigits(units / unit, to: &bytes, width: 1)
        if decimals > 0 {
            bytes.append(UInt8(ascii: "."))
            appendDigits(units % unit, to: &bytes, width: decimals)
        }
        return true
    }

    private static let powersOfTen: [Double] = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9]

    /// `n` in decimal, zero-padded on the left to at least `width` digits.
    private static func appendDigits(_ n: UInt64, to bytes: inout [UInt8], width: Int) {
        let start = bytes.count
        var rest = n
        repeat { bytes.append(UInt8(ascii: "0") + UInt8(rest % 10)); rest /= 10 } while rest > 0 || bytes.count - start < width
        bytes[start...].reverse()
    }

    /// `values` with a C format for integers (`%d`, `%02d`, `%lld` with Int).
    public static func ints(_ format: String, _ values: Int...) -> String {
        render(format, values.map { Int32(truncatingIfNeeded: $0) })
    }

    /// `vsnprintf` into a buffer of 128 bytes, or of the length it asked for (1e300 with `%f`
    /// has 301 digits).
    private static func render(_ format: String, _ args: [CVarArg]) -> String {
        var buffer = [CChar](repeating: 0, count: 128)
        var n = Int(withVaList(args) { vsnprintf(&buffer, buffer.count, format, $0) })
        if n >= buffer.count {
            buffer = [CChar](repeating: 0, count: n + 1)
            n = Int(withVaList(args) { vsnprintf(&buffer, buffer.count, format, $0) })
        }
        return String(decoding: buffer[0..<max(0, min(n, buffer.count - 1))].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension StringProtocol {
    /// Without leading and trailing white space (spaces, tabs, line breaks).
    public func trimmed() -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}

/// Writes text to standard error, unbuffered (progress, logs, messages).
public func writeStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
        if n <= 0 { return }
        offset += n
    }
}

/// True when standard error is a terminal.
public var standardErrorIsTerminal: Bool { isatty(2) == 1 }

/// A mutual-exclusion lock (pthread), for state shared by SQLite callbacks on several threads.
public final class Lock: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    public init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}

extension String {
    /// Exactly `length` characters: cut, or filled with spaces on the right.
    public func padded(to length: Int) -> String {
        count >= length ? String(prefix(length)) : self + String(repeating: " ", count: length - count)
    }
}

/// The size of the file at `path` in bytes, or nil when it cannot be read.
public func fileSize(atPath path: String) -> Int64? {
    var info = stat()
    return stat(path, &info) == 0 ? Int64(info.st_size) : nil
}
