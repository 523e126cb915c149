/// Small JSON texts written directly (results carry thousands of reasons and details per run;
/// JSONSerialization per row was a tenth of a markers run), as Strings or appended to bytes.
public enum JSONText {
    public static func string(_ s: String) -> String {
        var out: [UInt8] = []
        append(string: s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func array(_ items: [String]) -> String {
        var out: [UInt8] = []
        append(array: items, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func object(_ items: [String: String]) -> String {
        var out: [UInt8] = []
        append(object: items, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func append(string s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(byte)
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(byte)
            case UInt8(ascii: "\n"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case UInt8(ascii: "\t"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)]); out.append(hex[Int(byte & 15)])
            default: out.append(byte)   // UTF-8 multi-byte sequences pass through unchanged
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    public static func append(array items: [String], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            append(string: item, to: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

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
}
