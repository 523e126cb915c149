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
    public static func text(parcel: ParcelRecord, series: [Observation]) -> String {
        var lines = [header(parcel)]
        guard !series.isEmpty else {
            lines.append("no observations")
            return lines.joined(separator: "\n")
        }
        let order = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12"]
        var present = Set<String>()
        for o in series { for b in o.bands { present.insert(b.band) } }
        let bands = present.sorted { (order.firstIndex(of: $0) ?? 99, $0) < (order.firstIndex(of: $1) ?? 99, $1) }
        lines.append("\(series.count) observations")
        var head = "date        clear"
        for b in bands { head += " " + b.padded(to: 8) }
        head += "  ndvi   scene"
        lines.append(head)
        for o in series {
            var line = o.date + "  " + (o.cloudFree.map { $0 ? "yes  " : "no   " } ?? "?    ")
            for b in bands {
                let v = o.mean(b).map { formatValue($0) } ?? "-"
                line += " " + v.padded(to: 8)
            }
            line += "  " + (o.ndvi.map { Format.double("%.3f", $0) } ?? "  -  ") + "  " + o.reference
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    static func formatValue(_ v: Float) -> String {
        Format.double(abs(v) >= 100 ? "%.1f" : "%.4f", Double(v))
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
