import BenchWorkload
import Foundation
import Host
import Logging
import PluginAPI
import RawInsertAnchor

// Usage: store-bench DIR [records] [page_size] — prints one JSON object of figures.
// Anchor: raw sqlite3 prepared inserts of the same rows (same table shape and primary key) in one
// transaction. Figure: the store's batched upsert, one transaction per page, with hashing, change detection
// and cursor. Record generation is outside both timings.

let args = CommandLine.arguments
let dir = URL(fileURLWithPath: args.count > 1 ? args[1] : NSTemporaryDirectory())
let total = args.count > 2 ? Int(args[2]) ?? 1_000_000 : 1_000_000
let pageSize = args.count > 3 ? Int(args[3]) ?? 1_000 : 1_000
let clock = ContinuousClock()
func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

// --- anchor: raw prepared inserts, one transaction ---
Workload.resetPeakRSS()
var next = 0
let raw = RawInsertAnchor.run(path: dir.appendingPathComponent("raw.db").path) { () -> [(key: String, json: [UInt8])]? in
    guard next < total else { return nil }
    defer { next += pageSize }
    return Workload.encodedPage(start: next, count: min(pageSize, total - next))
}
let rawRSS = Workload.peakRSSMiB()

// --- figure: the store's batched upsert ---
let storePath = dir.appendingPathComponent("store.db").path
for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: storePath + suffix) }
let store = try await StoreFactory.open(.sqlite(path: storePath), logger: Logger(label: "bench"))
Workload.resetPeakRSS()
var storeTime = Duration.zero
var counts = RunCounts()
for start in stride(from: 0, to: total, by: pageSize) {
    let records = Workload.encodedPage(start: start, count: min(pageSize, total - start))
    let page = UpsertPage(collection: "cdrs", records: records.map { ($0.key, $0.json) }, cursor: .init(stream: "cdrs", value: .int(Int64(start))))
    let t0 = clock.now
    counts += try await store.upsert(page, instance: "bench", runID: "bench-run", now: Date())
    storeTime += clock.now - t0
}
precondition(counts.inserted == total)
let storeRSS = Workload.peakRSSMiB()

// --- second pass: the same records again (all unchanged: the steady state of a re-sync) ---
var resyncTime = Duration.zero
var again = RunCounts()
for start in stride(from: 0, to: total, by: pageSize) {
    let records = Workload.encodedPage(start: start, count: min(pageSize, total - start))
    let page = UpsertPage(collection: "cdrs", records: records.map { ($0.key, $0.json) })
    let t0 = clock.now
    again += try await store.upsert(page, instance: "bench", runID: "bench-run-2", now: Date())
    resyncTime += clock.now - t0
}
precondition(again.unchanged == total)

let bytesPerRecord = Workload.encodedPage(start: 0, count: 100).reduce(0) { $0 + $1.json.count } / 100
let figures: [String: JSONValue] = [
    "records": .int(Int64(total)), "page_size": .int(Int64(pageSize)), "bytes_per_record": .int(Int64(bytesPerRecord)),
    "raw_insert_per_s": .double(raw.perSecond),
    "store_upsert_per_s": .double(Double(total) / seconds(storeTime)),
    "store_resync_unchanged_per_s": .double(Double(total) / seconds(resyncTime)),
    "raw_peak_rss_mib": .double(rawRSS), "store_peak_rss_mib": .double(storeRSS),
]
print(String(decoding: try WireJSON.encode(figures), as: UTF8.self))
