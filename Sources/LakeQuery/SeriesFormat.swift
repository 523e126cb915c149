#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LakeStore
import LakeSupport

/// Text, JSON and CSV forms of a parcel's time series.
public enum SeriesFormat {
    public static func header(_ p: ParcelRecord) -> String {
        let crop = [p.cropCode, p.cropName].compactMap { $0 }.joined(separator: " ")
        return """
            parcel \(p.parcelID)  pid \(p.pid)  aoi \(p.aoi.isEmpty ? "-" : p.aoi)  year \(p.year)\(p.ptype.isEmpty ? "" : "  ptype \(p.ptype)")
            crop   \(crop.isEmpty ? "-" : crop)
            area   \(Format.double("%.4f", p.areaHa)) ha   centroid \(Format.double("%.6f", p.centroidLon)), \(Format.double("%.6f", p.centroidLat))
            """
    }

    /// A table: one line per observation with the band means, NDVI, cloud-free flag and scene.
    /// Written as bytes (a `lake query parcel` prints 73 lines of 8 numbers; as strings, padded and
    /// joined, they were a tenth of the process).
    public static func text(parcel: ParcelRecord, series: [Observation]) -> String {
        var out = Array(header(parcel).utf8)
        func line(_ s: String) { out.append(UInt8(ascii: "\n")); out.append(contentsOf: s.utf8) }
        guard !series.isEmpty else {
            line("no observations")
            return String(decoding: out, as: UTF8.self)
        }
        let order = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12"]
        var present = Set<String>()
        for o in series { for b in o.bands { present.insert(b.band) } }
        let bands = present.sorted { (order.firstIndex(of: $0) ?? 99, $0) < (order.firstIndex(of: $1) ?? 99, $1) }
        line("\(series.count) observations")
        var head = "date        clear"
        for b in bands { head += " " + b.padded(to: 8) }
        line(head + "  ndvi   scene")
        out.reserveCapacity(out.count + series.count * (100 + 9 * bands.count))
        let space = UInt8(ascii: " ")
        for o in series {
            out.append(UInt8(ascii: "\n"))
            out.append(contentsOf: o.obstime.utf8.prefix(10))
            out.append(contentsOf: (o.cloudFree.map { $0 ? "  yes  " : "  no   " } ?? "  ?    ").utf8)
            for b in bands {
                out.append(space)
                // The field is 8 wide, cut or filled with spaces (numbers and "-" are ASCII).
                let start = out.count
                if let v = o.mean(b) { appendValue(v, to: &out) } else { out.append(UInt8(ascii: "-")) }
                if out.count - start > 8 { out.removeLast(out.count - start - 8) }
                while out.count - start < 8 { out.append(space) }
            }
            out.append(contentsOf: "  ".utf8)
            if let ndvi = o.ndvi { Format.append(ndvi, decimals: 3, to: &out) } else { out.append(contentsOf: "  -  ".utf8) }
            out.append(contentsOf: "  ".utf8)
            out.append(contentsOf: o.reference.utf8)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A band mean as the table shows it: one decimal from 100 on, else four.
    static func appendValue(_ v: Float, to bytes: inout [UInt8]) {
        Format.append(Double(v), decimals: abs(v) >= 100 ? 1 : 4, to: &bytes)
    }

    public static let csvHeader = "parcel_id,pid,obsid,date,obstime,reference,band,count,mean,std,min,max,p25,p50,p75,cloud_free"

    /// Long form: one line per (observation, band); SCL histograms as band SCL with no statistics.
    public static func writeCSV(parcel: ParcelRecord, series: [Observation], emit: (String) -> Void) {
        emit(csvHeader)
        let id = csvField(parcel.parcelID)
        for o in series {
            let prefix = "\(id),\(parcel.pid),\(o.obsid),\(o.date),\(o.obstime),\(csvField(o.reference)),"
            let cf = o.cloudFree.map { $0 ? "1" : "0" } ?? ""
            for b in o.bands {
                let values = (0..<8).map { "\(b.stats[$0])" }.joined(separator: ",")
                emit(prefix + b.band + "," + values + "," + cf)
            }
        }
    }

    public static func json(parcel: ParcelRecord, series: [Observation]) -> [String: Any] {
        var rows: [[String: Any]] = []
        var scl: [[String: Any]] = []
        for o in series {
            for b in o.bands {
                var row: [String: Any] = ["obsid": o.obsid, "date": o.date, "obstime": o.obstime,
                                          "reference": o.reference, "band": b.band]
                for (i, name) in SignatureStats.fieldNames.enumerated() { row[name] = Double(b.stats[i]) }
                row["cloud_free"] = o.cloudFree
                rows.append(row)
            }
            if let h = o.scl {
                var hist: [String: Int] = [:]
                for (k, c) in h.enumerated() where c > 0 { hist[String(k)] = c }
                var entry: [String: Any] = ["obsid": o.obsid, "date": o.date, "reference": o.reference, "hist": hist]
                entry["cloud_free"] = o.cloudFree
                scl.append(entry)
            }
        }
        return ["parcel": parcel.json, "signatures": rows, "scl": scl]
    }

    static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacing("\"", with: "\"\"") + "\"" : s
    }
}
