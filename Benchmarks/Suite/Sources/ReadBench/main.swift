import AsyncHTTPClient
import BenchWorkload
import Foundation
import GuankeSimulator
import Host
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import HTTPTypes
import PluginAPI

// Usage: read-bench PLUGINS DIR [records] [page_latency_ms] [wrk_seconds] — prints one JSON object.
//   start-up: kernel + every plugin in PLUGINS loaded + admin API answering /healthz, beside a bare Hummingbird
//             app's start to its first answer (same process); idle RSS after start-up.
//   reads:    wrk -c64 against a bare Hummingbird route (anchor), the cached grade-stats route, a collection read.
//   live:     the same grade-stats date computed live from the Guanke simulator (pages slowed by page_latency_ms,
//             to stand for the legacy platform's 17–30 s days).

let args = CommandLine.arguments
guard args.count >= 3 else { FileHandle.standardError.write(Data("usage: read-bench PLUGINS DIR [records] [page_latency_ms] [wrk_seconds]\n".utf8)); exit(2) }
let plugins = URL(fileURLWithPath: args[1]), dir = URL(fileURLWithPath: args[2])
let records = args.count > 3 ? Int(args[3]) ?? 200_000 : 200_000
let latency = args.count > 4 ? Int(args[4]) ?? 100 : 100
let wrkSeconds = args.count > 5 ? Int(args[5]) ?? 10 : 10
let clock = ContinuousClock()
func ms(_ d: Duration) -> Double { (Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18) * 1000 }
func rssMiB() -> Double {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
}
// The host's own log handler, as `synchost serve` installs it (for the anchors too).
LogSetup.bootstrap(level: .error)
var logger = Logger(label: "read-bench")
logger.logLevel = .error

func serve<Context: RequestContext>(_ router: Router<Context>, logger: Logger) async throws -> Int where Context.Source == ApplicationRequestContextSource {
    let (stream, cont) = AsyncStream<Int>.makeStream()
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                          onServerRunning: { cont.yield($0.localAddress?.port ?? 0) }, logger: logger)
    Task { try await app.run() }
    for await p in stream { return p }
    return 0
}

func get(_ url: String, token: String? = nil) async throws -> (Int, String) {
    var req = HTTPClientRequest(url: url)
    if let token { req.headers.add(name: "authorization", value: "Bearer \(token)") }
    let r = try await HTTPClient.shared.execute(req, timeout: .seconds(600))
    return (Int(r.status.code), String(buffer: try await r.body.collect(upTo: 1 << 24)))
}

// --- start-up: every plugin loaded and /healthz answered ---
let t0 = clock.now
let store = try await StoreFactory.open(.sqlite(path: dir.appendingPathComponent("read.db").path), logger: Logger(label: "bench"))
let kernel = Kernel(pluginDirectory: plugins, logger: logger, store: store)
try kernel.registry.rescan()
let token = "bench-token"
let port = try await AdminServer(kernel: kernel, token: token).start().port
let (healthStatus, _) = try await get("http://127.0.0.1:\(port)/healthz")
let startupMs = ms(clock.now - t0)
guard healthStatus == 200 else { fatalError("healthz: \(healthStatus)") }
let loaded = kernel.registry.entries.filter(\.isLoaded).count
try await Task.sleep(for: .seconds(2))
let idleRSS = rssMiB()
// Anchor: a bare Hummingbird app, started and answering in the same process.
let t1 = clock.now
let bareRouter = Router()
let payload = ByteBuffer(string: #"{"date":"2026-11-20","grade_1":1234,"grade_9":5678,"total_records":200000,"total_success":6912,"source":"cache"}"#)
bareRouter.get("bare") { _, _ in Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: payload)) }
let barePort = try await serve(bareRouter, logger: logger)
_ = try await get("http://127.0.0.1:\(barePort)/bare")
let bareStartupMs = ms(clock.now - t1)

// --- the day: synced once from the (slow) simulator, then read from the cache ---
let date = "2026-11-20"
var data = GuankeSimulator.Data()
data.recordsPerDay = { $0 == date ? records : 0 }
let sim = GuankeSimulator(data)
try await sim.start()
sim.faults.pageLatencyMs = latency
_ = try await kernel.instances!.create(id: "g", plugin: "guanke", config: ["base_url": .string(sim.server.baseURL), "secret": .string(sim.data.secret)])
let api = "http://127.0.0.1:\(port)/api/v1"
let t2 = clock.now
let (liveStatus, liveBody) = try await get("\(api)/plugins/guanke/instances/g/grade-stats?date=\(date)&cache=live", token: token)
let liveMs = ms(clock.now - t2)
guard liveStatus == 200, liveBody.contains("\"total_records\":\(records)") else { fatalError("live read: \(liveStatus) \(liveBody.prefix(300))") }

