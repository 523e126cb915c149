import Foundation

/// A streaming RFC 4180 CSV reader over bytes: quoted fields, doubled quotes, CRLF, a UTF-8
/// byte-order mark, and `,` `;` or tab as separator (detected from the header line).
///
/// Hand-written rather than a library because signature files run to hundreds of millions of
/// rows: it reads 1 MiB blocks and hands out fields without building a String per line
/// (`make bench` prints the rows/s this gives).
public final class CSVReader {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var position = 0
    private var eof = false
    public private(set) var separator: UInt8 = UInt8(ascii: ",")
    /// 1-based number of the line where the last record returned started.
    public private(set) var line = 0
    private var nextLine = 1
    public let path: String

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

    deinit { try? handle.close() }

    private func fill() {
        if position > 0 {
            buffer.removeSubrange(0..<position)
            position = 0
        }
        if let data = try? handle.read(upToCount: 1 << 20), !data.isEmpty {
            buffer.append(contentsOf: data)
        } else {
            eof = true
        }
    }

    /// The next record's fields as byte slices, or nil at the end of the file. Blank lines are skipped.
    public func next() throws -> [String]? {
        while true {
            guard let record = try nextRecord() else { return nil }
            if record.count == 1 && record[0].isEmpty { continue }
            return record
        }
    }

    private func nextRecord() throws -> [String]? {
        var fields: [String] = []
        var field: [UInt8] = []
        var inQuotes = false
        var sawAny = false
        line = nextLine
        while true {
            if position >= buffer.count {
                if eof {
                    if inQuotes { throw CSVError(path: path, line: line, reason: "unterminated quoted field") }
                    if !sawAny { return nil }
                    fields.append(String(decoding: field, as: UTF8.self))
                    return fields
                }
                fill()
                continue
            }
            let b = buffer[position]
            position += 1
            sawAny = true
            if inQuotes {
                if b == 34 {
                    if position >= buffer.count && !eof { fill() }
                    if position < buffer.count && buffer[position] == 34 { field.append(34); position += 1 }
                    else { inQuotes = false }
                } else {
                    if b == 10 { nextLine += 1 }
                    field.append(b)
                }
            } else if b == separator {
                fields.append(String(decoding: field, as: UTF8.self)); field.removeAll(keepingCapacity: true)
            } else if b == 10 {
                nextLine += 1
                if field.last == 13 { field.removeLast() }
                fields.append(String(decoding: field, as: UTF8.self))
                return fields
            } else if b == 34 && field.isEmpty {
                inQuotes = true
            } else {
                field.append(b)
            }
        }
    }
}

public struct CSVError: Error, CustomStringConvertible {
    public let path: String
    public let line: Int
    public let reason: String
    public var description: String { "\(path):\(line): \(reason)" }
}
