import Foundation
import LakeStore

/// Reads the signature forms row by row into one shape.
enum SignatureSource {
    struct Row {
        /// Line (CSV) or record (JSON) number.
        var position: Int
        /// How far into the file (bytes) the reader was after this row: progress.
        var offset = 0
        var isRecord = false
        var location: String { isRecord ? "record \(position)" : "line \(position)" }
        var parcel: String?
        var reference: String?
        var obsid: Int64?
        var date: String?          // YYYY-MM-DD or ISO time
        var band: String?
        var stats: SignatureStats?
        var hist: [Int]?
        /// The collection a composite belongs to (WorldCereal `ref_id`), to name created scenes.
        var collection: String?
        /// Why the row cannot be read, when it cannot.
        var error: String?
        /// A row that says there was no observation: a count of 0 (or none) and no statistic,
        /// as exports write every date of a parcel whose pixels were all masked.
        var empty = false
    }

    // MARK: CSV

    /// The rows of the records `reader` has left (after the header), in the shape `columns` reads.
    static func records(_ reader: CSVReader, _ columns: Columns, _ body: (Row) throws -> Void) throws {
        // Identifiers repeat from row to row (8 bands of one parcel and scene): reuse the
        // String of the previous row when the bytes are the same.
        var parcel = Memo(), reference = Memo(), date = Memo(normaliseDate), band = Memo(), collection = Memo()
        while let record = try reader.nextRecord() {
            var row = Row(position: reader.line)
            row.offset = reader.bytesConsumed
            row.parcel = parcel.text(record, columns.parcel)
            row.reference = reference.text(record, columns.reference)
            if case .value(let v) = record.int(columns.obsid) { row.obsid = v }
            row.date = date.text(record, columns.date)
            if row.date == nil, columns.reference == nil, columns.obsid == nil, let i = columns.date, let raw = record.text(i), !raw.isEmpty {
                row.error = "date \(raw) not understood (write YYYY-MM-DD, YYYYMMDD, DD.MM.YYYY or Unix seconds; in 03/04/2023 nothing says which number is the day)"
                try body(row); continue
            }
            row.band = band.text(record, columns.band)
            row.collection = collection.text(record, columns.collection)
            if !columns.wideBands.isEmpty {
                // One value per band column (a composite or a point sample): count 1.
                for (index, name) in columns.wideBands {
                    switch record.float(index) {
                    case .blank: continue
                    case .invalid:
                        if Self.isMissing(record.text(index)) { continue }
                        var bad = row; bad.error = "\(name) is not a number: \(record.text(index) ?? "")"; try body(bad)
                    case .value(let v):
                        if v == wideNodata || v.isNaN { continue }
                        var one = row
                        one.band = name
                        one.stats = SignatureStats(count: 1, mean: v, std: 0, min: v, max: v, p25: v, p50: v, p75: v)
                        if let others = columns.wideStats[name] {
                            // The band's own statistics where the table has them; unknown elsewhere.
                            var stats = SignatureStats(count: .nan, mean: v, std: .nan, min: .nan, max: .nan, p25: .nan, p50: .nan, p75: .nan)
                            var bad: String?
                            for (field, column) in others {
                                switch record.float(column) {
                                case .value(let x): stats[field] = x
                                case .blank: break
                                case .invalid:
                                    if Self.isMissing(record.text(column)) { break }
                                    bad = "\(name) \(SignatureStats.fieldNames[field]) is not a number: \(record.text(column) ?? "")"
                                }
                            }
                            if let problem = bad ?? stats.problem.map({ "\(name): \($0)" }) { var wrong = row; wrong.error = problem; try body(wrong); continue }
                            one.stats = stats
                        }
                        try body(one)
                    }
                }
                if let cloud = columns.cloud {
                    let (hist, error) = cloud.histogram(record)
                    if let error { row.error = error; try body(row) } else if let hist { row.hist = hist; try body(row) }
                }
                continue
            }
            if record.count < columns.width {
                row.error = "\(record.count) fields where the header has \(columns.width)"; try body(row); continue
            }
            if columns.hasStats {
                var stats = SignatureStats.zero
                var bad: String?
                for (k, index) in columns.stats.enumerated() {
                    switch record.float(index) {
                    case .value(let v): stats[k] = v
                    case .blank: stats[k] = .nan
                    case .invalid: bad = "\(SignatureStats.fieldNames[k]) is not a number: \(record.text(index) ?? "")"
                    }
                    if bad != nil { break }
                }
                if let bad { row.error = bad; try body(row); continue }
                if stats.mean.isNaN && (stats.count.isNaN || stats.count == 0) && (2..<8).allSatisfy({ stats[$0].isNaN }) {
                    // No pixel, no statistic: no observation (an SCL histogram of it is still read).
                    row.empty = columns.histJSON == nil && columns.histColumns.isEmpty && columns.cloud == nil
                } else if !stats.mean.isNaN || row.band != nil {
                    if let problem = stats.problem { row.error = problem; try body(row); continue }
                    row.stats = stats
                }
            }
            if let h = columns.histJSON, !record.isBlank(h) {
                // The common form read in place; anything else through the JSON parser and its messages.
                if let hist = record.withField(h, SCLHistogramText.parse(bytes:)) { row.hist = hist }
                else if let text = record.text(h) {
                    do { row.hist = try parseHist(text) } catch { row.error = "\(error)"; try body(row); continue }
                }
            } else if !columns.histColumns.isEmpty {
                var hist = [Int](repeating: 0, count: 12)
                var bad: String?
                for (k, i) in columns.histColumns {
                    switch record.int(i) {
                    case .value(let v) where v >= 0: hist[k] = Int(v)
                    case .blank: break
                    default: bad = "SCL class \(k) count is not a whole number ≥ 0: \(record.text(i) ?? "")"
                    }
                }
                if let bad { row.error = bad; try body(row); continue }
                if hist.contains(where: { $0 > 0 }) { row.hist = hist }
            } else if let cloud = columns.cloud {
                let (hist, error) = cloud.histogram(record)
                if let error { row.error = error; try body(row); continue }
                row.hist = hist
            }
            try body(row)
        }
    }

