import Foundation
import LakeTestSupport
import XCTest
@testable import LakeIngest

/// The CSV reader's bulk path for plain lines and its byte-by-byte path for quoted ones must
/// give the same records, and the float parser must give `strtof`'s float bit for bit.
final class CSVReaderTests: XCTestCase {
    func records(_ text: String) throws -> [(line: Int, fields: [String])] {
        let path = try write(text, "reader.csv")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reader = try CSVReader(path: path)
        var out: [(Int, [String])] = []
        while let r = try reader.nextRecord() { out.append((reader.line, (0..<r.count).map { r.string($0) })) }
        return out
    }

    func testPlainAndQuotedLinesGiveTheSameFieldsAndLineNumbers() throws {
        let text = "a,b,c\r\n1,,3\n\n\"x,1\",\"say \"\"hi\"\"\",\"two\nlines\"\n4,5,6\r\n  7 , 8,9\n\"\",\"\",\n10,11,12"
        let got = try records(text)
        XCTAssertEqual(got.map(\.line), [1, 2, 4, 6, 7, 8, 9])
        XCTAssertEqual(got.map(\.fields), [
            ["a", "b", "c"], ["1", "", "3"], ["x,1", "say \"hi\"", "two\nlines"], ["4", "5", "6"],
            ["  7 ", " 8", "9"], ["", "", ""], ["10", "11", "12"]])
        // Semicolons are detected from the header; a line without a quote still splits on them.
        XCTAssertEqual(try records("p;q\n1;2,5\n").map(\.fields), [["p", "q"], ["1", "2,5"]])
    }

    func testLinesAcrossTheReadBlockBoundaryAreWhole() throws {
        // 1 MiB blocks: lines of 37 bytes do not divide it, so some line is cut at every boundary.
        var text = "id,value,name\n"
        for i in 0..<60_000 { text += String(format: "%06d,%011.4f,plain-line-name\n", i, Double(i) * 0.25) }
        text += "60000,\"quoted, at the end\",x"
        let got = try records(text)
        XCTAssertEqual(got.count, 60_002)
        for (k, r) in got.dropFirst().prefix(60_000).enumerated() {
            XCTAssertEqual(r.fields, [String(format: "%06d", k), String(format: "%011.4f", Double(k) * 0.25), "plain-line-name"])
            XCTAssertEqual(r.line, k + 2)
        }
        XCTAssertEqual(got.last?.fields, ["60000", "quoted, at the end", "x"])
    }

