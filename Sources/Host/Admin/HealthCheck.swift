import Foundation
import PluginAPI

/// `/healthz` and `/readyz`: what is actually working. The database answers a query (within a bound), the
/// scheduler's loop has ticked recently, every plugin file loaded. `/healthz` is 503 only when the database is
/// unreachable (the host can serve nothing then) and `degraded` when a plugin failed to load or the scheduler
/// is late; `/readyz` (for load balancers) is 200 only when the database answers and the scheduler ticks.
struct HealthCheck: Sendable {
    let kernel: Kernel
    /// The database's trivial query (the store's `ping`; a test may stand in a failing one).
    let ping: (@Sendable () async throws -> Void)?
    /// Longest that query may take before the database counts as unreachable.
    let databaseBound: Duration
    /// Whether the admin listener serves TLS (said in the report).
    var tls = false

    init(kernel: Kernel, ping: (@Sendable () async throws -> Void)? = nil, databaseBound: Duration = .seconds(2), tls: Bool = false) {
        self.kernel = kernel
        self.tls = tls
        self.ping = ping ?? kernel.store.map { store in { @Sendable in try await store.ping() } }
        self.databaseBound = databaseBound
    }

    struct Database: Codable {
        var ok: Bool
        var latency_ms: Double?
        var error: String?
    }

    struct SchedulerState: Codable {
        var running: Bool
        var last_tick_age_seconds: Double?
        /// A tick older than this is late (three idle intervals).
        var late_after_seconds: Double
        var ok: Bool
    }

    struct FailedPlugin: Codable {
        var path: String
        var reason: String
    }

    struct Report: Codable {
        /// ok | degraded | down
        var status: String
        var ready: Bool
        var version: String
        /// The admin listener serves HTTPS.
        var tls: Bool
        var plugins: [String: String]
        var loaded: Int
        var failed: Int
        var failed_plugins: [FailedPlugin]
        var database: Database?
        var scheduler: SchedulerState?
        /// The host's default zone: the console shows times without an instance of their own in it.
        var timezone: String
    }

    func report() async -> Report {
        let entries = kernel.registry.entries
        let views = entries.map(PluginView.init)
        let failed = views.filter { $0.status != "loaded" }
        var database: Database?
        if let ping {
            let started = ContinuousClock.now
            do {
                try await Self.bounded(databaseBound, ping)
                database = Database(ok: true, latency_ms: ((ContinuousClock.now - started).seconds * 1e6).rounded() / 1000)
            } catch {
                database = Database(ok: false, error: "\(error)")
            }
        }
        var scheduler: SchedulerState?
        if let s = kernel.scheduler {
            let age = s.pulse.age
            let late = (s.maxIdle * 3).seconds
            scheduler = SchedulerState(running: s.pulse.running, last_tick_age_seconds: age?.seconds, late_after_seconds: late,
                                       ok: s.pulse.running && (age.map { $0.seconds < late } ?? false))
        }
        let dbOK = database?.ok ?? true
        let schedulerOK = scheduler?.ok ?? true
        return Report(
            status: !dbOK ? "down" : (failed.isEmpty && schedulerOK ? "ok" : "degraded"), ready: dbOK && schedulerOK,
            version: SynchostVersion.current, tls: tls,
            plugins: Dictionary(views.map { ($0.name, $0.status) }, uniquingKeysWith: { a, _ in a }),
            loaded: views.count - failed.count, failed: failed.count,
            failed_plugins: failed.map { FailedPlugin(path: $0.path, reason: $0.reason ?? "failed") },
            database: database, scheduler: scheduler, timezone: kernel.instances?.defaultTimeZone ?? "UTC")
    }

    /// `body` within `limit`, or a timeout error (a hung database must not hang the health check).
    static func bounded(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { try await body(); return true }
            group.addTask { try await Task.sleep(for: limit); return false }
            let finished = try await group.next() ?? false
            group.cancelAll()
            if !finished { throw HostError.unavailable("no answer within \(limit)") }
        }
    }
}