// Second anchor: the host's own middleware (security headers, metrics, error mapping, token check) in front of a
// static body of the record route's size — what is left of the gap to the host route is the read path.
let routeURL = "\(api)/plugins/guanke/instances/g/grade-stats?date=\(date)"
let recordURL = "\(api)/instances/g/collections/grade_stats/\(date)"
let (_, recordBody) = try await get(recordURL, token: token)
let (_, routeBody) = try await get(routeURL, token: token)
let sameSize = ByteBuffer(string: recordBody)
let middlewareRouter = Router(context: AdminRequestContext.self)
middlewareRouter.add(middleware: SecurityHeadersMiddleware(tls: false))
middlewareRouter.add(middleware: MetricsMiddleware())
middlewareRouter.add(middleware: ErrorMappingMiddleware())
middlewareRouter.group("api/v1").add(middleware: AccessMiddleware(authority: TokenAuthority(bootstrap: token, store: store))).get("static") { _, _ in
    Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: sameSize))
}
let middlewarePort = try await serve(middlewareRouter, logger: logger)
let middlewareURL = "http://127.0.0.1:\(middlewarePort)/api/v1/static"

// The request path without the network (READ_BENCH_RESPONDER=N): each target's responder called N times in this task,
// the response body written to a discarding writer; ns per request. For finding what a route costs, not a figure.
if let n = ProcessInfo.processInfo.environment["READ_BENCH_RESPONDER"].flatMap(Int.init) {
    struct Discard: ResponseBodyWriter {
        mutating func write(_ buffer: ByteBuffer) async throws {}
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
    let channel = EmbeddedChannel()
    let source = ApplicationRequestContextSource(channel: channel, logger: logger)
    func request(_ url: String, _ token: String?) -> Request {
        let path = String(url.drop { $0 != "/" }.dropFirst(2).drop { $0 != "/" })
        var fields = HTTPFields()
        if let token { fields[.authorization] = "Bearer \(token)" }
        return Request(head: HTTPRequest(method: .get, scheme: "http", authority: "127.0.0.1", path: path, headerFields: fields), body: RequestBody(buffer: ByteBuffer()))
    }
    func time<R: HTTPResponder>(_ name: String, _ responder: R, _ url: String, _ token: String?, context: () -> R.Context) async throws {
        let req = request(url, token)
        let context = context()
        // Off the main actor, as a connection's task is.
        let ns = try await Task.detached {
            var ns = 0.0
            for _ in 0..<3 {
                let t = ContinuousClock.now
                for _ in 0..<n {
                    let response = try await responder.respond(to: req, context: context)
                    guard response.status == .ok else { fatalError("\(name): \(response.status)") }
                    try await response.body.write(Discard())
                }
                ns = ms(ContinuousClock.now - t) * 1e6 / Double(n)
            }
            return ns
        }.value
        FileHandle.standardError.write(Data("\(name): \(Int(ns)) ns/request\n".utf8))
    }
    try await time("bare", bareRouter.buildResponder(), "http://x/bare", nil) { BasicRequestContext(source: source) }
    try await time("middleware", middlewareRouter.buildResponder(), middlewareURL, token) { AdminRequestContext(source: source) }
    if ProcessInfo.processInfo.environment["READ_BENCH_EACH_MIDDLEWARE"] != nil {
        func one(_ name: String, _ add: (Router<AdminRequestContext>) -> Void) async throws {
            let r = Router(context: AdminRequestContext.self)
            add(r)
            r.get("api/v1/static") { _, _ in Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: sameSize)) }
            try await time(name, r.buildResponder(), middlewareURL, token) { AdminRequestContext(source: source) }
        }
        try await one("no middleware, admin context") { _ in }
        try await one("security headers") { $0.add(middleware: SecurityHeadersMiddleware(tls: false)) }
        try await one("metrics") { $0.add(middleware: MetricsMiddleware()) }
        try await one("error mapping") { $0.add(middleware: ErrorMappingMiddleware()) }
        try await one("access") { $0.add(middleware: AccessMiddleware(authority: TokenAuthority(bootstrap: token, store: store))) }
    }
    let admin = AdminServer(kernel: kernel, token: token).responder()
    try await time("record", admin, recordURL, token) { AdminRequestContext(source: source) }
    try await time("route", admin, routeURL, token) { AdminRequestContext(source: source) }
    exit(0)
}