    /// Random records of every form RFC 4180 allows and some it does not (quotes inside unquoted
    /// fields, text after a closing quote, bare CRs, line breaks inside quotes, an unterminated
    /// last line), read with the bulk paths and with the general scan alone: the same records and
    /// line numbers, from a file (1 MiB blocks, records across their boundaries) and from pieces.
    func testBulkPathsReadWhatTheGeneralScanReads() throws {
        var rng = SeededRandom(seed: 20261207)
        let atoms = ["a", "12.5", " ", "\"", "\"\"", ",", "\r", "\n", "\r\n", "{\"5\": 27}", "é", "x;y", "\t"]
        func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }
        func field() -> String {
            let body = (0..<Int(rng.next() % 5)).map { _ in pick(atoms) }.joined()
            switch rng.next() % 10 {
            case 0..<5: return "\"" + body.replacingOccurrences(of: "\"", with: "\"\"") + "\""   // quoted, well formed
            case 5: return "\"" + body + "\"" + pick(atoms)                                         // anything goes
            default: return body.filter { $0 != "\"" && $0 != "," && $0 != "\n" }                    // plain
            }
        }
        var text = "parcel_id,reference,hist\n"
        for _ in 0..<40_000 {
            text += (0..<(1 + Int(rng.next() % 4))).map { _ in field() }.joined(separator: ",")
            text += rng.next() % 2 == 0 ? "\n" : "\r\n"
        }
        text += "\"last, unterminated\",1"
        func read(_ reader: CSVReader) throws -> [String] {
            var out: [String] = []
            while let r = try reader.nextRecord() { out.append("\(reader.line):" + (0..<r.count).map { r.string($0) }.joined(separator: "|")) }
            return out
        }
        func same(_ a: [String], _ b: [String], _ what: String) {
            XCTAssertEqual(a.count, b.count, what)
            if let k = a.indices.first(where: { $0 < b.count && a[$0] != b[$0] }) {
                let line = Int(b[k].prefix { $0 != ":" }) ?? 1
                let raw = text.split(separator: "\n", omittingEmptySubsequences: false)[(line - 1)...].prefix(3).joined(separator: "\n")
                XCTFail("\(what): record \(k) reads \(a[k].debugDescription), the general scan \(b[k].debugDescription); the text: \(raw.debugDescription)")
            }
        }
        let path = try write(text, "random.csv")
        defer { try? FileManager.default.removeItem(atPath: path); CSVReader.bulk = true }
        let bulk = try read(try CSVReader(path: path))
        let piece = try read(CSVReader(piece: Array(text.utf8), path: path, firstLine: 1, offset: 0, separator: 44))
        CSVReader.bulk = false
        let general = try read(try CSVReader(path: path))
        XCTAssertGreaterThan(general.count, 40_000 / 2)
        same(bulk, general, "from the file")
        same(piece, general, "from a piece")
    }

    func strtofBits(_ s: String) -> UInt32? {
        s.withCString { p in
            var end: UnsafeMutablePointer<CChar>? = nil
            let v = strtof(p, &end)
            return end == UnsafeMutablePointer(mutating: p) + s.utf8.count ? v.bitPattern : nil
        }
    }

    func fast(_ s: String) -> Float? {
        Array(s.utf8).withUnsafeBufferPointer { DecimalFloat.parse($0) }
    }

    func testDecimalParserGivesStrtofsFloatBitForBit() {
        var rng = SystemRandomNumberGenerator()
        var cases: [String] = ["0", "-0", "118", "1806.6723", "0.25", "-1000", ".5", "1.", "007.50",
                               "16777217", "16777219", "33554434", "0.1", "3.4028235e38", "1e5", "inf", "nan",
                               "-", ".", "", "1.2.3", "+1", "12a", "999999999999999", "9999999999999999",
                               "0.0000000000000000000001", "0.00000000000000000000001"]
        // Shortest texts of random floats (what lake and the generator write), float midpoints
        // written out in full (the ties the parser must leave to strtof), and random decimals
        // of every length.
        for _ in 0..<300_000 {
            let f = Float(bitPattern: UInt32.random(in: 0x3000_0000...0x4F00_0000, using: &rng))
            cases.append("\(f)")
            cases.append("\(-f)")
            let mid = (Double(f) + Double(f.nextUp)) / 2
            cases.append(String(format: "%.17g", mid))
            let digits = Int.random(in: 1...17, using: &rng)
            var s = (0..<digits).map { _ in String(Int.random(in: 0...9, using: &rng)) }.joined()
            let point = Int.random(in: 0...digits, using: &rng)
            if point < digits { s.insert(".", at: s.index(s.startIndex, offsetBy: point)) }
            cases.append(s)
        }
        var fastTaken = 0
        for s in cases {
            let reference = strtofBits(s)
            if let v = fast(s) {
                fastTaken += 1
                XCTAssertEqual(v.bitPattern, reference, "\(s): \(v) where strtof gives \(reference.map { Float(bitPattern: $0) } as Any)")
            }
        }
        // The fast path must carry the common forms, or it gains nothing.
        XCTAssertEqual(fast("1806.6723"), Float("1806.6723"))
        XCTAssertEqual(fast("-0")?.sign, .minus)
        XCTAssertNil(fast("16777217"))     // a tie between two floats: left to strtof
        XCTAssertNil(fast("1e5"))
        XCTAssertGreaterThan(fastTaken, cases.count / 2)
    }

    /// Through the record: a field the fast path declines still reads as strtof reads it.
    func testRecordFloatsMatchStrtof() throws {
        let text = "a,b,c,d,e\n1806.6723,16777217,1e-3, 2.5 ,x1\n"
        let path = try write(text, "floats.csv")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reader = try CSVReader(path: path)
        _ = try reader.nextRecord()
        let r = try XCTUnwrap(reader.nextRecord())
        func value(_ i: Int) -> Float? { if case .value(let v) = r.float(i) { return v }; return nil }
        XCTAssertEqual(value(0), 1806.6723)
        XCTAssertEqual(value(1), 16777216)
        XCTAssertEqual(value(2), 0.001)
        XCTAssertEqual(value(3), 2.5)
        guard case .invalid = r.float(4) else { return XCTFail("x1 is not a number") }
    }

    /// European spreadsheets: `;` between fields and a decimal comma in them.
    func testDecimalCommasOfSemicolonFiles() throws {
        let path = try write("a;b;c;d\n0,71;1500,5;1.234,5;12\n", "commas.csv")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let reader = try CSVReader(path: path)
        _ = try reader.nextRecord()
        let r = try XCTUnwrap(reader.nextRecord())
        func value(_ i: Int) -> Float? { if case .value(let v) = r.float(i) { return v }; return nil }
        XCTAssertEqual(value(0), 0.71)
        XCTAssertEqual(value(1), 1500.5)
        XCTAssertNil(value(2), "a thousands separator and a decimal comma: not guessed")
        XCTAssertEqual(value(3), 12)
    }

    /// The identifier memo gives each row its own field's text whatever the order: values
    /// repeated at once, after others (a scene's reference in a parcel-ordered file), past its
    /// cache's limit, blank, and through a transform.
    func testMemoGivesEachRowItsOwnValue() throws {
        var values = ["a", "b", "a", "c", "b", "a", "", "  a ", "a", "ab", "ba", "x", "y", "x", "y", "y"]
        values += (0..<5000).map { "S2A_\($0)" } + (0..<50).map { "S2A_\($0 * 97)" } + ["a", "", "b"]
        let path = try write("id,n\n" + values.map { $0 + ",1" }.joined(separator: "\n") + "\n", "memo.csv")
        defer { try? FileManager.default.removeItem(atPath: path) }
        for transform in [nil, { (s: String) -> String? in s == "b" ? nil : s.uppercased() }] as [((String) -> String?)?] {
            let reader = try CSVReader(path: path)
            _ = try reader.nextRecord()
            var memo = SignatureSource.Memo(transform)
            var got: [String?] = [], expected: [String?] = []
            while let record = try reader.nextRecord() {
                got.append(memo.text(record, 0))
                let text = record.text(0)
                expected.append(transform.map { t in text.flatMap(t) } ?? text)
            }
            XCTAssertEqual(got.count, values.count)
            XCTAssertEqual(got, expected)
        }
    }
}
