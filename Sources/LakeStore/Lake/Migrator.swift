import LakeSQLite

/// Applies the SQL migrations of `schema/` (embedded at build time) in version order.
/// The file's schema version is `PRAGMA user_version`, mirrored in `lake_meta`.
enum Migrator {
    static var latestVersion: Int { embeddedMigrations.map(\.version).max() ?? 0 }

    static func currentVersion(_ db: Connection) throws -> Int {
        Int(try db.scalar("PRAGMA user_version")?.int ?? 0)
    }

    /// Brings the file to the latest schema (or to `upTo`); each migration is one transaction.
    static func migrate(_ db: Connection, srid: Int, path: String, upTo last: Int = Int.max) throws {
        let current = try currentVersion(db)
        if current > latestVersion {
            throw LakeError.lakeFile(path: path, reason:
                "schema version \(current) is newer than this lake (\(latestVersion)); upgrade lake")
        }
        for migration in embeddedMigrations.sorted(by: { $0.version < $1.version })
        where migration.version > current && migration.version <= last {
            let sql = migration.sql.replacing("@SRID@", with: String(srid))
            try db.transaction {
                try db.execute(sql)
                try db.execute("PRAGMA user_version = \(migration.version)")
                try db.run("INSERT OR REPLACE INTO lake_meta (key, value) VALUES ('schema_version', ?)",
                           .text(String(migration.version)))
                try db.run("INSERT OR REPLACE INTO lake_meta (key, value) VALUES ('lake_version', ?)",
                           .text(LakeVersion.current))
            }
        }
    }
}
