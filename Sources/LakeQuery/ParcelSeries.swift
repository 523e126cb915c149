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

    /// NDVI from the B08 and B04 means; without them, an NDVI band's mean (as given, or scaled
    /// by 10,000 as NDVI rasters often are).
    public var ndvi: Double? {
        if let nir = mean("B08"), let red = mean("B04") { return nir + red != 0 ? Double((nir - red) / (nir + red)) : nil }
        guard let v = mean(Bands.ndvi) else { return nil }
        return Double(v) * Bands.ndviFactor([v])
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
    /// One parcel's series, with statements prepared for this call (a one-off query). Repeated
    /// queries on one lake keep a `SeriesReader`.
    public static func read(_ lake: Lake, pid: Int64, filter: SeriesFilter) throws -> [Observation] {
        try SeriesReader(lake).read(pid: pid, filter: filter)
    }
}

/// Reads parcels' time series from one lake with its statements prepared once, the band
/// dictionary and the scenes it has seen kept until the file changes (`PRAGMA data_version`
/// tells when another connection wrote). One reader per thread, like its connection.
public final class SeriesReader {
    struct Scene {
        let obstime: String, reference: String, card: String, offset: Float
        var date: Substring { obstime.prefix(10) }
    }

    let lake: Lake
    private let store: SignatureStore
    private let sceneStatement: Statement
    private let histStatement: Statement
    private let versionStatement: Statement
    private var dataVersion: Int64 = -1
    private var names: BandDictionary?
    private var scenes: [Int64: Scene?] = [:]

    public init(_ lake: Lake) throws {
        self.lake = lake
        store = SignatureStore(db: lake.db)
        sceneStatement = try lake.db.prepare("SELECT obstime, reference, card, radiometric_offset FROM catalogue WHERE obsid = ?")
        histStatement = try lake.db.prepare("SELECT obsid, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11 FROM scl_hist WHERE pid = ?")
        versionStatement = try lake.db.prepare("PRAGMA data_version")
    }

    /// Forgets bands and scenes when the file changed since the last read.
    private func refresh() throws {
        versionStatement.reset()
        defer { versionStatement.reset() }
        let version = try versionStatement.step() ? versionStatement.int(0) : 0
        if version != dataVersion || names == nil {
            dataVersion = version
            names = try BandDictionary(db: lake.db)
            scenes.removeAll(keepingCapacity: true)
        }
    }

    private func scene(_ obsid: Int64) throws -> Scene? {
        if let known = scenes[obsid] { return known }
        sceneStatement.reset()
        defer { sceneStatement.reset() }
        sceneStatement.bind(int: obsid, at: 1)
        var found: Scene?
        if try sceneStatement.step(), let time = sceneStatement.text(0) {
            found = Scene(obstime: time, reference: sceneStatement.text(1) ?? "", card: sceneStatement.text(2) ?? "",
                          offset: Float(sceneStatement.double(3)))
        }
        scenes[obsid] = found
        return found
    }

    public func read(pid: Int64, filter: SeriesFilter) throws -> [Observation] {
        try lake.db.read {
            try refresh()
            guard let names else { return [] }
            var observations: [Observation] = []
            var index: [Int64: Int] = [:]
            // Rows come in (obsid, band) order: one observation per run of an obsid.
            let rows = try store.series(pid: pid)
            // Offsets apply to the bands this parcel has in digital numbers (not in reflectance,
            // nor where they were taken off before the statistics came).
            let inDN = filter.harmonise ? Bands.offsetBands(rows, name: { names.name($0) }, offset: { ((try? self.scene($0)) ?? nil)?.offset ?? 0 }) : []
            for row in rows {
                let band = names.name(row.bandID)
                if let wanted = filter.bands, !wanted.contains(band) { continue }
                if observations.last?.obsid != row.obsid {
                    guard let scene = try scene(row.obsid) else { continue }
                    if let from = filter.from, scene.date < from { continue }
                    if let to = filter.to, scene.date > to { continue }
                    index[row.obsid] = observations.count
                    observations.append(Observation(obsid: row.obsid, obstime: scene.obstime, reference: scene.reference, card: scene.card,
                                                    offset: scene.offset, bands: [], scl: nil, cloudFree: nil))
                }
                let offset = observations[observations.count - 1].offset
                let stats = filter.harmonise && Bands.takesOffset(band) && inDN.contains(row.bandID) ? row.stats.offset(by: offset) : row.stats
                observations[observations.count - 1].bands.append((band, stats))
            }
            histStatement.reset()
            defer { histStatement.reset() }
            histStatement.bind(int: pid, at: 1)
            while try histStatement.step() {
                let obsid = histStatement.int(0)
                let counts = (1...12).map { Int(histStatement.int(Int32($0))) }
                if let i = index[obsid] {
                    observations[i].scl = counts
                    observations[i].cloudFree = filter.cloudScreen.isClear(counts)
                    continue
                }
                // A histogram without signatures is an observation of its own.
                guard let scene = try scene(obsid) else { continue }
                if let from = filter.from, scene.date < from { continue }
                if let to = filter.to, scene.date > to { continue }
                index[obsid] = observations.count
                observations.append(Observation(obsid: obsid, obstime: scene.obstime, reference: scene.reference, card: scene.card,
                                                offset: scene.offset, bands: [], scl: counts, cloudFree: filter.cloudScreen.isClear(counts)))
            }
            observations.sort { ($0.obstime, $0.obsid) < ($1.obstime, $1.obsid) }
            return observations
        }
    }
}