    /// The last field value read from one column, kept while the bytes repeat, and the values
    /// seen before by their bytes: a scene's reference comes back every few rows of a
    /// parcel-ordered file (a parcel's every few rows of a scene-ordered one), and one String per
    /// distinct value is made rather than one per row (a histogram file made two allocations a
    /// row here, freed on the writing thread).
    struct Memo {
        private var bytes: [UInt8] = []
        private var value: String?
        private let transform: ((String) -> String?)?
        /// Values by a hash of their bytes (the bytes kept to compare); at most `limit` of them.
        private var seen: [UInt64: (bytes: [UInt8], value: String?)] = [:]
        private static let limit = 4096

        init(_ transform: ((String) -> String?)? = nil) { self.transform = transform }

        mutating func text(_ record: CSVRecord, _ index: Int?) -> String? {
            guard let index, index < record.count else { return nil }
            if record.equals(index, bytes) { return value }
            let hash = record.withField(index) { field -> UInt64 in
                var h: UInt64 = 0xCBF2_9CE4_8422_2325   // FNV-1a
                for b in field { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
                return h
            }
            if let known = seen[hash], record.equals(index, known.bytes) {
                bytes = known.bytes; value = known.value
                return value
            }
            bytes = Array(record.rawBytes(index))
            let text = bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
            value = transform.map { t in text.flatMap(t) } ?? text
            if seen.count >= Self.limit { seen.removeAll(keepingCapacity: true) }
            seen[hash] = (bytes, value)
            return value
        }
    }

