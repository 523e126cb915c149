import Foundation

public struct ExtractOptions: Sendable {
    /// Scene references to extract (whatever their status); empty: every scene not yet extracted.
    public var scenes: [String] = []
    public var from: String?
    public var to: String?
    /// Bands to extract (normalised names); nil: every band file the scene has.
    public var bands: Set<String>?
    public var rule: PixelRule = .center
    /// Buffer applied to each parcel before rasterising, in metres (negative shrinks).
    public var buffer: Double?
    public var jobs: Int = ProcessInfo.processInfo.activeProcessorCount
    /// Only parcels of this AOI / year.
    public var aoi: String?
    public var year: Int?
    /// Also retry scenes whose last extraction failed.
    public var retryFailed = false
    /// Nodata value for bands whose file declares none (default: 0 for Sentinel-2 reflectance and SCL, the ESA convention).
    public var nodata: Double?
    public init() {}
}
