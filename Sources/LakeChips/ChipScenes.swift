import Foundation
import LakeExtract
import LakeQuery
import LakeSQLite
import LakeStore

/// A registered optical scene with local band files (`lake ingest scene`), as chips see it.
public struct ChipScene: Sendable {
    public let obsid: Int64
    public let reference: String
    public let obstime: String
    /// The DN offset the scene's processing baseline added (harmonised away for NDVI).
    public let offset: Double
    /// Band name → local file (and band in it).
    public let bands: [String: BandSource]
    public var date: String { String(obstime.prefix(10)) }
    /// "20240614T103021": the JRC's date label of a chip.
    public var label: String { String(obstime.prefix(19)).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "") }
}

public enum ChipScenes {
    /// Optical scenes between `from` and `to` (dates, inclusive; nil: open) that have files for
    /// every band in `bands`, in time order. Scenes whose files are remote or missing are left out.
    public static func find(_ lake: Lake, bands: [String], from: String?, to: String?) throws -> [ChipScene] {
        let s = try lake.db.prepare("""
            SELECT obsid, reference, obstime, radiometric_offset, assets, source FROM catalogue
            WHERE card IN ('s2', 'l1c') AND assets <> '{}' AND (?1 IS NULL OR obstime >= ?1) AND (?2 IS NULL OR obstime < date(?2, '+1 day'))
            ORDER BY obstime
            """)
        try s.bind([from.map(SQLValue.text) ?? .null, to.map(SQLValue.text) ?? .null])
        var out: [ChipScene] = []
        let wanted = Set(bands.map(Bands.normalise))
        while try s.step() {
            let (found, _) = SceneBands.resolve(assets: SceneBands.hrefs(json: s.text(4)), source: s.text(5), wanted: wanted)
            let byName = Dictionary(found.map { ($0.name, $0) }) { a, _ in a }
            guard wanted.allSatisfy({ byName[$0] != nil }), byName.values.allSatisfy({ FileManager.default.fileExists(atPath: $0.path) }) else { continue }
            out.append(ChipScene(obsid: s.int(0), reference: s.text(1) ?? "", obstime: s.text(2) ?? "", offset: s.double(3), bands: byName))
        }
        return out
    }

    /// The obsids on which the parcel was cloud-free by its SCL histogram (the lake's series).
    public static func clearScenes(_ lake: Lake, pid: Int64) throws -> Set<Int64> {
        let filter = SeriesFilter()
        return Set(try ParcelSeries.read(lake, pid: pid, filter: filter).filter { $0.cloudFree == true }.map(\.obsid))
    }
}
