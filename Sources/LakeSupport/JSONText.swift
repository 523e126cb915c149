/// JSON text of the plain Swift values lake's commands build (`[String: Any]` summaries and
/// tables): dictionaries with sorted keys, arrays, strings, booleans, integers, floating-point
/// numbers (shortest round-trip form; integral values without a fraction; NaN and infinity as
/// null), nil as null. Pretty-printed like `JSONSerialization` (two spaces, `"key" : value`).
/// Written here rather than through Foundation's JSONSerialization so that the modules of the
/// fast `lake` front-end need only Foundation's essentials (see BENCHMARKS, start-up).
public enum JSONText {
    public static func render(_ value: Any?, pretty: Bool = true) -> String {
        var out = ""
        write(value, into: &out, pretty: pretty, indent: 0)
        return out
    }

    private static func write(_ value: Any?, into out: inout String, pretty: Bool, indent: Int) {
        guard let value else { out += "null"; return }
        // The common types first: a cast from Any also looks through an Optional holding a
        // value; only what matches none of them is unwrapped by reflection (slow: a nil inside
        // an Optional, NSNull).
        switch value {
        case let s as String: string(s, into: &out)
        case let d as Double: number(d, into: &out)
        case let i as Int: out += String(i)
        case let b as Bool: out += b ? "true" : "false"
        case let f as Float: float(f, into: &out)
        case let i as Int64: out += String(i)
        // Containers as they are usually built ([String: Any], [Any], arrays of one number or
        // string type) are matched as such: a cast to [String: Any?] or [Any?] converts the whole
        // container, element by element, and was most of a small answer's cost (`lake serve`).
        case let dict as [String: Any]:
            container("{", "}", dict.keys.sorted(), into: &out, pretty: pretty, indent: indent) { key, out in
                string(key, into: &out)
                out += pretty ? " : " : ":"
                write(dict[key], into: &out, pretty: pretty, indent: indent + 1)
            }
        case let array as [Double]:
            container("[", "]", array, into: &out, pretty: pretty, indent: indent) { d, out in number(d, into: &out) }
        case let array as [String]:
            container("[", "]", array, into: &out, pretty: pretty, indent: indent) { s, out in string(s, into: &out) }
        case let array as [Int]:
            container("[", "]", array, into: &out, pretty: pretty, indent: indent) { i, out in out += String(i) }
        case let array as [Any]:
            container("[", "]", array, into: &out, pretty: pretty, indent: indent) { v, out in
                write(v, into: &out, pretty: pretty, indent: indent + 1)
            }
        case let dict as [String: Any?]:
            container("{", "}", dict.keys.sorted(), into: &out, pretty: pretty, indent: indent) { key, out in
                string(key, into: &out)
                out += pretty ? " : " : ":"
                write(dict[key] ?? nil, into: &out, pretty: pretty, indent: indent + 1)
            }
        case let array as [Any?]:
            container("[", "]", Array(array.indices), into: &out, pretty: pretty, indent: indent) { i, out in
                write(array[i], into: &out, pretty: pretty, indent: indent + 1)
            }
        case let s as Substring: string(String(s), into: &out)
        case let i as Int32: out += String(i)
        case let i as UInt8: out += String(i)
        case let i as UInt32: out += String(i)
        case let i as UInt64: out += String(i)
        default:
            if let inner = unwrap(value) { string(String(describing: inner), into: &out) } else { out += "null" }
        }
    }

