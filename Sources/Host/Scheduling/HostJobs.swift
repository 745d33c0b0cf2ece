import Foundation
import PluginAPI

/// The host's own maintenance jobs, scheduled like any plugin job under the reserved instance "_host":
/// `purge_runs` (param `days`, default 90) deletes run history older than the retention.
struct HostJobs: Sendable {
    static let instance = "_host"
    static let defaults: [(job: String, cron: String, params: [String: JSONValue])] = [("purge_runs", "15 3 * * *", ["days": 90])]

    let store: any HostDatabase
    let clock: HostClock

    /// Creates the maintenance schedules once; afterwards they are the user's to edit like any other.
    func ensureSchedules(now: Date) async throws {
        let existing = Set(try await store.schedules(instance: Self.instance).map(\.job))
        for d in Self.defaults where !existing.contains(d.job) {
            var s = ScheduleRecord(instance: Self.instance, job: d.job, params: d.params, cron: d.cron, note: "host maintenance", now: now)
            s.advance(after: now)
            do { try await store.insertSchedule(s) } catch {
                // Another replica created it first (unique per host job).
                if try await store.schedules(instance: Self.instance).contains(where: { $0.job == d.job }) { continue }
                throw error
            }
        }
    }

    func execute(_ queued: RunRecord) async throws -> RunRecord {
        var run = queued
        run.startedAt = run.startedAt ?? clock()
        switch run.job {
        case "purge_runs":
            let days = run.params["days"]?.intValue ?? 90
            if days < 1 {
                run.status = .failed
                run.error = "purge_runs: days must be at least 1"
            } else {
                let n = try await store.purgeRuns(finishedBefore: clock().addingTimeInterval(-Double(days) * 86400))
                run.counts.deleted = n
                run.message = "deleted \(n) run(s) finished more than \(days) day(s) ago"
                run.status = .succeeded
                run.complete = true
            }
        default:
            run.status = .failed
            run.error = "unknown host job \(run.job)"
        }
        run.finishedAt = clock()
        try await store.finishRun(run)
        return run
    }
}
