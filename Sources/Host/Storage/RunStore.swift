import Foundation

/// Schedules and runs: the run history and the run queue with claims and leases. Claims and fires are
/// serialised across host replicas (SQLite: one writer; PostgreSQL: an advisory lock plus a unique
/// (schedule, scheduled_for) key), so each fire becomes exactly one run.
public protocol RunStore: Sendable {
    /// One trivial query: the database answers (the health check).
    func ping() async throws
    /// True when one host owns the database (SQLite): runs still "running" at start were its own.
    var isExclusive: Bool { get }

    func insertRun(_ run: RunRecord) async throws
    func updateRun(_ run: RunRecord) async throws
    /// Records a run's outcome and, for a scheduled run, its schedule's last status and time: one transaction.
    func finishRun(_ run: RunRecord) async throws
    func run(id: String) async throws -> RunRecord?
    func runs(_ query: RunQuery) async throws -> [RunRecord]
    /// Deletes ended runs that finished before `cutoff`; returns how many.
    func purgeRuns(finishedBefore cutoff: Date) async throws -> Int

    func insertSchedule(_ schedule: ScheduleRecord) async throws
    func schedule(id: String) async throws -> ScheduleRecord?
    /// By id, or by name when no id matches (conflict when several instances use the name).
    func schedule(idOrName key: String) async throws -> ScheduleRecord?
    func schedules(instance: String?) async throws -> [ScheduleRecord]
    func updateSchedule(_ schedule: ScheduleRecord) async throws
    func deleteSchedule(id: String) async throws

    /// The earliest moment something becomes due: an enabled schedule's next run or a queued run.
    func earliestDue() async throws -> Date?
    /// For every enabled schedule due at `now`: queues the runs `plan` decides (a fire already queued by another
    /// replica is not queued twice) and saves the schedule's next fire. Returns the runs queued.
    /// At most `limit` schedules per call (one transaction each), so a burst of thousands starts running
    /// after the first chunk instead of after all of them.
    func fireDueSchedules(now: Date, limit: Int, plan: @Sendable (ScheduleRecord) -> FirePlan) async throws -> FireResult
    /// Claims queued runs due at `now` for `owner`, applying each run's overlap policy per (instance, job). A
    /// claimed run's start is read from `clock` once the claim has seen which runs are still running, so a run
    /// that waited for another never appears to start before that one finished.
    func claimQueuedRuns(now: Date, owner: String, leaseUntil: Date, limit: Int, clock: @escaping HostClock) async throws -> [RunRecord]
    /// Extends `owner`'s leases on these runs; returns the ids whose cancellation was requested.
    func renewLeases(ids: [String], owner: String, until: Date) async throws -> [String]
    /// Marks running runs whose lease expired — or, with `all`, every running run — interrupted; returns them.
    func recoverRuns(now: Date, all: Bool) async throws -> [RunRecord]
    /// Notes a finished run on its schedule (last status and time) without touching anything else of it.
    func recordScheduleResult(id: String, status: String, at: Date) async throws
    /// Queued: cancelled at once. Running: its host cancels it at the next heartbeat. Returns false if ended.
    func requestCancel(runID: String, now: Date) async throws -> Bool
}

public struct FireResult: Sendable {
    public var queued: [RunRecord]
    /// True when `limit` schedules were due: more may be waiting.
    public var more: Bool
}

