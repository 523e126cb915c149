// swift-tools-version:6.0
// lake — an agricultural monitoring data lake in one SpatiaLite file.
// Data flows one way: files → ingest → store → query → reports/CLI; the targets below follow it.
import PackageDescription

// `make fuzz` builds with LAKE_FUZZ=1 (in .build-fuzz): lake's own modules get libFuzzer's
// coverage instrumentation; the schema-embedding build tool and the dependencies do not.
let fuzzing = Context.environment["LAKE_FUZZ"] == "1"
let instrumented: [SwiftSetting] = fuzzing ? [.unsafeFlags(["-sanitize=fuzzer"]), .define("LAKE_LIBFUZZER")] : []
// The per-row and per-parcel loops of the store's series codec, the ingest's readers, the queries
// and the analytics: release builds leave out the run-time exclusivity checks (the compiler's
// static checks stay; debug builds and the tests keep the dynamic ones). Measured in BENCHMARKS
// (markers run; histogram ingest).
let hot: [SwiftSetting] = instrumented + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "lake",
    platforms: [.macOS(.v14)],
    products: [
        // `lake` starts fast (SQLite and the store only) and hands the whole-lake analyses to
        // `lake-analytics` (no GDAL) and every other command it does not answer alone to
        // `lake-full`, the whole command set (GDAL, analytics, reports).
        .executable(name: "lake", targets: ["lake"]),
        .executable(name: "lake-full", targets: ["lake-full"]),
        .executable(name: "lake-analytics", targets: ["lake-analytics"]),
        .executable(name: "lake-fixtures", targets: ["lake-fixtures"]),
        // In-process timings of the point queries (`make bench`).
        .executable(name: "lake-bench", targets: ["lake-bench"]),
        // Coverage-guided fuzzing of the parsers of outside input (`make fuzz`).
        .executable(name: "lake-fuzz", targets: ["lake-fuzz"]),
        // lake's SQL functions for any SQLite session: `.load liblake_functions`.
        .library(name: "lake_functions", type: .dynamic, targets: ["LakeSQLiteExtension"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", exact: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // Thin C shims over the system libraries.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev", "libspatialite-dev"])]),
        .systemLibrary(name: "CGDAL", pkgConfig: "gdal", providers: [.apt(["libgdal-dev"])]),
        // PROJ, loaded on first use (a point query's one transformation, kept).
        .systemLibrary(name: "CProj"),
        // PostgreSQL's client library (comes with libgdal-dev) for `lake push`/`lake pull`.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),

        // Swift wrappers over the shims.
        .target(name: "LakeSQLite", dependencies: ["CSQLite"], swiftSettings: instrumented),
        .target(name: "LakeGDAL", dependencies: ["CGDAL"], swiftSettings: instrumented),

        // The store owns the schema (embedded from schema/*.sql), connections and transactions.
        .executableTarget(name: "EmbedSchemaTool", dependencies: ["CSQLite"], path: "Sources/EmbedSchemaTool"),
        .plugin(name: "EmbedSchema", capability: .buildTool(), dependencies: ["EmbedSchemaTool"]),
        .target(name: "LakeStore",
                dependencies: ["LakeSQLite", "LakeSupport"],
                swiftSettings: hot,
                plugins: ["EmbedSchema"]),

        // Small utilities more than one room uses (progress on a terminal).
        .target(name: "LakeSupport", swiftSettings: hot),

        // Files → store.
        .target(name: "LakeIngest", dependencies: ["LakeStore", "LakeGDAL", "LakeSQLite", "LakeSupport"], swiftSettings: hot),
        // Scenes (GeoTIFF/JP2 through GDAL) → signatures in the store.
        .target(name: "LakeExtract", dependencies: ["LakeStore", "LakeGDAL", "LakeSQLite", "LakeIngest", "LakeSupport"], swiftSettings: instrumented),
        // Store → answers.
        .target(name: "LakeQuery", dependencies: ["LakeStore", "LakeSQLite", "LakeSupport", "CProj"], swiftSettings: hot),
        // Store → analyses: series, screening, peers, heterogeneity, markers, crop checks,
        // decisions, runs, SQL functions. No GDAL: a command that only analyses never loads it.
        .target(name: "LakeAnalytics", dependencies: ["LakeStore", "LakeSQLite", "LakeQuery", "LakeSupport",
                                                     .product(name: "Yams", package: "Yams")],
                swiftSettings: hot),
        // A thematic raster + parcels → the JRC FOI assessment (borrows extraction's rasteriser).
        .target(name: "LakeFOI", dependencies: ["LakeAnalytics", "LakeExtract", "LakeGDAL", "LakeSQLite", "LakeStore"], swiftSettings: instrumented),
        .target(name: "LakeSQLiteExtension", dependencies: ["LakeAnalytics", "LakeSQLite"]),
        // Answers → files: CSV, JSON, GeoJSON (streaming).
        .target(name: "LakeReports", dependencies: ["LakeStore", "LakeSQLite", "LakeAnalytics", "LakeGDAL", "LakeSupport"]),

        // Store → the JRC query API over HTTP (`lake serve`).
        .target(name: "LakeServer", dependencies: ["LakeStore", "LakeQuery", "LakeAnalytics", "LakeSQLite", "LakeSupport", "LakeChips", "LakePlots",
                                                   .product(name: "Hummingbird", package: "hummingbird"),
                                                   .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                                                   .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOCore", package: "swift-nio")]),
        // Store ⇄ the JRC CbM database on PostgreSQL/PostGIS (`lake push`, `lake pull`), with
        // libpq's COPY; its tables in schema/postgis/*.sql.
        .target(name: "LakePostGIS", dependencies: ["CLibPQ", "LakeStore", "LakeSQLite", "LakeSupport", "LakeTransfer"],
                swiftSettings: instrumented, plugins: ["EmbedSchema"]),
        // Store → pictures: `lake plot` (SVG written by lake).
        .target(name: "LakePlots", dependencies: ["LakeStore", "LakeQuery", "LakeSQLite", "LakeSupport"], swiftSettings: instrumented),
        // Scenes → image chips around a parcel or a place (`lake chip`, the API's chip queries):
        // cut, resampled, outlined and written as PNG/GeoTIFF by GDAL.
        .target(name: "LakeChips", dependencies: ["LakeStore", "LakeQuery", "LakeSQLite", "LakeGDAL", "LakeExtract", "LakeSupport"],
                swiftSettings: instrumented),
        // Lake file ⇄ lake file: which parcels (selection), `lake subset`, `lake merge`.
        .target(name: "LakeTransfer", dependencies: ["LakeStore", "LakeSQLite", "LakeSupport"], swiftSettings: instrumented),
        // The command line: what both binaries share (options, errors, output, the commands
        // that need neither GDAL nor the analytics) …
        .target(name: "LakeCLI", dependencies: ["LakeStore", "LakeQuery", "LakeSupport",
                                                .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // … the fast front-end …
        .executableTarget(name: "lake", dependencies: [
            "LakeCLI", "LakeStore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], linkerSettings: [
            // The Swift runtime and Foundation's essentials linked in: no dynamic loading or
            // relocation of them at start (−2 ms of 10; BENCHMARKS, start-up).
            .unsafeFlags(["-static-stdlib", "-l_FoundationCShims", "-l_FoundationCollections", "-lswiftSynchronization"]),
        ]),
        // … the whole-lake analyses without GDAL (markers run, check crops, decide) …
        .target(name: "LakeAnalyticsCLI", dependencies: ["LakeCLI", "LakeAnalytics", "LakeStore",
                                                         .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "lake-analytics", dependencies: [
            "LakeAnalyticsCLI", "LakeCLI",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], linkerSettings: [
            .unsafeFlags(["-static-stdlib", "-lCoreFoundation", "-l_FoundationICU", "-lFoundationInternationalization",
                          "-l_FoundationCShims", "-l_FoundationCollections", "-lswiftSynchronization"]),
        ]),
        // … and every command.
        .executableTarget(name: "lake-full", dependencies: [
            "LakeCLI", "LakeAnalyticsCLI", "LakeStore", "LakeIngest", "LakeServer", "LakeExtract", "LakeQuery", "LakeAnalytics", "LakeFOI", "LakeReports",
            "LakePostGIS", "LakeTransfer", "LakePlots", "LakeChips",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Deterministic fixture generator (demo data, tests, benchmark scale).
        .executableTarget(name: "lake-fixtures", dependencies: [
            "LakeGDAL", "LakeSQLite",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "lake-bench", dependencies: ["LakeStore", "LakeQuery", "LakeAnalytics"]),
        // The fuzz driver: libFuzzer's entry point over every parser of outside input; built
        // normally it replays inputs given as arguments.
        .executableTarget(name: "lake-fuzz", dependencies: ["LakeIngest", "LakeAnalytics", "LakeQuery", "LakeStore"], swiftSettings: instrumented,
                          linkerSettings: fuzzing ? [.unsafeFlags(["-sanitize=fuzzer"])] : []),

        .testTarget(name: "LakeStoreTests", dependencies: ["LakeStore", "LakeSQLite", "LakeSupport", "LakeTestSupport"]),
        .target(name: "LakeTestSupport", dependencies: ["LakeStore", "LakeIngest"], path: "Tests/LakeTestSupport"),
        .testTarget(name: "LakeIngestTests", dependencies: ["LakeIngest", "LakeStore", "LakeQuery", "LakeGDAL", "LakeSupport", "LakeTestSupport"]),
        .testTarget(name: "LakeExtractTests", dependencies: ["LakeExtract", "LakeIngest", "LakeStore", "LakeQuery", "LakeGDAL", "LakeSQLite", "LakeTestSupport"],
                    exclude: ["Reference"]),
        .testTarget(name: "LakeAnalyticsTests", dependencies: ["LakeAnalytics", "LakeFOI", "LakeIngest", "LakeQuery", "LakeStore", "LakeSQLite", "LakeGDAL", "LakeTestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["LakeSQLite", "LakeGDAL"]),
    ]
)
