import ArgumentParser
import Foundation
import PluginAPI

/// Runs one job of a plugin once, against the store, without a scheduler or an admin API: the low-level
/// tool behind sync debugging and the crash tests.
struct RunOnceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-once", abstract: "Run one job of a plugin once against the store and print the run.")

    @OptionGroup var host: HostOptions
    @Option(help: "Database: a SQLite path (default <data-dir>/synchost.db) or a postgres:// URL.") var database: String?
    @Argument(help: "Plugin name.") var plugin: String
    @Argument(help: "Job name.") var job: String
    @Option(help: "Instance id the data belongs to.") var instance: String = "default"
    @Option(help: "Instance configuration as a JSON object.") var config: String = "{}"
    @Option(name: .customLong("param"), help: "Job parameter key=value (repeatable); values parse as JSON when they can.") var params: [String] = []
    @Flag(help: "Fetch everything, write nothing; report what would change.") var dryRun = false

    func run() async throws {
        let logger = try host.bootstrapLogging(default: .warning)
        let location = database ?? host.dataDirectoryURL.appendingPathComponent("synchost.db").path
        let store = try await StoreFactory.open(location, logger: logger, secretKeys: host.secretKeys(for: location))
        let kernel = try await host.makeKernel(store: store)
        guard let handle = kernel.registry.plugin(named: plugin) else {
            throw ValidationError("no loaded plugin named \(plugin.debugDescription); see `synchost plugins list`")
        }
        guard let spec = handle.manifest.job(named: job) else {
            throw ValidationError("\(plugin) has no job \(job.debugDescription) (jobs: \(handle.manifest.jobs.map(\.name).joined(separator: ", ")))")
        }
        let rawConfig: [String: JSONValue]
        do { rawConfig = try WireJSON.decode([String: JSONValue].self, from: Array(config.utf8)) } catch {
            throw ValidationError("--config must be a JSON object")
        }
        let checkedConfig = try ConfigSchema.validated(rawConfig, against: handle.manifest.config)
        var parsed: [String: JSONValue] = [:]
        for p in params {
            guard let eq = p.firstIndex(of: "="), eq != p.startIndex else { throw ValidationError("--param \(p.debugDescription): expected key=value") }
            let value = String(p[p.index(after: eq)...])
            parsed[String(p[..<eq])] = (try? WireJSON.decode(JSONValue.self, from: Array(value.utf8))) ?? .string(value)
        }
        let checkedParams = try ConfigSchema.validated(parsed, against: spec.params, what: "param")
        let info = InstanceInfo(id: instance, plugin: plugin, config: checkedConfig)
        let runner = JobRunner(registry: kernel.registry, store: store, logger: kernel.logger)
        print("run: \(plugin)/\(job) for instance \(instance)\(dryRun ? " (dry run)" : "")")
        let run = try await runner.execute(RunRecord(instance: instance, job: job, trigger: "manual", params: checkedParams, dryRun: dryRun), instance: info)
        let c = run.counts
        print("\(run.status.rawValue): fetched \(c.fetched), inserted \(c.inserted), updated \(c.updated), unchanged \(c.unchanged), deleted \(c.deleted)")
        if let m = run.message { print(m) }
        if let e = run.error { print("error: \(e)") }
        print("run id: \(run.id)")
        if run.status != .succeeded { throw ExitCode(1) }
    }
}
