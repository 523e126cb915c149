import XCTest
@testable import LakeStore

final class SeriesCodecTests: XCTestCase {
    func stats(_ v: [Float]) -> SignatureStats {
        SignatureStats(count: v[0], mean: v[1], std: v[2], min: v[3], max: v[4], p25: v[5], p50: v[6], p75: v[7])
    }

    func testRoundTripIsBitExactForEveryKindOfValue() throws {
        var rng = SystemRandomNumberGenerator()
        var rows: [SignatureRow] = []
        for band in [UInt8(2), 4, 8, 12] {
            var obsid: Int64 = 1
            for _ in 0..<73 {
                obsid += Int64.random(in: 1...40, using: &rng)
                let dn = Float(Int.random(in: 0...12000, using: &rng))
                rows.append(SignatureRow(obsid: obsid, bandID: band, stats: stats([
                    Float(Int.random(in: 1...5000, using: &rng)), dn + Float.random(in: -50...50, using: &rng),
                    Float.random(in: 0...900, using: &rng), dn - 500, dn + 500, dn - 120.25, dn, dn + 130.5,
                ])))
            }
        }
        // Odd values every codec must keep: NaN, infinities, negative zero, subnormals, reflectance floats.
        rows.append(SignatureRow(obsid: 9_000_000_000, bandID: 200, stats: stats([.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, 0.123456789, 1e30, -3.5])))
        let blob = SeriesCodec.encode(rows)
        let decoded = try SeriesCodec.decode(blob)
        XCTAssertEqual(decoded.count, rows.count)
        for (a, b) in zip(rows, decoded) {
            XCTAssertEqual(a.obsid, b.obsid)
            XCTAssertEqual(a.bandID, b.bandID)
            XCTAssertTrue(a.stats.identical(to: b.stats), "\(a.stats) != \(b.stats)")
        }
    }

    /// Decoding a few columns of a few bands gives exactly what the full decode gives.
    func testSelectiveDecodeAgreesWithFullDecode() throws {
        var rng = SystemRandomNumberGenerator()
        var rows: [SignatureRow] = []
        for band in [UInt8(2), 4, 8, 12, 30] {
            var obsid: Int64 = 5
            for _ in 0..<40 {
                obsid += Int64.random(in: 1...9, using: &rng)
                let dn = Float(Int.random(in: 0...9000, using: &rng))
                rows.append(SignatureRow(obsid: obsid, bandID: band, stats: stats([
                    Float(Int.random(in: 1...900, using: &rng)), dn + Float.random(in: -9...9, using: &rng),
                    Float.random(in: 0...300, using: &rng), dn - 90, dn + 90, dn - 20.5, dn, dn + 30.25])))
            }
        }
        let blob = SeriesCodec.encode(rows)
        let full = try SeriesCodec.decode(blob)
        for (bands, fields) in [(Set<UInt8>([4, 8]), Set<Int>([1])), (Set<UInt8>([12]), Set<Int>([1, 2, 5, 6, 7])), (Set<UInt8>([2, 30]), Set(0..<8)), (Set<UInt8>([99]), Set<Int>([1]))] {
            let part = try blob.withUnsafeBytes { try SeriesCodec.decode($0, bands: bands, fields: fields) }
            XCTAssertEqual(Set(part.map(\.band)), bands.intersection(Set(rows.map(\.bandID))))
            for column in part {
                let expected = full.filter { $0.bandID == column.band }
                XCTAssertEqual(column.obsids, expected.map(\.obsid))
                XCTAssertEqual(Set(column.values.keys), fields)
                for (field, values) in column.values {
                    XCTAssertEqual(values.map(\.bitPattern), expected.map { $0.stats[field].bitPattern }, "band \(column.band) field \(field)")
                }
            }
        }
    }

    func testTypicalDigitalNumbersPackBelowTwentyFourBytesPerRow() {
        // Integer DNs and quarter-step percentiles, as extraction produces them.
        var rows: [SignatureRow] = []
        for band in UInt8(1)...8 {
            for k in 0..<73 {
                let dn = Float(1000 + (k * 37) % 3000)
                rows.append(SignatureRow(obsid: Int64(k + 1), bandID: band, stats: stats([
                    412, dn + 0.3125, 81.73828, dn - 210, dn + 260, dn - 55.5, dn, dn + 60.25])))
            }
        }
        let bytes = SeriesCodec.encode(rows).count
        XCTAssertLessThan(Double(bytes) / Double(rows.count), 24, "\(bytes) bytes for \(rows.count) rows")
    }