    /// Column positions by the names the JRC forms use.
    struct Columns {
        var parcel, reference, obsid, date, band, histJSON, collection: Int?
        /// The wide form (WorldCereal, openEO point extractions): one column per band,
        /// `S2-L2A-B04`, `S1-SIGMA0-VV`, each holding a single value.
        var wideBands: [(Int, String)] = []
        /// A table by date's other statistics of a band (`B04_std`, `B04_stdDev`, `B04_count`,
        /// `B04_p50`, … as Earth Engine's combined reducers name them): band → (field, column).
        var wideStats: [String: [(field: Int, column: Int)]] = [:]
        var stats: [Int?] = []
        var histColumns: [(Int, Int)] = []
        /// A parcel-level cloud column (a flag, a fraction or a percentage of the parcel's
        /// pixels; `clear` columns the other way round), where no SCL histogram is given.
        var cloud: CloudColumn?
        var hasStats: Bool { stats.contains { $0 != nil } }
        /// Fields in the header: a record with fewer is cut short.
        var width = 0

        init(_ names: [String]) {
            width = names.count
            func find(_ candidates: String...) -> Int? { candidates.lazy.compactMap { names.firstIndex(of: $0) }.first }
            parcel = find("parcel_id", "pid", "parcel", "parcelid", "sample_id", "id", "field_id", "fieldid", "field", "fid", "plot_id", "plot")
            collection = find("ref_id", "collection")
            reference = find("reference", "ref", "scene", "product")
            obsid = find("obsid")
            date = find("date_part", "obstime", "date", "datetime", "timestamp", "acquisition_date", "acq_date", "obs_date", "image_date", "time")
            band = find("band", "band_name", "bandname")
            histJSON = find("hist", "scl_hist", "histogram")
            // The JRC names, and the other names tools give the same statistics.
            let aliases: [String: [String]] = [
                "count": ["count", "pixels", "npix", "n_pixels", "pixel_count"], "mean": ["mean", "avg", "average"],
                "std": ["std", "stdev", "stddev", "sd"], "min": ["min", "minimum"], "max": ["max", "maximum"],
                "p25": ["p25", "q25", "percentile_25"], "p50": ["p50", "median", "q50", "percentile_50"], "p75": ["p75", "q75", "percentile_75"],
            ]
            stats = SignatureStats.fieldNames.map { name in
                aliases[name, default: [name]].lazy.compactMap { names.firstIndex(of: $0) }.first
            }
            for k in 0...11 {
                if let i = find("hist.\(k)", "hist_\(k)", "scl_\(k)", "c\(k)") { histColumns.append((k, i)) }
            }
            if histJSON == nil && histColumns.isEmpty {
                cloud = CloudColumn(names)
            }
            if band == nil && !hasStats {
                for (i, name) in names.enumerated() {
                    for prefix in ["s2-l2a-", "s2-l1c-", "s1-sigma0-"] where name.hasPrefix(prefix) {
                        let b = Bands.normalise(String(name.dropFirst(prefix.count)))
                        if b.hasPrefix("B") || ["VV", "VH", "HH", "HV"].contains(b) { wideBands.append((i, b)) }
                    }
                }
                // A table of parcel means by date, a column per band as most tools write it
                // (`b04`, `B8A`, `ndvi`, `B08_mean`, `mean_ndvi`, `vv`): each value a mean.
                if wideBands.isEmpty {
                    var others: [String: [(field: Int, column: Int)]] = [:]
                    for (i, name) in names.enumerated() {
                        guard let (band, field) = Self.bandStatistic(name) else { continue }
                        if field == 1 { wideBands.append((i, band)) } else { others[band, default: []].append((field, i)) }
                    }
                    // A band given by its median only (Earth Engine's median reducer) stands in by it.
                    for (band, o) in others.sorted(by: { $0.key < $1.key }) where !wideBands.contains(where: { $0.1 == band }) {
                        if let median = o.first(where: { $0.field == 6 }) { wideBands.append((median.column, band)) }
                    }
                    // Statistics count only beside a band's mean.
                    for (_, band) in wideBands { if let o = others[band] { wideStats[band] = o } }
                }
            }
        }

