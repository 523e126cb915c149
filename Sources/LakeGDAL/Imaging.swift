import CGDAL
import Foundation

/// One band of a raster file resampled onto a target grid (GDAL's warper: any CRS, any
/// resolution), as doubles with its no-data value. What chips are cut from.
public struct WarpedBand: Sendable {
    public let grid: PixelGrid
    /// Row-major, `grid.width × grid.height`; no-data pixels hold NaN.
    public let values: [Double]

    /// Warps band 1 of `path` onto `grid` in `srs` (WKT or "EPSG:n"); `resampling`: a GDAL
    /// resampling name (near, bilinear, cubic, mode…). Pixels outside the file are NaN.
    public init(path: String, band: Int = 1, grid: PixelGrid, srs: String, resampling: String = "bilinear") throws {
        GDAL.initialize()
        guard let source = GDALOpenEx(GDAL.virtualPath(path), UInt32(GDAL_OF_RASTER | GDAL_OF_READONLY), nil, nil, nil) else {
            throw GDALError("cannot open raster \(path)" + GDAL.lastMessage())
        }
        defer { GDALClose(source) }
        guard band >= 1, band <= Int(GDALGetRasterCount(source)) else { throw GDALError("\(path) has no band \(band)") }
        // Every band of the file is warped (GDAL 3.6's warper cannot pick one) and band `band` read.
        let arguments = ["-of", "MEM", "-t_srs", srs, "-r", resampling, "-ot", "Float64", "-dstnodata", "nan",
                         "-te", "\(grid.minX)", "\(grid.minY)", "\(grid.maxX)", "\(grid.maxY)",
                         "-ts", "\(grid.width)", "\(grid.height)"]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        guard let options = GDALWarpAppOptionsNew(&argv, nil) else { throw GDALError("bad warp options \(arguments)") }
        defer { GDALWarpAppOptionsFree(options) }
        var sources: [GDALDatasetH?] = [source]
        var failed: Int32 = 0
        guard let warped = GDALWarp("", nil, 1, &sources, options, &failed), failed == 0 else {
            throw GDALError("cannot resample \(path) onto the chip's grid" + GDAL.lastMessage())
        }
        defer { GDALClose(warped) }
        var values = [Double](repeating: .nan, count: grid.width * grid.height)
        let err = values.withUnsafeMutableBytes { p in
            GDALRasterIO(GDALGetRasterBand(warped, Int32(band)), GF_Read, 0, 0, Int32(grid.width), Int32(grid.height), p.baseAddress,
                         Int32(grid.width), Int32(grid.height), GDT_Float64, 0, 0)
        }
        guard err == CE_None else { throw GDALError("cannot read the resampled \(path)") }
        self.grid = grid
        self.values = values
    }
}

/// An 8-bit image on a georeferenced grid, written through GDAL's drivers (PNG for a person,
/// GeoTIFF for a GIS): RGB or RGBA bytes, with geometries outlined by GDAL's rasteriser.
public final class ByteImage {
    let handle: GDALDatasetH
    public let grid: PixelGrid
    public let bands: Int

    /// `srs`: WKT or "EPSG:n" of the grid.
    public init(grid: PixelGrid, bands: Int, srs: String) throws {
        GDAL.initialize()
        guard let driver = GDALGetDriverByName("MEM"),
              let h = GDALCreate(driver, "", Int32(grid.width), Int32(grid.height), Int32(bands), GDT_Byte, nil) else {
            throw GDALError("cannot make a \(grid.width)×\(grid.height) image in memory")
        }
        handle = h
        self.grid = grid
        self.bands = bands
        var t = [grid.originX, grid.pixelWidth, 0, grid.originY, 0, -grid.pixelHeight]
        GDALSetGeoTransform(h, &t)
        let reference = OSRNewSpatialReference(nil)
        defer { OSRDestroySpatialReference(reference) }
        OSRSetAxisMappingStrategy(reference, OAMS_TRADITIONAL_GIS_ORDER)
        if OSRSetFromUserInput(reference, srs) == OGRERR_NONE { GDALSetSpatialRef(h, reference) }
        if bands == 4 { GDALSetRasterColorInterpretation(GDALGetRasterBand(h, 4), GCI_AlphaBand) }
    }

    deinit { GDALClose(handle) }

    /// Writes one band (1-based) from `bytes` (row-major, width × height).
    public func write(band: Int, _ bytes: [UInt8]) throws {
        var copy = bytes
        let err = copy.withUnsafeMutableBytes { p in
            GDALRasterIO(GDALGetRasterBand(handle, Int32(band)), GF_Write, 0, 0, Int32(grid.width), Int32(grid.height), p.baseAddress,
                         Int32(grid.width), Int32(grid.height), GDT_Byte, 0, 0)
        }
        guard err == CE_None else { throw GDALError("cannot write band \(band) of an image") }
    }

