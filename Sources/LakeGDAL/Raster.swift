import CGDAL
import Foundation

/// A north-up pixel grid: where pixel (col, row) lies in the raster's CRS.
public struct PixelGrid: Sendable, Equatable {
    public let originX: Double, originY: Double
    public let pixelWidth: Double, pixelHeight: Double   // pixelHeight > 0: rows run south
    public let width: Int, height: Int

    public init(originX: Double, originY: Double, pixelWidth: Double, pixelHeight: Double, width: Int, height: Int) {
        self.originX = originX; self.originY = originY
        self.pixelWidth = pixelWidth; self.pixelHeight = pixelHeight
        self.width = width; self.height = height
    }

    /// Column coordinate (fractional) of easting x.
    @inline(__always) public func col(_ x: Double) -> Double { (x - originX) / pixelWidth }
    /// Row coordinate (fractional) of northing y.
    @inline(__always) public func row(_ y: Double) -> Double { (originY - y) / pixelHeight }

    public var minX: Double { originX }
    public var maxX: Double { originX + Double(width) * pixelWidth }
    public var maxY: Double { originY }
    public var minY: Double { originY - Double(height) * pixelHeight }
}

/// A raster dataset opened read-only. Not thread-safe: open one per thread.
public final class RasterDataset {
    let handle: GDALDatasetH
    public let path: String

    public init(path: String) throws {
        GDAL.initialize()
        guard let h = GDALOpenEx(GDAL.virtualPath(path), UInt32(GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR), nil, nil, nil) else {
            throw GDALError("cannot open raster \(path)")
        }
        handle = h
        self.path = path
    }

    deinit { GDALClose(handle) }

    public var width: Int { Int(GDALGetRasterXSize(handle)) }
    public var height: Int { Int(GDALGetRasterYSize(handle)) }
    public var bandCount: Int { Int(GDALGetRasterCount(handle)) }

    /// The grid, or an error for rasters without a geotransform or with a rotated one.
    public func grid() throws -> PixelGrid {
        var t = [Double](repeating: 0, count: 6)
        guard GDALGetGeoTransform(handle, &t) == CE_None else { throw GDALError("\(path) has no georeferencing") }
        guard t[2] == 0, t[4] == 0, t[1] > 0, t[5] < 0 else {
            throw GDALError("\(path) is rotated or not north-up (geotransform \(t)); only north-up grids are supported")
        }
        return PixelGrid(originX: t[0], originY: t[3], pixelWidth: t[1], pixelHeight: -t[5], width: width, height: height)
    }

    public var spatialReference: SpatialReference? { SpatialReference(borrowing: GDALGetSpatialRef(handle)) }

    public func band(_ index: Int) throws -> RasterBand {
        guard index >= 1, index <= bandCount, let h = GDALGetRasterBand(handle, Int32(index)) else {
            throw GDALError("\(path) has no band \(index)")
        }
        return RasterBand(handle: h, dataset: self)
    }

    /// A metadata item of the dataset (default domain).
    public func metadata(_ key: String) -> String? {
        GDALGetMetadataItem(handle, key, nil).map { String(cString: $0) }
    }
}

public final class RasterBand {
    let handle: GDALRasterBandH
    let dataset: RasterDataset   // keeps the dataset open

    init(handle: GDALRasterBandH, dataset: RasterDataset) { self.handle = handle; self.dataset = dataset }

    public var nodata: Double? {
        var has: Int32 = 0
        let v = GDALGetRasterNoDataValue(handle, &has)
        return has != 0 ? v : nil
    }

    public var dataTypeName: String { String(cString: GDALGetDataTypeName(GDALGetRasterDataType(handle))) }

    public var description: String { String(cString: GDALGetDescription(handle)) }

    /// Reads a window as doubles, row by row, into `buffer` (resized to width × height).
    public func read(col: Int, row: Int, width: Int, height: Int, into buffer: inout [Double]) throws {
        let n = width * height
        if buffer.count < n { buffer = [Double](repeating: 0, count: n) }
        let err = buffer.withUnsafeMutableBytes { p in
            GDALRasterIO(handle, GF_Read, Int32(col), Int32(row), Int32(width), Int32(height), p.baseAddress,
                         Int32(width), Int32(height), GDT_Float64, 0, 0)
        }
        guard err == CE_None else {
            throw GDALError("cannot read \(width)×\(height) pixels at (\(col), \(row)) of \(dataset.path)")
        }
    }
}

/// Writes GeoTIFFs (DEFLATE, tiled): used by the fixture generator and the benchmark.
public final class RasterWriter {
    let handle: GDALDatasetH
    public let path: String

    public enum DataType { case uint16, uint8, int16
        var gdal: GDALDataType { switch self { case .uint16: GDT_UInt16; case .uint8: GDT_Byte; case .int16: GDT_Int16 } }
    }

