/// The parsers of files from outside, as the coverage-guided fuzzer (`lake-fuzz`, `make fuzz`)
/// drives them: each reads a whole file and may throw, and must never crash.
@_spi(Fuzzing) public enum IngestFuzzEntries {
    /// The signature table forms (JRC CSV, parcelTimeSeries JSON/CSV, SCL histograms, wide form),
    /// as an ingest reads them, with 64-byte pieces so that the cuts between pieces are fuzzed too.
    public static func signatureFile(path: String) throws -> Int {
        var rows = 0
        try SignatureSource.stream(path: path, pieceBytes: 64) { _ in rows += 1 }
        return rows
    }

    /// Catalogue documents (STAC, OData, OpenSearch JSON, Atom and SAFE XML, dias_catalogue CSV).
    public static func catalogueDocument(path: String) throws -> Int {
        try CatalogueDocument.read(path: path).count
    }
}
