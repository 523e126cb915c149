import Foundation
import LakeQuery
import LakeSQLite
import LakeStore
import LakeSupport

/// One parcel as an analysis sees it: its packed series and clear flags, valid only during
/// the analysis call.
struct ParcelInput {
    let pid: Int64
    let blob: UnsafeRawBufferPointer
    /// (obsid, clear) sorted by obsid.
    let clear: UnsafeBufferPointer<(Int64, Bool)>
}

/// Whole-lake analysis on every core, results written in pid order by the calling thread.
///
/// The parcels are cut into chunks of consecutive pids, run through `LakeSupport`'s
/// `parallelOrdered`: one worker per core takes the next chunk, reads it through one of the
/// run's read-only connections (`Lake.readerConnection`, one per worker) and analyses each
/// parcel straight from SQLite's buffer; the calling thread hands the results to `deliver`
/// chunk by chunk in pid order (it writes them, in its transaction). Workers stay at most a few
/// chunks ahead of the writer, so memory is bounded whatever the lake's size.
///
/// The writer holds the lake's write lock from before the workers start until after they have
/// finished, so every worker reads the same committed state and no other process can change it.
/// What the writer writes stays in its own page cache until it commits: callers wrap their
/// transaction in `writing`, which turns `cache_spill` off (spilling would need the lock the
/// readers hold).
enum BatchPipeline {
    /// Runs `body` — the writer's transaction around one or more `run`s — with `cache_spill`
    /// off: a writer that spilled dirty pages to the file mid-transaction would need the
    /// exclusive lock while the readers hold theirs, and they would fail with "database is
    /// locked" (seen at 500,000 parcels, when a markers run's rows outgrew the page cache). The
    /// pragma reaches the pager only outside a transaction, so it is set before the transaction
    /// begins. The cost: the run's written pages stay in memory until it commits.
    static func writing<T>(_ lake: Lake, _ body: () throws -> T) throws -> T {
        precondition(!lake.db.isInTransaction, "cache_spill changes only outside a transaction")
        try lake.db.execute("PRAGMA cache_spill = OFF")
        defer { try? lake.db.execute("PRAGMA cache_spill = ON") }
        return try body()
    }

    /// Parcels per chunk (a variable so that tests can cut small lakes into many chunks).
    nonisolated(unsafe) static var chunkSize = 512

    /// Seconds the calling thread spent waiting for chunks and delivering their results.
    struct Timing { var wait = 0.0, deliver = 0.0 }

    /// One read-only connection per core with its scan, made once and used by the passes of
    /// one analysis (a sample first, then every parcel): opening a connection costs milliseconds.
    final class Readers: @unchecked Sendable {
        fileprivate let scans: [UncheckedBox<PackedScan>]
        private let first: Connection
        init(_ lake: Lake, screen: CloudScreen) throws {
            let connections = try (0..<max(1, ProcessInfo.processInfo.activeProcessorCount)).map { _ in try lake.readerConnection() }
            scans = try connections.map { try UncheckedBox(PackedScan($0, schemaVersion: lake.schemaVersion, screen: screen)) }
            first = connections[0]
        }

        /// `body` with one of the connections, while no pass runs.
        func withConnection<T>(_ body: (Connection) throws -> T) rethrows -> T { try body(first) }
    }

    /// `pids`: the parcels to analyse, each once, in any order.
    static func run<Result: Sendable>(_ lake: Lake, pids: [Int64], screen: CloudScreen, readers: Readers? = nil,
                                      analyse: @escaping @Sendable (ParcelInput) throws -> Result,
                                      deliver: (Int64, Result) throws -> Void) throws -> Timing {
        var timing = Timing()
        let sorted = pids.sorted()
        guard !sorted.isEmpty else { return timing }
        let chunks = stride(from: 0, to: sorted.count, by: chunkSize).map { sorted[$0..<min($0 + chunkSize, sorted.count)] }
        let own = try readers ?? Readers(lake, screen: screen)
        let workers = max(1, min(own.scans.count, chunks.count))
        // Connections and their statements are made before; a worker takes one for each chunk
        // (there are as many as workers, so none waits).
        let free = BoundedQueue<UncheckedBox<PackedScan>>(capacity: workers)
        for scan in own.scans.prefix(workers) { free.put(scan) }
        var clock = Date()
        // Worker threads a little nicer than the writer: with as many workers as cores, the
        // writing thread (the pipeline's one serial stage) must not wait for a core.
        try parallelOrdered(workers: workers, inFlight: 2 * workers + 2, workerNice: 5, produce: { emit in
            for k in chunks.indices { try emit(k) }
        }, work: { k -> [(Int64, Result)] in
            let chunk = chunks[k]
            guard let scan = free.take() else { return [] }
            defer { free.put(scan) }
            var results: [(Int64, Result)] = []
            results.reserveCapacity(chunk.count)
            var next = chunk.startIndex
            let visit: (Int64, UnsafeRawBufferPointer, [(Int64, Bool)]) throws -> Void = { pid, blob, clear in
                while next < chunk.endIndex && chunk[next] < pid { next += 1 }
                guard next < chunk.endIndex && chunk[next] == pid else { return }
                let result = try clear.withUnsafeBufferPointer { try analyse(ParcelInput(pid: pid, blob: blob, clear: $0)) }
                results.append((pid, result))
            }
            // A sparse chunk (a sample) is read parcel by parcel rather than by its range.
            if Int64(chunk.count) * 4 < chunk.last! - chunk.first! + 1 {
                for pid in chunk { try scan.value.forEach(pid...pid, visit) }
            } else {
                try scan.value.forEach(chunk.first!...chunk.last!, visit)
            }
            return results
        }, consume: { results in
            let now = Date(); timing.wait += now.timeIntervalSince(clock); clock = now
            for (pid, result) in results { try deliver(pid, result) }
            let then = Date(); timing.deliver += then.timeIntervalSince(clock); clock = then
        })
        return timing
    }
}