    func testDamagedBlobsThrowInsteadOfCrashing() {
        let rows = (1...10).map { SignatureRow(obsid: Int64($0), bandID: 4, stats: stats([1, 2, 3, 4, 5, 6, 7, 8])) }
        let blob = SeriesCodec.encode(rows)
        for cut in 0..<blob.count {
            XCTAssertThrowsError(try SeriesCodec.decode(Array(blob.prefix(cut))), "prefix \(cut)")
        }
        XCTAssertThrowsError(try SeriesCodec.decode(blob + [0]))
        var wrongVersion = blob; wrongVersion[0] = 9
        XCTAssertThrowsError(try SeriesCodec.decode(wrongVersion))
    }

    /// Series written by lake before format 2 (no column lengths) still decode, fully and
    /// selectively, to the same values. The bytes were written by the version 1 encoder.
    func testVersionOneSeriesStillDecode() throws {
        let hex = "010204030a050503e03ea802a80203c002000003d031a802a80203804fa802a80203a43ba802a80203c242a802a802028028801480140180f48d9504000008030a050503803fa802a80203c002000003f031a802a80203a04fa802a80203c43ba802a80203e242a802a802028028801480140180f48d95040000"
        var blob: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex { let j = hex.index(i, offsetBy: 2); blob.append(UInt8(hex[i..<j], radix: 16)!); i = j }
        XCTAssertEqual(blob.first, 1)
        var expected: [SignatureRow] = []
        for band in [UInt8(4), 8] {
            for k in 0..<3 {
                let dn = Float(1000 + k * 37 + Int(band))
                expected.append(SignatureRow(obsid: Int64(10 + k * 5), bandID: band, stats: stats([40, dn + 0.3125, 81.73828, dn - 210, dn + 260, dn - 55.5, dn, dn + 60.25])))
            }
        }
        let rows = try SeriesCodec.decode(blob)
        XCTAssertEqual(rows.count, expected.count)
        for (a, b) in zip(rows, expected) {
            XCTAssertEqual(a.obsid, b.obsid); XCTAssertEqual(a.bandID, b.bandID)
            XCTAssertTrue(a.stats.identical(to: b.stats), "\(a.stats) != \(b.stats)")
        }
        let means = try blob.withUnsafeBytes { try SeriesCodec.decode($0, bands: [8], fields: [1]) }
        XCTAssertEqual(means.first?.values[1], expected.suffix(3).map(\.stats.mean))
        // Re-encoded, it is version 2 and decodes the same.
        let again = SeriesCodec.encode(rows)
        XCTAssertEqual(again.first, 2)
        XCTAssertEqual(try SeriesCodec.decode(again), rows)
    }

    /// The fast column reader gives what the full decode gives, for every band and statistic.
    func testColumnReaderAgreesWithFullDecode() throws {
        var rows: [SignatureRow] = []
        for band in [UInt8(2), 4, 8] {
            for k in 0..<50 {
                let dn = Float(500 + (k * 97) % 4000)
                rows.append(SignatureRow(obsid: Int64(3 + 2 * k + Int(band) % 3), bandID: band, stats: stats([
                    Float(10 + k), dn + 0.37, 55.1, dn - 80, dn + 90, dn - 20.25, dn, dn + 31.5])))
            }
        }
        rows.sort { ($0.bandID, $0.obsid) < ($1.bandID, $1.obsid) }
        let blob = SeriesCodec.encode(rows)
        for field in 0..<8 {
            var seen: [UInt8] = []
            try blob.withUnsafeBytes { raw in
                try SeriesCodec.forEachColumn(raw, bands: [4, 8], field: field) { band, obsids, values in
                    seen.append(band)
                    let expected = rows.filter { $0.bandID == band }
                    XCTAssertEqual(Array(obsids), expected.map(\.obsid))
                    XCTAssertEqual(values.map(\.bitPattern), expected.map { $0.stats[field].bitPattern }, "band \(band) field \(field)")
                }
            }
            XCTAssertEqual(seen, [4, 8])
        }
        // Bands 2 and 8 have the same scenes (band 4 others, between them): read together, 8
        // takes 2's decoded obsids. A second statistic of one band comes in the same pass.
        for field in 0..<8 {
            for second in 0..<8 {
                var seen: [UInt8] = []
                try blob.withUnsafeBytes { raw in
                    try SeriesCodec.forEachColumn(raw, bands: [2, 4, 8], field: field, also: (band: 8, field: second)) { band, obsids, values, extra in
                        seen.append(band)
                        let expected = rows.filter { $0.bandID == band }
                        XCTAssertEqual(Array(obsids), expected.map(\.obsid), "band \(band)")
                        XCTAssertEqual(values.map(\.bitPattern), expected.map { $0.stats[field].bitPattern }, "band \(band) field \(field)")
                        if band == 8 {
                            XCTAssertEqual(extra?.map(\.bitPattern), expected.map { $0.stats[second].bitPattern }, "band 8 fields \(field), \(second)")
                        } else {
                            XCTAssertNil(extra)
                        }
                    }
                }
                XCTAssertEqual(seen, [2, 4, 8])
            }
        }
    }

