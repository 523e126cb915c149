/// SCL histograms as JSON text, the form JRC tables and CSVs hold them in.
public enum SCLHistogramText {
    /// The common form of a histogram — `{"5": 26, "7": 1}` (or with single quotes), class keys
    /// 0–11 each once, whole counts — read straight from the bytes; nil for anything else, which
    /// then goes through the JSON parser and its error messages. (JSONSerialization per row was
    /// most of the SCL ingest's time; see BENCHMARKS.)
    public static func parse(_ text: String) -> [Int]? {
        var text = text
        return text.withUTF8 { parse(bytes: $0) }
    }

    /// The same, from UTF-8 bytes (a COPY field).
    public static func parse(bytes b: UnsafeBufferPointer<UInt8>) -> [Int]? {
        var hist = [Int](repeating: 0, count: 12)
        var seen = 0
        var i = 0
        func skipSpace() { while i < b.count, b[i] == 0x20 || b[i] == 0x09 { i += 1 } }
        func digits(max: Int) -> Int? {
            var value = 0, n = 0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { value = value * 10 + Int(b[i] - 0x30); n += 1; i += 1; if n > max { return nil } }
            return n > 0 ? value : nil
        }
        skipSpace()
        guard i < b.count, b[i] == UInt8(ascii: "{") else { return nil }
        i += 1; skipSpace()
        if i < b.count, b[i] == UInt8(ascii: "}") { i += 1; skipSpace(); return i == b.count ? hist : nil }
        while true {
            guard i < b.count, b[i] == 0x22 || b[i] == 0x27 else { return nil }
            let quote = b[i]; i += 1
            guard let key = digits(max: 2), key <= 11, i < b.count, b[i] == quote else { return nil }
            i += 1; skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
            i += 1; skipSpace()
            guard let count = digits(max: 12) else { return nil }
            guard seen & (1 << key) == 0 else { return nil }
            seen |= 1 << key
            hist[key] = count
            skipSpace()
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: ",") { i += 1; skipSpace(); continue }
            guard b[i] == UInt8(ascii: "}") else { return nil }
            i += 1; skipSpace()
            return i == b.count ? hist : nil
        }
    }

}

/// An SCL histogram's 12 class counts as the bytes of a sort row (`SignatureRuns`): each a
/// varint (most are 0 or under 16,384: 12–20 bytes instead of 96).
public enum SCLHistogramBytes {
    public static func append(_ counts: [Int], to bytes: inout [UInt8]) {
        for c in counts { ByteWriter.varint(UInt64(max(0, c)), to: &bytes) }
    }

    /// The 12 counts, or nil when the bytes are not 12 varints.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> [Int]? {
        var r = ByteReader(bytes)
        var out: [Int] = []
        out.reserveCapacity(12)
        for _ in 0..<12 {
            guard let v = try? r.varint(), v <= UInt64(Int.max) else { return nil }
            out.append(Int(v))
        }
        return r.atEnd ? out : nil
    }
}