    /// nil for an Optional holding nothing (at any depth) or Foundation's NSNull.
    private static func unwrap(_ value: Any) -> Any? {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let inner = mirror.children.first?.value else { return nil }
            return unwrap(inner)
        }
        if String(describing: type(of: value)) == "NSNull" { return nil }
        return value
    }

    private static func container<K>(_ open: String, _ close: String, _ keys: [K], into out: inout String, pretty: Bool, indent: Int,
                                     element: (K, inout String) -> Void) {
        out += open
        guard !keys.isEmpty else { out += close; return }
        let inner = String(repeating: "  ", count: indent + 1)
        for (n, key) in keys.enumerated() {
            if n > 0 { out += "," }
            if pretty { out += "\n" + inner }
            element(key, &out)
        }
        if pretty { out += "\n" + String(repeating: "  ", count: indent) }
        out += close
    }

    /// A JSON string of `s` (quoted, escaped).
    public static func string(_ s: String) -> String {
        var out: [UInt8] = []
        append(string: s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `s` as a JSON string: quote, backslash and control characters escaped, everything
    /// else (UTF-8 included) copied as it is. Results carry thousands of reasons and details
    /// per run, nearly all without a character to escape: those are copied whole.
    public static func append(string s: String, to out: inout [UInt8]) {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        out.append(quote)
        if !needsEscaping(s) {
            out.append(contentsOf: s.utf8)
            out.append(quote)
            return
        }
        for b in s.utf8 {
            switch b {
            case quote, backslash: out.append(backslash); out.append(b)
            case 0x0A: out.append(backslash); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(backslash); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(backslash); out.append(UInt8(ascii: "t"))
            case ..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [backslash, UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: out.append(b)
            }
        }
        out.append(quote)
    }

    /// Appends a JSON array of strings.
    public static func append(array items: [String], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            append(string: item, to: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Appends a JSON object of strings, keys sorted.
    public static func append(object items: [String: String], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (i, item) in items.sorted(by: { $0.key < $1.key }).enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            append(string: item.key, to: &out)
            out.append(UInt8(ascii: ":"))
            append(string: item.value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    static func number(_ d: Double, into out: inout String) {
        guard d.isFinite else { out += "null"; return }
        if d == d.rounded(), abs(d) < 1e15 { out += String(Int64(d)); return }
        out += String(d)
    }

    static func float(_ f: Float, into out: inout String) {
        guard f.isFinite else { out += "null"; return }
        if f == f.rounded(), abs(f) < 1e7 { out += String(Int64(f)); return }
        out += String(f)
    }

    static func string(_ s: String, into out: inout String) {
        if !needsEscaping(s) { out += "\""; out += s; out += "\""; return }
        var bytes: [UInt8] = []
        append(string: s, to: &bytes)
        out += String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `s` holds a quote, a backslash or a control character.
    /// On a native string's bytes in place (the generic walk over `utf8` cost a marker run 2 %
    /// of its instructions: every decision's reasons pass here).
    private static func needsEscaping(_ s: String) -> Bool {
        func escapes(_ b: UInt8) -> Bool { b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") }
        if let found = s.utf8.withContiguousStorageIfAvailable({ bytes -> Bool in
            for b in bytes where escapes(b) { return true }
            return false
        }) { return found }
        return s.utf8.contains(where: escapes)
    }
}

/// A column of the JRC's column-form JSON, typed: rendered without dynamic casts (a time series
/// of a few thousand values through `Any` spent most of a request in the runtime's casts).
public enum JSONColumn {
    case doubles([Double?])
    case floats([Float?])
    case strings([String?])
    case integers([Int64?])
    /// Parcel identifiers as the JRC answers them: a number where the text is an integer, else
    /// the text.
    case identifiers([String])
    /// Counts by small integer key, written as objects of the keys with a count above zero
    /// (`{"4":310,"8":2}`: SCL histograms, indexed by class); null where nil.
    case counts([[Int]?])
}

extension JSONText {
    /// `{"a":[…],"b":[…]}` with the keys sorted, compact. Written as bytes: integers digit by
    /// digit, other numbers in their shortest round-trip form, strings escaped only where they
    /// need it (a time series answer is a few thousand numbers; appending Strings cost most of
    /// a request).
    public static func columns(_ columns: [String: JSONColumn]) -> String {
        var out = JSONBytes()
        out.byte(UInt8(ascii: "{"))
        for (n, key) in columns.keys.sorted().enumerated() {
            if n > 0 { out.byte(UInt8(ascii: ",")) }
            out.string(key)
            out.byte(UInt8(ascii: ":")); out.byte(UInt8(ascii: "["))
            switch columns[key]! {
            case .doubles(let values):
                for (i, v) in values.enumerated() { if i > 0 { out.byte(UInt8(ascii: ",")) }; if let v { out.number(v) } else { out.null() } }
            case .floats(let values):
                for (i, v) in values.enumerated() { if i > 0 { out.byte(UInt8(ascii: ",")) }; if let v { out.float(v) } else { out.null() } }
            case .strings(let values):
                for (i, v) in values.enumerated() { if i > 0 { out.byte(UInt8(ascii: ",")) }; if let v { out.string(v) } else { out.null() } }
            case .integers(let values):
                for (i, v) in values.enumerated() { if i > 0 { out.byte(UInt8(ascii: ",")) }; if let v { out.integer(v) } else { out.null() } }
            case .identifiers(let values):
                for (i, v) in values.enumerated() {
                    if i > 0 { out.byte(UInt8(ascii: ",")) }
                    if let n = Int64(v) { out.integer(n) } else { out.string(v) }
                }
            case .counts(let values):
                for (i, v) in values.enumerated() {
                    if i > 0 { out.byte(UInt8(ascii: ",")) }
                    guard let v else { out.null(); continue }
                    out.byte(UInt8(ascii: "{"))
                    var first = true
                    for (key, count) in v.enumerated() where count > 0 {
                        if !first { out.byte(UInt8(ascii: ",")) }
                        first = false
                        out.byte(UInt8(ascii: "\"")); out.integer(Int64(key)); out.byte(UInt8(ascii: "\"")); out.byte(UInt8(ascii: ":"))
                        out.integer(Int64(count))
                    }
                    out.byte(UInt8(ascii: "}"))
                }
            }
            out.byte(UInt8(ascii: "]"))
        }
        out.byte(UInt8(ascii: "}"))
        return out.text
    }
}

/// JSON written into a byte buffer.
struct JSONBytes {
    var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(1 << 16) }

    var text: String { String(decoding: bytes, as: UTF8.self) }

    mutating func byte(_ b: UInt8) { bytes.append(b) }
    mutating func null() { bytes.append(contentsOf: [110, 117, 108, 108]) }

    mutating func integer(_ value: Int64) {
        var v = value
        if v < 0 {
            bytes.append(UInt8(ascii: "-"))
            if v == .min { bytes.append(contentsOf: "9223372036854775808".utf8); return }
            v = -v
        }
        if v < 10 { bytes.append(UInt8(48 + v)); return }
        // Digits from the right into a stack buffer, then appended at once (one capacity check
        // rather than one per digit: a time series answer holds thousands of counts).
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { d in
            var n = d.count
            repeat { n -= 1; d[n] = UInt8(48 + v % 10); v /= 10 } while v > 0
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: d[n...]))
        }
    }

    mutating func number(_ d: Double) {
        guard d.isFinite else { null(); return }
        if d == d.rounded(), abs(d) < 1e15 { integer(Int64(d)); return }
        bytes.append(contentsOf: d.description.utf8)
    }

    mutating func float(_ f: Float) {
        guard f.isFinite else { null(); return }
        if f == f.rounded(), abs(f) < 1e7 { integer(Int64(f)); return }
        bytes.append(contentsOf: f.description.utf8)
    }

    /// A JSON string (see `JSONText.append(string:to:)`).
    mutating func string(_ s: String) { JSONText.append(string: s, to: &bytes) }
}
