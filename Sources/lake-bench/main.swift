import Foundation
import LakeAnalytics
import LakeQuery
import LakeStore

// lake-bench: in-process timings of the point queries an analyst (or `lake serve`) waits for,
// on one lake, one parcel: its full time series, its peers, the parcel at a point. Prints one
// JSON object: per query the cold time (first query on a freshly opened lake: SQLite's page
// cache empty, the OS page cache as it is) and warm percentiles over `repeat` runs, in ms.
// Used by scripts/bench.sh, beside the same queries on PostGIS.
//
// Usage: lake-bench DB PARCEL_ID [REPEAT]
let args = CommandLine.arguments
guard args.count >= 3 else {
    FileHandle.standardError.write("usage: lake-bench DB PARCEL_ID [REPEAT]\n".data(using: .utf8)!)
    exit(2)
}
let path = args[1], id = args[2], repeats = args.count > 3 ? Int(args[3]) ?? 1000 : 1000

func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }

func measure(_ name: String, _ body: @escaping (Lake) throws -> Int) throws -> [String: Any] {
    try measure(name, prepare: { _ in body })
}

/// `prepare` runs once per opened lake (a reader's prepared statements), inside the cold time.
func measure(_ name: String, prepare: (Lake) throws -> (Lake) throws -> Int) throws -> [String: Any] {
    let clock = ContinuousClock()
    let lake = try Lake.open(path: path, spatial: false)
    var rows = 0
    var body: ((Lake) throws -> Int)!
    let cold = try clock.measure { body = try prepare(lake); rows = try body(lake) }
    var times: [Double] = []
    for _ in 0..<repeats { times.append(ms(try clock.measure { _ = try body(lake) })) }
    times.sort()
    func pct(_ p: Double) -> Double { times[min(times.count - 1, Int(Double(times.count) * p))] }
    return ["query": name, "rows": rows, "cold_ms": ms(cold), "warm_median_ms": pct(0.5), "warm_p99_ms": pct(0.99), "runs": repeats]
}

do {
    // The parcel found by its identifier, then its series (73 scenes × 8 bands, SCL, clear flags).
    let series = try measure("time series", prepare: { lake in
        let reader = try SeriesReader(lake)
        return { lake in
            try lake.db.read {
                let parcel = try ParcelLookup.byID(lake, id: id)
                return try reader.read(pid: parcel.pid, filter: SeriesFilter()).reduce(0) { $0 + $1.bands.count }
            }
        }
    })
    let lookup = try Lake.open(path: path, spatial: false)
    let parcel = try ParcelLookup.byID(lookup, id: id)
    let peers = try measure("peers", prepare: { lake in
        let queries = PeerQueries(lake: lake)
        var options = PeerOptions()
        options.same = .crop
        return { lake in try lake.db.read { try queries.peers(of: parcel, options).count } }
    })
    let at = try measure("parcel at a point") { lake in
        try lake.db.read { try ParcelLookup.at(lake, lon: parcel.centroidLon, lat: parcel.centroidLat).count }
    }
    // Opening the file: header checks, the schema compared with lake's, the schema version.
    let open = try measure("open the lake") { _ in
        _ = try Lake.open(path: path, spatial: false)
        return 1
    }
    let out = ["parcel": id, "queries": [series, peers, at, open]] as [String: Any]
    let data = try JSONSerialization.data(withJSONObject: out, options: [.prettyPrinted, .sortedKeys])
    print(String(decoding: data, as: UTF8.self))
} catch {
    FileHandle.standardError.write("lake-bench: \(error)\n".data(using: .utf8)!)
    exit(1)
}
