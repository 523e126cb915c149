#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LakeSQLite
import LakeSupport
#if canImport(Glibc)
import Glibc
#endif

/// A lake file: one SpatiaLite database holding parcels, the scene catalogue and signatures.
///
/// Open it with `Lake.open` (existing file) or `Lake.create` (new file). The connection uses a
/// rollback journal, so when lake is not writing the lake is exactly one file (no -wal/-shm).
public final class Lake {
    public let db: Connection
    public let path: String
    public let srid: Int
    /// The file's schema version as opened (after any migration this connection made).
    public let schemaVersion: Int

    /// The application id written in the SQLite header: "LAKE" in ASCII.
    public static let applicationID: Int32 = 0x4C41_4B45
    public static let defaultSRID = 3035

    private init(db: Connection, path: String, srid: Int, schemaVersion: Int) {
        self.db = db
        self.path = path
        self.srid = srid
        self.schemaVersion = schemaVersion
    }

    /// Creates a new lake at `path` with geometries in `srid`. Fails if the file exists.
    public static func create(path: String, srid: Int = defaultSRID) throws -> Lake {
        if FileManager.default.fileExists(atPath: path) {
            throw LakeError.lakeFile(path: path, reason: "already exists; lake init creates a new file")
        }
        do {
            let db = try Connection(path: path, mode: .create)
            try configure(db)
            // Before the first page is written: lets merges hand the pending log's pages back.
            try db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            try db.execute("PRAGMA application_id = \(applicationID)")
            // The core schema first: whether SpatiaLite knows the SRID shows in its geometry columns.
            try Migrator.migrate(db, srid: srid, path: path, upTo: 1)
            guard try db.scalar("SELECT count(*) FROM geometry_columns WHERE f_table_name = 'parcels' AND srid = ?", .int(Int64(srid)))?.int == 1 else {
                throw LakeError.usage("EPSG:\(srid) is not a coordinate reference system SpatiaLite knows")
            }
            try Migrator.migrate(db, srid: srid, path: path)
            try db.transaction {
                try db.run("INSERT OR REPLACE INTO lake_meta (key, value) VALUES ('srid', ?)", .text(String(srid)))
                try db.run("INSERT OR REPLACE INTO lake_meta (key, value) VALUES ('created', ?)",
                           .text(isoTimestampNow()))
            }
            return Lake(db: db, path: path, srid: srid, schemaVersion: Migrator.latestVersion)
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw LakeError.wrap(error)
        }
    }

    /// Opens an existing lake, migrating it to the latest schema when `writable`. Without
    /// `spatial`, SpatiaLite is loaded only when something asks for it (`db.loadSpatiaLite()`):
    /// a migration always loads it.
    public static func open(path: String, writable: Bool = false, spatial: Bool = true) throws -> Lake {
        guard FileManager.default.fileExists(atPath: path) else {
            throw LakeError.lakeFile(path: path, reason: "no such lake; create one with `lake init` or any `lake ingest`")
        }
        do {
            try leaveWALMode(path: path)
            if !writable { try rollBackInterruptedWrite(path: path) }
            let db = try Connection(path: path, mode: writable ? .readWrite : .readOnly, spatial: spatial)
            try configure(db)
            // The checks read in one transaction (one lock, one snapshot).
            let (srid, version) = try db.read { () throws -> (Int, Int) in
                guard let appID = try? db.scalar("PRAGMA application_id")?.int else {
                    throw LakeError.lakeFile(path: path, reason: "not a SQLite database")
                }
                guard appID == Int64(applicationID) else {
                    throw LakeError.lakeFile(path: path, reason: "not a lake file (SQLite application id \(appID))")
                }
                guard let srid = try db.scalar("SELECT value FROM lake_meta WHERE key = 'srid'")?.int else {
                    throw LakeError.lakeFile(path: path, reason: "lake_meta has no srid: the file is damaged")
                }
                // A lake from a newer lake says so, before its schema is compared with this one's.
                let version = try Migrator.currentVersion(db)
                if version > Migrator.latestVersion {
                    throw LakeError.lakeFile(path: path, reason: "schema version \(version) is newer than this lake's (\(Migrator.latestVersion)); upgrade lake")
                }
                try SchemaGuard.verify(db, srid: Int(srid), path: path)
                return (Int(srid), version)
            }
            if writable, version < Migrator.latestVersion {
                try db.loadSpatiaLite()
                try Migrator.migrate(db, srid: srid, path: path)
            } else if version > Migrator.latestVersion {
                throw LakeError.lakeFile(path: path, reason: "schema is newer than this lake; upgrade lake")
            }
            return Lake(db: db, path: path, srid: srid, schemaVersion: writable ? Migrator.latestVersion : version)
        } catch let error as SQLiteError {
            throw LakeError.lakeFile(path: path, reason: error.message)
        }
    }

