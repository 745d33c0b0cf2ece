import Foundation
import PluginAPI

/// The host's own maintenance jobs, scheduled like any plugin job under the reserved instance "_host":
/// `purge_runs` (param `days`, default 90) deletes run history older than the retention; `purge_audit` (default 365)
/// the audit log's entries older than its retention; `purge_notifications` (default 30) delivered and given-up
/// notifications; `retention` applies every instance's collection retention (`Retention`); `alerts` evaluates the
/// alert rules every minute (`AlertEvaluator`); `reports` sends the reports whose cron time has come (`ReportRunner`).
struct HostJobs: Sendable {
    static let instance = "_host"
    static let defaults: [(job: String, cron: String, params: [String: JSONValue])] = [
        ("purge_runs", "15 3 * * *", ["days": 90]), ("purge_audit", "20 3 * * *", ["days": 365]),
        ("purge_notifications", "25 3 * * *", ["days": 30]), ("retention", "35 3 * * *", [:]), ("alerts", "* * * * *", [:]),
        ("reports", "* * * * *", [:]),
    ]

    let store: any HostDatabase
    var registry: PluginRegistry?
    var events: EventBus?
    let clock: HostClock
    /// The zone of instances without their own (reports' date ranges and cron times).
    var defaultZone = "UTC"

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
        case "alerts":
            let outcome = try await AlertEvaluator(store: store, registry: registry, events: events, clock: clock, defaultZone: defaultZone).evaluate()
            run.message = outcome.summary
            run.status = .succeeded
            run.complete = true
        case "reports":
            let outcome = try await ReportRunner(store: store, registry: registry, events: events, clock: clock, defaultZone: defaultZone).fireDue()
            run.message = outcome.summary
            run.status = outcome.failed.isEmpty ? .succeeded : .failed
            if !outcome.failed.isEmpty { run.error = outcome.summary }
            run.complete = true
        case "retention":
            let report = try await Retention(store: store, registry: registry, clock: clock).apply()
            run.counts.deleted = report.total
            run.message = report.summary
            run.details = report.details
            run.status = .succeeded
            run.complete = true
        case "purge_notifications":
            let days = run.params["days"]?.intValue ?? 30
            if days < 1 {
                run.status = .failed
                run.error = "purge_notifications: days must be at least 1"
            } else {
                let n = try await store.purgeNotifications(before: clock().addingTimeInterval(-Double(days) * 86400))
                run.counts.deleted = n
                run.message = "deleted \(n) sent or dead notification(s) older than \(days) day(s)"
                run.status = .succeeded
                run.complete = true
            }
        case "purge_runs", "purge_audit":
            let days = run.params["days"]?.intValue ?? (run.job == "purge_runs" ? 90 : 365)
            if days < 1 {
                run.status = .failed
                run.error = "\(run.job): days must be at least 1"
            } else {
                let cutoff = clock().addingTimeInterval(-Double(days) * 86400)
                let n = run.job == "purge_runs" ? try await store.purgeRuns(finishedBefore: cutoff) : try await store.purgeAudit(before: cutoff)
                run.counts.deleted = n
                run.message = run.job == "purge_runs" ? "deleted \(n) run(s) finished more than \(days) day(s) ago"
                    : "deleted \(n) audit entr\(n == 1 ? "y" : "ies") older than \(days) day(s)"
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
