import LakeStore

/// A parcel's observations from its packed series, as the marker chain reads them.
enum ObservationReader {
    /// The means of the bands markers use (`bandIDs`: B02, B04, B08, B11, VV, VH and an NDVI
    /// band, each nil where the lake has none), with scene offsets applied to reflectance bands
    /// given in digital numbers (`Bands.holdsDigitalNumbers`, unless `Bands.offsetsTakenOff`), with
    /// each observation's clear flag, sorted by day. Band columns
    /// arrive sorted by obsid and are merged without hashing.
    static func read(_ item: ParcelInput, wanted: Set<UInt8>, bandIDs: [UInt8?], calendar: SceneCalendar, blueStd: Bool = false) throws -> [Observed] {
        // The parcel's scenes (obsids, ascending) and a table of their band means, eight slots a
        // row (NaN: none), filled column by column: a flat table rather than an array of rows,
        // since this runs for every parcel of a run (it was a tenth of a markers run's instructions).
        var ids: [Int64] = []
        var table: [Double] = []
        let width = 8
        // Puts one column into slot k; usually every band has the same scenes and the column
        // fills in place, otherwise the table widens to the union of the scenes (a merge by obsid).
        func put(_ k: Int, _ obsids: UnsafeBufferPointer<Int64>, _ value: (Int) -> Double) {
            if ids.count != obsids.count || !ids.withUnsafeBufferPointer({ own in
                for j in own.indices where own[j] != obsids[j] { return false }
                return true
            }) {
                var merged: [Int64] = []
                merged.reserveCapacity(ids.count + obsids.count)
                var i = 0, j = 0
                while i < ids.count || j < obsids.count {
                    if j == obsids.count || (i < ids.count && ids[i] < obsids[j]) { merged.append(ids[i]); i += 1 }
                    else if i == ids.count || obsids[j] < ids[i] { merged.append(obsids[j]); j += 1 }
                    else { merged.append(ids[i]); i += 1; j += 1 }
                }
                if merged.count != ids.count {
                    var wider = [Double](repeating: .nan, count: width * merged.count)
                    var r = 0
                    for (row, id) in ids.enumerated() {
                        while merged[r] != id { r += 1 }
                        for slot in 0..<width { wider[width * r + slot] = table[width * row + slot] }
                    }
                    ids = merged; table = wider
                }
                var r = 0
                for j in obsids.indices {
                    while ids[r] != obsids[j] { r += 1 }
                    table[width * r + k] = value(j)
                }
                return
            }
            table.withUnsafeMutableBufferPointer { t in
                for j in obsids.indices { t[width * j + k] = value(j) }
            }
        }
        // The reflectance bands (slots 0–3, a bit each) held in digital numbers, to which scene
        // offsets apply.
        var inDN: UInt8 = 0
        do {
            // Means (field 1), and B02's within-parcel spread (field 2) in the same pass.
            let spread = blueStd ? bandIDs[0].flatMap { wanted.contains($0) ? (band: $0, field: 2) : nil } : nil
            try SeriesCodec.forEachColumn(item.blob, bands: wanted, field: 1, also: spread) { band, obsids, values, std in
                guard let k = bandIDs.firstIndex(where: { $0 == band }) else { return }
                if k < 4 && Bands.holdsDigitalNumbers(values) { inDN |= 1 << k }
                if k == 6 {
                    let factor = Bands.ndviFactor(values)   // the parcel's whole column says which scale
                    put(BandMeans.ndvi, obsids) { j in Double(values[j]) * factor }
                } else {
                    put(k, obsids) { j in Double(values[j]) }
                }
                if let std { put(BandMeans.blueStd, obsids) { Double(std[$0]) } }
            }
        } catch {
            // Damaged data is not "no data": a parcel whose series cannot be read stops the run.
            throw LakeError.database("the signature series of parcel pid \(item.pid) cannot be decoded (\(error)); the lake file is damaged")
        }
        // Scene offsets apply to the reflectance bands' digital numbers — not to reflectances,
        // nor where the darkest band read (B02, else B04) shows they were taken off before the
        // statistics came (`Bands.offsetsTakenOff`).
        var apply = inDN != 0
        if apply, let k = [0, 1].first(where: { inDN & 1 << $0 != 0 }) {
            apply = !Bands.offsetsTakenOff(darkest: ids.indices.lazy.compactMap { j in
                let v = table[width * j + k]
                return v.isNaN ? nil : (Float(v), calendar.offset(ids[j]))
            })
        }
        if apply {
            table.withUnsafeMutableBufferPointer { t in
                for (j, obsid) in ids.enumerated() {
                    let offset = calendar.offset(obsid)
                    guard offset != 0 else { continue }
                    // In float32, as the statistics are stored.
                    for k in 0..<4 where inDN & 1 << k != 0 {
                        let v = t[width * j + k]
                        if !v.isNaN { t[width * j + k] = Double(Float(v) + offset) }
                    }
                }
            }
        }
        var out: [Observed] = []
        var obsids: [Int64] = []
        out.reserveCapacity(ids.count)
        obsids.reserveCapacity(ids.count)
        var c = 0
        table.withUnsafeBufferPointer { t in
            for (j, obsid) in ids.enumerated() {
                while c < item.clear.count && item.clear[c].0 < obsid { c += 1 }
                let clear = c < item.clear.count && item.clear[c].0 == obsid ? item.clear[c].1 : nil
                guard let day = calendar.day(obsid) else { continue }
                out.append(Observed(day: day, clear: clear, means: BandMeans(slots: t.baseAddress! + width * j), kind: calendar.kind(obsid)))
                obsids.append(obsid)
            }
        }
        if !zip(out, out.dropFirst()).allSatisfy({ $0.day <= $1.day }) {
            let order = out.indices.sorted { out[$0].day < out[$1].day }
            out = order.map { out[$0] }
            obsids = order.map { obsids[$0] }
        }
        if zip(out, out.dropFirst()).contains(where: { $0.day == $1.day && $0.kind == .optical && $1.kind == .optical }) {
            out = try mergeTiles(out, obsids: obsids, item: item, wanted: wanted, bandIDs: bandIDs)
        }
        return out
    }

