#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// An external sort of one load's signature rows by parcel, in bounded memory: rows (all bands
/// of one parcel and scene, in `PendingCodec` form; or an SCL histogram, `SCLHistogramBytes`)
/// are kept in memory until `memoryBudget` bytes, then sorted by parcel and written to a run
/// file beside the lake; at the end the runs
/// are merged (a heap over their heads) and handed out in parcel order, arrival order within a
/// parcel — the order the pending log's merge reads its rows in.
///
/// Why not the `signatures_pending` table: a scene-ordered file puts each parcel's rows
/// everywhere in it, and at country scale (36.5 M rows, 15 GB) reading the log back through
/// its pid index turned into random reads of a table larger than the page cache (BENCHMARKS,
/// country scale). Runs are written and read back sequentially, and each byte only twice.
///
/// The run files are the load's own scratch, unlinked as soon as they are created: the space
/// comes back when the sorter closes them or the process ends, however it ends (even SIGKILL).
public final class SignatureRuns {
    public static let defaultMemoryBudget = 128 << 20

    let memoryBudget: Int
    let directory: String
    /// Rows in memory: their bytes, and (pid, obsid, where in `arena`) in arrival order.
    private var arena: [UInt8] = []
    private var entries: [Entry] = []
    private var runFiles: [UnsafeMutablePointer<FILE>] = []
    public private(set) var rows = 0
    public var isEmpty: Bool { rows == 0 }

    struct Entry {
        let pid: Int64
        let obsid: Int64
        let offset: Int
        let length: Int
    }

    /// - directory: where run files go (the lake's folder: the space a lake needs is there).
    public init(directory: String, memoryBudget: Int = SignatureRuns.defaultMemoryBudget) {
        self.directory = directory
        self.memoryBudget = max(memoryBudget, 1 << 12)
    }

    deinit { closeRuns() }

    private func closeRuns() {
        for file in runFiles { fclose(file) }
        runFiles = []
    }

    public func add(pid: Int64, obsid: Int64, bands: [(UInt8, SignatureStats)]) throws {
        try add(pid: pid, obsid: obsid) { PendingCodec.append(bands, to: &$0) }
    }

    /// Adds a row whose bytes `write` appends (any form: the sort only keeps them with their key).
    public func add(pid: Int64, obsid: Int64, _ write: (inout [UInt8]) -> Void) throws {
        let offset = arena.count
        write(&arena)
        entries.append(Entry(pid: pid, obsid: obsid, offset: offset, length: arena.count - offset))
        rows += 1
        if arena.count + entries.count * MemoryLayout<Entry>.stride >= memoryBudget { try spill() }
    }

    /// Entries sorted by parcel; arrival order kept within a parcel.
    private func sortedEntries() -> [Entry] {
        entries.enumerated().sorted { a, b in
            a.element.pid != b.element.pid ? a.element.pid < b.element.pid : a.offset < b.offset
        }.map(\.element)
    }

    private func spill() throws {
        guard !entries.isEmpty else { return }
        let path = (directory.hasSuffix("/") ? directory : directory + "/") + ".lake-sort-\(getpid())-\(UUID().uuidString.prefix(8))-\(runFiles.count)"
        guard let file = fopen(path, "w+xb") else {
            throw LakeError.database("\(path): cannot create a sort run file: \(String(cString: strerror(errno)))")
        }
        unlink(path)
        runFiles.append(file)
        setvbuf(file, nil, _IOFBF, 1 << 20)
        var header = [UInt8](repeating: 0, count: 20)
        for e in sortedEntries() {
            header.withUnsafeMutableBytes { h in
                h.storeBytes(of: e.pid.littleEndian, toByteOffset: 0, as: Int64.self)
                h.storeBytes(of: e.obsid.littleEndian, toByteOffset: 8, as: Int64.self)
                h.storeBytes(of: UInt32(e.length).littleEndian, toByteOffset: 16, as: UInt32.self)
            }
            let ok = header.withUnsafeBytes { fwrite($0.baseAddress, 1, 20, file) == 20 }
                && arena.withUnsafeBytes { fwrite($0.baseAddress! + e.offset, 1, e.length, file) == e.length }
            guard ok else { throw LakeError.database("\(path): cannot write a sort run: \(String(cString: strerror(errno)))") }
        }
        guard fflush(file) == 0 else { throw LakeError.database("\(path): cannot write a sort run: \(String(cString: strerror(errno)))") }
        arena.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
    }

