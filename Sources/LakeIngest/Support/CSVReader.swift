import Foundation

/// A streaming RFC 4180 CSV reader over bytes: quoted fields, doubled quotes, CRLF, a UTF-8
/// byte-order mark, and `,` `;` or tab as separator (detected from the header line).
///
/// Hand-written rather than a library because signature files run to hundreds of millions of
/// rows: it reads 1 MiB blocks into one reused `CSVRecord` whose fields are byte ranges, so a
/// caller can parse numbers and compare identifiers without building a String per field
/// (`make bench` prints the rows/s this gives; String fields cost 4× more).
public final class CSVReader {
    private let handle: FileHandle?
    private var buffer: [UInt8] = []
    private var position = 0
    private var eof = false
    public private(set) var separator: UInt8 = UInt8(ascii: ",")
    /// 1-based number of the line where the last record returned started.
    public private(set) var line = 0
    private var nextLine = 1
    public let path: String
    private let record = CSVRecord()

    public init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CSVError(path: path, line: 0, reason: "cannot open file")
        }
        self.handle = handle
        self.path = path
        fill()
        if buffer.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
        // Separator: the most frequent of , ; tab on the first line.
        let end = buffer[position...].firstIndex(of: 10) ?? buffer.count
        let head = buffer[position..<end]
        let candidates: [UInt8] = [44, 59, 9]
        separator = candidates.max { a, b in head.filter { $0 == a }.count < head.filter { $0 == b }.count } ?? 44
    }

    /// A reader over one piece of a file already read into memory and cut at a record boundary
    /// (`SignatureSource`'s parallel parse): line numbers count from `firstLine`, byte offsets
    /// from `offset`, where the piece starts in the file.
    public init(piece: [UInt8], path: String, firstLine: Int, offset: Int, separator: UInt8) {
        handle = nil
        self.path = path
        buffer = piece
        eof = true
        nextLine = firstLine
        bytesRead = offset + piece.count
        self.separator = separator
    }

    deinit { try? handle?.close() }

    /// Whether whole lines are read in bulk (`readPlainLine`, `readQuotedLine`); false only in
    /// tests, which hold the bulk paths to the general scan's records.
    nonisolated(unsafe) static var bulk = true

    /// The number of the line the next record starts on (after the header: where the body begins).
    public var nextLineNumber: Int { nextLine }

    /// Bytes of the file read so far and not yet handed out as records (for progress).
    private var bytesRead = 0
    /// How far into the file the reader is, in bytes.
    public var bytesConsumed: Int { bytesRead - (buffer.count - position) }

    private func fill() {
        if position > 0 {
            buffer.removeSubrange(0..<position)
            position = 0
        }
        if let data = try? handle?.read(upToCount: 1 << 20), !data.isEmpty {
            bytesRead += data.count
            buffer.append(contentsOf: data)
        } else {
            eof = true
        }
    }

    /// The next record's fields as Strings, or nil at the end of the file. Blank lines are skipped.
    public func next() throws -> [String]? {
        guard let record = try nextRecord() else { return nil }
        return (0..<record.count).map { record.string($0) }
    }

    /// The next record, or nil at the end of the file. Blank lines are skipped. The record is
    /// reused: it is valid until the next call.
    public func nextRecord() throws -> CSVRecord? {
        while true {
            guard try read(into: record) else { return nil }
            if record.count == 1 && record.isBlank(0) { continue }
            return record
        }
    }

    /// The common case, done in bulk: a whole line in the buffer with no quote in it is copied
    /// into the record at once and split at the separators in place, instead of byte by byte
    /// (`make bench`: the reader's share of a signature ingest fell from a third to a tenth).
    /// Returns false, having consumed nothing, for anything else (a quote, a line that runs past
    /// the buffer, the end of the file), which the general scan handles.
    private func readPlainLine(into out: inout CSVRecord.Storage) -> Bool {
        let separator = self.separator
        let start = position
        let found: (end: Int, next: Int)? = buffer.withUnsafeBufferPointer { buf in
            guard start < buf.count, let base = buf.baseAddress else { return nil }
            let count = buf.count - start
            guard let nl = memchr(base + start, 10, count) else { return nil }
            let length = UnsafeRawPointer(nl) - UnsafeRawPointer(base + start)
            if memchr(base + start, 34, length) != nil { return nil }
            var end = start + length
            if end > start, buf[end - 1] == 13 { end -= 1 }
            return (end, start + length + 1)
        }
        guard let (end, next) = found else { return false }
        let length = end - start
        buffer.withUnsafeBufferPointer { buf in
            out.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buf[start..<end]))
        }
        out.bytes.append(0)
        var fieldStart = 0
        out.bytes.withUnsafeMutableBufferPointer { b in
            for i in 0..<length where b[i] == separator {
                out.starts.append(fieldStart)
                out.ends.append(i)
                b[i] = 0
                fieldStart = i + 1
            }
        }
        out.starts.append(fieldStart)
        out.ends.append(length)
        out.fieldStart = length + 1
        line = nextLine
        nextLine += 1
        position = next
        return true
    }

    /// The same in bulk for a record with quoted fields (an SCL histogram's JSON, a footprint's
    /// WKT): each field is copied a run at a time — up to the next quote inside quotes (memchr),
    /// up to the separator or line end outside — rather than byte by byte. Handles the forms of
    /// RFC 4180: a field quoted whole (doubled quotes and line breaks inside) or not quoted at
    /// all. Returns false, having consumed nothing, for anything else (a quote inside an unquoted
    /// field, text after a closing quote, a record that runs past the buffer or to the end of the
    /// file without a line break), which the general scan handles as before.
    private func readQuotedLine(into out: inout CSVRecord.Storage) -> Bool {
        let separator = self.separator
        let start = position
        // `out` is empty (a fresh record, `readPlainLine` wrote nothing); on failure it is emptied again.
        var breaks = 0
        let next: Int? = buffer.withUnsafeBufferPointer { buf -> Int? in
            guard let base = buf.baseAddress else { return nil }
            let n = buf.count
            var i = start
            while true {
                // One field from i.
                if i < n && buf[i] == 34 {
                    i += 1
                    while true {
                        guard i < n, let q = memchr(base + i, 34, n - i) else { return nil }
                        let at = UnsafeRawPointer(q) - UnsafeRawPointer(base)
                        let run = UnsafeBufferPointer(rebasing: buf[i..<at])
                        for b in run where b == 10 { breaks += 1 }
                        out.bytes.append(contentsOf: run)
                        guard at + 1 < n else { return nil }
                        if buf[at + 1] == 34 { out.bytes.append(34); i = at + 2; continue }
                        i = at + 1
                        break
                    }
                    // After the closing quote: the separator or the line's end, nothing else.
                    // As the general scan does, a line's end drops one CR before it: the CR of a
                    // CRLF, else one that ends the quoted text.
                    if i < n && buf[i] == 13 && i + 1 < n && buf[i + 1] == 10 {
                        i += 1
                    } else if i < n && buf[i] == 10 {
                        out.dropTrailingCR()
                    }
                    guard i < n, buf[i] == separator || buf[i] == 10 else { return nil }
                } else {
                    var j = i
                    while j < n {
                        let b = buf[j]
                        if b == separator || b == 10 { break }
                        if b == 34 { return nil }
                        j += 1
                    }
                    guard j < n else { return nil }
                    var end = j
                    if buf[j] == 10 && end > i && buf[end - 1] == 13 { end -= 1 }
                    out.bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buf[i..<end]))
                    i = j
                }
                out.endField()
                if buf[i] == 10 { return i + 1 }
                i += 1
            }
        }
        guard let next else { out.clear(); return false }
        line = nextLine
        nextLine += 1 + breaks
        position = next
        return true
    }

    /// Parses one record into `record`. The scan runs over the block's bytes with the record's
    /// storage held in a local, so the inner loop has no exclusivity checks or copies.
    private func read(into record: CSVRecord) throws -> Bool {
        var out = record.take()
        defer { record.put(out) }
        if Self.bulk && (readPlainLine(into: &out) || readQuotedLine(into: &out)) { return true }
        var inQuotes = false
        var quoteSeen = false          // a quote inside quotes: closes them unless doubled
        var sawAny = false
        line = nextLine
        var lines = nextLine
        defer { nextLine = lines }
        let separator = self.separator
        while true {
            if position >= buffer.count {
                if eof {
                    if inQuotes && !quoteSeen { throw CSVError(path: path, line: line, reason: "unterminated quoted field") }
                    if !sawAny { return false }
                    out.endField()
                    return true
                }
                fill()
                continue
            }
            var p = position
            let complete: Bool = buffer.withUnsafeBufferPointer { buf in
                while p < buf.count {
                    let b = buf[p]
                    p += 1
                    sawAny = true
                    if quoteSeen {
                        quoteSeen = false
                        if b == 34 { out.bytes.append(34); continue }
                        inQuotes = false
                    }
                    if inQuotes {
                        if b == 34 { quoteSeen = true; continue }
                        if b == 10 { lines += 1 }
                        out.bytes.append(b)
                    } else if b == separator {
                        out.endField()
                    } else if b == 10 {
                        lines += 1
                        out.dropTrailingCR()
                        out.endField()
                        return true
                    } else if b == 34 && out.fieldIsEmpty {
                        inQuotes = true
                    } else {
                        out.bytes.append(b)
                    }
                }
                return false
            }
            position = p
            if complete { return true }
        }
    }
}

