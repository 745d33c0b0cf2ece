import Foundation
import PluginAPI
import Synchronization

/// An in-process host for a plugin's unit tests: the plugin's own export code gets a real `sh_host_api`
/// table, so its jobs, routes and sends run exactly as under synchost — the same bytes cross the same C
/// functions — but without dlopen, a database or a network. The store is in memory with the host's upsert
/// semantics and counts; `fetch` answers what the test scripts (faults included); logs, notifications and
/// enqueued runs are captured; store times come from a clock the test moves.
public final class FakeHost: Sendable {
    /// A record as the fake store keeps it.
    public struct StoredRecord: Sendable, Equatable {
        public var data: JSONValue
        public var bytes: [UInt8]
        public var syncedAt: Date
        public var changedAt: Date
    }

    /// A request the plugin sent through `fetch`.
    public struct Fetch: Sendable {
        public var head: HTTPRequest.Head
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Answers a fetch; throw a `PluginError` to stand for a failure the host would report (timeouts, refused
    /// connections: `.upstream`).
    public typealias Responder = @Sendable (Fetch) async throws -> HTTPResponse

    struct State {
        var instance: InstanceInfo
        var collections: [String: [String: StoredRecord]] = [:]
        var cursors: [String: JSONValue] = [:]
        var pluginState: [String: JSONValue] = [:]
        var logs: [(level: LogLevel, message: String)] = []
        var fetches: [Fetch] = []
        var sent: [NotifyService.SendRequest] = []
        var enqueued: [SchedulerService.EnqueueRequest] = []
        var runs: [RunInfo] = []
        var alerts: [AlertInfo] = []
        var responder: Responder?
        var now: Date
        var nextSession: UInt64 = 1
        var dryRunSessions: Set<UInt64> = []
        var tallies: [UInt64: RunCounts] = [:]
        var nextStream: UInt64 = 1
        var streams: [UInt64: (session: UInt64, body: [UInt8], offset: Int)] = [:]
    }

    let state: Mutex<State>
    /// The largest piece a streamed body is read in (smaller than the host's, so plugins meet piece boundaries).
    public let streamPieceBytes: Int
    let manifest: PluginManifest
    nonisolated(unsafe) let api: UnsafeMutablePointer<sh_host_api>
    nonisolated(unsafe) var descriptor: UnsafePointer<sh_plugin_descriptor>?

    private init(manifest: PluginManifest, config: [String: JSONValue], instanceID: String, now: Date, streamPieceBytes: Int) {
        self.manifest = manifest
        self.streamPieceBytes = streamPieceBytes
        state = Mutex(State(instance: InstanceInfo(id: instanceID, plugin: manifest.name, config: config), now: now))
        api = .allocate(capacity: 1)
        api.initialize(to: sh_host_api())
        api.pointee.magic = SH_HOST_MAGIC
        api.pointee.struct_size = UInt32(MemoryLayout<sh_host_api>.size)
        api.pointee.abi_version = (SH_ABI_MAJOR << 16) | SH_ABI_MINOR
        api.pointee.log = fakeLog
        api.pointee.config = fakeConfig
        api.pointee.fetch = fakeFetch
        api.pointee.store = fakeStore
        api.pointee.schedule = fakeSchedule
        api.pointee.notify = fakeNotify
    }

    /// A host for a connector, with one instance of it configured with `config`.
    public convenience init<C: Connector>(_ type: C.Type, config: [String: JSONValue] = [:], instance: String = "test",
                                          now: Date = Date(timeIntervalSince1970: 1_795_000_000), streamPieceBytes: Int = 4096) {
        self.init(manifest: C.manifest, config: config, instanceID: instance, now: now, streamPieceBytes: streamPieceBytes)
        api.pointee.host_ctx = Unmanaged.passUnretained(self).toOpaque()
        descriptor = PluginExport.connector(C.self, host: UnsafePointer(api), abi: api.pointee.abi_version)
    }

    /// A host for a notifier (a delivery channel) configured with `config`.
    public convenience init<N: Notifier>(notifier type: N.Type, config: [String: JSONValue] = [:], instance: String = "test",
                                         now: Date = Date(timeIntervalSince1970: 1_795_000_000)) {
        self.init(manifest: N.manifest, config: config, instanceID: instance, now: now, streamPieceBytes: 4096)
        api.pointee.host_ctx = Unmanaged.passUnretained(self).toOpaque()
        descriptor = PluginExport.notifier(N.self, host: UnsafePointer(api), abi: api.pointee.abi_version)
    }

    deinit {
        api.deinitialize(count: 1)
        api.deallocate()
    }

    // MARK: what the test sets

    /// How `fetch` answers from now on.
    public func onFetch(_ responder: @escaping Responder) { state.withLock { $0.responder = responder } }

    /// The store's clock (synced/changed times) moves forward.
    public func advance(by seconds: TimeInterval) { state.withLock { $0.now += seconds } }

    public var now: Date { state.withLock { $0.now } }

    /// Changes the instance's configuration (as an operator's edit would).
    public func configure(_ config: [String: JSONValue]) { state.withLock { $0.instance.config = config } }

    /// Runs the `schedule.runs` service answers (newest first).
    public func setRuns(_ runs: [RunInfo]) { state.withLock { $0.runs = runs } }
    /// Alerts the `schedule.alerts` service answers (newest first), as the host's rules would have raised them.
    public func setAlerts(_ alerts: [AlertInfo]) { state.withLock { $0.alerts = alerts } }

    /// Puts records in the store as a previous sync would have.
    public func seed(_ collection: String, _ records: [String: JSONValue]) {
        state.withLock { s in
            for (key, data) in records {
                s.collections[collection, default: [:]][key] = StoredRecord(data: data, bytes: data.jsonBytes, syncedAt: s.now, changedAt: s.now)
            }
        }
    }

    /// Sets plugin state as an earlier run would have.
    public func seedState(_ name: String, _ value: JSONValue) { state.withLock { $0.pluginState[name] = value } }

    // MARK: what the test reads

    public var instance: InstanceInfo { state.withLock { $0.instance } }
    public func records(_ collection: String) -> [String: JSONValue] {
        state.withLock { ($0.collections[collection] ?? [:]).mapValues(\.data) }
    }
    public func record(_ collection: String, _ key: String) -> StoredRecord? { state.withLock { $0.collections[collection]?[key] } }
    public func cursor(_ name: String) -> JSONValue? { state.withLock { $0.cursors[name] } }
    public func pluginState(_ name: String) -> JSONValue? { state.withLock { $0.pluginState[name] } }
    public var logs: [(level: LogLevel, message: String)] { state.withLock { $0.logs } }
    public var fetches: [Fetch] { state.withLock { $0.fetches } }
    public var sent: [NotifyService.SendRequest] { state.withLock { $0.sent } }
    public var enqueued: [SchedulerService.EnqueueRequest] { state.withLock { $0.enqueued } }
    /// Streamed bodies the plugin opened and has not read to the end or closed.
    public var openStreams: Int { state.withLock { $0.streams.count } }

    // MARK: calling the plugin

    /// Runs a job, as the host's scheduler would.
    public func run(_ job: String, params: [String: JSONValue] = [:], dryRun: Bool = false, trigger: String = "manual",
                    runID: String = "run-1") async throws -> RunResult {
        let request = RunRequest(runID: runID, job: job, instance: instance, params: params, dryRun: dryRun, trigger: trigger, now: now)
        var stored = RunCounts()
        let bytes = try await invoke(PluginOperation.run, try WireJSON.encode(request), dryRun: dryRun) { stored = $0 }
        var result = try RunResult(json: try JSONValue.parse(bytes))
        result.counts = RunCounts.merged(reported: result.counts, stored: stored)  // as the host records the run
        return result
    }

    /// The instance was just added (connectors queue their initial sync here).
    public func instanceCreated() async throws {
        _ = try await invoke(PluginOperation.instanceCreated, try WireJSON.encode(InstanceEvent(instance: instance)))
    }

    /// Asks the plugin to check a configuration beyond its schema.
    public func validate(_ config: [String: JSONValue]) async throws {
        _ = try await invoke(PluginOperation.validateConfig, try WireJSON.encode(ConfigValidationRequest(config: config)))
    }

    /// Calls one of the plugin's HTTP routes for this instance.
    public func route(_ route: String, method: String = "GET", path: String? = nil, pathParams: [String: String] = [:],
                      query: [String: String] = [:], body: String? = nil) async throws -> RouteResponse {
        var request = RouteRequest(method: method, route: route, path: path ?? route, pathParams: pathParams, query: query, body: body, instance: instance)
        request.now = now  // the fake host's clock: `advance(by:)` moves the plugin's "now" too
        return try RouteResponse(framed: try await invoke(PluginOperation.route, try request.framed()))
    }

    /// Reads one record live from the upstream.
    public func fetchRecord(_ collection: String, key: String) async throws -> Record? {
        let request = RecordFetchRequest(instance: instance, collection: collection, key: key)
        return try WireJSON.decode(RecordFetchResult.self, from: try await invoke(PluginOperation.fetchRecord, try WireJSON.encode(request))).record
    }

    /// Delivers a message through a notifier plugin.
    public func send(_ message: OutgoingMessage, notificationID: String = "n-1") async throws -> DeliveryReceipt {
        let request = SendRequest(instance: instance, message: message, notificationID: notificationID)
        return try WireJSON.decode(DeliveryReceipt.self, from: try await invoke(PluginOperation.send, try WireJSON.encode(request)))
    }

    /// One operation through the descriptor's `invoke`, as the host calls it.
    public func invoke(_ op: String, _ request: [UInt8], dryRun: Bool = false, stored: (RunCounts) -> Void = { _ in }) async throws -> [UInt8] {
        guard let d = descriptor else { throw PluginError(.internal, "the plugin refused this host (its entry returned no descriptor)") }
        let session = state.withLock { s in
            let id = s.nextSession
            s.nextSession += 1
            if dryRun { s.dryRunSessions.insert(id) }
            return id
        }
        // A stream ends with the call that opened it, as under the host.
        defer {
            stored(state.withLock { s in
                s.dryRunSessions.remove(session)
                s.streams = s.streams.filter { $0.value.session != session }
                return s.tallies.removeValue(forKey: session) ?? RunCounts()
            })
        }
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<[UInt8], any Error>) in
            // Completed like a service call of the SDK: the same box and thunk.
            let box = Unmanaged.passRetained(CompletionBox(c)).toOpaque()
            request.withUnsafeBufferPointer { buf in
                op.withCString { d.pointee.invoke(d.pointee.plugin_ctx, session, $0, buf.baseAddress, buf.count, completionThunk, box) }
            }
        }
    }