    /// Burns the outline (boundary lines) of `geometry` (in the grid's CRS) in `colour` (one
    /// value per band), `width` pixels wide (1 or more: the line buffered by half a pixel more
    /// per step).
    public func outline(_ geometry: Geometry, colour: [UInt8], width: Int = 1) throws {
        guard let boundary = OGR_G_Boundary(geometry.handle) else { throw GDALError("the geometry has no outline") }
        var line: OGRGeometryH? = boundary
        if width > 1, let thick = OGR_G_Buffer(boundary, Double(width - 1) * grid.pixelWidth / 2, 4) {
            OGR_G_DestroyGeometry(boundary)
            line = thick
        }
        defer { OGR_G_DestroyGeometry(line) }
        var bandList = (1...min(bands, colour.count)).map { Int32($0) }
        var geometries: [OGRGeometryH?] = [line]
        var burn = colour.prefix(bandList.count).map(Double.init)
        var options: [UnsafeMutablePointer<CChar>?] = [strdup("ALL_TOUCHED=TRUE"), nil]
        defer { options.forEach { free($0) } }
        let err = GDALRasterizeGeometries(handle, Int32(bandList.count), &bandList, 1, &geometries, nil, nil, &burn, &options, nil, nil)
        guard err == CE_None else { throw GDALError("cannot draw the outline" + GDAL.lastMessage()) }
    }

    /// Writes the image as `driver` (PNG, GTiff, JPEG…) to `path` ("/vsimem/…" for memory).
    public func save(_ path: String, driver name: String = "PNG") throws {
        guard let driver = GDALGetDriverByName(name) else { throw GDALError("GDAL has no \(name) driver") }
        var options: [UnsafeMutablePointer<CChar>?] = name == "PNG" ? [strdup("WORLDFILE=NO"), nil] : [nil]
        defer { options.forEach { free($0) } }
        CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", "NO")
        defer { CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", nil) }
        guard let out = GDALCreateCopy(driver, path, handle, 0, &options, nil, nil) else {
            throw GDALError("cannot write \(path)" + GDAL.lastMessage())
        }
        GDALClose(out)
    }

    /// The image encoded by `driver`, as bytes (through GDAL's in-memory files).
    public func encoded(driver: String = "PNG") throws -> [UInt8] {
        let path = "/vsimem/lake-image-\(UInt64.random(in: 0...UInt64.max)).\(driver.lowercased())"
        try save(path, driver: driver)
        defer { VSIUnlink(path) }
        return try GDAL.readMemoryFile(path)
    }
}

/// A float raster window as a GeoTIFF (the JRC raw chips): one band, its grid and CRS.
public func writeGeoTIFF(_ values: [Double], grid: PixelGrid, srs: String, nodata: Double?, to path: String) throws {
    GDAL.initialize()
    guard let mem = GDALGetDriverByName("MEM"), let tiff = GDALGetDriverByName("GTiff"),
          let h = GDALCreate(mem, "", Int32(grid.width), Int32(grid.height), 1, GDT_Float32, nil) else {
        throw GDALError("cannot make a GeoTIFF")
    }
    defer { GDALClose(h) }
    var t = [grid.originX, grid.pixelWidth, 0, grid.originY, 0, -grid.pixelHeight]
    GDALSetGeoTransform(h, &t)
    let reference = OSRNewSpatialReference(nil)
    defer { OSRDestroySpatialReference(reference) }
    if OSRSetFromUserInput(reference, srs) == OGRERR_NONE { GDALSetSpatialRef(h, reference) }
    let band = GDALGetRasterBand(h, 1)
    if let nodata { GDALSetRasterNoDataValue(band, nodata) }
    var copy = values.map { $0.isNaN ? (nodata ?? $0) : $0 }
    let err = copy.withUnsafeMutableBytes { p in
        GDALRasterIO(band, GF_Write, 0, 0, Int32(grid.width), Int32(grid.height), p.baseAddress, Int32(grid.width), Int32(grid.height), GDT_Float64, 0, 0)
    }
    guard err == CE_None else { throw GDALError("cannot write \(path)") }
    var options: [UnsafeMutablePointer<CChar>?] = [strdup("COMPRESS=DEFLATE"), nil]
    defer { options.forEach { free($0) } }
    guard let out = GDALCreateCopy(tiff, path, h, 0, &options, nil, nil) else { throw GDALError("cannot write \(path)" + GDAL.lastMessage()) }
    GDALClose(out)
}

extension GDAL {
    /// ": " and GDAL's last messages, or "".
    static func lastMessage() -> String {
        let m = GDALErrors.drain()
        return m.isEmpty ? "" : ": " + m.joined(separator: "; ")
    }

    /// The bytes of a /vsimem/ file.
    static func readMemoryFile(_ path: String) throws -> [UInt8] {
        var length: vsi_l_offset = 0
        guard let data = VSIGetMemFileBuffer(path, &length, 0) else { throw GDALError("no in-memory file \(path)") }
        return Array(UnsafeBufferPointer(start: data, count: Int(length)))
    }
}
