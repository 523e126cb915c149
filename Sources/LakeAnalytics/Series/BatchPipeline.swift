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
/// The parcels are cut into chunks of consecutive pids. One worker per core takes the next
/// chunk, reads it through a read-only connection of its own (`Lake.readerConnection`) and
/// analyses each parcel straight from SQLite's buffer; the calling thread hands the results to
/// `deliver` chunk by chunk in pid order (it writes them, in its transaction). Workers stay at
/// most a few chunks ahead of the writer, so memory is bounded whatever the lake's size.
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
        init(_ lake: Lake, screen: CloudScreen) throws {
            scans = try (0..<max(1, ProcessInfo.processInfo.activeProcessorCount)).map { _ in
                try UncheckedBox(PackedScan(try lake.readerConnection(), schemaVersion: lake.schemaVersion, screen: screen))
            }
        }
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
        // Connections and their statements are made before, used by one worker each.
        let scans = Array(own.scans.prefix(workers))

        let state = SharedState<Result>(window: 2 * workers + 2)
        let group = DispatchGroup()
        for w in 0..<workers {
            let scan = scans[w]
            group.enter()
            // Threads of their own, a little nicer than the writer: with as many workers as
            // cores, the writing thread (the pipeline's one serial stage) must not wait for a core.
            let thread = Thread {
                defer { group.leave() }
                setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 5)   // Linux: this thread only
                while let k = state.take(limit: chunks.count) {
                    let chunk = chunks[k]
                    var results: [(Int64, Result)] = []
                    results.reserveCapacity(chunk.count)
                    var next = chunk.startIndex
                    do {
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
                        state.put(k, results)
                    } catch {
                        state.fail(error)
                    }
                }
            }
            thread.stackSize = 4 << 20
            thread.start()
        }
        defer {
            state.stop()
            group.wait()
        }
        var clock = Date()
        for k in 0..<chunks.count {
            let results = try state.wait(for: k)
            let now = Date(); timing.wait += now.timeIntervalSince(clock); clock = now
            for (pid, result) in results { try deliver(pid, result) }
            state.release()
            let then = Date(); timing.deliver += then.timeIntervalSince(clock); clock = then
        }
        return timing
    }
}

/// Chunks taken by workers and finished results waiting for the writer.
private final class SharedState<Result: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    /// How many chunks workers may hold beyond those the writer is done with (a counter under
    /// the condition: a DispatchSemaphore traps when freed below its initial value, which an
    /// error that ends the run early leaves it at).
    private let window: Int
    private var released = 0
    private var next = 0
    private var finished: [Int: [(Int64, Result)]] = [:]
    private var failure: Error?
    private var stopped = false

    init(window: Int) { self.window = window }

    /// The next chunk for a worker, once the writer is close enough behind; nil when done.
    func take(limit: Int) -> Int? {
        condition.lock(); defer { condition.unlock() }
        while !stopped && failure == nil && next - released >= window { condition.wait() }
        guard !stopped, failure == nil, next < limit else { return nil }
        next += 1
        return next - 1
    }

    func put(_ k: Int, _ results: [(Int64, Result)]) {
        condition.lock(); finished[k] = results; condition.broadcast(); condition.unlock()
    }

    func fail(_ error: Error) {
        condition.lock(); if failure == nil { failure = error }; condition.broadcast(); condition.unlock()
    }

    /// Blocks until chunk `k` is analysed; rethrows a worker's error.
    func wait(for k: Int) throws -> [(Int64, Result)] {
        condition.lock(); defer { condition.unlock() }
        while finished[k] == nil && failure == nil { condition.wait() }
        if let failure { throw failure }
        return finished.removeValue(forKey: k)!
    }

    /// The writer is done with one chunk: a worker may take another.
    func release() { condition.lock(); released += 1; condition.broadcast(); condition.unlock() }

    /// Lets every worker return (after success, an error, or the writer failing).
    func stop() {
        condition.lock(); stopped = true; condition.broadcast(); condition.unlock()
    }
}