    // MARK: the services

    func answer(_ service: String, session: UInt64, op: String, request: [UInt8]) async throws -> [UInt8] {
        switch service {
        case "config": return try config(op)
        case "fetch": return try await fetch(op, request, session: session)
        case "store": return try store(op, request, session: session)
        case "schedule": return try schedule(op, request)
        case "notify": return try notify(op, request)
        default: throw PluginError(.unavailable, "no service \(service)")
        }
    }

    func log(_ level: Int32, _ message: String) {
        state.withLock { $0.logs.append((LogLevel(rawValue: level) ?? .info, message)) }
    }

    func config(_ op: String) throws -> [UInt8] {
        switch op {
        case "get": return try WireJSON.encode(instance.config)
        case "host": return JSONValue.object(["abi": .string("\(SH_ABI_MAJOR).\(SH_ABI_MINOR)"), "host_version": "fake"]).jsonBytes
        default: throw Self.unavailable("config", op)
        }
    }

    func fetch(_ op: String, _ request: [UInt8], session: UInt64) async throws -> [UInt8] {
        switch op {
        case "request", "open":
            var r = FrameReader(request)
            let head = try WireJSON.decode(HTTPRequest.Head.self, from: Array(try r.next()))
            let fetch = Fetch(head: head, body: r.isAtEnd ? [] : Array(try r.next()))
            let responder = state.withLock { s in
                s.fetches.append(fetch)
                return s.responder
            }
            guard let responder else { throw PluginError(.upstream, "\(head.method) \(head.url): no answer scripted (FakeHost.onFetch)") }
            let response = try await responder(fetch)
            guard op == "open" else {
                var w = FrameWriter()
                w.append(try WireJSON.encode(HTTPResponse.Head(status: response.status, headers: response.headers, attempts: response.attempts)))
                w.append(response.body)
                return w.bytes
            }
            let id = state.withLock { s in
                let id = s.nextStream
                s.nextStream += 1
                s.streams[id] = (session, response.body, 0)
                return id
            }
            return try WireJSON.encode(HTTPResponse.Head(status: response.status, headers: response.headers, attempts: response.attempts, stream: id))
        case "read":
            let r = try JSONValue.parse(request)
            guard let id = r["stream"]?.intValue.map(UInt64.init) else { throw PluginError(.invalid, "fetch.read: expected {\"stream\": id}") }
            let max = min(r["max_bytes"]?.intValue.map(Int.init) ?? 1 << 20, streamPieceBytes)
            return try state.withLock { s in
                guard let stream = s.streams[id] else { throw PluginError(.notFound, "fetch.read: no open stream \(id)") }
                let end = min(stream.offset + max, stream.body.count)
                if stream.offset == end { s.streams[id] = nil }
                else { s.streams[id]?.offset = end }
                return Array(stream.body[stream.offset..<end])
            }
        case "close":
            let r = try JSONValue.parse(request)
            _ = state.withLock { $0.streams.removeValue(forKey: UInt64(r["stream"]?.intValue ?? 0)) }
            return Array("{}".utf8)
        default: throw Self.unavailable("fetch", op)
        }
    }

