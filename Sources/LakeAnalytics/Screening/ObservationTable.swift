import Foundation
import LakeStore

/// Screening of an observation table from outside a lake (the JRC's signal-marker CSVs): one
/// row per parcel and date with band statistics in columns named like `b04_mean`, `B08_std`.
/// Rows are screened per parcel; a parcel with fewer than 4 rows of its own is compared with
/// what is usual over the whole table (its peers). There is no SCL: every row counts as
/// SCL-clear.
public enum ObservationTable {
    public struct Row: Sendable { public let id: String; public let date: String; public let quality: String }

    public static func screen(path: String, idColumn: String?, dateColumn: String?) throws -> [Row] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw LakeError.input(file: path, location: nil, reason: "cannot read: \(error.localizedDescription)")
        }
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        guard !lines.isEmpty else { throw LakeError.input(file: path, location: nil, reason: "empty file") }
        let header = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        func column(_ names: [String]) -> Int? { names.lazy.compactMap { header.firstIndex(of: $0.lowercased()) }.first }
        guard let id = column([idColumn ?? "", "parcel_id", "fid", "pid", "id"].filter { !$0.isEmpty }) else {
            throw LakeError.input(file: path, location: "line 1", reason: "no parcel id column (parcel_id, fid, pid, id or --id)")
        }
        guard let date = column([dateColumn ?? "", "date", "acq_date", "obstime"].filter { !$0.isEmpty }) else {
            throw LakeError.input(file: path, location: "line 1", reason: "no date column (date, acq_date, obstime or --date)")
        }
        let bands = ["b02", "b04", "b08", "b11"].map { column([$0 + "_mean"]) }
        guard bands[1] != nil || bands[2] != nil else {
            throw LakeError.input(file: path, location: "line 1", reason: "needs at least b04_mean and b08_mean columns")
        }
        let blueStd = column(["b02_std"])
        var observations: [(row: Int, id: String, date: String, obs: Observed)] = []
        for (k, line) in lines.enumerated() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count == header.count else {
                throw LakeError.input(file: path, location: "line \(k + 2)", reason: "\(f.count) fields where the header has \(header.count)")
            }
            guard let day = Days.number(String(f[date].prefix(10))) else {
                throw LakeError.input(file: path, location: "line \(k + 2)", reason: "\(f[date]) is not a date")
            }
            func value(_ c: Int?) throws -> Double? {
                guard let c, !f[c].isEmpty else { return nil }
                guard let v = Double(f[c]), v.isFinite else {
                    throw LakeError.input(file: path, location: "line \(k + 2)", reason: "\(header[c]) \(f[c]) is not a number")
                }
                return v
            }
            let means = try bands.map(value) + [nil, nil, try value(blueStd)]
            observations.append((k, f[id], Days.text(day), Observed(day: day, clear: true, means: BandMeans(means))))
        }
        var screen = ObservationScreen()
        screen.requireSCL = false
        let peers = ObservationScreen.Usual(observations.map(\.obs))
        var verdicts = [Quality](repeating: .clear, count: observations.count)
        for (_, members) in Dictionary(grouping: observations.indices, by: { observations[$0].id }) {
            let ordered = members.sorted { observations[$0].obs.day < observations[$1].obs.day }
            let v = screen.screen(ordered.map { observations[$0].obs }, peers: peers)
            for (i, q) in zip(ordered, v) { verdicts[i] = q }
        }
        return observations.indices.map { Row(id: observations[$0].id, date: observations[$0].date, quality: verdicts[$0].rawValue) }
    }
}
