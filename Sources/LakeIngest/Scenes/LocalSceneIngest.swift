import Foundation
import LakeGDAL
import LakeStore

public struct LocalSceneOptions: Sendable {
    /// Radiometric offset of files whose processing baseline is unknown (per-band folders).
    public var offset: Double?
    /// Reference prefix for scenes found in per-band folders (default: the folder's name).
    public var name: String?
    public var update = false
    public init() {}
}

/// `lake ingest scene PATH…`: registers scenes whose band files are on this machine, so that
/// `lake extract` can read them:
///  * a STAC Item (or collection) whose assets are local files (hrefs relative to the item);
///  * a Sentinel-2 `.SAFE` folder: metadata from MTD_MSIL2A/MTD_MSIL1C.xml, bands from
///    GRANULE/*/IMG_DATA (R10m, R20m, R60m for L2A; the finest resolution of each band wins);
///  * a folder (searched recursively) or single files named by date and band, such as
///    `20230417/B04.tif`, `T33UUU_20170216T102101_B04.jp2`, `S2A2A_20200413_022_roi_NDVI_10.tif`:
///    one scene per date (and tile), its footprint from the rasters' extent.
public struct LocalSceneIngest {
    let lake: Lake
    public init(lake: Lake) { self.lake = lake }

    public func run(path: String, options: LocalSceneOptions) throws -> IngestSummary {
        do { return try register(path: path, options: options) } catch let error as GDALError {
            throw LakeError.input(file: path, location: nil, reason: error.message)
        }
    }