    /// A value of an XOR column longer than 32 bits is damage, not a number.
    func testOverlongValueInAColumnThrows() throws {
        // One band, one row: header, then the nine columns with their lengths.
        var w: [UInt8] = [2, 1, 4, 1]               // version, one group, band 4, one row
        w += [1, 7]                                  // obsids: 1 byte, obsid 7
        w += [5, 0, 0, 0, 0x80, 0x3F]                // p50: raw float 1.0
        let overlong: [UInt8] = [1, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F]   // mode 1, 5 bytes with 35 bits
        w += [UInt8(overlong.count)] + overlong      // count
        for _ in 0..<6 { w += [5, 0, 0, 0, 0x80, 0x3F] }   // the other six statistics
        XCTAssertThrowsError(try w.withUnsafeBytes { raw in
            try SeriesCodec.forEachColumn(raw, bands: [4], field: 0) { _, _, _ in }
        }) { error in XCTAssertTrue("\(error)".contains("out of range"), "\(error)") }
        // The same bytes with the value in 32 bits decode.
        var fine = w
        fine[fine.firstIndex(of: 0x1F)!] = 0x0F
        var count: Float = 0
        try fine.withUnsafeBytes { raw in try SeriesCodec.forEachColumn(raw, bands: [4], field: 0) { _, _, v in count = v[0] } }
        XCTAssertEqual(count.bitPattern, UInt32.max)
    }

    func testPendingRoundTrip() throws {
        let bands: [(UInt8, SignatureStats)] = [(4, stats([10, 1.5, 0.25, 1, 2, 1.25, 1.5, 1.75])), (8, stats([10, .nan, 0, 0, 0, 0, 0, 0]))]
        let decoded = try PendingCodec.encode(bands).withUnsafeBytes { try PendingCodec.decode($0) }
        XCTAssertEqual(decoded.map(\.0), [4, 8])
        XCTAssertTrue(decoded[0].1.identical(to: bands[0].1))
        XCTAssertTrue(decoded[1].1.identical(to: bands[1].1))
    }

    func testOffsetMovesLocationStatisticsOnly() {
        let s = stats([100, 2000, 50, 1500, 2500, 1900, 2000, 2100]).offset(by: -1000)
        XCTAssertEqual(s.count, 100); XCTAssertEqual(s.std, 50)
        XCTAssertEqual(s.mean, 1000); XCTAssertEqual(s.min, 500); XCTAssertEqual(s.max, 1500)
        XCTAssertEqual(s.p25, 900); XCTAssertEqual(s.p50, 1000); XCTAssertEqual(s.p75, 1100)
    }

    func testBandNamesAreNormalised() {
        XCTAssertEqual(Bands.normalise("B4"), "B04")
        XCTAssertEqual(Bands.normalise("b8"), "B08")
        XCTAssertEqual(Bands.normalise("B8A"), "B8A")
        XCTAssertEqual(Bands.normalise("SC"), "SCL")
        XCTAssertEqual(Bands.normalise("SCL_20m"), "SCL")
        XCTAssertEqual(Bands.normalise("B11"), "B11")
        XCTAssertEqual(Bands.normalise("vv"), "VV")
    }
}
