import CGDAL

/// An owned OGR geometry.
public final class Geometry {
    private(set) var handle: OGRGeometryH

    init(owning handle: OGRGeometryH) { self.handle = handle }

    deinit { OGR_G_DestroyGeometry(handle) }

    public static func fromWKT(_ wkt: String) throws -> Geometry {
        var h: OGRGeometryH?
        var text: UnsafeMutablePointer<CChar>? = strdup(wkt)
        let start = text
        defer { free(start) }
        guard OGR_G_CreateFromWkt(&text, nil, &h) == OGRERR_NONE, let h else {
            throw GDALError("invalid WKT geometry")
        }
        return Geometry(owning: h)
    }

    public static func fromGeoJSON(_ json: String) throws -> Geometry {
        guard let h = OGR_G_CreateGeometryFromJson(json) else { throw GDALError("invalid GeoJSON geometry") }
        return Geometry(owning: h)
    }

    public func clone() -> Geometry { Geometry(owning: OGR_G_Clone(handle)) }

    public var isEmpty: Bool { OGR_G_IsEmpty(handle) != 0 }
    public var isValid: Bool { OGR_G_IsValid(handle) != 0 }
    public var typeName: String { String(cString: OGR_G_GetGeometryName(handle)) }

    /// True for Polygon and MultiPolygon (curved forms included, before linearisation).
    public var isAreal: Bool {
        let flat = OGR_GT_Flatten(OGR_G_GetGeometryType(handle))
        return OGR_GT_IsSubClassOf(flat, wkbCurvePolygon) != 0 || OGR_GT_IsSubClassOf(flat, wkbMultiSurface) != 0
            || flat == wkbPolygon || flat == wkbMultiPolygon
    }

    /// The area in the units of the geometry's coordinates (m² for projected CRSs).
    public var area: Double { OGR_G_Area(handle) }

    /// A valid version of this geometry (GEOS MakeValid), or nil when none can be made.
    public func madeValid() -> Geometry? {
        guard let h = OGR_G_MakeValid(handle) else { return nil }
        return Geometry(owning: h)
    }

    /// Keeps only the polygonal parts, as a MULTIPOLYGON, in 2D.
    public func polygonalParts() -> Geometry {
        let flat = OGR_GT_Flatten(OGR_G_GetGeometryType(handle))
        var result: OGRGeometryH
        if flat == wkbGeometryCollection {
            result = OGR_G_CreateGeometry(wkbMultiPolygon)
            for i in 0..<OGR_G_GetGeometryCount(handle) {
                guard let part = OGR_G_GetGeometryRef(handle, i) else { continue }
                let pflat = OGR_GT_Flatten(OGR_G_GetGeometryType(part))
                if pflat == wkbPolygon || pflat == wkbMultiPolygon || pflat == wkbCurvePolygon || pflat == wkbMultiSurface {
                    let forced = OGR_G_ForceToMultiPolygon(OGR_G_Clone(part))!
                    for j in 0..<OGR_G_GetGeometryCount(forced) {
                        OGR_G_AddGeometry(result, OGR_G_GetGeometryRef(forced, j))
                    }
                    OGR_G_DestroyGeometry(forced)
                }
            }
        } else {
            result = OGR_G_ForceToMultiPolygon(OGR_G_Clone(handle))
        }
        OGR_G_FlattenTo2D(result)
        return Geometry(owning: result)
    }

    public func transform(_ transform: CoordinateTransform) throws {
        guard OGR_G_Transform(handle, transform.handle) == OGRERR_NONE else {
            throw GDALError("coordinate transformation failed")
        }
    }

    public func wkb() -> [UInt8] {
        let size = Int(OGR_G_WkbSize(handle))
        var out = [UInt8](repeating: 0, count: size)
        _ = out.withUnsafeMutableBufferPointer { OGR_G_ExportToIsoWkb(handle, wkbNDR, $0.baseAddress) }
        return out
    }

    public func wkt() -> String {
        var text: UnsafeMutablePointer<CChar>?
        OGR_G_ExportToWkt(handle, &text)
        defer { VSIFree(text) }
        return text.map { String(cString: $0) } ?? ""
    }
}
