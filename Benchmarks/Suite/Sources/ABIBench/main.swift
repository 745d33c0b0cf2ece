import BenchWorkload
import Foundation
import Host
import Logging
import PluginAPI

// Usage: abi-bench PLUGIN_DIR [records] [page_size] — prints one JSON object of figures.

/// The store side of the benchmark: parses each page like the real store and counts its records.
struct CountingStore: HostService {
    func handle(op: String, request: [UInt8], session: SessionContext) async throws -> [UInt8] {
        let page = try UpsertPage.parse(request)
        return try WireJSON.encode(RunCounts(inserted: page.records.count))
    }
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }


let args = CommandLine.arguments
let pluginDir = URL(fileURLWithPath: args.count > 1 ? args[1] : "plugins")
let total = args.count > 2 ? Int(args[2]) ?? 1_000_000 : 1_000_000
let pageSize = args.count > 3 ? Int(args[3]) ?? 1_000 : 1_000
let pings = 20_000

let store = CountingStore()
let clock = ContinuousClock()
let instance = InstanceInfo(id: "b1", plugin: "abibench", config: ["k": "v"])
let context = SessionContext(plugin: "abibench", instance: instance)
let bareCalls = 200_000

/// The crossings through one kernel's plugins: in process, or each plugin in its worker process.
struct Crossings {
    var ping = Duration.zero, bare = Duration.zero, push = Duration.zero
}

@MainActor func measure(isolation: IsolationPolicy) async throws -> Crossings {
    let kernel = Kernel(pluginDirectory: pluginDir, logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }, storeService: store,
                        isolation: isolation)
    try kernel.registry.rescan()
    guard let plugin = kernel.registry.plugin(named: "abibench") else {
        fatalError("abibench plugin not loaded from \(pluginDir.path): \(kernel.registry.entries.map { $0.failureReason ?? "" })")
    }
    defer { kernel.registry.shutdown() }
    var c = Crossings()
    // Round trip: host -> plugin (run "ping") -> host (config.get) -> plugin -> host.
    let pingRequest = RunRequest(runID: "p", job: "ping", instance: instance)
    for _ in 0..<500 { _ = try await plugin.invoke(PluginOperation.run, pingRequest, as: RunResult.self, context: context) }
    c.ping = try await clock.measure {
        for _ in 0..<pings { _ = try await plugin.invoke(PluginOperation.run, pingRequest, as: RunResult.self, context: context) }
    }
    // The bare crossing: host -> C plugin ("echo", answered inside the call) -> host completion, 64 bytes each way.
    // Detached: top-level code is on the main actor, and hopping to and from it would be measured instead.
    if let echo = kernel.registry.plugin(named: "tiny_c") {
        let payload = [UInt8](repeating: 42, count: 64)
        let ctx = SessionContext(plugin: "tiny_c")
        let bareCalls = bareCalls
        c.bare = try await Task.detached {
            for _ in 0..<1000 { _ = try await echo.invoke("echo", request: payload, context: ctx) }
            return try await ContinuousClock().measure {
                for _ in 0..<bareCalls { _ = try await echo.invoke("echo", request: payload, context: ctx) }
            }
        }.value
    }
    let pushRequest = RunRequest(runID: "t", job: "push", instance: instance, params: ["total": .int(Int64(total)), "page_size": .int(Int64(pageSize))])
    c.push = try await clock.measure {
        let r = try await plugin.invoke(PluginOperation.run, pushRequest, as: RunResult.self, context: context)
        precondition(r.counts.inserted == total)
    }
    return c
}

let inKernel = try await measure(isolation: IsolationPolicy())
// The same plugins, each in a worker process (`--isolate all`), when the worker binary is given.
let worker = ProcessInfo.processInfo.environment["BENCH_WORKER"]
var isolated: Crossings?
if let worker { isolated = try await measure(isolation: IsolationPolicy(plugins: ["all"], workerExecutable: URL(fileURLWithPath: worker))) }

// The same work in-process: encode the request, decode it, call the config service, encode and decode the result.
let config = ConfigService()
let inProcessPing = try await clock.measure {
    for _ in 0..<pings {
        let req = try WireJSON.decode(RunRequest.self, from: try WireJSON.encode(RunRequest(runID: "p", job: "ping", instance: instance)))
        _ = try WireJSON.decode([String: JSONValue].self, from: try await config.handle(op: "get", request: [], session: SessionContext(plugin: "abibench", instance: req.instance)))
        _ = try WireJSON.decode(RunResult.self, from: try WireJSON.encode(RunResult()))
    }
}
@inline(never) func inProcessEcho(_ bytes: [UInt8]) async -> [UInt8] {
    await withCheckedContinuation { (c: CheckedContinuation<[UInt8], Never>) in c.resume(returning: Array(bytes)) }
}
let bareInProcess = await Task.detached {
    let payload = [UInt8](repeating: 42, count: 64)
    return await ContinuousClock().measure {
        for _ in 0..<bareCalls { _ = await inProcessEcho(payload) }
    }
}.value
// Throughput: `total` CDRs in pages, plugin -> host store through the ABI vs the same code in-process.
let inProcessPush = try await clock.measure {
    let c = try await Workload.push(total: total, pageSize: pageSize) { collection, records in
        let bytes = try StoreService.upsertPayload(.init(collection: collection), records.map { ($0.key, $0.data.jsonBytes) })
        return try WireJSON.decode(RunCounts.self, from: try await store.handle(op: "upsert", request: bytes, session: context))
    }
    precondition(c.inserted == total)
}
let bareABI = inKernel.bare, abiPing = inKernel.ping, abiPush = inKernel.push

let figures: [String: JSONValue] = [
    "round_trips": .int(Int64(pings)),
    "bare_calls": .int(Int64(bareCalls)),
    "bare_abi_ns": .double(seconds(bareABI) / Double(bareCalls) * 1e9),
    "bare_in_process_ns": .double(seconds(bareInProcess) / Double(bareCalls) * 1e9),
    "abi_round_trip_us": .double(seconds(abiPing) / Double(pings) * 1e6),
    "in_process_round_trip_us": .double(seconds(inProcessPing) / Double(pings) * 1e6),
    "records": .int(Int64(total)),
    "page_size": .int(Int64(pageSize)),
    "abi_records_per_s": .double(Double(total) / seconds(abiPush)),
    "in_process_records_per_s": .double(Double(total) / seconds(inProcessPush)),
    "peak_rss_mib": .double(Workload.peakRSSMiB()),
    "process_bare_ns": isolated.map { .double(seconds($0.bare) / Double(bareCalls) * 1e9) } ?? .null,
    "process_round_trip_us": isolated.map { .double(seconds($0.ping) / Double(pings) * 1e6) } ?? .null,
    "process_records_per_s": isolated.map { .double(Double(total) / seconds($0.push)) } ?? .null,
]
print(String(decoding: try WireJSON.encode(figures), as: UTF8.self))