    private func register(path: String, options: LocalSceneOptions) throws -> IngestSummary {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw LakeError.input(file: path, location: nil, reason: "no such file or folder")
        }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        var ingestOptions = CatalogueIngestOptions()
        ingestOptions.update = options.update
        let catalogue = CatalogueIngest(lake: lake)
        let lower = path.lowercased()
        if !isDirectory.boolValue, lower.hasSuffix(".json") || lower.hasSuffix(".geojson") {
            return try catalogue.run(entries: CatalogueDocument.read(path: absolute), path: absolute, kind: "scene", options: ingestOptions)
        }
        if isDirectory.boolValue, let entries = try safe(absolute) {
            return try catalogue.run(entries: entries, path: absolute, kind: "scene", options: ingestOptions)
        }
        let entries = try bandFiles(absolute, isDirectory: isDirectory.boolValue, options: options)
        return try catalogue.run(entries: entries, path: absolute, kind: "scene", options: ingestOptions)
    }

    // MARK: SAFE

    private func safe(_ folder: String) throws -> [CatalogueDocument.Entry]? {
        let fm = FileManager.default
        guard ["MTD_MSIL2A.xml", "MTD_MSIL1C.xml"].contains(where: { fm.fileExists(atPath: folder + "/" + $0) }) else { return nil }
        var entries = try CatalogueDocument.read(path: folder)
        var assets: [String: (path: String, resolution: Int)] = [:]
        for file in files(under: folder + "/GRANULE") {
            guard let found = BandFileName.parse(file), found.band != "TCI", found.band != "AOT", found.band != "WVP" else { continue }
            let resolution = found.resolution ?? 0
            if let existing = assets[found.band], existing.resolution != 0, existing.resolution <= resolution { continue }
            assets[found.band] = (file, resolution)
        }
        guard !assets.isEmpty else {
            throw LakeError.input(file: folder, location: nil, reason: "no band files (.jp2) under GRANULE/*/IMG_DATA")
        }
        for i in entries.indices {
            if case .scene(var scene) = entries[i].outcome {
                scene.assets = assets.mapValues(\.path)
                if scene.footprintWKB == nil { scene.footprintWKB = try footprint(Array(assets.values.map(\.path))) }
                entries[i].outcome = .scene(scene)
            }
        }
        return entries
    }

    // MARK: folders of band files

    private func bandFiles(_ path: String, isDirectory: Bool, options: LocalSceneOptions) throws -> [CatalogueDocument.Entry] {
        let candidates = isDirectory ? files(under: path) : [path]
        var groups: [String: (date: String, time: String?, tile: String?, bands: [String: String], level: String?)] = [:]
        var unnamed: [String] = []
        let root = isDirectory ? path : (path as NSString).deletingLastPathComponent
        for file in candidates {
            guard let found = BandFileName.parse(file) else { unnamed.append(file); continue }
            guard let date = found.date else { unnamed.append(file); continue }
            // The folder a scene lives in: the file's folder, or above it while folders are named
            // by the date, band or resolution (20230417/B04.tif, NDVI/x.tif, R10m/), relative to
            // the root, so that
            // polygon_0/20230623/B02.tif and polygon_1/20230623/B02.tif are two scenes.
            var folder = (file as NSString).deletingLastPathComponent
            while folder.count > root.count, BandFileName.isGroupingFolder(URL(fileURLWithPath: folder).lastPathComponent, date: date) {
                folder = (folder as NSString).deletingLastPathComponent
            }
            let relative = folder.count > root.count ? String(folder.dropFirst(root.count + 1)) : ""
            let key = (relative.isEmpty ? "" : relative.replacingOccurrences(of: "/", with: "_") + "_")
                + date.replacingOccurrences(of: "-", with: "") + (found.tile.map { "_" + $0 } ?? "")
            var group = groups[key] ?? (date, found.time, found.tile, [:], found.level)
            if group.bands[found.band] != nil {
                throw LakeError.input(file: file, location: nil, reason: "a second \(found.band) file for \(date)\(found.tile.map { " tile \($0)" } ?? ""): \(group.bands[found.band]!)")
            }
            group.bands[found.band] = file
            groups[key] = group
        }
        guard !groups.isEmpty else {
            let example = unnamed.first.map { " (e.g. \(URL(fileURLWithPath: $0).lastPathComponent))" } ?? ""
            throw LakeError.input(file: path, location: nil,
                                  reason: "no raster files named by date and band\(example); expected names such as 20230417/B04.tif or T33UUU_20170216T102101_B04.jp2")
        }
        let prefix = options.name ?? URL(fileURLWithPath: isDirectory ? path : (path as NSString).deletingLastPathComponent).lastPathComponent
        var entries: [CatalogueDocument.Entry] = []
        for (key, group) in groups.sorted(by: { $0.key < $1.key }) {
            let location = "scene \(key)"
            do {
                let isS1 = group.bands.keys.contains { ["VV", "VH", "HH", "HV"].contains($0) }
                let card = isS1 ? "bs" : (group.level == "L1C" ? "l1c" : "s2")
                let obstime = group.date + "T" + (group.time ?? "00:00:00") + "Z"
                let scene = SceneRecord(
                    reference: "\(prefix)_\(key)", obstime: obstime, platform: nil,
                    sensor: isS1 ? "1" : "2", card: card, tile: group.tile, relativeOrbit: nil, cloudCover: nil, baseline: nil,
                    offset: options.offset ?? 0, footprintWKB: try footprint(Array(group.bands.values)), assets: group.bands)
                entries.append((location, .scene(scene)))
            } catch {
                entries.append((location, .rejected("\(error)")))
            }
        }
        return entries
    }

    /// The union of the files' extents, in EPSG:4326, as WKB.
    private func footprint(_ paths: [String]) throws -> [UInt8] {
        var box: (Double, Double, Double, Double)?
        var crs: SpatialReference?
        for path in paths.sorted() {
            let dataset = try RasterDataset(path: path)
            let grid = try dataset.grid()
            guard let reference = dataset.spatialReference else { throw GDALError("\(path) has no readable CRS") }
            if crs == nil { crs = reference }
            guard crs!.isSame(as: reference) else { throw GDALError("\(path) is in \(reference.label), other bands in \(crs!.label)") }
            box = box.map { (min($0.0, grid.minX), min($0.1, grid.minY), max($0.2, grid.maxX), max($0.3, grid.maxY)) }
                ?? (grid.minX, grid.minY, grid.maxX, grid.maxY)
        }
        guard let box, let crs else { throw GDALError("no rasters") }
        let geometry = Geometry.box(minX: box.0, minY: box.1, maxX: box.2, maxY: box.3)
        try geometry.transform(CoordinateTransform(from: crs, to: SpatialReference(epsg: 4326)))
        return geometry.polygonalParts().wkb()
    }

    private func files(under folder: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
        var out: [String] = []
        while let relative = walker.nextObject() as? String {
            let lower = relative.lowercased()
            if lower.hasSuffix(".tif") || lower.hasSuffix(".tiff") || lower.hasSuffix(".jp2") || lower.hasSuffix(".vrt") {
                out.append(folder + "/" + relative)
            }
        }
        return out.sorted()
    }
}