        /// The band and statistic (`SignatureStats` field index; 1, the mean, for a bare band
        /// name) a wide table's column holds: `b04`, `b04_mean`, `mean_b04`, `b04_std`,
        /// `b04_stddev`, `b04_count`, `b04_median`, `b04_p25`, … (lower case, as the header is read).
        static func bandStatistic(_ name: String) -> (band: String, field: Int)? {
            let names: [(field: Int, words: [String])] = [
                (1, ["mean", "avg"]), (2, ["std", "stddev", "stdev", "sd"]), (0, ["count", "pixels", "n"]),
                (3, ["min"]), (4, ["max"]), (5, ["p25", "q25"]), (6, ["p50", "median", "q50"]), (7, ["p75", "q75"]),
            ]
            for (field, words) in names {
                for word in words {
                    for separator in ["_", "-", "."] {
                        if name.hasSuffix(separator + word), let b = plainBand(String(name.dropLast(word.count + 1))) { return (b, field) }
                        if name.hasPrefix(word + separator), let b = plainBand(String(name.dropFirst(word.count + 1))) { return (b, field) }
                    }
                }
            }
            return plainBand(name).map { ($0, 1) }
        }

        /// A column name that is a band's name and nothing more (lower case, as the header is
        /// read): a Sentinel-2 band (b4, B04, B8A, or its colour: red, nir, …), NDVI, or a
        /// Sentinel-1 polarisation.
        static func plainBand(_ name: String) -> String? {
            guard !name.contains("_") else { return nil }   // normalise would cut it there
            let b = Bands.normalise(name)
            return Bands.sentinel2.contains(b) || [Bands.ndvi, "VV", "VH", "HH", "HV"].contains(b) ? b : nil
        }

        func validate(path: String) throws {
            guard hasStats || histJSON != nil || !histColumns.isEmpty || !wideBands.isEmpty else {
                throw LakeError.input(file: path, location: "line 1", reason: "no statistics (count, mean, …), no band columns (B04, B08, NDVI, …) and no SCL histogram columns: not a signature file")
            }
            guard hasStats == false || band != nil else {
                throw LakeError.input(file: path, location: "line 1", reason: "statistics without a band column")
            }
            guard reference != nil || obsid != nil || date != nil else {
                throw LakeError.input(file: path, location: "line 1", reason: "no scene column (reference, obsid, date_part or date)")
            }
        }
    }

    /// How cloudy the parcel was in an observation, as tables without SCL histograms say it:
    /// `cloud`/`cloudy`/`cloud_flag`/`cloud_mask` (1 or true: cloudy), `cloud_fraction`/
    /// `cloud_share` (0–1), `cloud_pct`/`cloud_percent`/`cloud_probability` (0–100), `clear`/
    /// `is_clear`/`clear_fraction` (the other way round). It becomes the observation's SCL
    /// histogram: that share of 100 pixels cloudy (class 9), the rest vegetation (class 4), so
    /// the option file's cloud rule applies to it. A scene's cloud cover (`cloud_cover`,
    /// `eo:cloud_cover`) says nothing about one parcel and is not read.
    struct CloudColumn {
        let index: Int
        let percent: Bool
        let clear: Bool

        init?(_ names: [String]) {
            let cloudy = ["cloud", "clouds", "cloudy", "is_cloudy", "cloud_flag", "cloud_mask", "cloudmask", "cloud_fraction",
                          "cloud_frac", "cloud_share", "cloudy_fraction", "cloudy_share", "cloud_pct", "cloud_percent",
                          "cloud_percentage", "cloudy_pct", "cloud_probability", "cloud_prob"]
            let clear = ["clear", "is_clear", "clear_flag", "clear_fraction", "clear_share", "clear_pct", "clear_percent"]
            if let i = cloudy.lazy.compactMap({ names.firstIndex(of: $0) }).first {
                index = i; self.clear = false
            } else if let i = clear.lazy.compactMap({ names.firstIndex(of: $0) }).first {
                index = i; self.clear = true
            } else {
                return nil
            }
            let name = names[index]
            percent = ["pct", "percent", "prob"].contains { name.contains($0) }
        }