    func store(_ op: String, _ request: [UInt8], session: UInt64) throws -> [UInt8] {
        let sessionDryRun = state.withLock { $0.dryRunSessions.contains(session) }
        switch op {
        case "upsert":
            var r = FrameReader(request)
            let header = try WireJSON.decode(StoreService.UpsertHeader.self, from: Array(try r.next()))
            try check(header.collection)
            var page: [(String, [UInt8], JSONValue)] = []
            while !r.isAtEnd {
                let key = String(decoding: try r.next(), as: UTF8.self)
                let bytes = Array(try r.next())
                let data: JSONValue
                do { data = try JSONValue.parse(bytes) } catch { throw PluginError(.invalid, "store.upsert: record \(key.debugDescription) is not JSON: \(error)") }
                guard !key.isEmpty else { throw PluginError(.invalid, "store.upsert: a record has an empty key") }
                page.append((key, bytes, data))
            }
            let dryRun = header.dryRun || sessionDryRun
            return try state.withLock { s in
                var counts = RunCounts(fetched: page.count, pages: 1)
                var seen: [String: Int] = [:]  // a key twice in one page: the last one wins, counted once
                for (i, p) in page.enumerated() { seen[p.0] = i }
                for (i, (key, bytes, data)) in page.enumerated() where seen[key] == i {
                    let old = s.collections[header.collection]?[key]
                    if old == nil { counts.inserted += 1 } else if old!.bytes == bytes { counts.unchanged += 1 } else { counts.updated += 1 }
                    guard !dryRun else { continue }
                    let changedAt = old?.bytes == bytes ? old!.changedAt : s.now
                    s.collections[header.collection, default: [:]][key] = StoredRecord(data: data, bytes: bytes, syncedAt: s.now, changedAt: changedAt)
                }
                if let cursor = header.cursor, !dryRun { s.cursors[cursor.stream] = cursor.value }
                s.tallies[session, default: RunCounts()] += counts
                return try WireJSON.encode(counts)
            }
        case "get":
            let r = try WireJSON.decode(StoreService.KeyRequest.self, from: request)
            try check(r.collection)
            let found = record(r.collection, r.key).map { Record(key: r.key, data: $0.data) }
            return try WireJSON.encode(RecordFetchResult(record: found))
        case "list":
            let r = try WireJSON.decode(StoreService.ListRequest.self, from: request)
            try check(r.collection)
            guard (1...10_000).contains(r.limit) else { throw PluginError(.invalid, "store.list: limit must be 1-10000") }
            let all = state.withLock { $0.collections[r.collection] ?? [:] }
            let matching = all.filter { key, record in
                (r.keyFrom.map { key >= $0 } ?? true) && (r.keyTo.map { key <= $0 } ?? true) && (r.cursor.map { key > $0 } ?? true)
                    && r.filters.allSatisfy { field, value in Self.text(record.data[field]) == value }
            }.sorted { $0.key < $1.key }
            let page = matching.prefix(r.limit)
            return try WireJSON.encode(StoreService.ListPage(
                records: page.map { StoreService.ListedRecord(key: $0.key, data: $0.value.data, syncedAt: $0.value.syncedAt, changedAt: $0.value.changedAt) },
                nextCursor: matching.count > r.limit ? page.last?.key : nil))
        case "aggregate":
            let r = try WireJSON.decode(StoreService.AggregateRequest.self, from: request)
            try check(r.collection)
            var rows: [String?: StoreService.AggregateRow] = [:]
            for record in (state.withLock { $0.collections[r.collection] ?? [:] }).values {
                let group = r.groupBy.flatMap { Self.text(record.data[$0]) }
                if r.groupBy != nil, let g = group, (r.from.map { g < $0 } ?? false) || (r.to.map { g > $0 } ?? false) { continue }
                var row = rows[group] ?? StoreService.AggregateRow(group: group, count: 0, sums: [:])
                row.count += 1
                for field in r.sum { row.sums[field, default: 0] += record.data[field]?.doubleValue ?? 0 }
                rows[group] = row
            }
            return try WireJSON.encode(StoreService.AggregateResult(rows: rows.values.sorted { ($0.group ?? "") < ($1.group ?? "") }))
        case "purge_keys":
            let r = try WireJSON.decode(StoreService.PurgeKeysRequest.self, from: request)
            try check(r.collection)
            guard !sessionDryRun else { return try WireJSON.encode(StoreService.Purged(purged: 0)) }
            let purged = state.withLock { s in r.keys.filter { s.collections[r.collection]?.removeValue(forKey: $0) != nil }.count }
            return try WireJSON.encode(StoreService.Purged(purged: purged))
        case "purge_deleted":
            // The fake store never marks records deleted.
            return try WireJSON.encode(StoreService.Purged(purged: 0))
        case "cursor.get":
            let name = try WireJSON.decode(StoreService.NameRequest.self, from: request).name
            return try WireJSON.encode(StoreService.ValueResponse(value: cursor(name)))
        case "cursor.set":
            let r = try WireJSON.decode(StoreService.SetRequest.self, from: request)
            if !sessionDryRun { state.withLock { $0.cursors[r.name] = r.value } }
            return Array("{}".utf8)
        case "state.get":
            let name = try WireJSON.decode(StoreService.NameRequest.self, from: request).name
            return try WireJSON.encode(StoreService.ValueResponse(value: pluginState(name)))
        case "state.set":
            let r = try WireJSON.decode(StoreService.SetRequest.self, from: request)
            state.withLock { $0.pluginState[r.name] = r.value }
            return Array("{}".utf8)
        default: throw Self.unavailable("store", op)
        }
    }