/// One CSV record as byte ranges in a reused buffer; each field is followed by a NUL byte so
/// numbers parse in place with `strtof`/`strtoll`.
public final class CSVRecord {
    struct Storage {
        var bytes: [UInt8] = []
        var starts: [Int] = []
        var ends: [Int] = []
        var fieldStart = 0

        var fieldIsEmpty: Bool { bytes.count == fieldStart }
        mutating func clear() {
            bytes.removeAll(keepingCapacity: true)
            starts.removeAll(keepingCapacity: true)
            ends.removeAll(keepingCapacity: true)
            fieldStart = 0
        }
        mutating func dropTrailingCR() { if bytes.count > fieldStart, bytes.last == 13 { bytes.removeLast() } }
        mutating func endField() {
            starts.append(fieldStart)
            ends.append(bytes.count)
            bytes.append(0)
            fieldStart = bytes.count
        }
    }

    private var storage = Storage()
    private var bytes: [UInt8] { storage.bytes }
    private var starts: [Int] { storage.starts }
    private var ends: [Int] { storage.ends }

    public var count: Int { storage.starts.count }

    /// Hands the (cleared) storage to the reader and leaves this record empty, so the reader
    /// owns the only reference while it parses.
    func take() -> Storage {
        var s = storage
        storage = Storage()
        s.clear()
        return s
    }

