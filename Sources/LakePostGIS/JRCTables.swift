import Foundation
import LakeStore
import LakeSupport

/// The names of one parcel set's tables in the JRC CbM database (schema/postgis/001_jrc.sql):
/// `<schema>.<prefix>` parcels, `<prefix>_s2_signatures`, `_bs_signatures`, `_c6_signatures`,
/// `_s2_hists`, and lake's own `_lake_runs`, `_lake_markers`, `_lake_decisions`,
/// `_lake_heterogeneity`, `_lake_pushes`.
public struct JRCTables: Sendable, Equatable {
    public let schema: String
    public let prefix: String

    /// Names are plain SQL identifiers (lower-case letters, digits, `_`; at most 40 characters,
    /// so that the index names built from them fit PostgreSQL's 63).
    public static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.utf8.first, (0x61...0x7A).contains(first) || first == 0x5F, name.utf8.count <= 40 else { return false }
        return name.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }
    }

    public init(schema: String, prefix: String) throws {
        guard Self.isIdentifier(schema) else { throw LakeError.usage("--schema \(schema): a PostgreSQL schema name of lower-case letters, digits and _ (at most 40)") }
        guard Self.isIdentifier(prefix) else { throw LakeError.usage("--prefix \(prefix): a table name of lower-case letters, digits and _ (at most 40), starting with a letter") }
        self.schema = schema; self.prefix = prefix
    }

    /// The JRC's naming of a parcel set: `<aoi>_<year>` in lower case, other characters as `_`.
    public static func defaultPrefix(aoi: String, year: Int) -> String {
        var name = String(aoi.lowercased().unicodeScalars.map { s -> Character in
            (("a"..."z").contains(s) || ("0"..."9").contains(s)) ? Character(s) : "_" })
        if name.isEmpty { name = "parcels" }
        if let first = name.unicodeScalars.first, !("a"..."z").contains(first) { name = "p" + name }
        return String(name.prefix(34)) + "_\(year)"
    }

    public var parcels: String { "\(schema).\(prefix)" }
    public func signatures(_ card: String) -> String { "\(schema).\(prefix)_\(card)_signatures" }
    public var hists: String { "\(schema).\(prefix)_s2_hists" }
    public var runs: String { "\(schema).\(prefix)_lake_runs" }
    public var markers: String { "\(schema).\(prefix)_lake_markers" }
    public var decisions: String { "\(schema).\(prefix)_lake_decisions" }
    public var heterogeneity: String { "\(schema).\(prefix)_lake_heterogeneity" }
    public var pushes: String { "\(schema).\(prefix)_lake_pushes" }
    public static let catalogue = "public.dias_catalogue"
    public static let catalogueLake = "public.dias_catalogue_lake"

    /// The signature tables, by JRC card.
    public static let cards = ["s2", "bs", "c6"]

    /// One of schema/postgis/*.sql with this set's names and SRID in place of its tokens.
    func sql(_ name: String, srid: Int) -> String {
        guard let file = embeddedSQL.first(where: { $0.name == name }) else { fatalError("schema/postgis/\(name).sql is not embedded") }
        return file.sql.replacingOccurrences(of: "@SCHEMA@", with: schema)
            .replacingOccurrences(of: "@PREFIX@", with: prefix)
            .replacingOccurrences(of: "@SRID@", with: String(srid))
    }

    /// Creates whatever of the set's tables is missing.
    func create(on pg: PostgreSQL, srid: Int) throws {
        try pg.execute(sql("001_jrc", srid: srid))
    }
    func createIndexes(on pg: PostgreSQL) throws {
        try pg.execute(sql("002_jrc_indexes", srid: 0))
    }
}

/// How lake's catalogue cards and band names are written in the JRC tables, and read back.
enum JRCNames {
    /// lake card → dias_catalogue.card (character(2)).
    static func card(_ lake: String) -> String { lake == "l1c" ? "l1" : lake }
    static func lakeCard(_ jrc: String) -> String {
        let c = jrc.trimmed().lowercased()
        return c == "l1" ? "l1c" : c
    }
    /// lake card → the signature table it goes to.
    static func table(card: String) -> String { card == "bs" || card == "c6" ? card : "s2" }
    /// lake band name → the JRC's (character(3)): Sentinel-1 bands carry their product letter.
    static func band(_ name: String, card: String) -> String {
        switch card {
        case "bs": return name + "b"
        case "c6": return name + "c"
        default: return name
        }
    }
}