    func schedule(_ op: String, _ request: [UInt8]) throws -> [UInt8] {
        switch op {
        case "enqueue":
            let r = try WireJSON.decode(SchedulerService.EnqueueRequest.self, from: request)
            guard manifest.job(named: r.job) != nil else { throw PluginError(.invalid, "schedule.enqueue: \(manifest.name) has no job \(r.job.debugDescription)") }
            let n = state.withLock { s in
                s.enqueued.append(r)
                return s.enqueued.count
            }
            return try WireJSON.encode(SchedulerService.Enqueued(runID: "enqueued-\(n)"))
        case "runs":
            let r = try WireJSON.decode(SchedulerService.RunsRequest.self, from: request)
            let runs = state.withLock { $0.runs }.filter { run in (r.job.map { run.job == $0 } ?? true) && (r.since.map { run.createdAt >= $0 } ?? true) }
            return try WireJSON.encode(SchedulerService.RunsResponse(runs: Array(runs.prefix(r.limit))))
        case "alerts":
            let r = try WireJSON.decode(SchedulerService.AlertsRequest.self, from: request)
            let alerts = state.withLock { $0.alerts }.filter { r.includeResolved || $0.state == "active" }
            return try WireJSON.encode(SchedulerService.AlertsResponse(alerts: Array(alerts.prefix(r.limit))))
        default: throw Self.unavailable("schedule", op)
        }
    }