    func put(_ s: Storage) { storage = s }

    /// The field's range with surrounding blanks (space, tab) removed.
    @inline(__always) private func trimmed(_ i: Int) -> Range<Int> {
        var s = starts[i], e = ends[i]
        while s < e, bytes[s] == 32 || bytes[s] == 9 { s += 1 }
        while e > s, bytes[e - 1] == 32 || bytes[e - 1] == 9 { e -= 1 }
        return s..<e
    }

    /// The field as read (untrimmed).
    public func string(_ i: Int) -> String {
        String(decoding: bytes[starts[i]..<ends[i]], as: UTF8.self)
    }

    /// The trimmed field, nil when the index is out of range or the field is blank.
    public func text(_ i: Int?) -> String? {
        guard let i, i < count else { return nil }
        let r = trimmed(i)
        return r.isEmpty ? nil : String(decoding: bytes[r], as: UTF8.self)
    }

    public func isBlank(_ i: Int?) -> Bool {
        guard let i, i < count else { return true }
        return trimmed(i).isEmpty
    }

    /// Whether the trimmed field holds exactly `other`'s bytes.
    public func equals(_ i: Int, _ other: [UInt8]) -> Bool {
        let r = trimmed(i)
        guard r.count == other.count else { return false }
        if r.isEmpty { return true }
        return storage.bytes.withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { b in memcmp(a.baseAddress! + r.lowerBound, b.baseAddress!, r.count) == 0 }
        }
    }

    /// The trimmed field's bytes.
    public func rawBytes(_ i: Int) -> ArraySlice<UInt8> { bytes[trimmed(i)] }

    /// `body` of the trimmed field's bytes, in place (no copy, no String).
    public func withField<T>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        let r = trimmed(i)
        return try storage.bytes.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[r])) }
    }

    public enum Number<T> { case blank, value(T), invalid }

    /// The field as a float32 (correctly rounded, as `strtof`), `.blank` when empty.
    public func float(_ i: Int?) -> Number<Float> {
        guard let i, i < count else { return .blank }
        let r = trimmed(i)
        if r.isEmpty { return .blank }
        return storage.bytes.withUnsafeBufferPointer { p in
            if let v = DecimalFloat.parse(UnsafeBufferPointer(rebasing: p[r])) { return .value(v) }
            let start = UnsafeMutableRawPointer(mutating: p.baseAddress! + r.lowerBound).assumingMemoryBound(to: CChar.self)
            var end: UnsafeMutablePointer<CChar>? = nil
            let v = strtof(start, &end)
            if end == start + r.count { return .value(v) }
            // A decimal comma (0,71: European spreadsheets, with `;` as the separator).
            let field = p[r]
            guard field.lazy.filter({ $0 == 44 }).count == 1, !field.contains(46) else { return .invalid }
            let dotted = field.map { CChar(bitPattern: $0 == 44 ? 46 : $0) } + [0]
            return dotted.withUnsafeBufferPointer { d -> Number<Float> in
                var end: UnsafeMutablePointer<CChar>? = nil
                let v = strtof(d.baseAddress!, &end)
                return end == UnsafeMutablePointer(mutating: d.baseAddress! + field.count) ? .value(v) : .invalid
            }
        }
    }

    /// The field as a 64-bit integer, `.blank` when empty.
    public func int(_ i: Int?) -> Number<Int64> {
        guard let i, i < count else { return .blank }
        let r = trimmed(i)
        if r.isEmpty { return .blank }
        var v: Int64 = 0
        var k = r.lowerBound
        let negative = bytes[k] == 45
        if negative || bytes[k] == 43 { k += 1 }
        if k == r.upperBound { return .invalid }
        while k < r.upperBound {
            let d = bytes[k] &- 48
            guard d < 10 else { return .invalid }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int64(d))
            if o1 || o2 { return .invalid }
            v = s
            k += 1
        }
        return .value(negative ? -v : v)
    }
}

public struct CSVError: Error, CustomStringConvertible {
    public let path: String
    public let line: Int
    public let reason: String
    public var description: String { "\(path):\(line): \(reason)" }
}
