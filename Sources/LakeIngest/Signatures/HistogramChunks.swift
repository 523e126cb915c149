import Foundation
import LakeStore
import LakeSupport

/// Histograms handed to `SCLStore.upsert(batch:)` in batches of at most `SCLStore.batchSize`
/// whose keys are distinct: a key already in the batch (the file repeats a histogram) ends the
/// batch, so the later one is written after the earlier. A scan of at most 64 pairs costs less
/// than hashing every row twice.
struct HistogramBatcher {
    private var rows: [(pid: Int64, obsid: Int64, counts: [Int])] = []
    var counts = SCLStore.Counts()

    init() { rows.reserveCapacity(SCLStore.batchSize) }

    mutating func add(_ pid: Int64, _ obsid: Int64, _ histogram: [Int], to store: SCLStore) throws {
        if rows.count == SCLStore.batchSize || rows.contains(where: { $0.pid == pid && $0.obsid == obsid }) {
            try flush(to: store)
        }
        rows.append((pid, obsid, histogram))
    }

    mutating func flush(to store: SCLStore) throws {
        guard !rows.isEmpty else { return }
        counts.add(try store.upsert(batch: rows))
        rows.removeAll(keepingCapacity: true)
    }
}

/// Scene-ordered histograms written while the file is still being read. `scl_hist` is keyed by
/// parcel and scene, so a scene-ordered file is sorted by parcel before it is written (see
/// `Sink.scl`); sorted all at the end, the writing waits for the whole file and the file's
/// parsing threads idle while it runs. Where the lake has few enough parcels that a chunk of
/// `chunkRows` histograms holds many scenes of each (`dense`), each chunk is sorted by
/// parcel (arrival order within a parcel) and written on a thread of its own while the next one
/// fills: each chunk's rows land in parcel order, a few per parcel, beside the earlier chunks'.
/// At most two chunks are held (the one written, the one filling): 2 × 64 bytes a histogram.
///
/// While a chunk is written the lake's connection belongs to the writing thread: the load
/// must not touch it (a histogram-only file, whose rows need no lookup in the lake; see
/// `SignatureIngest.run`).
final class HistogramChunks {
    /// Keys and the twelve class counts of each histogram, as 32-bit integers; the rare
    /// histogram with a count beyond them (a hostile file) kept whole apart.
    struct Chunk {
        var pids: [Int64] = [], obsids: [Int64] = [], counts: [Int32] = []
        var whole: [Int: [Int]] = [:]
        var count: Int { pids.count }

        mutating func append(pid: Int64, obsid: Int64, histogram: [Int]) {
            if histogram.count != 12 || histogram.contains(where: { Int32(exactly: $0) == nil }) { whole[count] = histogram }
            pids.append(pid); obsids.append(obsid)
            for k in 0..<12 { counts.append(Int32(clamping: k < histogram.count ? histogram[k] : 0)) }
        }

        func histogram(_ i: Int) -> [Int] { whole[i] ?? counts[(12 * i)..<(12 * i + 12)].map { Int($0) } }
    }

    let chunkRows: Int
    private var filling = Chunk()
    private let store: SCLStore
    private let queue = BoundedQueue<Chunk>(capacity: 1)
    private let outcome = BoundedQueue<Result<SCLStore.Counts, Error>>(capacity: 1)
    private var started = false
    /// Chunks written by the last load (tests).
    nonisolated(unsafe) static var lastChunks = 0
    private var submitted = 0

    /// Whether chunks of `chunkRows` histograms over `parcels` parcels hold at least 16 scenes
    /// of each on average: each chunk's rows go in at the end of every parcel's rows, on every
    /// page of the table, so a year of 73 scenes is written in at most five passes (the default
    /// 32 MiB chunk: lakes of up to 32,000 parcels). More parcels, more passes, and a pass costs
    /// as much as the table is large: the external sort is then the way (`SignatureRuns`; a
    /// stop before this one wrote parts as they filled at every scale, and at country scale
    /// every part after the first went in among the earlier ones').
    static func dense(chunkRows: Int, parcels: Int) -> Bool { parcels > 0 && chunkRows >= 16 * parcels }

    init(store: SCLStore, chunkRows: Int) {
        self.store = store
        self.chunkRows = max(chunkRows, 1)
    }

    func add(pid: Int64, obsid: Int64, histogram: [Int]) throws {
        // A chunk's room is taken when its first row comes (none after the last).
        if filling.count == 0 {
            filling.pids.reserveCapacity(chunkRows); filling.obsids.reserveCapacity(chunkRows); filling.counts.reserveCapacity(12 * chunkRows)
        }
        filling.append(pid: pid, obsid: obsid, histogram: histogram)
        if filling.count >= chunkRows { try submit() }
    }

    private func submit() throws {
        guard filling.count > 0 else { return }
        if !started { start() }
        let chunk = filling
        filling = Chunk()
        submitted += 1
        // Refused when the writer failed: its error comes out of `finish`.
        if !queue.put(chunk) { _ = try finish() }
    }

    /// Writes what is left and waits for the writer: the counts of every chunk.
    func finish() throws -> SCLStore.Counts {
        if filling.count > 0 { try submit() }
        Self.lastChunks = submitted
        guard started else { return SCLStore.Counts() }
        queue.close()
        started = false
        return try outcome.take()!.get()
    }

    /// Stops the writer after the chunk it is writing and waits for it (a load that fails
    /// elsewhere: its transaction must not roll back under a writing thread).
    func abandon() {
        guard started else { return }
        queue.cancel()
        queue.close()
        started = false
        _ = outcome.take()
    }

    /// Row indexes by parcel, arrival order within a parcel.
    static func parcelOrder(_ pids: [Int64]) -> [Int] {
        pids.indices.sorted { (a: Int, b: Int) -> Bool in
            let pa = pids[a], pb = pids[b]
            return pa != pb ? pa < pb : a < b
        }
    }

    private func start() {
        started = true
        let work = UncheckedBox((store, queue, outcome))
        DispatchQueue.global().async {
            let (store, queue, outcome) = work.value
            var batcher = HistogramBatcher()
            do {
                while let chunk = queue.take() {
                    for i in Self.parcelOrder(chunk.pids) {
                        try batcher.add(chunk.pids[i], chunk.obsids[i], chunk.histogram(i), to: store)
                    }
                    try batcher.flush(to: store)
                }
                _ = outcome.put(.success(batcher.counts))
            } catch {
                queue.cancel()
                _ = outcome.put(.failure(error))
            }
        }
    }
}