    public init(path: String, grid: PixelGrid, epsg: Int, type: DataType, nodata: Double?, compress: Bool = true) throws {
        GDAL.initialize()
        guard let driver = GDALGetDriverByName("GTiff") else { throw GDALError("GDAL has no GTiff driver") }
        var options: [String] = ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256"]
        if compress { options.append("COMPRESS=DEFLATE") }
        var cOptions: [UnsafeMutablePointer<CChar>?] = options.map { strdup($0) } + [nil]
        defer { cOptions.forEach { free($0) } }
        guard let h = GDALCreate(driver, path, Int32(grid.width), Int32(grid.height), 1, type.gdal, &cOptions) else {
            throw GDALError("cannot create \(path)")
        }
        handle = h
        self.path = path
        var t = [grid.originX, grid.pixelWidth, 0, grid.originY, 0, -grid.pixelHeight]
        GDALSetGeoTransform(h, &t)
        let srs = try SpatialReference(epsg: epsg)
        GDALSetSpatialRef(h, srs.handle)
        if let nodata { GDALSetRasterNoDataValue(GDALGetRasterBand(h, 1), nodata) }
    }

    /// Writes rows [row, row + rows) from `values` (row-major, full width).
    public func write(row: Int, rows: Int, values: [Double]) throws {
        let band = GDALGetRasterBand(handle, 1)
        let width = Int(GDALGetRasterXSize(handle))
        var copy = values
        let err = copy.withUnsafeMutableBytes { p in
            GDALRasterIO(band, GF_Write, 0, Int32(row), Int32(width), Int32(rows), p.baseAddress, Int32(width), Int32(rows), GDT_Float64, 0, 0)
        }
        guard err == CE_None else { throw GDALError("cannot write \(path)") }
    }

    public func close() { GDALClose(handle) }
}

/// GDAL's block cache size in bytes.
public func setGDALCacheSize(_ bytes: Int) { GDALSetCacheMax64(GIntBig(bytes)) }

/// Polygons of the connected areas of equal value in a label grid (GDAL's polygonizer on an
/// in-memory raster): label → polygons in the grid's CRS coordinates. Label 0 is background.
public func polygonize(labels: [Int32], width: Int, height: Int, originX: Double, originY: Double,
                       pixelWidth: Double, pixelHeight: Double, connectivity8: Bool) throws -> [Int32: [Geometry]] {
    GDAL.initialize()
    guard let mem = GDALGetDriverByName("MEM"),
          let ds = GDALCreate(mem, "", Int32(width), Int32(height), 1, GDT_Int32, nil) else {
        throw GDALError("cannot create an in-memory raster")
    }
    defer { GDALClose(ds) }
    var t = [originX, pixelWidth, 0, originY, 0, -pixelHeight]
    GDALSetGeoTransform(ds, &t)
    let band = GDALGetRasterBand(ds, 1)
    var copy = labels
    let err = copy.withUnsafeMutableBytes { p in
        GDALRasterIO(band, GF_Write, 0, 0, Int32(width), Int32(height), p.baseAddress, Int32(width), Int32(height), GDT_Int32, 0, 0)
    }
    guard err == CE_None else { throw GDALError("cannot fill the in-memory raster") }
    guard let vdriver = GDALGetDriverByName("Memory"),
          let vds = GDALCreate(vdriver, "", 0, 0, 0, GDT_Unknown, nil),
          let layer = GDALDatasetCreateLayer(vds, "clusters", nil, wkbPolygon, nil) else {
        throw GDALError("cannot create an in-memory layer")
    }
    defer { GDALClose(vds) }
    let field = OGR_Fld_Create("label", OFTInteger)
    OGR_L_CreateField(layer, field, 1)
    OGR_Fld_Destroy(field)
    var options: [UnsafeMutablePointer<CChar>?] = connectivity8 ? [strdup("8CONNECTED=8"), nil] : [nil]
    defer { options.forEach { free($0) } }
    // The band masks itself: label 0 is left out.
    let result = options.withUnsafeMutableBufferPointer { o in
        GDALPolygonize(band, band, layer, 0, o.baseAddress, nil, nil)
    }
    guard result == CE_None else { throw GDALError("polygonize failed") }
    var out: [Int32: [Geometry]] = [:]
    OGR_L_ResetReading(layer)
    while let f = OGR_L_GetNextFeature(layer) {
        let label = OGR_F_GetFieldAsInteger(f, 0)
        if let g = OGR_F_GetGeometryRef(f) { out[label, default: []].append(Geometry(owning: OGR_G_Clone(g))) }
        OGR_F_Destroy(f)
    }
    return out
}

extension Geometry {
    /// A MULTIPOLYGON made of polygons.
    public static func multiPolygon(_ parts: [Geometry]) -> Geometry {
        let h = OGR_G_CreateGeometry(wkbMultiPolygon)!
        for p in parts { OGR_G_AddGeometry(h, p.handle) }
        return Geometry(owning: h)
    }
}