    func notify(_ op: String, _ request: [UInt8]) throws -> [UInt8] {
        guard op == "send" else { throw Self.unavailable("notify", op) }
        let r = try WireJSON.decode(NotifyService.SendRequest.self, from: request)
        let n = state.withLock { s in
            s.sent.append(r)
            return s.sent.count
        }
        return try WireJSON.encode(NotifyService.Queued(ids: ["notification-\(n)"]))
    }

    /// A plugin writes only the collections its manifest declares (as under the host).
    func check(_ collection: String) throws {
        guard manifest.collections.contains(where: { $0.name == collection }) else {
            throw PluginError(.invalid, "store: collection \(collection.debugDescription) is not declared in \(manifest.name)'s manifest")
        }
    }

    static func text(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let s)?: s
        case nil, .null?: nil
        case let v?: String(decoding: v.jsonBytes, as: UTF8.self)
        }
    }

    static func unavailable(_ service: String, _ op: String) -> PluginError {
        PluginError(.unavailable, "\(service): this host has no operation \(op.debugDescription)")
    }
}

/// The completion the plugin passed with a service call, carried to the task that answers it.
struct PendingDone: @unchecked Sendable {
    let fn: sh_done_fn?
    let ctx: UnsafeMutableRawPointer?
    func call(_ status: Int32, _ body: [UInt8]) { body.withUnsafeBufferPointer { fn?(ctx, status, $0.baseAddress, $0.count) } }
}

