import Foundation
import Hummingbird
import LakeSQLite
import LakeStore
import LakeSupport
import Logging
import NIOCore
import NIOPosix

/// `lake serve`: the JRC CbM query API (`/query/…`) over one lake file, read-only, on
/// Hummingbird. Every answer is JSON; errors are `{"error": …}` with an HTTP status; one line
/// per request goes to stderr.
public struct ServerOptions: Sendable {
    public var path: String
    public var host = "127.0.0.1"
    public var port = 8080
    /// Rows one answer may hold (a time series of every band of a long archive is the largest).
    public var maxRows = 100_000
    /// Read-only connections, one per request in flight (default: the cores).
    public var connections = ProcessInfo.processInfo.activeProcessorCount
    /// The longest a request's queries may run, in seconds (then 503).
    public var timeLimit = 10.0
    /// When set, every request needs HTTP basic authentication as one of these users.
    public var users: Users?
    public init(path: String) { self.path = path }
}

public enum LakeServer {
    /// Makes NIO's event loops Swift concurrency's global executor, so that a request's handler
    /// runs on the thread that read it and writes its answer without a hop between NIO's threads
    /// and Swift's cooperative pool (two thread wake-ups a request, most of the HTTP round trip's
    /// time in the kernel; see BENCHMARKS, `lake serve`). Call once, first thing in `main`, and
    /// only in a process that will serve: every later task of the process runs on the loops.
    @discardableResult
    public static func runConcurrencyOnEventLoops() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }

    /// The routes: the JRC query names, each answered (as JSON text) from a lent connection.
    static let routes: [(String, @Sendable (QueryContext, JRCQueries.Parameters, Int) throws -> String)] = [
        ("parcelByID", { c, p, _ in JSONText.columns(try JRCQueries.parcelByID(c, p)) }),
        ("parcelByLocation", { c, p, _ in JSONText.columns(try JRCQueries.parcelByLocation(c, p)) }),
        ("parcelTimeSeries", { c, p, max in try JRCQueries.parcelTimeSeries(c, p, maxRows: max) }),
        ("parcelPeers", { c, p, max in JSONText.columns(try JRCQueries.parcelPeers(c, p, maxRows: max)) }),
        ("parcelsByPolygon", { c, p, max in JSONText.columns(try JRCQueries.parcelsByPolygon(c, p, maxRows: max)) }),
        ("parcelStatsPeers", { c, p, max in JSONText.render(try JRCQueries.parcelStatsPeers(c, p, maxRows: max), pretty: false) }),
        ("options", { c, _, _ in JSONText.render(try JRCQueries.options(c), pretty: false) }),
        ("info", { c, _, _ in JSONText.render(try JRCQueries.options(c), pretty: false) }),
    ]

    /// Routes whose answer is an index lookup or two (well under a millisecond; a year's time
    /// series, 657 rows, about 0.5 ms): answered on the request's thread — an event loop of
    /// NIO's, which serves other connections too — when a connection is free (see `answered`),
    /// saving two thread hops (the series 1.13 → 1.05 ms, one request at a time). A decade of
    /// scenes holds a loop about 10 ms; `--max-rows` bounds the worst. Not `options`: it counts
    /// every parcel (4 ms at 20,000 parcels, a tenth of a second at country scale).
    static let quickRoutes: Set<String> = ["parcelByID", "parcelByLocation", "parcelPeers", "parcelTimeSeries"]

    /// The chip queries: (name, content type, answer from a lent connection, the cache and the request's key).
    static let chipRoutes: [(String, String, @Sendable (QueryContext, JRCQueries.Parameters, ChipCache, String) throws -> String)] = [
        ("chipByLocation", "text/html; charset=utf-8", { c, p, cache, key in try ChipQueries.chipByLocation(c, p, cache: cache, key: key) }),
        ("rawChipByLocation", "application/json", { c, p, cache, key in
            JSONText.render(try ChipQueries.rawChips(c, p, cache: cache, key: key, byParcel: false), pretty: false) }),
        ("rawChipByParcelID", "application/json", { c, p, cache, key in
            JSONText.render(try ChipQueries.rawChips(c, p, cache: cache, key: key, byParcel: true), pretty: false) }),
    ]

    public static func run(_ options: ServerOptions, ready: (@Sendable (Int) -> Void)? = nil) async throws {
        // The file is checked (and refused when foreign code could run) before the port opens.
        let pool = try ContextPool(path: options.path, size: options.connections)
        let cache = try ChipCache()
        defer { cache.remove() }
        let viewer = try ViewerContext(path: options.path, timeLimit: options.timeLimit)
        var logger = Logger(label: "lake.serve")
        logger.logLevel = .warning
        let router = Router()
        router.add(middleware: RequestLog())
        if let users = options.users { router.add(middleware: BasicAuthentication(users: users)) }
        let maxRows = options.maxRows, timeLimit = options.timeLimit
        /// Runs `body` on NIO's blocking-work pool (off Swift's cooperative threads, as many as
        /// cores: waiting for a connection there harms no one) and answers with its text.
        /// `inline`: a query that answers in well under a millisecond (a parcel, its peers) runs
        /// on the request's own thread when a connection is free, saving the two thread hops.
        @Sendable func answered(_ request: Request, contentType: String, inline: (@Sendable (JRCQueries.Parameters) throws -> String?)? = nil,
                                _ body: @escaping @Sendable (JRCQueries.Parameters) throws -> String) async -> Response {
            var query: JRCQueries.Parameters = [:]
            // Hummingbird has percent-decoded the values already (decoding again turned "%2525" into "%").
            for (k, v) in request.uri.queryParameters { query[String(k)] = String(v) }
            let parameters = query
            do {
                if let inline, let answer = try inline(parameters) { return text(answer, contentType: contentType, status: .ok) }
                return text(try await NIOThreadPool.singleton.runIfActive { try body(parameters) }, contentType: contentType, status: .ok)
            } catch let error as APIError {
                return json(["error": error.message], status: HTTPResponse.Status(code: error.status))
            } catch {
                return json(["error": "\(LakeError.wrap(error))"], status: .internalServerError)
            }
        }
        /// A connection lent from the pool, its queries under the time limit.
        @Sendable func pooled(_ answer: @escaping @Sendable (QueryContext) throws -> String) throws -> String {
            try pool.with { context in try limited(context.lake, timeLimit) { try answer(context) } }
        }
        /// The answer from a connection free now, nil when all are lent.
        @Sendable func freeNow(_ answer: @escaping @Sendable (QueryContext) throws -> String) throws -> String? {
            try pool.withFree { context in try limited(context.lake, timeLimit) { try answer(context) } }
        }
        for (name, answer) in routes {
            let inline: (@Sendable (JRCQueries.Parameters) throws -> String?)?
            if quickRoutes.contains(name) {
                inline = { p in try freeNow { try answer($0, p, maxRows) } }
            } else {
                inline = nil
            }
            router.get("query/\(name)") { request, _ -> Response in
                await answered(request, contentType: "application/json", inline: inline) { p in try pooled { try answer($0, p, maxRows) } }
            }
        }
        for (name, contentType, answer) in chipRoutes {
            router.get("query/\(name)") { request, _ -> Response in
                let key = name + "?" + (request.uri.query ?? "")
                return await answered(request, contentType: contentType) { p in try pooled { try answer($0, p, cache, key) } }
            }
        }
        // The viewer page and what it asks for (one analyst's: one connection, one request at a time).
        router.get("/") { _, _ -> Response in text(ViewerPage.html, contentType: "text/html; charset=utf-8", status: .ok) }
        let viewerRoutes: [(String, String, @Sendable (Lake, JRCQueries.Parameters) throws -> String)] = [
            ("parcels", "application/geo+json", { lake, p in try ViewerQueries.parcels(lake, p, max: maxRows) }),
            ("plot", "image/svg+xml", { lake, p in try ViewerQueries.plot(lake, p) }),
            ("chips", "application/json", { lake, p in JSONText.render(try ViewerQueries.chips(lake, p, cache: cache), pretty: false) }),
        ]
        for (name, contentType, answer) in viewerRoutes {
            router.get("viewer/\(name)") { request, _ -> Response in
                await answered(request, contentType: contentType) { p in try viewer.with { try answer($0, p) } }
            }
        }
        // The chips' files, as the JRC server's /dump/.
        router.get("dump/:name") { request, context -> Response in
            guard let name = context.parameters.get("name"), let path = cache.path(name),
                  let data = FileManager.default.contents(atPath: path) else {
                return json(["error": "no such chip (chips live as long as the server)"], status: .notFound)
            }
            var headers = HTTPFields()
            headers[.contentType] = name.hasSuffix(".png") ? "image/png" : name.hasSuffix(".tif") ? "image/tiff" : "application/octet-stream"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname(options.host, port: options.port), serverName: "lake"),
                              onServerRunning: { channel in ready?(channel.localAddress?.port ?? options.port) }, logger: logger)
        try await app.runService()
    }

    /// `body` with the lake's queries interrupted after `seconds` (then 503).
    static func limited<T>(_ lake: Lake, _ seconds: Double, _ body: () throws -> T) throws -> T {
        lake.db.interrupt(after: seconds)
        defer { lake.db.interrupt(after: nil) }
        do { return try body() } catch let error as SQLiteError where error.code & 0xff == 9 {
            throw APIError(status: 503, message: "the query ran longer than \(seconds) s (lake serve --time-limit)")
        }
    }

    static func json(_ value: Any, status: HTTPResponse.Status) -> Response {
        json(raw: JSONText.render(value, pretty: false), status: status)
    }

    static func json(raw text: String, status: HTTPResponse.Status) -> Response {
        self.text(text, contentType: "application/json", status: status)
    }

    static func text(_ text: String, contentType: String, status: HTTPResponse.Status) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// One line per request on stderr: method, path and query, status, milliseconds.
struct RequestLog<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let response: Response
        do { response = try await next(request, context) } catch {
            let status = (error as? HTTPResponseError)?.status.code ?? 500
            log(request, status, started)
            throw error
        }
        log(request, response.status.code, started)
        return response
    }

    private func log(_ request: Request, _ status: Int, _ started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        writeStandardError("\(request.method) \(request.uri) \(status) \(Format.double("%.2f", ms)) ms\n")
    }
}

/// 401 with a `WWW-Authenticate` challenge unless the request names a user of the file.
struct BasicAuthentication<Context: RequestContext>: RouterMiddleware {
    let users: Users
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // A header not seen before is checked by bcrypt on NIO's blocking pool: tens of
        // milliseconds of work that must not hold the event loop (it serves other connections).
        let header = request.headers[.authorization]
        var allowed = users.remembered(header)
        if allowed == nil, let header { allowed = (try? await NIOThreadPool.singleton.runIfActive { users.verify(header) }) ?? false }
        guard allowed == true else {
            var response = LakeServer.json(["error": "authentication required"], status: .unauthorized)
            response.headers[.wwwAuthenticate] = "Basic realm=\"lake\""
            return response
        }
        return try await next(request, context)
    }
}