    /// A writer killed mid-commit leaves a hot journal that only a connection allowed to write
    /// can roll back; a read-only open would fail ("attempt to write a readonly database"). Any
    /// read through a read-write connection makes SQLite restore the file first.
    private static func rollBackInterruptedWrite(path: String) throws {
        let journal = path + "-journal"
        guard let size = fileSize(journal), size > 0 else { return }
        guard FileManager.default.isWritableFile(atPath: path) else {
            throw LakeError.lakeFile(path: path, reason: "an interrupted write left \(journal); open the lake once with write access (any lake ingest) to roll it back")
        }
        let db = try Connection(path: path, mode: .readWrite)
        _ = try db.scalar("SELECT count(*) FROM sqlite_schema")
    }

    /// A lake another tool switched to WAL journaling (header bytes 18–19 = 2) cannot be read
    /// through a read-only connection, and a lake is one file: it goes back to a rollback
    /// journal (committed WAL content checkpointed into the file) before lake opens it.
    private static func leaveWALMode(path: String) throws {
        let fd = Glibc.open(path, O_RDONLY)
        guard fd >= 0 else { return }
        var header = [UInt8](repeating: 0, count: 20)
        let n = read(fd, &header, 20)
        close(fd)
        guard n == 20, header.starts(with: Array("SQLite format 3\0".utf8)), header[18] == 2 || header[19] == 2 else { return }
        guard FileManager.default.isWritableFile(atPath: path) else {
            throw LakeError.lakeFile(path: path, reason: "is in WAL mode (set by another tool); open it once with write access (any lake ingest) to bring it back to one file")
        }
        let db = try Connection(path: path, mode: .readWrite)
        try db.execute("PRAGMA journal_mode = DELETE")
    }

    /// Opens `path` for writing, creating it with the default SRID when it does not exist.
    public static func openOrCreate(path: String) throws -> Lake {
        FileManager.default.fileExists(atPath: path)
            ? try open(path: path, writable: true)
            : try create(path: path)
    }

    /// Another read-only connection to this lake's file, configured like this one, for a
    /// thread of its own (a connection is used by one thread at a time). The file was checked
    /// when this lake was opened. Without SpatiaLite (the batch readers read series, not
    /// geometries): `loadSpatiaLite()` on it when a reader needs spatial functions.
    public func readerConnection() throws -> Connection {
        let db = try Connection(path: path, mode: .readOnly, spatial: false)
        try Self.configure(db)
        return db
    }

    public static var latestSchemaVersion: Int { Migrator.latestVersion }

    public func meta(_ key: String) throws -> String? {
        try db.scalar("SELECT value FROM lake_meta WHERE key = ?", .text(key))?.text
    }

    static func configure(_ db: Connection) throws {
        try db.execute("""
            PRAGMA journal_mode = DELETE;
            PRAGMA synchronous = NORMAL;
            PRAGMA foreign_keys = ON;
            PRAGMA cache_size = -262144;
            PRAGMA temp_store = MEMORY;
            """)
    }
}
