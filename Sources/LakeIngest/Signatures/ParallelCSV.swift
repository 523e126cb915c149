import Foundation
import LakeStore
import LakeSupport

/// The signature forms, parsed on more than one core: a CSV file's body is cut into pieces at
/// record boundaries (never inside a quoted field) on one thread, the pieces are parsed by
/// `workers` threads, and the calling thread receives the rows in file order, with the line
/// numbers and byte offsets a sequential read gives. JSON documents are read on one thread.
///
/// Why: after the bulk line split and the float parser, parsing was still the bound of a
/// signature ingest (one core busy, the writer two-thirds idle); `make bench` prints the
/// rows/s with it.
extension SignatureSource {
    /// What a worker made of one piece: its rows (line numbers counted from the piece's start,
    /// as the piece's own line 1), how many lines the piece spans, and the CSV error that ended
    /// it if any (its line likewise).
    struct Piece {
        var rows: [Row] = []
        var lines = 0
        var error: CSVError?
    }

    static let defaultPieceBytes = 4 << 20

    /// Whether the file is a CSV of SCL histograms alone (a `hist` JSON column or `hist.0` …
    /// `hist.11`, no band, statistics, wide bands or cloud column): its rows need nothing of
    /// the lake but their keys.
    static func histogramsOnly(path: String) -> Bool {
        guard let reader = try? CSVReader(path: path), let header = try? reader.next() else { return false }
        let columns = Columns(header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
        return (columns.histJSON != nil || !columns.histColumns.isEmpty) && columns.band == nil && !columns.hasStats
            && columns.wideBands.isEmpty && columns.cloud == nil
    }

    static func stream(path: String, workers: Int = 2, pieceBytes: Int = defaultPieceBytes, _ consume: (Row) throws -> Void) throws {
        let head = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)).read(upToCount: 64)) ?? nil
        let first = head?.first { !($0 == 32 || $0 == 9 || $0 == 10 || $0 == 13) }
        if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
            try pipelined(produce: { emit in try json(path: path, emit) }, consume: consume)
            return
        }
        let reader: CSVReader
        do { reader = try CSVReader(path: path) } catch { throw LakeError.input(file: path, location: nil, reason: "\(error)") }
        let header: [String]
        do {
            guard let h = try reader.next() else { throw LakeError.input(file: path, location: "line 1", reason: "empty file") }
            header = h
        } catch let error as CSVError {
            throw inputError(path, error)
        }
        let columns = Columns(header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
        try columns.validate(path: path)
        // Histogram-only files too (they kept one parsing thread while their writer was the
        // bound; since the bulk load without triggers the parsing thread was: 1.46 M histograms,
        // four interleaved pairs, 5.6–6.7 s of CPU against 6.4–8.1 s and less wall time in 7 of
        // 10 pairs, the rows and summaries identical). A histogram row holds more than its
        // bytes (its class counts, its keys): their pieces are a quarter of the size, so that
        // what waits in flight stays near what one parsing thread held.
        let pieceBytes = columns.hasStats || !columns.wideBands.isEmpty ? pieceBytes : max(1, pieceBytes / 4)
        let bodyStart = reader.bytesConsumed, bodyLine = reader.nextLineNumber, separator = reader.separator
        var base = bodyLine   // the file's line number of the current piece's line 1
        try parallelOrdered(workers: workers, inFlight: 2 * workers + 2, workerNice: 10, produce: { emit in
            try cut(path: path, from: bodyStart, pieceBytes: pieceBytes, emit)
        }, work: { (bytes: [UInt8], offset: Int) -> Piece in
            let pieceReader = CSVReader(piece: bytes, path: path, firstLine: 1, offset: offset, separator: separator)
            var piece = Piece()
            do { try records(pieceReader, columns) { piece.rows.append($0) } } catch let error as CSVError { piece.error = error }
            piece.lines = pieceReader.nextLineNumber - 1
            return piece
        }, consume: { piece in
            for var row in piece.rows {
                row.position += base - 1
                try consume(row)
            }
            if let error = piece.error { throw inputError(path, error, firstLine: base) }
            base += piece.lines
        })
    }

    /// A CSV error as the input error it is, its line counted from `firstLine` (a piece's).
    static func inputError(_ path: String, _ error: CSVError, firstLine: Int = 1) -> LakeError {
        .input(file: path, location: "line \(error.line + firstLine - 1)", reason: error.reason)
    }

    /// Reads the file from `start` and emits pieces of about `pieceBytes`, each ending after a
    /// newline that is outside quotes (the last piece: at the end of the file), with the byte
    /// offset where each begins.
    static func cut(path: String, from start: Int, pieceBytes: Int, _ emit: ((bytes: [UInt8], offset: Int)) throws -> Void) throws {
        guard let file = fopen(path, "rb") else {
            throw LakeError.input(file: path, location: nil, reason: "cannot open file: \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        guard fseeko(file, off_t(start), SEEK_SET) == 0 else {
            throw LakeError.input(file: path, location: nil, reason: "cannot seek: \(String(cString: strerror(errno)))")
        }
        var pending: [UInt8] = []     // bytes read and not yet emitted (a partial record)
        var offset = start            // where `pending` begins in the file
        var scanned = 0               // bytes of `pending` already scanned for quotes
        var inQuotes = false          // quote state after `scanned` bytes
        var lastCut = 0               // the end of the last record found in the scanned bytes
        var chunk = [UInt8](repeating: 0, count: max(pieceBytes, 1))
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if n == 0 {
                if ferror(file) != 0 { throw LakeError.input(file: path, location: nil, reason: "read error: \(String(cString: strerror(errno)))") }
                if !pending.isEmpty { try emit((pending, offset)) }
                return
            }
            pending.append(contentsOf: chunk[0..<n])
            // Scan the new bytes: a newline outside quotes ends a record. A doubled quote inside
            // a quoted field toggles twice, so parity alone tells inside from outside.
            pending.withUnsafeBufferPointer { b in
                guard let base = b.baseAddress else { return }
                let count = b.count
                if !inQuotes, memchr(base + scanned, 34, count - scanned) == nil {
                    // No quote in the new bytes: the last newline is a record end.
                    var k = count - 1
                    while k >= scanned, base[k] != 10 { k -= 1 }
                    if k >= scanned { lastCut = k + 1 }
                } else {
                    var k = scanned
                    while k < count {
                        let c = base[k]
                        if c == 34 { inQuotes.toggle() } else if c == 10, !inQuotes { lastCut = k + 1 }
                        k += 1
                    }
                }
                scanned = count
            }
            if lastCut > 0, pending.count >= pieceBytes {
                try emit((Array(pending[0..<lastCut]), offset))
                offset += lastCut
                pending.removeSubrange(0..<lastCut)
                scanned -= lastCut
                lastCut = 0
            }
        }
    }
}
