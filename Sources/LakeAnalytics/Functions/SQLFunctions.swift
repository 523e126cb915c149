import Foundation
import LakeQuery
import LakeSQLite
import LakeStore

/// lake's building blocks as SQLite functions, for `lake sql` and any connection lake opens:
///
/// scalar:    ndvi(nir, red) · bsi(b02, b04, b08, b11) · cloud_free(hist_json [, classes]) ·
///            cloud_free(c0, …, c11) · cv(std, mean) · qdisp(p25, p75) · qskew(p25, p50, p75) ·
///            day_number(date) · date_of(day_number) · doy(date)
/// aggregate: median(x) · percentile(x, q) · mad(x) ·
///            drops(date, value, min_drop, min_days) → JSON list of drop events (the mowing detector)
public enum SQLFunctions {
    public static func register(on db: Connection) throws {
        try SignaturesTable.register(on: db)
        try db.createFunction("ndvi", argumentCount: 2) { a in
            guard let nir = a[0].double, let red = a[1].double, nir + red != 0 else { return .null }
            return .double((nir - red) / (nir + red))
        }
        try db.createFunction("bsi", argumentCount: 4) { a in
            guard let b02 = a[0].double, let b04 = a[1].double, let b08 = a[2].double, let b11 = a[3].double else { return .null }
            let x = b11 + b04, y = b08 + b02
            return x + y == 0 ? .null : .double((x - y) / (x + y))
        }
        try db.createFunction("cloud_free", argumentCount: 1) { a in try cloudFree(a[0], classes: nil) }
        try db.createFunction("cloud_free", argumentCount: 2) { a in try cloudFree(a[0], classes: a[1].text) }
        try db.createFunction("cloud_free", argumentCount: 12) { a in
            let counts = a.map { Int($0.int ?? 0) }
            return .int(CloudScreen().isClear(counts) ? 1 : 0)
        }
        try db.createFunction("cv", argumentCount: 2) { a in
            guard let std = a[0].double, let mean = a[1].double, mean != 0 else { return .null }
            return .double(std / mean)
        }
        try db.createFunction("qdisp", argumentCount: 2) { a in
            guard let p25 = a[0].double, let p75 = a[1].double, p75 + p25 != 0 else { return .null }
            return .double((p75 - p25) / (p75 + p25))
        }
        try db.createFunction("qskew", argumentCount: 3) { a in
            guard let p25 = a[0].double, let p50 = a[1].double, let p75 = a[2].double, p75 != p25 else { return .null }
            return .double((p75 + p25 - 2 * p50) / (p75 - p25))
        }
        try db.createFunction("day_number", argumentCount: 1) { a in a[0].text.flatMap(Days.number).map { .int(Int64($0)) } ?? .null }
        try db.createFunction("date_of", argumentCount: 1) { a in a[0].int.map { .text(Days.text(Int($0))) } ?? .null }
        try db.createFunction("doy", argumentCount: 1) { a in a[0].text.flatMap(Days.number).map { .int(Int64(Days.dayOfYear($0))) } ?? .null }
        try db.createAggregate("median", argumentCount: 1) { Collect { RobustStatistics.median($0) } }
        try db.createAggregate("mad", argumentCount: 1) { Collect { RobustStatistics.mad($0) } }
        try db.createAggregate("percentile", argumentCount: 2) { CollectWithParameter { RobustStatistics.percentile($0, $1) } }
        try db.createAggregate("drops", argumentCount: 4) { DropsAggregate() }
    }

    static func cloudFree(_ value: SQLValue, classes: String?) throws -> SQLValue {
        guard let text = value.text else { return .null }
        let screen: CloudScreen
        if let classes {
            guard let s = CloudScreen(parsing: classes) else { throw SQLFunctionError("cloud_free: classes must be like '3,8,9,10,11', not \(classes)") }
            screen = s
        } else { screen = CloudScreen() }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.replacingOccurrences(of: "'", with: "\"").utf8)) as? [String: Any] else {
            throw SQLFunctionError("cloud_free: not a histogram like {\"4\": 186, \"5\": 1}: \(text)")
        }
        var counts = [Int](repeating: 0, count: 12)
        for (k, v) in object { if let c = Int(k), (0...11).contains(c) { counts[c] = (v as? NSNumber)?.intValue ?? 0 } }
        return .int(screen.isClear(counts) ? 1 : 0)
    }
}

/// Collects the non-null numbers of a group, then reduces them.
final class Collect: SQLAggregate {
    var values: [Double] = []
    let reduce: ([Double]) -> Double?
    init(_ reduce: @escaping ([Double]) -> Double?) { self.reduce = reduce }
    func step(_ a: [SQLValue]) throws { if let v = a[0].double { values.append(v) } }
    func final() throws -> SQLValue { reduce(values).map(SQLValue.double) ?? .null }
}

/// Like Collect, with a constant second argument (the percentile).
final class CollectWithParameter: SQLAggregate {
    var values: [Double] = []
    var parameter: Double?
    let reduce: ([Double], Double) -> Double?
    init(_ reduce: @escaping ([Double], Double) -> Double?) { self.reduce = reduce }
    func step(_ a: [SQLValue]) throws {
        guard let q = a[1].double, (0...100).contains(q) else { throw SQLFunctionError("percentile: q must be between 0 and 100") }
        parameter = q
        if let v = a[0].double { values.append(v) }
    }
    func final() throws -> SQLValue { parameter.flatMap { reduce(values, $0) }.map(SQLValue.double) ?? .null }
}

/// drops(date, value, min_drop, min_days): the drop detector over a group's dated values.
final class DropsAggregate: SQLAggregate {
    var points: [IndexPoint] = []
    var minDrop = 0.1, minDays = 0
    func step(_ a: [SQLValue]) throws {
        guard let day = a[0].text.flatMap(Days.number), let v = a[1].double else { return }
        minDrop = a[2].double ?? minDrop
        minDays = Int(a[3].int ?? Int64(minDays))
        points.append(IndexPoint(day: day, value: v, clear: true))
    }
    func final() throws -> SQLValue {
        points.sort { $0.day < $1.day }
        let events = DropDetector(minDrop: minDrop, minDays: minDays).detect(points)
        let list = events.map { ["start": Days.text($0.start), "date": Days.text($0.date), "end": Days.text($0.end),
                                 "from": $0.valueStart, "to": $0.valueEnd, "drop": $0.magnitude] as [String: Any] }
        return .text(RunLog.json(list))
    }
}
