#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Output forms for tables.
public enum TableFormat: String, Sendable, CaseIterable {
    case text, csv, json
}

/// Writes rows to stdout as they come (constant memory): CSV (RFC 4180, one header line), JSON
/// (an array of objects) or text (tab-separated with a header).
public final class TableWriter {
    public let columns: [String]
    public let format: TableFormat
    private var out: OutputBuffer
    private var rows = 0

    /// Rows go to `descriptor` (standard output unless said).
    public init(columns: [String], format: TableFormat, descriptor: Int32 = STDOUT_FILENO) {
        self.columns = columns
        self.format = format
        out = OutputBuffer(descriptor: descriptor)
        switch format {
        case .csv: out.write(columns.map(Self.csvField).joined(separator: ",") + "\n")
        case .text: out.write(columns.joined(separator: "\t") + "\n")
        case .json: out.write("[")
        }
    }

    /// Values: nil, String, Int/Int64, Double, Bool.
    public func row(_ values: [Any?]) {
        switch format {
        case .csv: out.write(values.map { Self.csvField(Self.text($0)) }.joined(separator: ",") + "\n")
        case .text: out.write(values.map { Self.text($0) }.joined(separator: "\t") + "\n")
        case .json:
            out.write(rows == 0 ? "\n  {" : ",\n  {")
            out.write(zip(columns, values).map { "\(Self.jsonString($0)): \(Self.jsonValue($1))" }.joined(separator: ", "))
            out.write("}")
        }
        rows += 1
    }

    public func finish() {
        if format == .json { out.write(rows == 0 ? "]\n" : "\n]\n") }
        out.flush()
    }

    /// A value as a table cell's text.
    public static func text(_ v: Any?) -> String {
        switch v {
        case nil: return ""
        case let d as Double: return d.isFinite ? (d == d.rounded() && abs(d) < 1e15 ? Format.double("%.1f", d) : String(d)) : ""
        // Float32 statistics as their shortest text that reads back to the same float32
        // (621.51038, not the double 621.5103759765625).
        case let f as Float: return f.isFinite ? (f == f.rounded() && abs(f) < 1e7 ? Format.double("%.1f", Double(f)) : String(f)) : ""
        case let b as Bool: return b ? "1" : "0"
        case let some?: return "\(some)"
        }
    }

    /// A CSV field (RFC 4180): quoted when it holds a separator, quote or line break.
    public static func csvField(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 }) else { return s }
        var out = "\""
        for c in s { if c == "\"" { out += "\"\"" } else { out.append(c) } }
        return out + "\""
    }

    public static func jsonString(_ s: String) -> String { JSONText.string(s) }

    public static func jsonValue(_ v: Any?) -> String {
        switch v {
        case nil: return "null"
        case let d as Double: return d.isFinite ? String(d) : "null"
        case let f as Float: return f.isFinite ? String(f) : "null"
        case let i as Int: return String(i)
        case let i as Int64: return String(i)
        case let b as Bool: return b ? "true" : "false"
        case let s as String: return jsonString(s)
        case let raw as RawJSON: return raw.text
        case let some?: return jsonString("\(some)")
        }
    }
}

/// Text that is already JSON (written as is).
public struct RawJSON: Sendable {
    public let text: String
    public init(_ text: String) { self.text = text }
}

/// A 64 KiB write buffer over a file descriptor.
public struct OutputBuffer {
    let descriptor: Int32
    var bytes: [UInt8] = []
    public init(descriptor: Int32) { self.descriptor = descriptor; bytes.reserveCapacity(1 << 16) }
    public mutating func write(_ s: String) {
        bytes.append(contentsOf: s.utf8)
        if bytes.count >= 1 << 16 { flush() }
    }
    /// Writes what is buffered (all of it: write(2) may take part).
    public mutating func flush() {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { writeBytes(descriptor, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            done += n
        }
        bytes.removeAll(keepingCapacity: true)
    }
}

/// write(2) (a name of its own: inside `OutputBuffer` the plain name is its method).
private func writeBytes(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}