/// Date, band, tile and resolution read from a band file's path.
struct BandFileName: Equatable {
    var band: String
    var date: String?       // YYYY-MM-DD
    var time: String?       // HH:MM:SS
    var tile: String?       // T33UUU
    var resolution: Int?    // 10, 20, 60 from _10m / R20m
    var level: String?      // L1C, L2A when the path says

    /// Folders that sort one scene's files rather than separate scenes: named by the date, a
    /// band (NDVI/, SCL/) or a resolution (R10m/).
    static func isGroupingFolder(_ name: String, date: String) -> Bool {
        let upper = name.uppercased()
        if upper.contains(date.replacingOccurrences(of: "-", with: "")) { return true }
        if bandNames.contains(upper) { return true }
        return upper.hasPrefix("R") && upper.hasSuffix("M") && Int(upper.dropFirst().dropLast()) != nil
    }

    static let bandNames: Set<String> = ["B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B01", "B02", "B03", "B04", "B05", "B06", "B07",
                                         "B08", "B09", "B10", "B11", "B12", "B8A", "SCL", "NDVI", "VV", "VH", "HH", "HV", "TCI", "AOT", "WVP"]

    static func parse(_ path: String) -> BandFileName? {
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let tokens = name.split(whereSeparator: { $0 == "_" || $0 == "-" || $0 == "." }).map { String($0).uppercased() }
        var band: String?
        for t in tokens.reversed() where bandNames.contains(t) { band = t; break }
        guard let found = band else { return nil }
        var result = BandFileName(band: Bands.normalise(found))
        // Date and time: in the name, else in an enclosing folder (20230417/B04.tif).
        let components = [name] + URL(fileURLWithPath: path).deletingLastPathComponent().pathComponents.reversed()
        for component in components {
            if let match = component.range(of: #"(?<!\d)(19|20)\d{6}(T\d{6})?(?!\d)"#, options: .regularExpression) {
                let text = Array(component[match])
                result.date = "\(String(text[0..<4]))-\(String(text[4..<6]))-\(String(text[6..<8]))"
                if text.count == 15 { result.time = "\(String(text[9..<11])):\(String(text[11..<13])):\(String(text[13..<15]))" }
                break
            }
        }
        if let tile = tokens.first(where: { $0.count == 6 && $0.hasPrefix("T") && $0.dropFirst().prefix(2).allSatisfy(\.isNumber) }) {
            result.tile = tile
        }
        if let r = tokens.first(where: { $0.hasSuffix("M") && Int($0.dropLast()) != nil }) { result.resolution = Int(r.dropLast()) }
        else if let folder = URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent.uppercased() as String?,
                folder.hasPrefix("R"), folder.hasSuffix("M"), let r = Int(folder.dropFirst().dropLast()) { result.resolution = r }
        let upper = path.uppercased()
        result.level = upper.contains("L1C") ? "L1C" : (upper.contains("L2A") || upper.contains("2A_") ? "L2A" : nil)
        return result
    }
}
