import Foundation
import LakeAnalytics
import LakeQuery
import LakeSQLite
import LakeStore
import LakeSupport

/// What one request needs to answer from the lake: a read-only connection with its prepared
/// readers. A connection is used by one thread at a time, so the server keeps one context per
/// core and lends them out (`ContextPool`).
final class QueryContext {
    let lake: Lake
    let series: SeriesReader
    let peers: PeerQueries

    init(path: String) throws {
        lake = try Lake.open(path: path, spatial: false)
        series = try SeriesReader(lake)
        peers = PeerQueries(lake: lake)
    }
}

/// A fixed set of contexts lent to one request at a time; a request that finds all of them busy
/// waits for one (requests are sub-millisecond; the server's time limit bounds the wait).
final class ContextPool: Sendable {
    private let free: BoundedQueue<QueryContext>

    init(path: String, size: Int) throws {
        let contexts = try (0..<max(1, size)).map { _ in try QueryContext(path: path) }
        free = BoundedQueue(capacity: contexts.count)
        for context in contexts { free.put(context) }
    }

    /// `body` with a context if one is free now; nil (and `body` not run) when all are lent.
    func withFree<T>(_ body: (QueryContext) throws -> T) rethrows -> T? {
        guard let context = free.takeIfAny() else { return nil }
        defer { free.put(context) }
        return try body(context)
    }

    func with<T>(_ body: (QueryContext) throws -> T) throws -> T {
        guard let context = free.take() else { throw APIError(status: 503, message: "the server is stopping") }
        defer { free.put(context) }
        return try body(context)
    }
}
