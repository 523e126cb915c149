import LakeSQLite

/// Maps band names (normalised, see `Bands`) to the small integers signatures store.
public final class BandDictionary {
    private let db: Connection
    private var ids: [String: UInt8] = [:]
    private var names: [UInt8: String] = [:]

    public init(db: Connection) throws {
        self.db = db
        let statement = try db.prepare("SELECT band_id, name FROM bands")
        while try statement.step() {
            let id = UInt8(truncatingIfNeeded: statement.int(0)), name = statement.text(1) ?? ""
            ids[name] = id; names[id] = name
        }
    }

    public func name(_ id: UInt8) -> String { names[id] ?? "band\(id)" }

    public func id(_ name: String) -> UInt8? { ids[Bands.normalise(name)] }

    /// The id of `name`, adding the band to the dictionary when it is new.
    public func idAdding(_ rawName: String) throws -> UInt8 {
        let name = Bands.normalise(rawName)
        if let id = ids[name] { return id }
        let next = (try db.scalar("SELECT coalesce(max(band_id), 0) + 1 FROM bands")?.int) ?? 1
        guard next <= 255 else { throw LakeError.usage("too many distinct band names (255 at most); \(name) is one too many") }
        try db.run("INSERT INTO bands (band_id, name) VALUES (?, ?)", .int(next), .text(name))
        let id = UInt8(next)
        ids[name] = id; names[id] = name
        return id
    }
}
