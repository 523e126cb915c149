import LakeIngest
import LakeStore
import LakeTestSupport
import XCTest

extension XCTestCase {
    /// A temporary lake with the project's fixtures loaded: parcels (aoi demo, 2024), the
    /// catalogue, signatures and SCL histograms.
    func fixtureLake() throws -> Lake {
        let lake = try temporaryLake(self, srid: 32632)
        var parcels = ParcelIngestOptions(); parcels.aoi = "demo"; parcels.year = 2024
        _ = try ParcelIngest(lake: lake).run(path: Paths.fixture("parcels.geojson"), options: parcels)
        _ = try CatalogueIngest(lake: lake).run(path: Paths.fixture("scenes.stac.json"), options: CatalogueIngestOptions())
        for f in ["signatures.csv", "scl.csv"] { _ = try SignatureIngest(lake: lake).run(path: Paths.fixture(f), options: SignatureIngestOptions()) }
        return lake
    }
}