        /// The synthetic histogram of a record; nil for a blank field, an error text for a
        /// value that is none of a flag, a fraction or a percentage.
        func histogram(_ record: CSVRecord) -> (hist: [Int]?, error: String?) {
            let share: Float
            switch record.float(index) {
            case .blank: return (nil, nil)
            case .value(let v) where v.isFinite && v >= 0 && v <= (percent ? 100 : 1): share = percent ? v / 100 : v
            case .value(let v) where v.isFinite && v > 1 && v <= 100 && !percent: share = v / 100
            case .invalid where ["true", "yes"].contains(record.text(index)?.lowercased() ?? ""): share = 1
            case .invalid where ["false", "no"].contains(record.text(index)?.lowercased() ?? ""): share = 0
            default:
                if SignatureSource.isMissing(record.text(index)) { return (nil, nil) }
                return (nil, "cloud column is neither a flag, a fraction nor a percentage: \(record.text(index) ?? "")")
            }
            let cloudy = Int((100 * (clear ? 1 - share : share)).rounded())
            var hist = [Int](repeating: 0, count: 12)
            hist[9] = cloudy
            hist[4] = 100 - cloudy
            return (hist, nil)
        }
    }

    /// What tables write for a missing value: NA, NaN, null, none, n/a, -.
    static func isMissing(_ text: String?) -> Bool {
        guard let t = text?.lowercased() else { return false }
        return ["na", "nan", "null", "none", "n/a", "-"].contains(t)
    }

    /// The wide form's marker of "no valid observation in the period" (uint16 maximum).
    static let wideNodata: Float = 65535

    // MARK: JSON (parcelTimeSeries)

    /// {"date_part": [...], "band": [...], "count": [...], ..., "hist": [...], "reference": [...]}
    /// or a list of row objects with the same keys.
    static func json(path: String, _ body: (Row) throws -> Void) throws {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            throw LakeError.input(file: path, location: nil, reason: "invalid JSON: \(error.localizedDescription)")
        }
        var records: [[String: Any]] = []
        if let list = object as? [[String: Any]] { records = list }
        else if let columns = object as? [String: Any] {
            let lists = columns.compactMapValues { $0 as? [Any] }
            let n = lists.values.map(\.count).max() ?? 0
            guard lists.values.allSatisfy({ $0.count == n }) else {
                throw LakeError.input(file: path, location: nil, reason: "parcelTimeSeries columns have different lengths")
            }
            records = (0..<n).map { i in lists.mapValues { $0[i] } }
        } else {
            throw LakeError.input(file: path, location: nil, reason: "not a parcelTimeSeries document")
        }
        for (i, r) in records.enumerated() {
            var row = Row(position: i + 1, isRecord: true)
            row.parcel = text(r["parcel_id"] ?? r["pid"])
            row.reference = text(r["reference"])
            row.obsid = (r["obsid"] as? NSNumber)?.int64Value
            if let seconds = r["date_part"] as? NSNumber {
                row.date = isoFromEpoch(seconds.doubleValue)
            } else {
                row.date = text(r["date_part"] ?? r["date"] ?? r["obstime"]).flatMap(normaliseDate)
            }
            row.band = text(r["band"])
            if let m = r["mean"], !(m is NSNull) {
                var stats = SignatureStats.zero
                for (k, name) in SignatureStats.fieldNames.enumerated() {
                    stats[k] = (r[name] as? NSNumber)?.floatValue ?? Float(text(r[name]) ?? "") ?? .nan
                }
                if let problem = stats.problem { row.error = problem } else { row.stats = stats }
            } else if let band = row.band, Bands.normalise(band) != Bands.scl, r["hist"] == nil || r["hist"] is NSNull {
                row.error = "mean is missing"
            }
            if let h = r["hist"], row.error == nil {
                do {
                    if let dict = h as? [String: Any] { row.hist = try histFrom(dict) }
                    else if let s = h as? String { row.hist = try parseHist(s) }
                    else if !(h is NSNull) { row.error = "hist is not an object of class counts" }
                } catch { row.error = "\(error)" }
            }
            try body(row)
        }
    }

