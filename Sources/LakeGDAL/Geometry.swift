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

    public static func fromWKB(_ bytes: UnsafeRawBufferPointer) throws -> Geometry {
        var h: OGRGeometryH?
        guard let base = bytes.baseAddress,
              OGR_G_CreateFromWkb(UnsafeMutableRawPointer(mutating: base), nil, &h, Int32(bytes.count)) == OGRERR_NONE,
              let h else { throw GDALError("invalid WKB geometry") }
        return Geometry(owning: h)
    }

    /// A rectangle as a polygon.
    public static func box(minX: Double, minY: Double, maxX: Double, maxY: Double) -> Geometry {
        // Closed ring, counter-clockwise.
        try! fromWKT("POLYGON((\(minX) \(minY),\(maxX) \(minY),\(maxX) \(maxY),\(minX) \(maxY),\(minX) \(minY)))")
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
        } else if flat == wkbPolygon || flat == wkbMultiPolygon || flat == wkbCurvePolygon || flat == wkbMultiSurface {
            result = OGR_G_ForceToMultiPolygon(OGR_G_Clone(handle))
        } else {
            // Nothing areal (a ring repaired into a line or a point): an empty MULTIPOLYGON.
            result = OGR_G_CreateGeometry(wkbMultiPolygon)
        }
        OGR_G_FlattenTo2D(result)
        return Geometry(owning: result)
    }

    public var isPoint: Bool {
        let flat = OGR_GT_Flatten(OGR_G_GetGeometryType(handle))
        return flat == wkbPoint || flat == wkbMultiPoint
    }

    /// (minX, minY, maxX, maxY) of the geometry.
    public var envelope: (minX: Double, minY: Double, maxX: Double, maxY: Double) {
        var e = OGREnvelope()
        OGR_G_GetEnvelope(handle, &e)
        return (e.MinX, e.MinY, e.MaxX, e.MaxY)
    }

    /// The geometry grown (positive) or shrunk (negative) by `distance` in its own units.
    public func buffered(_ distance: Double) -> Geometry? {
        guard let h = OGR_G_Buffer(handle, distance, 8) else { return nil }
        return Geometry(owning: h)
    }

    public func intersects(_ other: Geometry) -> Bool { OGR_G_Intersects(handle, other.handle) != 0 }

    public func intersection(_ other: Geometry) -> Geometry? {
        guard let h = OGR_G_Intersection(handle, other.handle) else { return nil }
        return Geometry(owning: h)
    }

    /// Every ring (exterior and interior) of every polygon, as x and y arrays with the closing
    /// point. Filled by the even-odd rule, these cover exactly the geometry's area.
    public func rings() -> [(x: [Double], y: [Double])] {
        var out: [(x: [Double], y: [Double])] = []
        func collect(_ g: OGRGeometryH) {
            let flat = OGR_GT_Flatten(OGR_G_GetGeometryType(g))
            if flat == wkbLineString || flat == wkbLinearRing {
                let ring = Self.points(g)
                if !ring.x.isEmpty { out.append(ring) }
                return
            }
            for i in 0..<OGR_G_GetGeometryCount(g) {
                if let part = OGR_G_GetGeometryRef(g, i) { collect(part) }
            }
        }
        collect(handle)
        return out
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

    /// GeoJSON geometry text — coordinates must already be WGS 84 lon/lat. With `rfc7946` it
    /// follows RFC 7946 on any input: coordinates rounded to `precision` digits first, a polygon
    /// that rounding made invalid repaired, then every exterior ring counter-clockwise and every
    /// hole clockwise (GDAL's single-geometry export does not re-orient rings; its GeoJSON
    /// driver does).
    public func geoJSON(rfc7946: Bool = true, precision: Int = 7) -> String {
        var geometry = self
        if rfc7946 && isAreal {
            let copy = polygonalParts()
            copy.roundCoordinates(digits: precision)
            copy.dropCollapsedRings()
            if !copy.isValid, let fixed = copy.madeValid()?.polygonalParts(), !fixed.isEmpty {
                // The repair adds nodes at full precision: rounded again, what collapses goes.
                fixed.roundCoordinates(digits: precision)
                fixed.dropCollapsedRings()
                geometry = fixed
            } else {
                geometry = copy
            }
            geometry.orientRingsRightHand()
        }
        let texts = (rfc7946 ? ["RFC7946=YES"] : []) + ["COORDINATE_PRECISION=\(precision)"]
        var options: [UnsafeMutablePointer<CChar>?] = texts.map { strdup($0) } + [nil]
        defer { options.forEach { free($0) } }
        guard let json = options.withUnsafeMutableBufferPointer({ OGR_G_ExportToJsonEx(geometry.handle, $0.baseAddress) }) else { return "null" }
        defer { VSIFree(json) }
        return String(cString: json)
    }

    /// Calls `body` with every ring and whether it is a polygon's exterior.
    private func forEachRing(_ body: (OGRGeometryH, Bool) -> Void) {
        func visit(_ g: OGRGeometryH) {
            let flat = OGR_GT_Flatten(OGR_G_GetGeometryType(g))
            if flat == wkbPolygon {
                for i in 0..<OGR_G_GetGeometryCount(g) { if let ring = OGR_G_GetGeometryRef(g, i) { body(ring, i == 0) } }
                return
            }
            for i in 0..<OGR_G_GetGeometryCount(g) { if let part = OGR_G_GetGeometryRef(g, i) { visit(part) } }
        }
        visit(handle)
    }

    private static func points(_ ring: OGRGeometryH) -> (x: [Double], y: [Double]) {
        let n = Int(OGR_G_GetPointCount(ring))
        var x = [Double](repeating: 0, count: n), y = [Double](repeating: 0, count: n)
        x.withUnsafeMutableBytes { xp in
            y.withUnsafeMutableBytes { yp in
                _ = OGR_G_GetPoints(ring, xp.baseAddress, Int32(MemoryLayout<Double>.stride), yp.baseAddress, Int32(MemoryLayout<Double>.stride), nil, 0)
            }
        }
        return (x, y)
    }

    private static func setPoints(_ ring: OGRGeometryH, _ x: [Double], _ y: [Double]) {
        let n = Int32(x.count)
        x.withUnsafeBytes { xp in
            y.withUnsafeBytes { yp in
                OGR_G_SetPoints(ring, n, UnsafeMutableRawPointer(mutating: xp.baseAddress), Int32(MemoryLayout<Double>.stride),
                                UnsafeMutableRawPointer(mutating: yp.baseAddress), Int32(MemoryLayout<Double>.stride), nil, 0)
            }
        }
    }

    /// Rounds every coordinate to `digits` decimals (what the GeoJSON text will hold).
    func roundCoordinates(digits: Int) {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        forEachRing { ring, _ in
            let (x, y) = Self.points(ring)
            Self.setPoints(ring, x.map { ($0 * scale).rounded() / scale }, y.map { ($0 * scale).rounded() / scale })
        }
    }

    /// Removes, from a MULTIPOLYGON, the rings that rounding collapsed to no area: holes, and
    /// polygons whose exterior did.
    func dropCollapsedRings() {
        /// 0 for a ring of fewer than three distinct points or a sliver below 1e-12 (about 0.01 m²
        /// in degrees² at the equator: what rounding made of a thin spike).
        func twiceArea(_ ring: OGRGeometryH) -> Double {
            let (x, y) = Self.points(ring)
            var distinct = Set<[Double]>()
            for k in x.indices { distinct.insert([x[k], y[k]]) }
            guard distinct.count >= 3 else { return 0 }
            let a = Self.twiceSignedArea(x, y)
            return abs(a) < 1e-12 ? 0 : a
        }
        guard OGR_GT_Flatten(OGR_G_GetGeometryType(handle)) == wkbMultiPolygon else { return }
        var p = OGR_G_GetGeometryCount(handle) - 1
        while p >= 0 {
            if let polygon = OGR_G_GetGeometryRef(handle, p) {
                var r = OGR_G_GetGeometryCount(polygon) - 1
                while r >= 1 {
                    if let ring = OGR_G_GetGeometryRef(polygon, r), twiceArea(ring) == 0 { _ = OGR_G_RemoveGeometry(polygon, r, 1) }
                    r -= 1
                }
                if let exterior = OGR_G_GetGeometryRef(polygon, 0), twiceArea(exterior) == 0, OGR_G_GetGeometryCount(handle) > 1 {
                    _ = OGR_G_RemoveGeometry(handle, p, 1)
                }
            }
            p -= 1
        }
    }

    /// Exterior rings counter-clockwise, holes clockwise (the right-hand rule of RFC 7946).
    func orientRingsRightHand() {
        forEachRing { ring, exterior in
            let (x, y) = Self.points(ring)
            guard x.count >= 4 else { return }
            if (Self.twiceSignedArea(x, y) < 0) == exterior { Self.setPoints(ring, x.reversed(), y.reversed()) }
        }
    }

    /// Twice a closed ring's signed area (positive counter-clockwise), taken relative to its first
    /// point so that large coordinates lose no precision; 0 for fewer than 4 points.
    static func twiceSignedArea(_ x: [Double], _ y: [Double]) -> Double {
        guard x.count >= 4 else { return 0 }
        var a = 0.0
        for k in 0..<(x.count - 1) { a += (x[k] - x[0]) * (y[k + 1] - y[0]) - (x[k + 1] - x[0]) * (y[k] - y[0]) }
        return a
    }

    public func wkt() -> String {
        var text: UnsafeMutablePointer<CChar>?
        OGR_G_ExportToWkt(handle, &text)
        defer { VSIFree(text) }
        return text.map { String(cString: $0) } ?? ""
    }
}
