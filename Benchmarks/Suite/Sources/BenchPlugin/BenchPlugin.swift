import BenchWorkload
import PluginAPI

/// Jobs: "ping" (one host service call), "push" (params total, page_size: records into the store).
struct BenchConnector: Connector {
    static let manifest = PluginManifest(
        name: "abibench", version: "1.0.0", kind: .connector, description: "ABI benchmark",
        jobs: [JobSpec("ping", description: "one config.get"), JobSpec("push", description: "pages of CDRs into the store")])

    func run(job: String, context: JobContext) async throws -> RunResult {
        switch job {
        case "ping":
            _ = try await context.host.config()
            return RunResult()
        default:
            let total = try context.params.int("total") ?? 1_000_000
            let pageSize = try context.params.int("page_size") ?? 1_000
            let counts = try await Workload.push(total: total, pageSize: pageSize) { try await context.store.upsert($0, $1) }
            return RunResult(counts: counts)
        }
    }
}

@_cdecl("synchost_plugin_entry_v1")
public func synchostPluginEntry(_ host: UnsafePointer<sh_host_api>?, _ abi: UInt32) -> UnsafePointer<sh_plugin_descriptor>? {
    PluginExport.connector(BenchConnector.self, host: host, abi: abi)
}