    static func text(_ v: Any?) -> String? {
        switch v {
        case let s as String: return s
        case let n as NSNumber: return n.stringValue
        default: return nil
        }
    }

    struct HistogramError: Error, CustomStringConvertible { let description: String }

    /// {"4": 186, "5": 1} (also Python's single-quoted form) → 12 counts; an error names what
    /// is wrong (not JSON, a class outside the SCL legend 0–11, a count that is not a whole
    /// number ≥ 0), so that a bad histogram never replaces a good one.
    static func parseHist(_ text: String) throws -> [Int] {
        if let hist = simpleHist(text) { return hist }
        let cleaned = text.replacingOccurrences(of: "'", with: "\"")
        guard let data = cleaned.data(using: .utf8),
              let dict = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw HistogramError(description: "hist is not a JSON object of class counts: \(text.prefix(40))")
        }
        return try histFrom(dict)
    }

    /// The common form, read straight from the bytes (LakeStore's SCLHistogramText, shared with
    /// `lake pull`); nil for anything else, which goes through the JSON parser and its messages.
    static func simpleHist(_ text: String) -> [Int]? { SCLHistogramText.parse(text) }

    static func histFrom(_ dict: [String: Any]) throws -> [Int] {
        var hist = [Int](repeating: 0, count: 12)
        for (k, v) in dict {
            guard let c = Int(k), (0...11).contains(c) else { throw HistogramError(description: "hist class \(k) is not an SCL class (0–11)") }
            let n: Int?
            if let number = v as? NSNumber {
                n = number.doubleValue == number.doubleValue.rounded() && number.doubleValue >= 0 && number.doubleValue < 1e12 ? number.intValue : nil
            } else if let s = v as? String { n = Int(s).flatMap { $0 >= 0 ? $0 : nil } } else { n = nil }
            guard let n else { throw HistogramError(description: "hist class \(c) count is not a whole number ≥ 0: \(v)") }
            hist[c] = n
        }
        return hist
    }

    /// Epoch seconds ("1592213431"), ISO dates and times → "YYYY-MM-DD" or ISO time.
    static func normaliseDate(_ text: String) -> String? {
        if let seconds = Double(text), seconds > 100_000_000 { return isoFromEpoch(seconds) }
        if text.count >= 10, text.range(of: #"^\d{4}-\d{2}-\d{2}"#, options: .regularExpression) != nil {
            return text.count == 10 ? text : SceneNormaliser.normaliseTime(text) ?? String(text.prefix(10))
        }
        if text.count == 8, Int(text) != nil {   // 20200615
            let c = Array(text)
            return "\(String(c[0..<4]))-\(String(c[4..<6]))-\(String(c[6..<8]))"
        }
        // 2020/06/15; 15.06.2020 (day first, as dotted dates are written); 15/06/2020 or
        // 06/15/2020 where one of the first two numbers is above 12 and so says which is the day.
        let date = text.prefix { $0 != " " && $0 != "T" }
        let parts = date.split(whereSeparator: { $0 == "/" || $0 == "." || $0 == "-" }).map { Int($0) }
        guard parts.count == 3, let a = parts[0], let b = parts[1], let c = parts[2] else { return nil }
        func iso(_ y: Int, _ m: Int, _ d: Int) -> String? {
            guard (1...12).contains(m), (1...31).contains(d), (1900...2200).contains(y) else { return nil }
            return String(format: "%04d-%02d-%02d", y, m, d)
        }
        if date.contains("/") && a > 31 { return iso(a, b, c) }
        if date.contains(".") && c > 31 { return iso(c, b, a) }
        if date.contains("/") && c > 31 {
            if a > 12 && b <= 12 { return iso(c, b, a) }
            if b > 12 && a <= 12 { return iso(c, a, b) }
        }
        return nil
    }

    static func isoFromEpoch(_ seconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }
}
