import Foundation
import LakeAnalytics
import LakeExtract
import LakeGDAL
import LakeSQLite
import LakeStore

public struct FOIOptions: Sendable {
    public var minShare = 30.0
    public var maxShare = 70.0
    public var buffer: Double? = -10
    public var eightConnected = false
    /// Clusters larger than this (pixels) count for the cardinality flag and are kept as polygons.
    public var clusterPixels = 20
    /// Class names (for reports), from --classes.
    public var classNames: [Int: String] = [:]
    public init() {}
}

public struct FOIParcel: Sendable {
    public let pid: Int64
    public let parcelID: String
    public let pixels: Int
    public let classes: [(value: Int, pixels: Int, share: Double)]
    public let clusters: [(value: Int, pixels: Int)]
    public let heterogeneous: Bool
    public let cardinality: Bool
}

/// The JRC FOI assessment (v2, no database server): on a one-band thematic raster (a
/// classification), per parcel after an optional negative buffer, the pixels per class and their
/// share; heterogeneous when a class's share lies between the minimum and maximum shares; the
/// clusters of connected pixels of one class (4- or 8-connectivity), with the cardinality flag
/// when more than one cluster is larger than the threshold; large clusters kept as polygons.
///
/// In stages: the raster and its place in the lake (`Thematic`), each parcel under it assessed
/// (`assess`: its pixels, classes, clusters and the large clusters' polygons), then the run
/// written in one transaction (`record`).
public struct FOIAssessment {
    let lake: Lake
    public init(lake: Lake) { self.lake = lake }

    /// A large cluster kept as a polygon, in the lake's SRID.
    struct ClusterPolygon {
        let pid: Int64, value: Int, pixels: Int, wkb: [UInt8]
    }

    public func run(raster path: String, options: FOIOptions, optionsText: String) throws -> (run: Int64, parcels: [FOIParcel]) {
        let raster = try Thematic(path: path, lakeSRID: lake.srid, buffer: options.buffer)
        var parcels: [FOIParcel] = []
        var polygons: [ClusterPolygon] = []
        var scratch = Scratch(grid: raster.grid)
        let statement = try lake.db.prepare("""
            WITH s(g) AS (SELECT GeomFromWKB(?1, \(lake.srid)))
            SELECT pid, parcel_id, AsBinary(geom) FROM parcels, s
            WHERE parcels.ROWID IN (SELECT ROWID FROM SpatialIndex WHERE f_table_name = 'parcels' AND f_geometry_column = 'geom'
                                    AND search_frame = s.g)
            ORDER BY pid
            """)
        let extentWKB = raster.extentInLake.wkb()
        extentWKB.withUnsafeBytes { statement.bind(blob: $0, at: 1) }
        while try statement.step() {
            let geometry = try statement.withBlob(2) { try Geometry.fromWKB($0) }
            guard let (parcel, kept) = try assess(pid: statement.int(0), parcelID: statement.text(1) ?? "", geometry: geometry,
                                                  raster: raster, options: options, scratch: &scratch) else { continue }
            parcels.append(parcel)
            polygons += kept
        }
        let run = try record(parcels, polygons, raster: path, options: options, optionsText: optionsText)
        return (run, parcels)
    }

    /// Stage 1: the thematic raster, its band and grid, the transforms between its CRS and the
    /// lake's, and its extent in the lake's SRID (which parcels to read).
    struct Thematic {
        let band: RasterBand
        let grid: PixelGrid
        let nodata: Double?
        let toRaster: CoordinateTransform, toLake: CoordinateTransform
        let extentInLake: Geometry
        private let dataset: RasterDataset

