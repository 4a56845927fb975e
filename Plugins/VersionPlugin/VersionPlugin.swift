import Foundation
import PackagePlugin

/// Writes the smegmesh version into the target it is applied to before every build, from
/// debian/changelog or SMEG_VERSION (scripts/version.sh); the file is rewritten only when the
/// version changes, so an unchanged version costs no recompilation.
@main
struct VersionPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "Generated")
        let script = context.package.directoryURL.appending(path: "scripts/version.sh")
        var environment: [String: String] = [:]
        if let version = ProcessInfo.processInfo.environment["SMEG_VERSION"] {
            environment["SMEG_VERSION"] = version
        }
        return [
            .prebuildCommand(
                displayName: "smegmesh version",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [script.path, "--swift", output.path],
                environment: environment,
                outputFilesDirectory: output)
        ]
    }
}
