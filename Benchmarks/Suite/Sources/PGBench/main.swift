import AsyncHTTPClient
import BenchWorkload
import Foundation
import Host
import Hummingbird
import Logging
import NIOCore
import PluginAPI
import PostgresNIO

// Usage: pg-bench URL PLUGINS [records] [wrk_seconds] — prints one JSON object; progress on stderr.
// The store and read figures of the SQLite sections, on PostgreSQL, each beside an anchor in the same run:
//   ingest: the store's batched upsert (pages of 1000, a transaction each) vs multi-row inserts of the same rows
//           (UNNEST, pages of 1000, one transaction) into a table of the same shape, through postgres-nio.
//   reads:  wrk -c64 on the host's record route and the plugin's reused grade-stats route, vs a Hummingbird route
//           answering the same primary-key SELECT through postgres-nio (8 connections, as the store's pool).

let args = CommandLine.arguments
guard args.count >= 3 else { FileHandle.standardError.write(Data("usage: pg-bench URL PLUGINS [records] [wrk_seconds]\n".utf8)); exit(2) }
let url = args[1], plugins = URL(fileURLWithPath: args[2])
let total = args.count > 3 ? Int(args[3]) ?? 200_000 : 200_000
let wrkSeconds = args.count > 4 ? Int(args[4]) ?? 10 : 10
let pageSize = 1000
let clock = ContinuousClock()
func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
func say(_ s: String) { FileHandle.standardError.write(Data("pg-bench: \(s)\n".utf8)) }
// The host's own log handler, as `synchost serve` installs it (for the anchors too).
LogSetup.bootstrap(level: .error)
var logger = Logger(label: "pg-bench")
logger.logLevel = .error

// The anchor's connections: the same server, database and pool size as the store's.
guard let c = URLComponents(string: url), let host = c.host else { fatalError("not a PostgreSQL URL") }
var config = PostgresClient.Configuration(host: host, port: c.port ?? 5432, username: c.user ?? "postgres", password: c.password,
                                          database: String(c.path.dropFirst()), tls: .disable)
config.options.maximumConnections = 8
let pg = PostgresClient(configuration: config, backgroundLogger: logger)
let pgTask = Task { await pg.run() }

// The test databases' fixed key (scripts/bench.sh names its file).
let store = try await StoreFactory.open(url, logger: logger)
guard store.backend == "postgresql" else { fatalError("pg-bench needs PostgreSQL, got \(store.backend)") }
let run = UUID().uuidString.prefix(8).lowercased()

// --- ingest ---
say("ingest: \(total) CDRs, anchor first")
try await pg.query("DROP TABLE IF EXISTS bench_raw_records")
try await pg.query("""
    CREATE TABLE bench_raw_records (instance_id TEXT NOT NULL, collection TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL,
    hash TEXT NOT NULL, first_seen_at BIGINT NOT NULL, synced_at BIGINT NOT NULL, changed_at BIGINT NOT NULL, deleted_at BIGINT, seen_run TEXT,
    doc JSONB GENERATED ALWAYS AS (data::jsonb) STORED, PRIMARY KEY (instance_id, collection, key))
    """)
var rawTime = Duration.zero
try await pg.withTransaction(logger: logger) { conn in
    for start in stride(from: 0, to: total, by: pageSize) {
        let page = Workload.encodedPage(start: start, count: min(pageSize, total - start))
        let keys = page.map(\.key), data = page.map { String(decoding: $0.json, as: UTF8.self) }, hashes = page.map { ContentHash.of($0.json) }
        let t0 = clock.now
        try await conn.query("""
            INSERT INTO bench_raw_records (instance_id, collection, key, data, hash, first_seen_at, synced_at, changed_at)
            SELECT 'bench', 'cdrs', k, d, h, 1, 1, 1 FROM UNNEST(\(keys)::text[], \(data)::text[], \(hashes)::text[]) AS u(k, d, h)
            """, logger: logger)
        rawTime += clock.now - t0
    }
}
try await pg.query("DROP TABLE bench_raw_records")
say("ingest: the store's upsert")
let instance = "bench-\(run)"
var storeTime = Duration.zero
for start in stride(from: 0, to: total, by: pageSize) {
    let page = UpsertPage(collection: "cdrs", records: Workload.encodedPage(start: start, count: min(pageSize, total - start)).map { ($0.key, $0.json) })
    let t0 = clock.now
    _ = try await store.upsert(page, instance: instance, runID: nil, now: Date())
    storeTime += clock.now - t0
}
try await store.purge(instance: instance)

