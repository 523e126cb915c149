import LakeQuery
import LakeSQLite
import LakeStore

/// Every parcel's packed series (undecoded) with its observations' clear flags, in pid order:
/// the input of whole-lake analyses, which decode only the columns they need, often on
/// several threads. The clear flag is computed by SQLite from the histogram's cloud classes.
public enum PackedScan {
    public static func forEach(_ lake: Lake, screen: CloudScreen, _ body: (Int64, [UInt8], [(Int64, Bool)]) throws -> Void) throws {
        guard try SignatureStore(db: lake.db).pendingCount() == 0 else {
            throw LakeError.usage("signatures are waiting to be merged; run any `lake ingest signatures` or `lake extract` to completion first")
        }
        let packed = try lake.db.prepare("SELECT pid, data FROM signatures_packed ORDER BY pid")
        let cloudy = screen.excluded.sorted().map { "c\($0)" }.joined(separator: " + ")
        let hist = try lake.db.prepare("SELECT pid, obsid, \(cloudy.isEmpty ? "0" : cloudy) = 0 FROM scl_hist ORDER BY pid, obsid")
        var histPending = try hist.step()
        while try packed.step() {
            let pid = packed.int(0)
            var clear: [(Int64, Bool)] = []
            while histPending && hist.int(0) < pid { histPending = try hist.step() }
            while histPending && hist.int(0) == pid {
                clear.append((hist.int(1), hist.int(2) != 0))
                histPending = try hist.step()
            }
            try body(pid, packed.blob(1), clear)
        }
    }
}
