import CProj
import LakeSupport

/// WGS 84 longitude/latitude → a lake's CRS through PROJ, the transformation created once per
/// CRS and kept for the process: SpatiaLite's `Transform()` sets one up again on every call,
/// which was most of a point query's time (a server answers many points). GIS axis order in and
/// out (longitude, easting first), as SpatiaLite's.
final class PointProjection: @unchecked Sendable {
    private let pj: UnsafeMutableRawPointer
    /// A PROJ transformation is used from one thread at a time.
    private let lock = Lock()

    private init(_ pj: UnsafeMutableRawPointer) { self.pj = pj }

    private static let cacheLock = Lock()
    nonisolated(unsafe) private static var cache: [Int: PointProjection?] = [:]

    /// The projection from WGS 84 to EPSG `srid`; nil where PROJ cannot be loaded or does not
    /// know the CRS (the caller falls back on SpatiaLite's `Transform()`).
    static func fromWGS84(to srid: Int) -> PointProjection? {
        cacheLock.withLock {
            if let known = cache[srid] { return known }
            let made = lake_proj_create("EPSG:4326", "EPSG:\(srid)").map(PointProjection.init)
            cache[srid] = made
            return made
        }
    }

    /// The point in the target CRS; nil where PROJ gives no finite result (outside the CRS's
    /// domain).
    func forward(lon: Double, lat: Double) -> (x: Double, y: Double)? {
        var x = lon, y = lat
        let ok = lock.withLock { lake_proj_forward(pj, &x, &y) }
        return ok == 1 ? (x, y) : nil
    }
}
