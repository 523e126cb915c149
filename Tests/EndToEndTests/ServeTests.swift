import Foundation
import XCTest

/// `lake serve` answered through the JRC's own `cbm` Python package (PyPI 0.0.18, installed in
/// a virtual environment under .build on first use): parcel information, the Sentinel-2 time
/// series and peers equal what `lake query` says.
final class ServeTests: BinaryTestCase {
    func loadSmallLake() throws {
        XCTAssertEqual(try run(["--db", db, "ingest", "parcels", fixture("parcels.geojson"), "--aoi", "demo", "--year", "2024"]).code, 0)
        XCTAssertEqual(try run(["--db", db, "ingest", "catalogue", fixture("scenes.stac.json")]).code, 0)
        XCTAssertEqual(try run(["--db", db, "ingest", "signatures", fixture("signatures.csv"), fixture("scl.csv")]).code, 0)
    }

    /// A Python with cbm installed (fails loudly when PyPI cannot be reached: the test is the point).
    func cbmPython() throws -> String {
        let venv = Self.root.appendingPathComponent(".build/cbm-venv").path
        let python = venv + "/bin/python"
        if !FileManager.default.isExecutableFile(atPath: python) || (try? shell(python, ["-c", "import cbm.datas.api"])) == nil {
            try shell("/usr/bin/env", ["python3", "-m", "venv", venv])
            try shell(python, ["-m", "pip", "install", "-q", "cbm==0.0.18"])
        }
        return python
    }