    /// One acquisition in two overlapping tiles — a parcel on a tile edge, extracted from both
    /// products of the day, each with part of its pixels — is one observation: each band's mean
    /// weighted by the parts' pixel counts (of B08, else B04, else the NDVI band). Read apart,
    /// the two parts' small differences look like a dip and its recovery on one day. Where the
    /// parts disagree on the sky — a cloud over one part of the field, or (far north) two
    /// orbits of one day, hours apart — the clear parts alone make the observation.
    static func mergeTiles(_ out: [Observed], obsids: [Int64], item: ParcelInput, wanted: Set<UInt8>, bandIDs: [UInt8?]) throws -> [Observed] {
        var pixels: [Int64: Double] = [:]
        if let band = [bandIDs[2], bandIDs[1], bandIDs[6]].compactMap({ $0 }).first(where: wanted.contains) {
            try SeriesCodec.forEachColumn(item.blob, bands: [band], field: 0) { _, ids, counts in
                for j in ids.indices { pixels[ids[j]] = Double(counts[j]) }
            }
        }
        var merged: [Observed] = []
        merged.reserveCapacity(out.count)
        var i = 0
        while i < out.count {
            var j = i + 1
            while j < out.count && out[i].kind == .optical && out[j].kind == .optical && out[j].day == out[i].day { j += 1 }
            if j == i + 1 { merged.append(out[i]); i = j; continue }
            let anyClear = out[i..<j].contains { $0.clear == true }
            var means = BandMeans()
            for k in 0..<8 {
                var sum = 0.0, weights = 0.0
                for p in i..<j where !anyClear || out[p].clear == true {
                    guard let v = out[p].means[k] else { continue }
                    let count = pixels[obsids[p]] ?? 1
                    let w = count.isFinite && count >= 1 ? count : 1   // unknown (NaN) or no pixel: equal weights
                    sum += w * v; weights += w
                }
                means[k] = weights > 0 ? sum / weights : nil
            }
            let clear: Bool? = anyClear ? true : out[i..<j].contains { $0.clear == false } ? false : nil
            merged.append(Observed(day: out[i].day, clear: clear, means: means, kind: .optical))
            i = j
        }
        return merged
    }
}

/// The band means of one observation that markers use: B02, B04, B08, B11, VV, VH, the
/// within-parcel standard deviation of B02 (slot `blueStd`) and the mean of an NDVI band (slot
/// `ndvi`: lakes extracted from NDVI rasters or given NDVI series) (NaN: none).
struct BandMeans {
    static let blueStd = 6
    static let ndvi = 7
    private var b02 = Double.nan, b04 = Double.nan, b08 = Double.nan, b11 = Double.nan, vv = Double.nan, vh = Double.nan, sd02 = Double.nan
    private var ndviBand = Double.nan
    init() {}
    init(_ values: [Double?]) { for (k, v) in values.enumerated() { self[k] = v } }
    /// From eight values in slot order (NaN: none).
    init(slots p: UnsafePointer<Double>) {
        b02 = p[0]; b04 = p[1]; b08 = p[2]; b11 = p[3]; vv = p[4]; vh = p[5]; sd02 = p[6]; ndviBand = p[7]
    }

    subscript(k: Int) -> Double? {
        get {
            let v: Double
            switch k { case 0: v = b02 case 1: v = b04 case 2: v = b08 case 3: v = b11 case 4: v = vv case 5: v = vh case 6: v = sd02 default: v = ndviBand }
            return v.isNaN ? nil : v
        }
        set {
            let v = newValue ?? .nan
            switch k { case 0: b02 = v case 1: b04 = v case 2: b08 = v case 3: b11 = v case 4: vv = v case 5: vh = v case 6: sd02 = v default: ndviBand = v }
        }
    }
}

/// One observation of a parcel: its day, clear flag, band means and what kind of scene it is
/// (VV and VH of a coherence scene are coherence, not backscatter).
struct Observed {
    let day: Int
    let clear: Bool?
    let means: BandMeans
    let kind: SceneKind
    /// The within-parcel standard deviation of B02 (DN), when read (screening of cloud edges).
    var blueStd: Double? { means[BandMeans.blueStd] }

    init(day: Int, clear: Bool?, means: BandMeans, kind: SceneKind = .optical) { self.day = day; self.clear = clear; self.means = means; self.kind = kind }
    init(day: Int, clear: Bool?, means: [Double?], kind: SceneKind = .optical) { self.init(day: day, clear: clear, means: BandMeans(means), kind: kind) }

    /// VV coherence, for an observation of a coherence scene.
    var coherence: Double? { kind == .coherence ? means[4] : nil }

    func value(_ signal: Signal) -> Double? {
        switch signal {
        case .ndvi: return SeriesScanner.ndvi(red: means[1], nir: means[2]) ?? means[BandMeans.ndvi]
        case .bsi: return SeriesScanner.bsi(b02: means[0], b04: means[1], b08: means[2], b11: means[3])
        case .vv: return kind == .coherence ? nil : means[4]
        case .vh: return kind == .coherence ? nil : means[5]
        }
    }
}
