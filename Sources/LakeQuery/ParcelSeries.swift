#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LakeSQLite
import LakeStore

/// One observation (scene) of a parcel: its statistics per band and its SCL histogram.
public struct Observation: Sendable {
    public let obsid: Int64
    public let obstime: String
    public let reference: String
    public let card: String
    public let offset: Float
    public var bands: [(band: String, stats: SignatureStats)]
    public var scl: [Int]?
    public var cloudFree: Bool?

    public var date: String { String(obstime.prefix(10)) }

    public func mean(_ band: String) -> Float? { bands.first { $0.band == band }?.stats.mean }

    /// NDVI from the B08 and B04 means.
    public var ndvi: Double? {
        guard let nir = mean("B08"), let red = mean("B04"), nir + red != 0 else { return nil }
        return Double((nir - red) / (nir + red))
    }
}

/// Filters of a time-series query.
public struct SeriesFilter: Sendable {
    public var bands: Set<String>?
    public var from: String?
    public var to: String?
    public var cloudScreen = CloudScreen()
    /// Apply each scene's radiometric offset (harmonised values); false gives stored numbers.
    public var harmonise = true
    public init() {}
}

/// The time series of one parcel: signatures joined with the catalogue and SCL histograms.
public enum ParcelSeries {
    public static func read(_ lake: Lake, pid: Int64, filter: SeriesFilter) throws -> [Observation] {
        let db = lake.db
        let dictionary = try BandDictionary(db: db)
        var observations: [Int64: Observation] = [:]
        let scene = try db.prepare("SELECT obstime, reference, card, radiometric_offset FROM catalogue WHERE obsid = ?")

        func observation(_ obsid: Int64) throws -> Observation? {
            if let o = observations[obsid] { return o }
            scene.reset()
            scene.bind(int: obsid, at: 1)
            guard try scene.step(), let time = scene.text(0) else { return nil }
            let date = String(time.prefix(10))
            if let from = filter.from, date < from { return nil }
            if let to = filter.to, date > to { return nil }
            return Observation(obsid: obsid, obstime: time, reference: scene.text(1) ?? "", card: scene.text(2) ?? "",
                               offset: Float(scene.double(3)), bands: [], scl: nil, cloudFree: nil)
        }

        for row in try SignatureStore(db: db).series(pid: pid) {
            let band = dictionary.name(row.bandID)
            if let wanted = filter.bands, !wanted.contains(band) { continue }
            guard var o = try observation(row.obsid) else { continue }
            let stats = filter.harmonise && Bands.takesOffset(band) ? row.stats.offset(by: o.offset) : row.stats
            o.bands.append((band, stats))
            observations[row.obsid] = o
        }
        let hist = try db.prepare("""
            SELECT obsid, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11 FROM scl_hist WHERE pid = ?
            """)
        hist.bind(int: pid, at: 1)
        while try hist.step() {
            guard var o = try observation(hist.int(0)) else { continue }
            let counts = (1...12).map { Int(hist.int(Int32($0))) }
            o.scl = counts
            o.cloudFree = filter.cloudScreen.isClear(counts)
            observations[o.obsid] = o
        }
        return observations.values.sorted { ($0.obstime, $0.obsid) < ($1.obstime, $1.obsid) }
    }
}
