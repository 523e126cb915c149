import Foundation
import LakeGDAL
import LakeSQLite
import LakeStore

/// The per-parcel reductions of one scene, not yet written.
struct SceneResult {
    let pids: [Int64]
    /// Per band source (same order as the scene's bands): per parcel, its reduction.
    let reductions: [[Reduction?]]
    let bands: [BandSource]
    let pixelsRead: Int
    let pixelsUsed: Int
}

/// A scene that cannot be extracted, and why (it becomes the scene's `failed:` status).
struct SceneFailure: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

/// Reduces every band of one scene over the parcels it covers, in parallel:
/// band files are opened (CRS, grid, nodata checked), the parcels under the raster found through
/// the spatial index and reprojected to the raster's CRS (and buffered), then (band, chunk of
/// parcels) tasks run on `jobs` threads, each with its own GDAL datasets.
struct SceneExtractor {
    let lake: Lake
    let options: ExtractOptions

    func extract(_ scene: SceneToExtract) throws -> SceneResult {
        if let problem = scene.problem { throw SceneFailure(reason: problem) }
        // Open every band once here: fail early and clearly on a bad file.
        var grids: [PixelGrid] = []
        var nodata: [Double?] = []
        var crs: SpatialReference?
        for band in scene.bands {
            guard FileManager.default.fileExists(atPath: band.path) || band.path.hasPrefix("/vsi") else {
                throw SceneFailure(reason: "\(band.name): missing file \(band.path)")
            }
            let dataset: RasterDataset
            do { dataset = try RasterDataset(path: band.path) } catch { throw SceneFailure(reason: "\(band.name): \(error)") }
            guard let reference = dataset.spatialReference else {
                throw SceneFailure(reason: "\(band.name): \(band.path) has no readable CRS")
            }
            if let crs, !crs.isSame(as: reference) {
                throw SceneFailure(reason: "\(band.name): \(band.path) is in \(reference.label), other bands in \(crs.label)")
            }
            crs = reference
            do { grids.append(try dataset.grid()) } catch { throw SceneFailure(reason: "\(band.name): \(error)") }
            let declared = try dataset.band(band.index).nodata
            nodata.append(declared ?? options.nodata ?? (band.isSCL || Bands.takesOffset(band.name) ? 0 : nil))
        }
        guard let crs, !grids.isEmpty else { throw SceneFailure(reason: "no band files") }
        if crs.isGeographic, options.buffer != nil {
            throw SceneFailure(reason: "--buffer needs a projected raster CRS; \(scene.bands[0].path) is in \(crs.label)")
        }

        // The raster's extent (union of the band grids) in its CRS.
        let extent = Geometry.box(minX: grids.map(\.minX).min()!, minY: grids.map(\.minY).min()!,
                                  maxX: grids.map(\.maxX).max()!, maxY: grids.map(\.maxY).max()!)
        let lakeCRS = try SpatialReference(epsg: lake.srid)
        let toRaster = try CoordinateTransform(from: lakeCRS, to: crs)
        if let wkb = scene.footprintWKB {
            let footprint = try wkb.withUnsafeBytes { try Geometry.fromWKB($0) }
            try footprint.transform(CoordinateTransform(from: SpatialReference(epsg: 4326), to: crs))
            guard footprint.intersects(extent) else {
                throw SceneFailure(reason: "the catalogue footprint does not overlap the raster \(scene.bands[0].path) (wrong file for this scene?)")
            }
        }
        let search = extent.clone()
        try search.transform(CoordinateTransform(from: crs, to: lakeCRS))

        // Parcels under the raster, in its CRS.
        var pids: [Int64] = []
        var shapes: [ParcelShape] = []
        let statement = try lake.db.prepare("""
            WITH s(g) AS (SELECT GeomFromWKB(?1, \(lake.srid)))
            SELECT pid, AsBinary(geom) FROM parcels, s
            WHERE parcels.ROWID IN (SELECT ROWID FROM SpatialIndex
                                    WHERE f_table_name = 'parcels' AND f_geometry_column = 'geom' AND search_frame = s.g)
              AND (?2 IS NULL OR aoi = ?2) AND (?3 IS NULL OR year = ?3)
            """)
        let searchWKB = search.wkb()
        searchWKB.withUnsafeBytes { statement.bind(blob: $0, at: 1) }
        try statement.bind(options.aoi.map(SQLValue.text) ?? .null, at: 2)
        try statement.bind(options.year.map { .int(Int64($0)) } ?? .null, at: 3)
        while try statement.step() {
            let pid = statement.int(0)
            var geometry = try statement.withBlob(1) { try Geometry.fromWKB($0) }
            try geometry.transform(toRaster)
            if let buffer = options.buffer, buffer != 0 {
                guard let shrunk = geometry.buffered(buffer), !shrunk.isEmpty else { continue }
                geometry = shrunk
            }
            let shape = ParcelShape(rings: geometry.rings())
            guard shape.maxX > extent.envelope.minX, shape.minX < extent.envelope.maxX,
                  shape.maxY > extent.envelope.minY, shape.minY < extent.envelope.maxY else { continue }
            pids.append(pid)
            shapes.append(shape)
        }
        // Row-major order of the parcels keeps each thread's reads close together (GDAL block cache).
        let order = shapes.indices.sorted { (-shapes[$0].maxY, shapes[$0].minX) < (-shapes[$1].maxY, shapes[$1].minX) }
        pids = order.map { pids[$0] }
        shapes = order.map { shapes[$0] }

        let work = ParallelReduction(bands: scene.bands, grids: grids, nodata: nodata, shapes: shapes,
                                     rule: options.rule, jobs: max(1, options.jobs))
        try work.run()
        return SceneResult(pids: pids, reductions: work.results, bands: scene.bands,
                           pixelsRead: work.pixelsRead, pixelsUsed: work.pixelsUsed)
    }
}

