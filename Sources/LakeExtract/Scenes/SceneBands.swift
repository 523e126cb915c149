import Foundation
import LakeStore

/// One band of a scene: the file GDAL reads and which band of it.
public struct BandSource: Sendable, Equatable {
    public let name: String      // normalised: B04, B8A, SCL, NDVI, VV…
    public let path: String
    public let index: Int        // 1-based band in the file
    public var isSCL: Bool { name == Bands.scl }
}

/// A catalogue scene as extraction sees it.
public struct SceneToExtract: Sendable {
    public let obsid: Int64
    public let reference: String
    public let obstime: String
    public let status: String
    public let footprintWKB: [UInt8]?
    public let bands: [BandSource]
    /// Why the scene's bands cannot be used, when they cannot.
    public let problem: String?
}

/// Turns a catalogue row's `assets` (band → href) into local band sources.
///
/// Hrefs are local paths (absolute, or relative to the catalogue file the scene came from),
/// `file://` URLs, optionally with `#N` for band N of a multi-band file. Remote hrefs are
/// refused: lake works offline (register downloaded files with `lake ingest scene`).
public enum SceneBands {
    /// Bands lake extracts by default: reflectances, SCL, indices and backscatter.
    public static func isExtractable(_ name: String) -> Bool {
        name == Bands.scl || Bands.takesOffset(name) || ["NDVI", "VV", "VH", "HH", "HV"].contains(name)
    }

    /// GDAL virtual file systems that read local archives; every other `/vsi…` handler reads
    /// the network (`/vsicurl`, `/vsis3`, `/vsigs`, `/vsiaz`, `/vsiadls`, `/vsioss`, `/vsiswift`,
    /// `/vsiwebhdfs`, `/vsihdfs`, their `_streaming` forms, …), memory or a pipe.
    static let localArchives: Set<String> = ["vsizip", "vsigzip", "vsitar", "vsi7z", "vsirar"]

    /// Whether a band path leaves this machine (a URL, or a GDAL handler other than a local
    /// archive anywhere in a chained path such as `/vsizip//vsicurl/…`).
    public static func isRemote(_ path: String) -> Bool {
        let p = path.lowercased()
        if p.contains("://") { return true }
        var rest = p[...]
        while let r = rest.range(of: "/vsi") {
            let name = "vsi" + rest[r.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            if !localArchives.contains(name) { return true }
            rest = rest[r.upperBound...]
        }
        return false
    }

    /// A catalogue row's `assets` column (JSON: band → href) as a dictionary; unreadable: empty.
    public static func hrefs(json: String?) -> [String: String] {
        let assets = (try? JSONSerialization.jsonObject(with: Data((json ?? "{}").utf8))) as? [String: Any] ?? [:]
        return assets.compactMapValues { $0 as? String }
    }

    public static func resolve(assets: [String: String], source: String?, wanted: Set<String>?) -> (bands: [BandSource], problem: String?) {
        var bands: [BandSource] = []
        var problems: [String] = []
        let base = source.map { URL(fileURLWithPath: $0).deletingLastPathComponent() }
        for (key, href) in assets.sorted(by: { $0.key < $1.key }) {
            let name = Bands.normalise(key)
            guard isExtractable(name) else { continue }
            if let wanted, !wanted.contains(name) { continue }
            var target = href
            var index = 1
            if let hash = target.lastIndex(of: "#"), let n = Int(target[target.index(after: hash)...]) {
                index = n
                target = String(target[..<hash])
            }
            if target.hasPrefix("file://") { target = String(target.dropFirst("file://".count)) }
            if Self.isRemote(target) {
                problems.append("\(name) is remote (\(href)); lake works offline: download the scene and register it with `lake ingest scene`")
                continue
            }
            if !target.hasPrefix("/"), let base { target = base.appendingPathComponent(target).standardizedFileURL.path }
            bands.append(BandSource(name: name, path: target, index: index))
        }
        if bands.isEmpty {
            return ([], problems.first ?? (assets.isEmpty ? "no band files in the catalogue (register local files with `lake ingest scene`)"
                                                           : "none of the requested bands is among the scene's files"))
        }
        return (bands, nil)
    }
}