// For a profile of one target (`perf record -p`, then wrk by hand): READ_BENCH_SERVE_SECONDS=N serves the targets for N
// seconds, their URLs on stderr, and measures nothing.
if let serve = ProcessInfo.processInfo.environment["READ_BENCH_SERVE_SECONDS"].flatMap(Int.init) {
    FileHandle.standardError.write(Data("serving for \(serve) s (token \(token)):\n\(routeURL)\n\(recordURL)\n\(middlewareURL)\nhttp://127.0.0.1:\(barePort)/bare\n".utf8))
    try await Task.sleep(for: .seconds(serve))
    exit(0)
}

// Each target in turn, three rounds, medians kept (see wrkRounds).
let rounds = 3
let bareURL = "http://127.0.0.1:\(barePort)/bare"
let wide = try wrkRounds([(bareURL, nil), (middlewareURL, token), (routeURL, token), (recordURL, token)], rounds: rounds,
                         seconds: wrkSeconds, tool: "read-bench")
let (bare, middleware, cached, record) = (wide[0], wide[1], wide[2], wide[3])
// The same two reads while a writer commits every 5 ms (a sync's pages, the scheduler's bookkeeping): answers are kept
// only between commits, so many reads go to the database.
let writer = Task.detached {
    var i: Int64 = 0
    while !Task.isCancelled {
        i += 1
        guard (try? await store.setState(instance: "g", name: "read-bench-tick", value: .int(i), now: Date())) != nil,
              (try? await Task.sleep(for: .milliseconds(5))) != nil else { break }
    }
    return i
}
let written = try wrkRounds([(routeURL, token), (recordURL, token)], rounds: rounds, seconds: wrkSeconds, tool: "read-bench")
writer.cancel()
let commits = await writer.value
let (cachedW, recordW) = (written[0], written[1])
// Latency at a moderate load: 8 connections from one wrk thread (the server keeps a core to itself).
let latencySeconds = max(4, wrkSeconds)
let narrow = try wrkRounds([(bareURL, nil), (routeURL, token), (recordURL, token)], rounds: rounds, seconds: latencySeconds, connections: 8, threads: 1,
                           tool: "read-bench")
let (bare8, cached8, record8) = (narrow[0], narrow[1], narrow[2])
let out: [String: Any] = [
    "plugins_loaded": loaded, "startup_ms": startupMs, "bare_startup_ms": bareStartupMs, "idle_rss_mib": idleRSS,
    "records": records, "page_latency_ms": latency, "live_ms": liveMs, "wrk_seconds": wrkSeconds, "wrk_rounds": rounds,
    "bare_rps": bare.rps, "bare_p50_ms": bare.p50, "bare_p99_ms": bare.p99,
    "cached_rps": cached.rps, "cached_p50_ms": cached.p50, "cached_p99_ms": cached.p99,
    "record_rps": record.rps, "record_p50_ms": record.p50, "record_p99_ms": record.p99,
    "middleware_rps": middleware.rps, "middleware_p50_ms": middleware.p50, "middleware_p99_ms": middleware.p99,
    "record_bytes": recordBody.utf8.count, "route_bytes": routeBody.utf8.count, "bare_bytes": payload.readableBytes,
    "latency_seconds": latencySeconds,
    "cachedw_rps": cachedW.rps, "cachedw_p99_ms": cachedW.p99, "recordw_rps": recordW.rps, "recordw_p99_ms": recordW.p99,
    "writer_commits_per_s": Double(commits) / Double(wrkSeconds * rounds * 2),
    "bare8_rps": bare8.rps, "bare8_p50_ms": bare8.p50, "bare8_p99_ms": bare8.p99,
    "cached8_rps": cached8.rps, "cached8_p50_ms": cached8.p50, "cached8_p99_ms": cached8.p99,
    "record8_rps": record8.rps, "record8_p50_ms": record8.p50, "record8_p99_ms": record8.p99,
]
print(String(decoding: try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys]), as: UTF8.self))
sim.stop()
exit(0)