    func testTheJRCClientReadsParcelSeriesAndPeersAsLakeQuerySays() throws {
        try loadSmallLake()
        let python = try cbmPython()
        let (server, port) = try startServer()
        defer { server.terminate(); server.waitUntilExit() }
        let work = dir.appendingPathComponent("cbm")
        try FileManager.default.createDirectory(at: work.appendingPathComponent("config"), withIntermediateDirectories: true)
        try #"{"api": {"url": "http://127.0.0.1:\#(port)", "user": "", "pass": ""}}"#
            .write(to: work.appendingPathComponent("config/main.json"), atomically: true, encoding: .utf8)
        let script = """
            import json
            from cbm.datas import api
            out = {
                "parcel": json.loads(api.parcel_by_id('demo', 2024, 'P000004')),
                "ts": json.loads(api.parcel_ts('demo', 2024, 'P000004', tstype='s2')),
                "b04": json.loads(api.parcel_ts('demo', 2024, 'P000004', tstype='s2', band='B04')),
                "peers": json.loads(api.parcel_peers('demo', 2024, 'P000004', distance=5000, maxPeers=5)),
                "missing": api.parcel_by_id('demo', 2024, 'NOPE').decode(),
            }
            p = out["parcel"]
            x, y, d = p["clon"][0], p["clat"][0], 0.002
            polygon = '-'.join('_'.join(map(str, c)) for c in [(x - d, y - d), (x + d, y - d), (x + d, y + d), (x - d, y + d)])
            out["polygon"] = json.loads(api.parcel_by_polygon('demo', 2024, polygon, only_ids=True))
            print(json.dumps(out))
            """
        let answer = try shell(python, ["-c", script], cwd: work)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any])

        // Parcel information: lake query parcel --json.
        let query = try run(["--db", db, "query", "parcel", "P000004", "--json", "--raw"])
        let lake = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(query.out.utf8)) as? [String: Any])
        let lakeParcel = try XCTUnwrap(lake["parcel"] as? [String: Any])
        let parcel = try XCTUnwrap(object["parcel"] as? [String: Any])
        XCTAssertEqual(parcel["pid"] as? [String], ["P000004"])
        XCTAssertEqual(parcel["cropname"] as? [String], [try XCTUnwrap(lakeParcel["crop_name"] as? String)])
        XCTAssertEqual(try XCTUnwrap((parcel["area"] as? [Double])?.first), try XCTUnwrap(lakeParcel["area_m2"] as? Double), accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap((parcel["clon"] as? [Double])?.first), try XCTUnwrap(lakeParcel["centroid_lon"] as? Double), accuracy: 1e-9)

        // The series: every (date, band) mean as lake query gives it (stored values), SCL rows with their histogram.
        let ts = try XCTUnwrap(object["ts"] as? [String: Any])
        let bands = try XCTUnwrap(ts["band"] as? [String]), means = try XCTUnwrap(ts["mean"] as? [Any]), dates = try XCTUnwrap(ts["date_part"] as? [Double])
        let signatures = try XCTUnwrap(lake["signatures"] as? [[String: Any]])
        XCTAssertEqual(bands.filter { $0 != "SCL" }.count, signatures.count)
        XCTAssertEqual(bands.filter { $0 == "SCL" }.count, (lake["scl"] as? [Any])?.count)
        var served: [String: Double] = [:]
        for i in bands.indices where bands[i] != "SCL" {
            let day = Date(timeIntervalSince1970: dates[i]).ISO8601Format().prefix(10)
            served["\(day) \(bands[i])"] = means[i] as? Double
        }
        for s in signatures {
            let key = "\(s["date"] as! String) \(s["band"] as! String)"
            XCTAssertEqual(try XCTUnwrap(served[key], key), try XCTUnwrap(s["mean"] as? Double), accuracy: 1e-3, key)
        }
        let b04 = try XCTUnwrap(object["b04"] as? [String: Any])
        XCTAssertNil(b04["band"])
        XCTAssertEqual((b04["mean"] as? [Any])?.count, signatures.filter { $0["band"] as? String == "B04" }.count)

        // Peers: lake query peers, same order and distances.
        let peers = try XCTUnwrap(object["peers"] as? [String: Any])
        let lakePeers = try run(["--db", db, "query", "peers", "P000004", "--distance", "5000", "--max", "5", "--csv"])
        let rows = lakePeers.out.split(separator: "\n").dropFirst().map { $0.split(separator: ",") }
        XCTAssertEqual(peers["pid"] as? [String], rows.map { String($0[0]) })
        for (d, row) in zip(try XCTUnwrap(peers["distance"] as? [Double]), rows) { XCTAssertEqual(d, Double(String(row.last!))!, accuracy: 1e-6) }
        XCTAssertTrue((object["missing"] as? String)?.contains("no parcel NOPE") ?? false)
        // parcelsByPolygon (the cbm client's lon_lat-lon_lat form): a 400 m box around the
        // parcel's point finds it, with lake's keys as ogc_fid.
        let inBox = try XCTUnwrap(object["polygon"] as? [String: Any])
        XCTAssertTrue((inBox["pid"] as? [String])?.contains("P000004") ?? false, "\(inBox)")
        XCTAssertEqual((inBox["ogc_fid"] as? [Any])?.count, (inBox["pid"] as? [Any])?.count)
    }

    /// With --users, the JRC's basic authentication: the client's user and password let it in,
    /// a wrong password or none gets 401; the users file holds bcrypt hashes, not the password.
    func testBasicAuthenticationWithUsersFromAFileOfHashes() throws {
        try loadSmallLake()
        let python = try cbmPython()
        let users = dir.appendingPathComponent("users.txt").path
        let add = Process()
        add.executableURL = try binary("lake")
        add.arguments = ["serve", "--users", users, "--add-user", "analyst"]
        let input = Pipe()
        add.standardInput = input
        add.standardError = FileHandle.nullDevice
        try add.run()
        input.fileHandleForWriting.write(Data("s3cret pass\n".utf8))
        try input.fileHandleForWriting.close()
        add.waitUntilExit()
        XCTAssertEqual(add.terminationStatus, 0)
        let stored = try String(contentsOfFile: users, encoding: .utf8)
        XCTAssertTrue(stored.hasPrefix("analyst:$2b$10$"), stored)
        XCTAssertFalse(stored.contains("s3cret"))
        let (server, port) = try startServer(["--users", users])
        defer { server.terminate(); server.waitUntilExit() }
        let work = dir.appendingPathComponent("cbm")
        try FileManager.default.createDirectory(at: work.appendingPathComponent("config"), withIntermediateDirectories: true)
        func answer(user: String, password: String) throws -> String {
            try #"{"api": {"url": "http://127.0.0.1:\#(port)", "user": "\#(user)", "pass": "\#(password)"}}"#
                .write(to: work.appendingPathComponent("config/main.json"), atomically: true, encoding: .utf8)
            return try shell(python, ["-c", "from cbm.datas import api; print(api.parcel_by_id('demo', 2024, 'P000004').decode())"], cwd: work)
        }
        XCTAssertTrue(try answer(user: "analyst", password: "s3cret pass").contains("\"pid\":[\"P000004\"]"))
        XCTAssertTrue(try answer(user: "analyst", password: "wrong").contains("authentication required"))
        XCTAssertTrue(try answer(user: "", password: "").contains("authentication required"))
        let bad = dir.appendingPathComponent("plain.txt").path
        try "analyst:s3cret\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try run(["--db", db, "serve", "--port", "0", "--users", bad])
        XCTAssertEqual(refused.code, 4)
        XCTAssertTrue(refused.err.contains("line 1"), refused.err)
    }

    /// Request limits: an answer past --max-rows is refused (413), bad parameters are 400 — each
    /// as JSON, and the server goes on. (The time limit's interrupt is tested on a connection,
    /// StartUpPathTests: no query of this small lake runs long enough.)
    /// Quick queries answer on the request's own thread when a connection is free and hop to
    /// the blocking pool when all are lent: sixteen clients at once get, every time, the answer
    /// one client gets alone.
    func testQuickAnswersAreTheSameWhetherAConnectionIsFreeOrNot() throws {
        try loadSmallLake()
        let (server, port) = try startServer(["--connections", "1"])
        defer { server.terminate(); server.waitUntilExit() }
        let script = """
            import json, urllib.request
            from concurrent.futures import ThreadPoolExecutor
            queries = ["parcelPeers?aoi=demo&year=2024&pid=P000004&distance=2000", "parcelByID?aoi=demo&year=2024&pid=P000007", "options",
                       "parcelTimeSeries?aoi=demo&year=2024&pid=P000004&band=B04"]
            def get(q):
                with urllib.request.urlopen("http://127.0.0.1:\(port)/query/" + q) as r:
                    return r.status, r.read().decode()
            alone = {q: get(q) for q in queries}
            with ThreadPoolExecutor(16) as pool:
                together = list(pool.map(get, queries * 40))
            print(json.dumps({"requests": len(together), "differ": sum(1 for q, a in zip(queries * 40, together) if a != alone[q]),
                              "statuses": sorted(set(s for s, _ in alone.values()))}))
            """
        let out = try shell("/usr/bin/env", ["python3", "-c", script])
        let answer = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        XCTAssertEqual(answer["requests"] as? Int, 160)
        XCTAssertEqual(answer["differ"] as? Int, 0)
        XCTAssertEqual(answer["statuses"] as? [Int], [200])
    }

    func testLimitsAnswerWithStatusAndTheServerGoesOn() throws {
        try loadSmallLake()
        let python = try cbmPython()
        let (server, port) = try startServer(["--time-limit", "5", "--max-rows", "40"])
        defer { server.terminate(); server.waitUntilExit() }
        let script = """
            import json, urllib.request, urllib.error
            def get(q):
                try:
                    with urllib.request.urlopen("http://127.0.0.1:\(port)/query/" + q) as r:
                        return [r.status, json.loads(r.read())]
                except urllib.error.HTTPError as e:
                    return [e.code, json.loads(e.read())]
            print(json.dumps([get("options"), get("parcelTimeSeries?aoi=demo&year=2024&pid=P000004"),
                              get("parcelTimeSeries?aoi=demo&year=2024&pid=P000004&band=B04"),
                              get("parcelPeers?aoi=demo&year=2024&pid=P000004&distance=99999"),
                              get("parcelByLocation?lon=500&lat=1"),
                              get("parcelStatsPeers?aoi=demo&year=2024&band=B08&values=0-100000&max=5"),
                              get("parcelStatsPeers?band=B08&values=x"),
                              get("parcelByID?aoi=demo&year=2024&pid=P%2525x")]))
            """
        let out = try shell(python, ["-c", script])
        let answers = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[Any]])
        XCTAssertEqual(answers.map { $0[0] as? Int }, [200, 413, 200, 400, 400, 200, 400, 404])
        // A value is percent-decoded once: "P%2525x" asks for the parcel "P%25x".
        XCTAssertTrue(((answers[7][1] as? [String: Any])?["error"] as? String)?.contains("P%25x") ?? false, "\(answers[7])")
        XCTAssertEqual(((answers[5][1] as? [String: Any])?["pid"] as? [Any])?.count, 5)
        XCTAssertTrue(((answers[1][1] as? [String: Any])?["error"] as? String)?.contains("more than 40 rows") ?? false)
        XCTAssertEqual(((answers[2][1] as? [String: Any])?["mean"] as? [Any])?.count, 36)
    }
}
