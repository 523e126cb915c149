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
        withVaList([value]) { render(format, $0) }
    }

    /// `values` with a C format for integers (`%d`, `%02d`, `%lld` with Int).
    public static func ints(_ format: String, _ values: Int...) -> String {
        withVaList(values.map { Int32(truncatingIfNeeded: $0) }) { render(format, $0) }
    }

    private static func render(_ format: String, _ args: CVaListPointer) -> String {
        var buffer = [CChar](repeating: 0, count: 128)
        let n = Int(vsnprintf(&buffer, buffer.count, format, args))
        if n >= buffer.count { return "" }
        return String(decoding: buffer[0..<max(n, 0)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
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
