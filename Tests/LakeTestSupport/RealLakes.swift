import LakeIngest
import LakeStore
import XCTest

/// A temporary lake of the 4,781 real Zurich parcels of ../shared/realdata (aoi "zh", year 2019),
/// SpatiaLite's functions loaded for the reference queries; the test is skipped without the data.
public func zurichLake(_ test: XCTestCase, srid: Int = Lake.defaultSRID) throws -> Lake {
    let dir = try Paths.requireRealdata("lpis-zurich-2019")
    let lake = try temporaryLake(test, srid: srid)
    var options = ParcelIngestOptions(); options.aoi = "zh"; options.year = 2019
    _ = try ParcelIngest(lake: lake).run(path: dir.appendingPathComponent("ZH_Polygons_2019_EPSG32632_selected-crops.shp").path, options: options)
    try lake.db.loadSpatiaLite()
    return lake
}
