import Foundation
import PackagePlugin

/// Embeds the SQL migrations in `schema/` into the target as Swift string literals, so that
/// `schema/` stays the single source of truth and the `lake` binary needs no files at run time.
@main
struct EmbedSchema: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        // LakePostGIS embeds the PostgreSQL tables of `lake push`/`lake pull` (schema/postgis),
        // every other target lake's own migrations (schema/).
        let plain = target.name == "LakePostGIS"
        let schemaDir = context.package.directoryURL.appending(path: plain ? "schema/postgis" : "schema")
        let files = try FileManager.default.contentsOfDirectory(atPath: schemaDir.path)
            .filter { $0.hasSuffix(".sql") }.sorted()
            .map { schemaDir.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedSchema.swift")
        return [.buildCommand(
            displayName: "Embedding \(files.count) schema migrations",
            executable: try context.tool(named: "EmbedSchemaTool").url,
            arguments: (plain ? ["--plain"] : []) + [output.path] + files.map(\.path),
            inputFiles: files,
            outputFiles: [output])]
    }
}