/// Every service call: copied out of the C arguments, answered on a task, completed through `done` (never
/// inline, as the host does).
func fakeDispatch(_ service: String, _ ctx: UnsafeMutableRawPointer?, _ session: UInt64, _ op: UnsafePointer<CChar>?,
                  _ request: UnsafePointer<UInt8>?, _ len: Int, _ done: sh_done_fn?, _ doneCtx: UnsafeMutableRawPointer?) {
    let pending = PendingDone(fn: done, ctx: doneCtx)
    guard let ctx, let op else {
        pending.call(PluginError(.invalid, "no host or operation").status, PluginError(.invalid, "no host or operation").jsonBody)
        return
    }
    let host = Unmanaged<FakeHost>.fromOpaque(ctx).takeUnretainedValue()
    let name = String(cString: op)
    let bytes = request.map { Array(UnsafeBufferPointer(start: $0, count: len)) } ?? []
    Task {
        do {
            pending.call(0, try await host.answer(service, session: session, op: name, request: bytes))
        } catch {
            let e = PluginError.wrapping(error)
            pending.call(e.status, e.jsonBody)
        }
    }
}

let fakeLog: @convention(c) (UnsafeMutableRawPointer?, UInt64, Int32, UnsafePointer<UInt8>?, Int) -> Void = { ctx, _, level, message, len in
    guard let ctx else { return }
    let text = message.map { String(decoding: UnsafeBufferPointer(start: $0, count: len), as: UTF8.self) } ?? ""
    Unmanaged<FakeHost>.fromOpaque(ctx).takeUnretainedValue().log(level, text)
}
let fakeConfig: sh_service_fn = { fakeDispatch("config", $0, $1, $2, $3, $4, $5, $6) }
let fakeFetch: sh_service_fn = { fakeDispatch("fetch", $0, $1, $2, $3, $4, $5, $6) }
let fakeStore: sh_service_fn = { fakeDispatch("store", $0, $1, $2, $3, $4, $5, $6) }
let fakeSchedule: sh_service_fn = { fakeDispatch("schedule", $0, $1, $2, $3, $4, $5, $6) }
let fakeNotify: sh_service_fn = { fakeDispatch("notify", $0, $1, $2, $3, $4, $5, $6) }
