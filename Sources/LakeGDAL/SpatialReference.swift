import CGDAL

/// An OGR spatial reference, always with longitude/easting first (traditional GIS order),
/// so that EPSG:4326 coordinates are lon, lat as in every file format lake reads.
public final class SpatialReference {
    let handle: OGRSpatialReferenceH

    public init(epsg: Int) throws {
        GDAL.initialize()
        guard let h = OSRNewSpatialReference(nil) else { throw GDALError("cannot allocate a spatial reference") }
        guard OSRImportFromEPSG(h, Int32(epsg)) == OGRERR_NONE else {
            OSRDestroySpatialReference(h)
            throw GDALError("unknown coordinate reference system EPSG:\(epsg)")
        }
        OSRSetAxisMappingStrategy(h, OAMS_TRADITIONAL_GIS_ORDER)
        handle = h
    }

    /// Wraps a reference owned by a layer (cloned, so it outlives the layer).
    init?(borrowing h: OGRSpatialReferenceH?) {
        guard let h, let clone = OSRClone(h) else { return nil }
        OSRSetAxisMappingStrategy(clone, OAMS_TRADITIONAL_GIS_ORDER)
        handle = clone
    }

    deinit { OSRDestroySpatialReference(handle) }

    /// "EPSG:25832" when the authority code is known, else the reference's name.
    public var label: String {
        if let code = epsg { return "EPSG:\(code)" }
        return OSRGetName(handle).map { String(cString: $0) } ?? "unknown CRS"
    }

    public var epsg: Int? {
        _ = OSRAutoIdentifyEPSG(handle)
        guard let name = OSRGetAuthorityName(handle, nil), String(cString: name) == "EPSG",
              let code = OSRGetAuthorityCode(handle, nil) else { return nil }
        return Int(String(cString: code))
    }

    public var isGeographic: Bool { OSRIsGeographic(handle) != 0 }

    /// The reference as WKT (what GDAL's utilities take as a CRS).
    public var wkt: String {
        var text: UnsafeMutablePointer<CChar>?
        guard OSRExportToWkt(handle, &text) == OGRERR_NONE, let text else { return epsg.map { "EPSG:\($0)" } ?? "" }
        defer { VSIFree(text) }
        return String(cString: text)
    }

    public func isSame(as other: SpatialReference) -> Bool { OSRIsSame(handle, other.handle) != 0 }
}

/// A coordinate transformation between two references.
public final class CoordinateTransform {
    let handle: OGRCoordinateTransformationH

    public init(from source: SpatialReference, to target: SpatialReference) throws {
        guard let h = OCTNewCoordinateTransformation(source.handle, target.handle) else {
            throw GDALError("cannot transform from \(source.label) to \(target.label)")
        }
        handle = h
    }

    deinit { OCTDestroyCoordinateTransformation(handle) }

    /// Transforms points in place; returns false when any point failed.
    public func transform(x: inout [Double], y: inout [Double]) -> Bool {
        var ok = [Int32](repeating: 0, count: x.count)
        let n = Int32(x.count)
        let result = x.withUnsafeMutableBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                OCTTransformEx(handle, n, xp.baseAddress, yp.baseAddress, nil, &ok)
            }
        }
        return result != 0 && ok.allSatisfy { $0 != 0 }
    }
}
