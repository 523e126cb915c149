import CGDAL
import Foundation

/// A vector data set opened read-only through OGR.
public final class VectorDataset {
    let handle: GDALDatasetH
    public let path: String

    public init(path: String) throws {
        GDAL.initialize()
        _ = GDALErrors.drain()
        let gdalPath = GDAL.virtualPath(path)
        // CSV: geometry from a WKT column, or points from lon/lat (x/y) columns.
        let texts: [String] = path.lowercased().hasSuffix(".csv")
            ? ["GEOM_POSSIBLE_NAMES=geometry,geom,wkt,WKT,the_geom", "X_POSSIBLE_NAMES=lon,longitude,x,X",
               "Y_POSSIBLE_NAMES=lat,latitude,y,Y", "KEEP_GEOM_COLUMNS=NO"] : []
        var options: [UnsafePointer<CChar>?] = texts.map { UnsafePointer(strdup($0)) } + [nil]
        defer { options.forEach { free(UnsafeMutablePointer(mutating: $0)) } }
        func open(_ target: String) -> GDALDatasetH? {
            options.withUnsafeMutableBufferPointer { buffer in
                GDALOpenEx(target, UInt32(GDAL_OF_VECTOR | GDAL_OF_READONLY), nil, texts.isEmpty ? nil : buffer.baseAddress, nil)
            }
        }
        var opened = open(gdalPath)
        if opened == nil, gdalPath.hasPrefix("/vsizip/") || gdalPath.hasPrefix("/vsitar/"), let inner = Self.vectorFileInside(gdalPath) {
            // National downloads often put the data set in a folder inside the archive.
            opened = open(gdalPath + "/" + inner)
        }
        guard let h = opened else {
            throw GDALError("GDAL cannot open it as vector data")
        }
        handle = h
        self.path = path
    }

    deinit { GDALClose(handle) }

    /// The first vector data set inside an archive, in any folder: a GeoPackage, shapefile,
    /// FlatGeobuf, GeoJSON or GML file (in that order of preference).
    static func vectorFileInside(_ archive: String) -> String? {
        guard let list = VSIReadDirRecursive(archive) else { return nil }
        defer { CSLDestroy(list) }
        var names: [String] = []
        var i = 0
        while let entry = list[i] { names.append(String(cString: entry)); i += 1 }
        for suffix in [".gpkg", ".shp", ".fgb", ".geojson", ".json", ".gml"] {
            if let hit = names.sorted().first(where: { $0.lowercased().hasSuffix(suffix) && !$0.hasPrefix("__MACOSX") }) { return hit }
        }
        return nil
    }

    public var driverName: String {
        String(cString: GDALGetDriverShortName(GDALGetDatasetDriver(handle)))
    }

    public var layers: [VectorLayer] {
        (0..<GDALDatasetGetLayerCount(handle)).compactMap { i in
            GDALDatasetGetLayer(handle, i).map { VectorLayer(handle: $0, dataset: self) }
        }
    }

    public func layer(named name: String) -> VectorLayer? {
        GDALDatasetGetLayerByName(handle, name).map { VectorLayer(handle: $0, dataset: self) }
    }
}

public struct FieldInfo: Sendable {
    public let name: String
    public let isNumeric: Bool
    public let isInteger: Bool
}

/// A layer of a VectorDataset; valid while the dataset lives (it keeps a reference).
public final class VectorLayer {
    let handle: OGRLayerH
    let dataset: VectorDataset

    init(handle: OGRLayerH, dataset: VectorDataset) {
        self.handle = handle
        self.dataset = dataset
    }

    public var name: String { String(cString: OGR_L_GetName(handle)) }

    /// Feature count (may scan the layer for formats without a count).
    public var featureCount: Int { Int(OGR_L_GetFeatureCount(handle, 1)) }

    public var isPolygonal: Bool {
        let t = OGR_GT_Flatten(OGR_L_GetGeomType(handle))
        return t == wkbPolygon || t == wkbMultiPolygon || t == wkbCurvePolygon || t == wkbMultiSurface
            || t == wkbUnknown || t == wkbGeometryCollection
    }

    public var hasGeometry: Bool { OGR_L_GetGeomType(handle) != wkbNone }

    public var isPoint: Bool {
        let t = OGR_GT_Flatten(OGR_L_GetGeomType(handle))
        return t == wkbPoint || t == wkbMultiPoint
    }

    /// The driver that opened the layer's dataset (CSV, GPKG, ESRI Shapefile…).
    public var driverName: String { dataset.driverName }

    public var spatialReference: SpatialReference? {
        SpatialReference(borrowing: OGR_L_GetSpatialRef(handle))
    }

    public var fields: [FieldInfo] {
        let defn = OGR_L_GetLayerDefn(handle)
        return (0..<OGR_FD_GetFieldCount(defn)).map { i in
            let fd = OGR_FD_GetFieldDefn(defn, i)
            let type = OGR_Fld_GetType(fd)
            return FieldInfo(name: String(cString: OGR_Fld_GetNameRef(fd)),
                             isNumeric: type == OFTInteger || type == OFTInteger64 || type == OFTReal,
                             isInteger: type == OFTInteger || type == OFTInteger64)
        }
    }

    /// Calls `body` for each feature in order, with its 1-based position in the layer.
    public func forEach(_ body: (Int, Feature) throws -> Void) throws {
        OGR_L_ResetReading(handle)
        var n = 0
        while let f = OGR_L_GetNextFeature(handle) {
            n += 1
            let feature = Feature(handle: f)
            try body(n, feature)
        }
    }
}

/// A feature read from a layer.
public final class Feature {
    let handle: OGRFeatureH

    init(handle: OGRFeatureH) { self.handle = handle }
    deinit { OGR_F_Destroy(handle) }

    public var fid: Int64 { Int64(OGR_F_GetFID(handle)) }

    /// The value of field `i` as JSON-ready Swift value: nil, Int64, Double or String.
    public func value(_ i: Int32) -> Any? {
        guard OGR_F_IsFieldSetAndNotNull(handle, i) != 0 else { return nil }
        let fd = OGR_F_GetFieldDefnRef(handle, i)
        switch OGR_Fld_GetType(fd) {
        case OFTInteger, OFTInteger64: return Int64(OGR_F_GetFieldAsInteger64(handle, i))
        case OFTReal:
            let d = OGR_F_GetFieldAsDouble(handle, i)
            return d.isFinite ? d : nil
        default: return String(cString: OGR_F_GetFieldAsString(handle, i))
        }
    }

    public func string(_ i: Int32) -> String? {
        guard OGR_F_IsFieldSetAndNotNull(handle, i) != 0 else { return nil }
        let fd = OGR_F_GetFieldDefnRef(handle, i)
        if OGR_Fld_GetType(fd) == OFTReal {
            let d = OGR_F_GetFieldAsDouble(handle, i)
            if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        }
        return String(cString: OGR_F_GetFieldAsString(handle, i))
    }

    /// A copy of the feature's first geometry, or nil when it has none.
    public func geometry() -> Geometry? {
        guard let g = OGR_F_GetGeometryRef(handle) else { return nil }
        return Geometry(owning: OGR_G_Clone(g))
    }
}
