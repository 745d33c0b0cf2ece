import ArgumentParser
import Foundation

/// `synchost plugin-worker FILE`: what the host starts for a plugin it isolates (`--isolate`). It speaks frames on
/// fd 0 (a socket pair with the host); not for people to run.
struct PluginWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugin-worker", abstract: "Run one plugin .so for a host that isolates it (started by the host, frames on fd 0).",
        shouldDisplay: false)

    @Argument(help: "The plugin file.") var file: String
    @Option(name: .customLong("memory-mb"), help: "RLIMIT_DATA in MiB.") var memoryMB: Int?
    @Option(name: .customLong("cpu-seconds"), help: "RLIMIT_CPU in seconds.") var cpuSeconds: Int?

    func run() async throws {
        // The frames are read on a thread of their own; the concurrency pool stays the plugin's. The worker ends
        // by exit() (shutdown, or the host gone).
        PluginWorkerProcess.start(file: URL(fileURLWithPath: file), memoryMB: memoryMB, cpuSeconds: cpuSeconds)
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
}