        init(path: String, lakeSRID: Int, buffer: Double?) throws {
            guard FileManager.default.fileExists(atPath: path) else { throw LakeError.input(file: path, location: nil, reason: "no such file") }
            do {
                dataset = try RasterDataset(path: path)
                grid = try dataset.grid()
                band = try dataset.band(1)
            } catch { throw LakeError.input(file: path, location: nil, reason: "\(error)") }
            guard let crs = dataset.spatialReference else { throw LakeError.input(file: path, location: nil, reason: "no readable CRS") }
            if buffer != nil && crs.isGeographic {
                throw LakeError.usage("--buffer needs a projected raster CRS; \(path) is in \(crs.label)")
            }
            nodata = band.nodata
            let lakeCRS = try SpatialReference(epsg: lakeSRID)
            toRaster = try CoordinateTransform(from: lakeCRS, to: crs)
            toLake = try CoordinateTransform(from: crs, to: lakeCRS)
            extentInLake = Geometry.box(minX: grid.minX, minY: grid.minY, maxX: grid.maxX, maxY: grid.maxY)
            try extentInLake.transform(toLake)
        }
    }

    /// Buffers reused from parcel to parcel.
    struct Scratch {
        var rasteriser: Rasteriser
        var pixels: [Double] = [], mask: [UInt8] = []
        init(grid: PixelGrid) { rasteriser = Rasteriser(grid: grid, rule: .center) }
    }

    /// Stage 2: one parcel (its geometry in the lake's SRID) on the raster: nil when nothing of
    /// it is left after the buffer or it covers no valid pixel.
    func assess(pid: Int64, parcelID: String, geometry lakeGeometry: Geometry, raster: Thematic, options: FOIOptions,
                scratch: inout Scratch) throws -> (FOIParcel, [ClusterPolygon])? {
        var geometry = lakeGeometry
        try geometry.transform(raster.toRaster)
        if let b = options.buffer, b != 0 {
            guard let shrunk = geometry.buffered(b), !shrunk.isEmpty else { return nil }
            geometry = shrunk
        }
        let grid = raster.grid
        let shape = ParcelShape(rings: geometry.rings())
        let window = PixelWindow(shape: shape, grid: grid)
        guard !window.isEmpty else { return nil }
        try raster.band.read(col: window.col, row: window.row, width: window.width, height: window.height, into: &scratch.pixels)
        scratch.rasteriser.mask(shape, window: window, into: &scratch.mask)
        let n = window.width * window.height
        // Class of each pixel inside (−1 outside or nodata).
        var classOf = [Int](repeating: -1, count: n)
        var counts: [Int: Int] = [:]
        var total = 0
        for i in 0..<n where scratch.mask[i] != 0 {
            let v = scratch.pixels[i]
            if v == raster.nodata || v.isNaN { continue }
            classOf[i] = Int(v)
            counts[Int(v), default: 0] += 1
            total += 1
        }
        guard total > 0 else { return nil }
        let classes = counts.sorted { ($0.value, -$0.key) > ($1.value, -$1.key) }
            .map { (value: $0.key, pixels: $0.value, share: Double($0.value) * 100 / Double(total)) }
        let heterogeneous = classes.contains { $0.share >= options.minShare && $0.share <= options.maxShare }
        let (labels, clusters) = Self.components(classOf, width: window.width, height: window.height, eight: options.eightConnected)
        let large = clusters.enumerated().filter { $0.element.pixels > options.clusterPixels }
        let parcel = FOIParcel(pid: pid, parcelID: parcelID, pixels: total, classes: classes,
                               clusters: clusters.sorted { $0.pixels > $1.pixels }, heterogeneous: heterogeneous, cardinality: large.count > 1)
        // Polygons of the large clusters, in the lake's SRID.
        var polygons: [ClusterPolygon] = []
        if !large.isEmpty {
            let keep = Set(large.map { Int32($0.offset + 1) })
            let kept = labels.map { keep.contains($0) ? $0 : 0 }
            let shapes = try polygonize(labels: kept, width: window.width, height: window.height,
                                        originX: grid.originX + Double(window.col) * grid.pixelWidth,
                                        originY: grid.originY - Double(window.row) * grid.pixelHeight,
                                        pixelWidth: grid.pixelWidth, pixelHeight: grid.pixelHeight, connectivity8: options.eightConnected)
            for (label, parts) in shapes.sorted(by: { $0.key < $1.key }) {
                let cluster = clusters[Int(label) - 1]
                let multi = Geometry.multiPolygon(parts)
                try multi.transform(raster.toLake)
                polygons.append(ClusterPolygon(pid: pid, value: cluster.value, pixels: cluster.pixels, wkb: multi.wkb()))
            }
        }
        return (parcel, polygons)
    }

