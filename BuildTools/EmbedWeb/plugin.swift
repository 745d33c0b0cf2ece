import Foundation
import PackagePlugin

/// Embeds the admin page's files (`Sources/Host/Admin/Web`) in the Host module at build time as generated Swift
/// (`WebAssets.files`), so the synchost binary carries them and stays one file, and an edited file is rebuilt in.
@main
struct EmbedWeb: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let module = target as? SourceModuleTarget else { return [] }
        // (`directory` rather than `directoryURL`: the package's tools version is 6.0.)
        let web = URL(fileURLWithPath: module.directory.string).appending(path: "Admin/Web")
        let files = try FileManager.default.contentsOfDirectory(at: web, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appending(path: "WebAssets.swift")
        return [
            .buildCommand(displayName: "Embedding the admin page (\(files.count) files)", executable: try context.tool(named: "EmbedWebTool").url,
                          arguments: [output.path] + files.map(\.path), inputFiles: files, outputFiles: [output])
        ]
    }
}
