import BenchWorkload
import Foundation
import CSQLite
import Host
import Logging
import PluginAPI

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

func check(_ rc: Int32, _ db: OpaquePointer?, _ what: String) {
    guard rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW else {
        fatalError("\(what): \(String(cString: sqlite3_errmsg(db)))")
    }
}

// --- anchor: raw prepared inserts, one transaction ---
let rawPath = dir.appendingPathComponent("raw.db").path
try? FileManager.default.removeItem(atPath: rawPath)
var db: OpaquePointer?
check(sqlite3_open(rawPath, &db), db, "open")
check(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", nil, nil, nil), db, "pragma")
check(sqlite3_exec(db, """
    CREATE TABLE records (instance_id TEXT NOT NULL, collection TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL,
    hash TEXT NOT NULL, first_seen_at INTEGER NOT NULL, synced_at INTEGER NOT NULL, changed_at INTEGER NOT NULL,
    deleted_at INTEGER, seen_run TEXT, PRIMARY KEY (instance_id, collection, key))
    """, nil, nil, nil), db, "create")
var stmt: OpaquePointer?
check(sqlite3_prepare_v2(db, "INSERT INTO records (instance_id, collection, key, data, hash, first_seen_at, synced_at, changed_at) VALUES (?,?,?,?,?,?,?,?)", -1, &stmt, nil), db, "prepare")
let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
Workload.resetPeakRSS()
var rawTime = Duration.zero
check(sqlite3_exec(db, "BEGIN", nil, nil, nil), db, "begin")
for start in stride(from: 0, to: total, by: pageSize) {
    let page = Workload.encodedPage(start: start, count: min(pageSize, total - start))
    let hashes = page.map { ContentHash.of($0.json) }
    rawTime += clock.measure {
        for (i, r) in page.enumerated() {
            sqlite3_bind_text(stmt, 1, "bench", -1, transient)
            sqlite3_bind_text(stmt, 2, "cdrs", -1, transient)
            sqlite3_bind_text(stmt, 3, r.key, -1, transient)
            r.json.withUnsafeBufferPointer { b in
                _ = b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { sqlite3_bind_text(stmt, 4, $0, Int32(b.count), transient) }
            }
            sqlite3_bind_text(stmt, 5, hashes[i], -1, transient)
            sqlite3_bind_int64(stmt, 6, 1)
            sqlite3_bind_int64(stmt, 7, 1)
            sqlite3_bind_int64(stmt, 8, 1)
            check(sqlite3_step(stmt), db, "step")
            sqlite3_reset(stmt)
        }
    }
}
rawTime += clock.measure { check(sqlite3_exec(db, "COMMIT", nil, nil, nil), db, "commit") }
sqlite3_finalize(stmt)
sqlite3_close(db)
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
    "raw_insert_per_s": .double(Double(total) / seconds(rawTime)),
    "store_upsert_per_s": .double(Double(total) / seconds(storeTime)),
    "store_resync_unchanged_per_s": .double(Double(total) / seconds(resyncTime)),
    "raw_peak_rss_mib": .double(rawRSS), "store_peak_rss_mib": .double(storeRSS),
]
print(String(decoding: try WireJSON.encode(figures), as: UTF8.self))