/// (band, chunk of parcels) tasks on `jobs` threads. Each thread opens its own datasets;
/// each task writes a disjoint range of the results.
final class ParallelReduction: @unchecked Sendable {
    let bands: [BandSource]
    let grids: [PixelGrid]
    let nodata: [Double?]
    let shapes: [ParcelShape]
    let rule: PixelRule
    let jobs: Int
    private(set) var results: [[Reduction?]]
    private(set) var pixelsRead = 0
    private(set) var pixelsUsed = 0
    private let lock = NSLock()
    private var nextTask = 0
    private var failure: Error?
    private let tasks: [(band: Int, range: Range<Int>)]

    init(bands: [BandSource], grids: [PixelGrid], nodata: [Double?], shapes: [ParcelShape], rule: PixelRule, jobs: Int) {
        self.bands = bands; self.grids = grids; self.nodata = nodata; self.shapes = shapes
        self.rule = rule; self.jobs = jobs
        results = bands.map { _ in [Reduction?](repeating: nil, count: shapes.count) }
        let chunk = max(64, min(2_000, shapes.count / max(1, jobs * 4) + 1))
        var tasks: [(Int, Range<Int>)] = []
        for b in bands.indices {
            var start = 0
            while start < shapes.count {
                tasks.append((b, start..<min(shapes.count, start + chunk)))
                start += chunk
            }
        }
        self.tasks = tasks
    }

    func run() throws {
        guard !tasks.isEmpty else { return }
        let threads = min(jobs, tasks.count)
        DispatchQueue.concurrentPerform(iterations: threads) { _ in self.worker() }
        if let failure { throw failure }
    }

    private func take() -> (band: Int, range: Range<Int>)? {
        lock.lock(); defer { lock.unlock() }
        guard failure == nil, nextTask < tasks.count else { return nil }
        defer { nextTask += 1 }
        return tasks[nextTask]
    }

    private func worker() {
        var reducers: [Int: BandReducer] = [:]
        var read = 0, used = 0
        do {
            while let task = take() {
                let reducer: BandReducer
                if let r = reducers[task.band] { reducer = r } else {
                    let source = bands[task.band]
                    let dataset = try RasterDataset(path: source.path)
                    reducer = BandReducer(band: try dataset.band(source.index), grid: grids[task.band],
                                          nodata: nodata[task.band], rule: rule, histogram: source.isSCL)
                    reducers[task.band] = reducer
                }
                var out: [Reduction?] = []
                out.reserveCapacity(task.range.count)
                for i in task.range { out.append(try reducer.reduce(shapes[i])) }
                lock.lock()
                results[task.band].replaceSubrange(task.range, with: out)
                lock.unlock()
            }
            for r in reducers.values { read += r.pixelsRead; used += r.pixelsUsed }
        } catch {
            lock.lock(); if failure == nil { failure = SceneFailure(reason: "\(error)") }; lock.unlock()
        }
        lock.lock(); pixelsRead += read; pixelsUsed += used; lock.unlock()
    }
}
