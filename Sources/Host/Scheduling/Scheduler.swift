import Foundation
import Synchronization
import Logging
import PluginAPI

/// The dispatcher. It sleeps until the earliest due moment in the database (not polling every second) and is
/// woken at once when a schedule or the queue changes; each pass recovers runs of dead hosts, turns due
/// schedules into runs (misfire policy), claims due runs (overlap policy) and runs them under a lease it
/// renews while they work. Failed runs are retried with exponential backoff and jitter, as often as allowed.
public actor Scheduler {
    public let store: any HostDatabase
    let runner: JobRunner
    let logger: Logger
    /// This host's name in leases.
    public nonisolated let owner: String
    let lease: Duration
    let maxConcurrentRuns: Int
    /// Longest sleep without a wake-up (other replicas' changes are seen at least this often).
    nonisolated let maxIdle: Duration
    /// The loop's last pass, for `/healthz`.
    public nonisolated let pulse = SchedulerPulse()
    let hostJobs: HostJobs
    /// The time source (tests shift it to reach a minute boundary without waiting for it).
    let clock: @Sendable () -> Date

    private var active: [String: Task<Void, Never>] = [:]
    private var loopTask: Task<Void, Never>?
    private let wakeup = Wakeup()
    /// The scheduler's own thread: its loop and leases never wait for the concurrency pool (runs execute on the pool).
    let executor = ThreadExecutor(label: "synchost.scheduler")
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public init(store: any HostDatabase, runner: JobRunner, logger: Logger, owner: String = Scheduler.defaultOwner(),
                lease: Duration = .seconds(60), maxConcurrentRuns: Int = Scheduler.defaultMaxConcurrentRuns, maxIdle: Duration = .seconds(30),
                defaultTimeZone: String = "UTC", clock: @escaping @Sendable () -> Date = { Date() }) {
        self.clock = clock
        self.store = store
        self.runner = runner
        self.logger = logger
        self.owner = owner
        self.lease = lease
        self.maxConcurrentRuns = maxConcurrentRuns
        self.maxIdle = maxIdle
        self.hostJobs = HostJobs(store: store, registry: runner.registry, events: runner.events, clock: clock, defaultZone: defaultTimeZone)
    }

    /// Runs at once per host. Most runs wait on an upstream rather than a core (the legacy APScheduler pool had
    /// 10 threads); each pass claims as many as are free, so this also sets how many a burst starts per pass.
    public static let defaultMaxConcurrentRuns = 16

    public static func defaultOwner() -> String {
        "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UUID().uuidString.prefix(6).lowercased())"
    }

    /// Something changed (a schedule edited, a run queued): look again now.
    public nonisolated func wake() { wakeup.wake() }

    public func start() async throws {
        guard loopTask == nil else { return }
        try await hostJobs.ensureSchedules(now: clock())
        if store.isExclusive {
            // One host owns this database: whatever it had running when it stopped was interrupted.
            for run in try await store.recoverRuns(now: clock(), all: true) { try await afterRecovery(run) }
        }
        // With the executor as preference, the nonisolated calls the loop makes (store, wake-ups) stay on it too.
        pulse.set(running: true)
        loopTask = Task(executorPreference: executor) { await self.loop() }
    }

    public func stop() async {
        pulse.set(running: false)
        loopTask?.cancel()
        wakeup.wake()
        loopTask = nil
        for task in active.values { task.cancel() }
        for task in active.values { await task.value }
    }

    public var activeRunIDs: [String] { Array(active.keys) }

    private func loop() async {
        var lastHeartbeat = ContinuousClock.now
        while !Task.isCancelled {
            do {
                try await pass()
                pulse.beat()
                if ContinuousClock.now - lastHeartbeat >= lease / 3 {
                    try await heartbeat()
                    lastHeartbeat = ContinuousClock.now
                }
            } catch {
                logger.error("scheduler pass failed: \(error)")
            }
            let now = clock()
            var wait = maxIdle
            if let due = try? await store.earliestDue() {
                wait = min(wait, .milliseconds(max(0, Int64(due.timeIntervalSince(now) * 1000))))
            }
            if !active.isEmpty { wait = min(wait, lease / 3) }
            await wakeup.sleep(wait)
        }
    }

    /// One round: recover, fire, claim, launch.
    func pass() async throws {
        let now = clock()
        if !store.isExclusive {
            for run in try await store.recoverRuns(now: now, all: false) { try await afterRecovery(run) }
        }
        let fired = try await store.fireDueSchedules(now: now, limit: 250) { MisfirePolicy.plan($0, now: now) }
        if fired.more { wakeup.wake() }
        for run in fired.queued where run.status == .skipped {
            logger.notice("schedule \(run.scheduleID ?? "?") \(run.instance)/\(run.job): \(run.message ?? "skipped")")
        }
        let free = maxConcurrentRuns - active.count
        guard free > 0 else { return }
        let claimed = try await store.claimQueuedRuns(now: now, owner: owner, leaseUntil: now.addingTimeInterval(lease.seconds), limit: free, clock: clock)
        for run in claimed {
            // The run's own work (the plugin, its JSON, its store calls) goes to the concurrency pool: this
            // thread keeps the loop and the leases, so a burst of runs neither queues behind one thread nor makes
            // a wake-up or a lease renewal late.
            active[run.id] = Task.detached { await self.perform(run) }
        }
    }

    private func heartbeat() async throws {
        let ids = Array(active.keys)
        let cancelled = try await store.renewLeases(ids: ids, owner: owner, until: clock().addingTimeInterval(lease.seconds))
        for id in cancelled {
            logger.notice("run \(id): cancellation requested, stopping it")
            active[id]?.cancel()
        }
    }

    private nonisolated func perform(_ run: RunRecord) async {
        var finished = run
        do {
            if run.instance == HostJobs.instance {
                finished = try await hostJobs.execute(run)
            } else if let instance = try await store.instance(id: run.instance) {
                finished = try await runner.execute(run, instance: instance.info, timeout: .seconds(run.timeoutSeconds))
            } else {
                finished.status = .failed
                finished.error = "instance \(run.instance) no longer exists"
                finished.finishedAt = clock()
                try await store.finishRun(finished)
            }
            // The outcome (and its schedule's last status) is stored by whoever finished it; what remains is a retry.
            if finished.status == .failed || finished.status == .crashed { try await retry(finished) }
        } catch {
            logger.error("run \(run.id) could not be recorded: \(error)")
        }
        await ended(run.id)
    }

    private func ended(_ id: String) {
        active[id] = nil
        wake()
    }

    private func afterRecovery(_ run: RunRecord) async throws {
        logger.warning("run \(run.id) \(run.instance)/\(run.job) was interrupted (host \(run.leaseOwner ?? "?") stopped)")
        if let id = run.scheduleID { try await store.recordScheduleResult(id: id, status: RunRecord.Status.interrupted.rawValue, at: clock()) }
        try await retry(run)
    }

    /// Queues the next attempt after `backoff · 2^(attempt-1)`, with ±50% jitter, while attempts remain.
    private nonisolated func retry(_ run: RunRecord) async throws {
        guard run.attempt < run.maxAttempts else { return }
        let base = Double(run.retryBackoffSeconds) * pow(2, Double(run.attempt - 1))
        let delay = base * Double.random(in: 0.5...1.5)
        var next = RunRecord(instance: run.instance, job: run.job, trigger: "retry", params: run.params, dryRun: run.dryRun,
                             scheduleID: run.scheduleID, scheduledFor: run.scheduledFor, createdAt: clock(), attempt: run.attempt + 1)
        next.runAt = clock().addingTimeInterval(delay)
        next.overlap = run.overlap
        next.timeoutSeconds = run.timeoutSeconds
        next.maxAttempts = run.maxAttempts
        next.retryBackoffSeconds = run.retryBackoffSeconds
        next.message = "retry \(next.attempt)/\(run.maxAttempts) of run \(run.id)"
        try await store.insertRun(next)
        logger.notice("run \(run.id) \(run.status.rawValue); retry \(next.attempt)/\(run.maxAttempts) in \(Int(delay)) s as run \(next.id)")
    }
}

/// When the scheduler's loop last finished a pass, readable from anywhere (the health check).
public final class SchedulerPulse: Sendable {
    private let state = Mutex<(running: Bool, last: ContinuousClock.Instant?)>((false, nil))
    func beat() { state.withLock { $0.last = .now } }
    func set(running: Bool) { state.withLock { $0.running = running } }
    public var running: Bool { state.withLock { $0.running } }
    /// Since the last pass; nil before the first.
    public var age: Duration? { state.withLock { $0.last.map { .now - $0 } } }
}

extension Duration {
    var seconds: TimeInterval { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
