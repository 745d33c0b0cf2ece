import Foundation
import PluginAPI
import Testing

@testable import Host

/// A whole host for plugin integration tests: the real in-tree `.so` files through the real loader, an
/// SQLite store in a temporary directory, the scheduler running and the admin API on a loopback port.
final class TestHost: Sendable {
    static let token = "test-token"
    let kernel: Kernel
    let server: RunningServer
    let log: CapturedLog
    let directory: URL
    /// The host's time: tests move it forward to prove nothing more happens.
    let clock = TestClock()

    var base: String { "http://127.0.0.1:\(server.port)/api/v1" }
    var store: any HostDatabase { kernel.store! }

    /// `reusing` starts a host on another host's directory (plugins and database): a restart.
    /// `store` replaces the directory's SQLite file (e.g. the shared PostgreSQL store); `startScheduler: false`
    /// keeps this host from running anyone's due runs in a shared database.
    /// `isolation` runs those plugins in worker processes; by default `$SYNCHOST_TEST_ISOLATION=process` runs every
    /// plugin so (`make test` runs the plugin suites once in each mode).
    /// `defaultSchedules`: whether new instances' default schedules start enabled. Off by default: this host's clock is
    /// real time, so a default (WeCom's hourly `0 * * * *`, VOS's `*/5`) would fire at the next real boundary in the
    /// middle of a test that counts runs or records. Tests about default schedules firing turn them on.
    init(reusing: URL? = nil, store given: (any HostDatabase)? = nil, outboxRetryBase: Duration = .milliseconds(200), outboxMaxAttempts: Int = 3,
         startOutbox: Bool = true, startScheduler: Bool = true, isolation: IsolationPolicy? = nil,
         defaultSchedules: Bool = false) async throws {
        directory = try reusing ?? pluginDirectoryWithInTreePlugins()
        log = CapturedLog()
        var store = given
        if store == nil { store = try await StoreFactory.open(directory.appendingPathComponent("synchost.db").path, logger: capturingLogger(log)) }
        let stored = try await store!.pluginIsolation()
        kernel = Kernel(pluginDirectory: directory, logger: capturingLogger(log), store: store!, schedulerMaxIdle: .milliseconds(200),
                        outboxRetryBase: outboxRetryBase, outboxMaxAttempts: outboxMaxAttempts, clock: clock.source,
                        isolation: (isolation ?? Self.isolationFromEnvironment).applying(stored: stored), defaultSchedulesEnabled: defaultSchedules)
        try await kernel.registry.scan()
        if ProcessInfo.processInfo.environment["SYNCHOST_TEST_ISOLATION"] == "process" && isolation == nil {
            // The mode this run names is the mode it runs in: every plugin in a worker of its own.
            let inProcess = kernel.registry.loaded.filter { $0.isolation != "process" || $0.worker?.snapshot.pid == nil }.map(\.name)
            #expect(inProcess.isEmpty, "plugins not in a worker process: \(inProcess)")
        }
        if startScheduler { try await kernel.scheduler!.start() }
        if startOutbox { await kernel.outbox!.start() }
        server = try await startServer(AdminServer(kernel: kernel, token: Self.token))
    }

    static var isolationFromEnvironment: IsolationPolicy {
        ProcessInfo.processInfo.environment["SYNCHOST_TEST_ISOLATION"] == "process"
            ? IsolationPolicy(plugins: ["all"], workerExecutable: Build.synchost) : IsolationPolicy(workerExecutable: Build.synchost)
    }

    /// Whether this host runs its plugins in worker processes.
    var isolated: Bool { kernel.registry.loaded.contains { $0.isolation == "process" } }

    /// Stops serving, scheduling and delivering; `keepFiles` leaves the directory for a restart.
    func stop(keepFiles: Bool = false) async {
        server.task.cancel()
        await kernel.scheduler?.stop()
        await kernel.outbox?.stop()
        // Workers end with their host (in-process plugins stay: their images are shared by the test process).
        for plugin in kernel.registry.loaded where plugin.isolation == "process" { plugin.shutdown() }
        if !keepFiles { try? FileManager.default.removeItem(at: directory) }
    }

