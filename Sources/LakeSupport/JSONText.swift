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
    static func needsEscaping(_ s: String) -> Bool {
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
    /// Columns read from an answer's rows as they are written (`count` rows, the value of row i),
    /// so that an answer of many columns over the same rows builds no array per column.
    case doublesOf(count: Int, (Int) -> Double?)
    case floatsOf(count: Int, (Int) -> Float?)
    case stringsOf(count: Int, (Int) -> String?)
    /// Counts by small integer key, written as objects of the keys with a count above zero
    /// (`{"4":310,"8":2}`: SCL histograms, indexed by class); null where nil.
    case countsOf(count: Int, (Int) -> [Int]?)
    case integers([Int64?])
    /// Parcel identifiers as the JRC answers them: a number where the text is an integer, else
    /// the text.
    case identifiers([String])

    /// The same columns from arrays.
    public static func doubles(_ values: [Double?]) -> JSONColumn { .doublesOf(count: values.count) { values[$0] } }
    public static func floats(_ values: [Float?]) -> JSONColumn { .floatsOf(count: values.count) { values[$0] } }
    public static func strings(_ values: [String?]) -> JSONColumn { .stringsOf(count: values.count) { values[$0] } }
    public static func counts(_ values: [[Int]?]) -> JSONColumn { .countsOf(count: values.count) { values[$0] } }
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
            case .integers(let values): out.list(values.count) { out, i in if let v = values[i] { out.integer(v) } else { out.null() } }
            case .identifiers(let values):
                out.list(values.count) { out, i in if let n = Int64(values[i]) { out.integer(n) } else { out.string(values[i]) } }
            case .doublesOf(let count, let value): out.list(count) { out, i in out.number(value(i)) }
            case .floatsOf(let count, let value): out.list(count) { out, i in out.float(value(i)) }
            case .stringsOf(let count, let value): out.list(count) { out, i in out.string(value(i)) }
            case .countsOf(let count, let value): out.list(count) { out, i in out.counts(value(i)) }
            }
            out.byte(UInt8(ascii: "]"))
        }
        out.byte(UInt8(ascii: "}"))
        return out.text
    }
}

/// JSON written into a byte buffer of its own: every write is a store and a capacity check (an
/// `[UInt8]`'s append goes through its uniqueness and capacity checks at each call, and a time
/// series answer makes ~10,000 of them). Used where it is made; a copy would share the buffer.
struct JSONBytes: TextOutputStream {
    /// Frees the buffer when the last copy of the value goes.
    private final class Owner {
        var pointer: UnsafeMutablePointer<UInt8>
        init(_ pointer: UnsafeMutablePointer<UInt8>) { self.pointer = pointer }
        deinit { pointer.deallocate() }
    }
    private let owner: Owner
    private var base: UnsafeMutablePointer<UInt8>
    private var count = 0
    private var capacity: Int

    init(capacity: Int = 1 << 16) {
        self.capacity = max(64, capacity)
        base = .allocate(capacity: self.capacity)
        owner = Owner(base)
    }

    /// The bytes written.
    var written: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    /// The text written.
    var text: String { String(decoding: written, as: UTF8.self) }

    @inline(__always) private mutating func reserve(_ n: Int) {
        if count + n > capacity { grow(count + n) }
    }

    private mutating func grow(_ needed: Int) {
        var size = capacity * 2
        while size < needed { size *= 2 }
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
        bigger.update(from: base, count: count)
        base.deallocate()
        base = bigger; capacity = size
        owner.pointer = bigger
    }

    @inline(__always) mutating func byte(_ b: UInt8) { reserve(1); base[count] = b; count += 1 }

    mutating func bytes(_ buffer: UnsafeBufferPointer<UInt8>) {
        guard let from = buffer.baseAddress, !buffer.isEmpty else { return }
        reserve(buffer.count)
        (base + count).update(from: from, count: buffer.count)
        count += buffer.count
    }

    mutating func null() { reserve(4); base[count] = 110; base[count + 1] = 117; base[count + 2] = 108; base[count + 3] = 108; count += 4 }

    // TextOutputStream: the standard library writes a float's shortest form through
    // `_writeASCII` from its own stack buffer, without making a String.
    mutating func write(_ string: String) {
        var s = string
        s.withUTF8 { bytes($0) }
    }
    mutating func _writeASCII(_ buffer: UnsafeBufferPointer<UInt8>) { bytes(buffer) }

    mutating func integer(_ value: Int64) {
        reserve(20)
        var v = value.magnitude
        if value < 0 { base[count] = UInt8(ascii: "-"); count += 1 }
        var digits = 1
        var bound: UInt64 = 10
        while v >= bound && digits < 19 { digits += 1; bound &*= 10 }
        if digits == 19 && v >= bound { digits = 20 }
        var end = count + digits
        count = end
        // Two digits a step (divisions by constants: multiplications).
        while v >= 100 {
            let pair = v % 100
            v /= 100
            end -= 2
            base[end] = UInt8(truncatingIfNeeded: 48 &+ pair / 10); base[end + 1] = UInt8(truncatingIfNeeded: 48 &+ pair % 10)
        }
        if v >= 10 {
            base[end - 2] = UInt8(truncatingIfNeeded: 48 &+ v / 10); base[end - 1] = UInt8(truncatingIfNeeded: 48 &+ v % 10)
        } else {
            base[end - 1] = UInt8(truncatingIfNeeded: 48 &+ v)
        }
    }

    /// `count` values separated by commas, `write` writing value i.
    @inline(__always) mutating func list(_ count: Int, _ write: (inout JSONBytes, Int) -> Void) {
        for i in 0..<count {
            if i > 0 { byte(UInt8(ascii: ",")) }
            write(&self, i)
        }
    }

    mutating func number(_ d: Double?) { if let d { number(d) } else { null() } }
    mutating func float(_ f: Float?) { if let f { float(f) } else { null() } }
    mutating func string(_ s: String?) { if let s { string(s) } else { null() } }

    /// Counts by small integer key: `{"4":310,"8":2}`, the keys with a count above zero; null for nil.
    mutating func counts(_ values: [Int]?) {
        guard let values else { null(); return }
        byte(UInt8(ascii: "{"))
        var first = true
        for (key, count) in values.enumerated() where count > 0 {
            if !first { byte(UInt8(ascii: ",")) }
            first = false
            byte(UInt8(ascii: "\"")); integer(Int64(key)); byte(UInt8(ascii: "\"")); byte(UInt8(ascii: ":"))
            integer(Int64(count))
        }
        byte(UInt8(ascii: "}"))
    }

    mutating func number(_ d: Double) {
        guard d.isFinite else { null(); return }
        // Integral values without a fraction (a conversion and a compare: `rounded()` is a call).
        if abs(d) < 1e15, Double(Int64(d)) == d { integer(Int64(d)); return }
        d.write(to: &self)
    }

    mutating func float(_ f: Float) {
        guard f.isFinite else { null(); return }
        if abs(f) < 1e7, Float(Int32(f)) == f { integer(Int64(Int32(f))); return }
        f.write(to: &self)
    }

    /// A JSON string (see `JSONText.append(string:to:)`): its bytes as they are where nothing
    /// needs escaping.
    mutating func string(_ s: String) {
        guard JSONText.needsEscaping(s) else {
            var s = s
            byte(UInt8(ascii: "\"")); s.withUTF8 { bytes($0) }; byte(UInt8(ascii: "\""))
            return
        }
        var out: [UInt8] = []
        JSONText.append(string: s, to: &out)
        out.withUnsafeBufferPointer { bytes($0) }
    }
}