    /// Stage 3: the run, its parcels, classes and cluster polygons, in one transaction.
    func record(_ parcels: [FOIParcel], _ polygons: [ClusterPolygon], raster path: String, options: FOIOptions, optionsText: String) throws -> Int64 {
        var run: Int64 = 0
        let db = lake.db
        try db.transaction {
            var inputs = try RunInputs.describe(lake)
            inputs["raster"] = path
            inputs["classes"] = Dictionary(uniqueKeysWithValues: options.classNames.map { (String($0.key), $0.value) })
            run = try RunLog.begin(db, kind: "foi", options: optionsText, inputs: inputs)
            let parcel = try db.prepare("INSERT INTO foi_parcels (run_id, pid, pixels, heterogeneous, cardinality, clusters) VALUES (?, ?, ?, ?, ?, ?)")
            let cls = try db.prepare("INSERT INTO foi_classes (run_id, pid, class, pixels, share) VALUES (?, ?, ?, ?, ?)")
            let poly = try db.prepare("INSERT INTO foi_clusters (run_id, pid, class, pixels, geom) VALUES (?, ?, ?, ?, CastToMultiPolygon(GeomFromWKB(?, \(lake.srid))))")
            for p in parcels {
                try parcel.bind([.int(run), .int(p.pid), .int(Int64(p.pixels)), .int(p.heterogeneous ? 1 : 0), .int(p.cardinality ? 1 : 0),
                                 .text(RunLog.json(p.clusters.map { [$0.value, $0.pixels] }))])
                try parcel.step(); parcel.reset()
                for c in p.classes {
                    try cls.bind([.int(run), .int(p.pid), .int(Int64(c.value)), .int(Int64(c.pixels)), .double(c.share)])
                    try cls.step(); cls.reset()
                }
            }
            for c in polygons {
                try poly.bind([.int(run), .int(c.pid), .int(Int64(c.value)), .int(Int64(c.pixels)), .blob(c.wkb)])
                try poly.step(); poly.reset()
            }
            try RunLog.finish(db, run: run, summary: ["parcels": parcels.count, "heterogeneous": parcels.filter(\.heterogeneous).count,
                                                      "cardinality": parcels.filter(\.cardinality).count, "clusters": polygons.count])
        }
        return run
    }

    /// Connected components of equal class (−1 = outside): a label per pixel (1-based, 0 outside)
    /// and each cluster's (class, pixels).
    static func components(_ classOf: [Int], width: Int, height: Int, eight: Bool) -> (labels: [Int32], clusters: [(value: Int, pixels: Int)]) {
        var labels = [Int32](repeating: 0, count: classOf.count)
        var clusters: [(value: Int, pixels: Int)] = []
        var stack: [Int] = []
        let neighbours = eight ? [(-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1)] : [(0, -1), (-1, 0), (1, 0), (0, 1)]
        for start in classOf.indices where classOf[start] >= 0 && labels[start] == 0 {
            let value = classOf[start]
            let label = Int32(clusters.count + 1)
            labels[start] = label
            stack.append(start)
            var size = 0
            while let i = stack.popLast() {
                size += 1
                let x = i % width, y = i / width
                for (dx, dy) in neighbours {
                    let nx = x + dx, ny = y + dy
                    guard nx >= 0, ny >= 0, nx < width, ny < height else { continue }
                    let j = ny * width + nx
                    if labels[j] == 0 && classOf[j] == value { labels[j] = label; stack.append(j) }
                }
            }
            clusters.append((value, size))
        }
        return (labels, clusters)
    }
}

/// Cluster sizes of a class grid, for tests and SQL users.
public enum FOIAssessmentInternals {
    public static func components(_ classOf: [Int], width: Int, height: Int, eight: Bool) -> [Int] {
        FOIAssessment.components(classOf, width: width, height: height, eight: eight).clusters.map(\.pixels)
    }
}