    /// Waits until a notification has reached a final state.
    func waitForNotification(_ id: String, timeout: Duration = .seconds(30)) async throws -> OutboxNotification {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let n = try await store.notification(id: id), n.state.isFinal { return n }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HostError.unavailable("notification \(id) did not end within \(timeout)")
    }

    /// One evaluation of the alert rules at the host's clock, as the host's `alerts` job does it every minute.
    @discardableResult
    func evaluateAlerts() async throws -> String {
        try await AlertEvaluator(store: store, registry: kernel.registry, events: kernel.events, clock: clock.source).evaluate().summary
    }

    /// Queues a test message through the API; returns its notification id.
    func testMessage(_ channel: String, _ text: String, subject: String? = nil) async throws -> String {
        var body: [String: JSONValue] = ["channel": .string(channel), "text": .string(text)]
        if let subject { body["subject"] = .string(subject) }
        let r = try await api("POST", "/notifications/test", String(decoding: JSONValue.object(body).jsonBytes, as: UTF8.self))
        return try #require(r.json?["ids"]?.arrayValue?.first?.stringValue, "\(r.status) \(r.body)")
    }

    /// One admin API call with the token; `path` is below /api/v1.
    @discardableResult
    func api(_ method: String, _ path: String, _ body: String? = nil) async throws -> HTTPResult {
        try await request(method, base + path, token: Self.token, body: body)
    }

    /// Runs a job through the API and waits for its run to end.
    func run(_ instance: String, _ job: String, params: JSONValue = [:], dryRun: Bool = false, timeout: Duration = .seconds(60)) async throws -> RunRecord {
        let body: JSONValue = ["params": params, "dry_run": .bool(dryRun)]
        let accepted = try await api("POST", "/instances/\(instance)/jobs/\(job)/run", String(decoding: body.jsonBytes, as: UTF8.self))
        let id = try #require(accepted.json?["run_id"]?.stringValue, "\(accepted.body)")
        return try await waitForRun(id, timeout: timeout)
    }

    /// Woken by the runner when the run is recorded as ended (no polling).
    func waitForRun(_ id: String, timeout: Duration = .seconds(60)) async throws -> RunRecord {
        let run = try await kernel.instances!.waitForRun(id, timeout: timeout)
        guard run.status.isFinal else { throw HostError.unavailable("run \(id) did not end within \(timeout)") }
        return run
    }

    /// Waits until `count` runs of `job` have ended, and returns them (oldest first).
    /// `trigger`: only runs of that trigger (e.g. "initial": a default schedule may fire at a real-time boundary
    /// while the test runs, and its run — skipped under `forbid` — is not the one the test waits for).
    func waitForRuns(_ instance: String, job: String, count: Int, trigger: String? = nil, timeout: Duration = .seconds(60)) async throws -> [RunRecord] {
        let deadline = ContinuousClock.now + timeout
        var q = RunQuery()
        q.instance = instance
        q.job = job
        q.limit = 500
        while ContinuousClock.now < deadline {
            let ended = try await store.runs(q).filter { $0.status.isFinal && (trigger == nil || $0.trigger == trigger) }
            // Runs queued within one millisecond share createdAt: their due time orders them.
            if ended.count >= count { return ended.sorted { ($0.createdAt, $0.runAt ?? $0.createdAt) < ($1.createdAt, $1.runAt ?? $1.createdAt) } }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HostError.unavailable("\(count) runs of \(job) did not end within \(timeout)")
    }

    /// Every live record of a collection (through the store, all pages).
    func records(_ instance: String, _ collection: String) async throws -> [StoredRecord] {
        var all: [StoredRecord] = []
        var q = RecordQuery()
        q.limit = 10_000
        repeat {
            let page = try await store.records(instance: instance, collection: collection, query: q)
            all += page.records
            q.cursor = page.nextCursor
        } while q.cursor != nil
        return all
    }
}
