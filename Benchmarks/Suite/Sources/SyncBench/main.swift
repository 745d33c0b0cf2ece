import AsyncHTTPClient
import NIOCore
import NIOFoundationCompat
import BenchWorkload
import Foundation
import Host
import Logging
import PluginAPI
import RawInsertAnchor
import VOSSimulator

// Usage:
//   sync-bench sim CDRS ACCOUNTS [DATE]   — a VOS node simulator in its own process, DATE's GetCdr answers rendered
//                                           ahead (so the simulator is not what is measured); prints its URL; stops
//                                           when stdin closes
//   sync-bench run PLUGINS DIR URL DATE [WORKER] — a full `cdrs` sync of DATE through the dlopen'd libVOS.so (in a
//                                           worker process `WORKER plugin-worker` when given); prints one JSON object
// Figure: the whole sync (HTTP from the simulator, JSON parsing and keying in the plugin, the ABI, the store).
// Anchor for the store's share: the same records upserted again into a fresh instance with the same page
// size, store calls only. Anchor for the wire: the same GetCdr answers fetched by a plain HTTP client and
// discarded (what the simulator and loopback can serve). Peak RSS is this process's (the simulator runs in another one).

let args = CommandLine.arguments
let clock = ContinuousClock()
func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

if args.count > 1 && args[1] == "sim" {
    var data = VOSSimulator.Data()
    data.cdrsPerDay = Int(args[2]) ?? 1_000_000
    data.customers = Int(args[3]) ?? 20
    let sim = VOSSimulator(data)
    if args.count > 4 { try sim.prerender(day: args[4].replacingOccurrences(of: "-", with: "")) }
    let url = try await sim.start()
    print(url)
    fflush(nil)
    _ = FileHandle.standardInput.readDataToEndOfFile()
    sim.stop()
    exit(0)
}

guard args.count >= 6, args[1] == "run" else {
    FileHandle.standardError.write(Data("usage: sync-bench sim CDRS ACCOUNTS [DATE] | sync-bench run PLUGINS DIR URL DATE [WORKER]\n".utf8))
    exit(2)
}
let plugins = URL(fileURLWithPath: args[2]), dir = URL(fileURLWithPath: args[3]), url = args[4], date = args[5]
var logger = Logger(label: "sync-bench")
logger.logLevel = .error
let store = try await StoreFactory.open(.sqlite(path: dir.appendingPathComponent("sync.db").path), logger: Logger(label: "bench"))
let worker = args.count > 6 ? args[6] : nil
let kernel = Kernel(pluginDirectory: plugins, logger: logger, store: store,
                    isolation: worker.map { IsolationPolicy(plugins: ["all"], workerExecutable: URL(fileURLWithPath: $0)) } ?? IsolationPolicy())
try kernel.registry.rescan()
let manager = kernel.instances!
_ = try await manager.create(id: "node", plugin: "vos", config: [
    "base_url": .string(url), "cdr_pacing_ms": 0, "backfill_days": 0, "timeout_ms": 600_000,
])
// The create hook queued the customers job; run the CDR day directly (no scheduler in this process).
Workload.resetPeakRSS()
let queued = try await manager.enqueue(instance: "node", job: "cdrs", params: ["date": .string(date)], dryRun: false, trigger: "manual")
let instance = try await store.instance(id: "node")!.info
let started = clock.now
let run = try await kernel.runner!.execute(queued, instance: instance)
let syncTime = seconds(clock.now - started)
let syncRSS = Workload.peakRSSMiB()
guard run.status == .succeeded else { fatalError("sync failed: \(run.status) \(run.error ?? "")") }
guard (worker == nil) == (kernel.registry.plugin(named: "vos")?.isolation == "in-process") else { fatalError("vos did not run in the mode asked") }
if worker != nil {
    // The figure that matters in process mode is the sync's wall time; the anchors are the in-process run's.
    kernel.registry.shutdown()
    print(String(decoding: try JSONSerialization.data(withJSONObject: ["records": run.counts.fetched, "sync_s": syncTime, "peak_rss_mib": syncRSS] as [String: Any],
                                                      options: [.sortedKeys]), as: UTF8.self))
    exit(0)
}

// Anchor: the store alone, the same records (read back), the same page size, into a fresh instance.
var pages: [[(key: String, data: [UInt8])]] = []
var q = RecordQuery()
q.limit = 5_000
repeat {
    let page = try await store.records(instance: "node", collection: "cdrs", query: q)
    var rows = page.records.map { (key: $0.key, data: $0.data) }
    while !rows.isEmpty {
        pages.append(Array(rows.prefix(5_000)))
        rows.removeFirst(min(5_000, rows.count))
    }
    q.cursor = page.nextCursor
} while q.cursor != nil
var storeTime = Duration.zero
for p in pages {
    let page = UpsertPage(collection: "cdrs", records: p)
    storeTime += try await clock.measure { _ = try await store.upsert(page, instance: "anchor", runID: "a", now: Date()) }
}
// Anchor for the whole: raw sqlite3 prepared inserts of these same records (the bytes the sync stored), one
// transaction, as the store section's anchor does for its generated CDRs.
var nextPage = 0
let raw = RawInsertAnchor.run(path: dir.appendingPathComponent("raw.db").path) { () -> [(key: String, json: [UInt8])]? in
    guard nextPage < pages.count else { return nil }
    defer { nextPage += 1 }
    return pages[nextPage].map { (key: $0.key, json: $0.data) }
}
// Anchor for the wire: every account's GetCdr for the day, as the plugin asks for it, fetched and discarded.
func fetchAll() async throws -> (seconds: Double, bytes: Int) {
    func post(_ op: String, _ body: String) async throws -> ByteBuffer {
        var req = HTTPClientRequest(url: "\(url)/external/server/\(op)")
        req.method = .POST
        req.headers.add(name: "content-type", value: "text/html;charset=UTF-8")
        req.body = .bytes(ByteBuffer(string: body))
        let r = try await HTTPClient.shared.execute(req, timeout: .seconds(600))
        guard r.status == .ok else { fatalError("\(op): HTTP \(r.status)") }
        return try await r.body.collect(upTo: 1 << 31)
    }
    let listed = try JSONSerialization.jsonObject(with: Data(buffer: try await post("GetAllCustomers", "{}"))) as? [String: Any]
    guard let accounts = listed?["accounts"] as? [String] else { fatalError("GetAllCustomers: no accounts") }
    let compact = date.replacingOccurrences(of: "-", with: "")
    let started = clock.now
    var bytes = 0
    for a in accounts {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: ["accounts": [a], "beginTime": compact, "endTime": compact]), as: UTF8.self)
        bytes += try await post("GetCdr", body).readableBytes
    }
    return (seconds(clock.now - started), bytes)
}
let wire = try await fetchAll()
let storedBytes = pages.reduce(0) { $0 + $1.reduce(0) { $0 + $1.data.count } }
let records = run.counts.fetched
let out: [String: Any] = [
    "records": records, "inserted": run.counts.inserted, "accounts": run.counts.pages,
    "sync_s": syncTime, "sync_per_s": Double(records) / syncTime, "store_only_s": seconds(storeTime),
    "store_only_per_s": Double(records) / seconds(storeTime), "store_share": seconds(storeTime) / syncTime, "peak_rss_mib": syncRSS,
    "raw_same_records_per_s": raw.perSecond, "bytes_per_record": storedBytes / max(records, 1),
    "wire_s": wire.seconds, "wire_per_s": Double(records) / wire.seconds, "wire_mib": Double(wire.bytes) / 1_048_576,
]
print(String(decoding: try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys]), as: UTF8.self))