// --- reads ---
say("reads: a host on PostgreSQL")
let kernel = Kernel(pluginDirectory: plugins, logger: logger, store: store)
try kernel.registry.rescan()
let token = "bench-token"
let port = try await AdminServer(kernel: kernel, token: token).start().port
let g = "g-\(run)", date = "2026-11-20"
try await store.createInstance(InstanceRecord(id: g, plugin: "guanke", config: ["base_url": "http://127.0.0.1:9", "secret": "unused"]), schedules: [])
let stats: JSONValue = ["date": .string(date), "grade_1": 1234, "grade_9": 5678, "total_records": 200000, "total_success": 6912, "complete": true]
_ = try await store.upsert(UpsertPage(collection: "grade_stats", records: [(date, stats.jsonBytes)]), instance: g, runID: nil, now: Date())

// Anchor: the same primary-key read through postgres-nio behind a bare route.
let anchorRouter = Router()
// Captured, not read from the top level: the main actor is busy waiting for wrk.
anchorRouter.get("record") { [pg, logger, g, date] _, _ -> Response in
    var body = ByteBuffer()
    for try await (data,) in try await pg.query("SELECT data FROM records WHERE instance_id = \(g) AND collection = 'grade_stats' AND key = \(date)", logger: logger)
        .decode(String.self) { body.writeString(data) }
    return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
}
let (anchorStream, anchorCont) = AsyncStream<Int>.makeStream()
let anchorApp = Application(router: anchorRouter, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                            onServerRunning: { anchorCont.yield($0.localAddress?.port ?? 0) }, logger: logger)
Task { try await anchorApp.run() }
var anchorPort = 0
for await p in anchorStream { anchorPort = p; break }

// Each route answers correctly before it is measured.
for (target, auth) in [("http://127.0.0.1:\(anchorPort)/record", false), ("http://127.0.0.1:\(port)/api/v1/instances/\(g)/collections/grade_stats/\(date)", true),
                       ("http://127.0.0.1:\(port)/api/v1/plugins/guanke/instances/\(g)/grade-stats?date=\(date)", true)] {
    var req = HTTPClientRequest(url: target)
    if auth { req.headers.add(name: "authorization", value: "Bearer \(token)") }
    let r = try await HTTPClient.shared.execute(req, timeout: .seconds(30))
    let body = String(buffer: try await r.body.collect(upTo: 1 << 20))
    guard r.status == .ok, body.contains("5678") else { fatalError("\(target): \(r.status) \(body.prefix(200))") }
}
let anchor = try wrk("http://127.0.0.1:\(anchorPort)/record", bearer: nil, seconds: wrkSeconds, tool: "pg-bench")
let record = try wrk("http://127.0.0.1:\(port)/api/v1/instances/\(g)/collections/grade_stats/\(date)", bearer: token, seconds: wrkSeconds, tool: "pg-bench")
let route = try wrk("http://127.0.0.1:\(port)/api/v1/plugins/guanke/instances/\(g)/grade-stats?date=\(date)", bearer: token, seconds: wrkSeconds, tool: "pg-bench")
try await store.deleteInstance(id: g, purgeData: true, now: Date())
let version = try await pg.query("SELECT version()").collect().first?.decode(String.self) ?? "?"

let figures: [String: JSONValue] = [
    "server": .string(String(version.split(separator: " ").prefix(2).joined(separator: " "))),
    "records": .int(Int64(total)), "page_size": .int(Int64(pageSize)),
    "raw_insert_per_s": .double(Double(total) / seconds(rawTime)), "store_upsert_per_s": .double(Double(total) / seconds(storeTime)),
    "wrk_seconds": .int(Int64(wrkSeconds)),
    "anchor_rps": .double(anchor.rps), "anchor_p50_ms": .double(anchor.p50), "anchor_p99_ms": .double(anchor.p99),
    "record_rps": .double(record.rps), "record_p50_ms": .double(record.p50), "record_p99_ms": .double(record.p99),
    "route_rps": .double(route.rps), "route_p50_ms": .double(route.p50), "route_p99_ms": .double(route.p99),
]
print(String(decoding: try WireJSON.encode(figures), as: UTF8.self))
pgTask.cancel()
exit(0)