    /// Hands out every row in parcel order (arrival order within a parcel), then forgets them.
    public func forEachInOrder(_ body: (Int64, Int64, UnsafeRawBufferPointer) throws -> Void) throws {
        defer {
            arena = []; entries = []; rows = 0
            closeRuns()
        }
        if runFiles.isEmpty {
            try arena.withUnsafeBytes { bytes in
                for e in sortedEntries() { try body(e.pid, e.obsid, UnsafeRawBufferPointer(rebasing: bytes[e.offset..<(e.offset + e.length)])) }
            }
            return
        }
        try spill()
        arena = []; entries = []
        let readers = try runFiles.map { try RunReader(file: $0, path: directory) }
        // A binary heap of run indexes ordered by (head pid, run index): runs hold arrival order.
        var heap = readers.indices.filter { readers[$0].head != nil }
        func less(_ a: Int, _ b: Int) -> Bool {
            let pa = readers[a].head!.pid, pb = readers[b].head!.pid
            return pa != pb ? pa < pb : a < b
        }
        func siftDown(_ start: Int) {
            var i = start
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count, less(heap[l], heap[m]) { m = l }
                if r < heap.count, less(heap[r], heap[m]) { m = r }
                if m == i { return }
                heap.swapAt(i, m); i = m
            }
        }
        for i in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
        while let top = heap.first {
            let reader = readers[top]
            let head = reader.head!
            try reader.withBlob { try body(head.pid, head.obsid, $0) }
            try reader.advance()
            if reader.head == nil {
                heap.swapAt(0, heap.count - 1)
                heap.removeLast()
            }
            if !heap.isEmpty { siftDown(0) }
        }
    }

    /// Reads one run file from its start, sequentially through a 1 MiB buffer.
    final class RunReader {
        let path: String
        let file: UnsafeMutablePointer<FILE>
        var buffer: [UInt8] = []
        var position = 0
        var head: (pid: Int64, obsid: Int64, length: Int)?

        /// - path: for messages (the folder the run was in; the file has no name any more).
        init(file: UnsafeMutablePointer<FILE>, path: String) throws {
            self.path = path
            self.file = file
            guard fseeko(file, 0, SEEK_SET) == 0 else {
                throw LakeError.database("\(path): cannot read a sort run back: \(String(cString: strerror(errno)))")
            }
            try advance()
        }

        /// Ensures `count` bytes from `position` are in the buffer; false at a clean end.
        private func ensure(_ count: Int) throws -> Bool {
            if buffer.count - position >= count { return true }
            buffer.removeSubrange(0..<position)
            position = 0
            var chunk = [UInt8](repeating: 0, count: max(1 << 20, count))
            while buffer.count < count {
                let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
                if n == 0 {
                    if ferror(file) != 0 { throw LakeError.database("\(path): cannot read a sort run back: \(String(cString: strerror(errno)))") }
                    break
                }
                buffer.append(contentsOf: chunk[0..<n])
            }
            if buffer.count >= count { return true }
            guard buffer.isEmpty else { throw LakeError.database("\(path): a sort run ends inside a row") }
            return false
        }

        func advance() throws {
            if let head { position += 20 + head.length }
            guard try ensure(20) else { head = nil; return }
            let (pid, obsid, length) = buffer.withUnsafeBytes { b in
                (Int64(littleEndian: b.loadUnaligned(fromByteOffset: position, as: Int64.self)),
                 Int64(littleEndian: b.loadUnaligned(fromByteOffset: position + 8, as: Int64.self)),
                 Int(UInt32(littleEndian: b.loadUnaligned(fromByteOffset: position + 16, as: UInt32.self))))
            }
            guard try ensure(20 + length) else { throw LakeError.database("\(path): a sort run ends inside a row") }
            head = (pid, obsid, length)
        }

        func withBlob(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
            guard let head else { return }
            try buffer.withUnsafeBytes { b in try body(UnsafeRawBufferPointer(rebasing: b[(position + 20)..<(position + 20 + head.length)])) }
        }
    }
}
