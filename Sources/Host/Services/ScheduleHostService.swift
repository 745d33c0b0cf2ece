import Foundation
import PluginAPI

/// "runs": a plugin reads its own instance's run history (health and metrics views).
/// "enqueue": a plugin queues one of its own instance's jobs, now or later (e.g. VOS's staggered backfill).
/// "alerts" (1.6): a plugin reads its own instance's alerts, as the host's alert rules raised them.
/// "progress" (1.4): a run says how far it is; the host keeps the latest per bar and tells the events stream.
struct ScheduleHostService: HostService {
    let instances: @Sendable () -> InstanceManager?
    let progress: RunProgress
    let events: EventBus

    func handle(op: String, request: [UInt8], session: SessionContext) async throws -> [UInt8] {
        if op == "progress" { return try report(request, session: session) }
        guard ["enqueue", "runs", "alerts"].contains(op) else { throw HostInfo.noSuchOperation("schedule", op) }
        guard let instance = session.instance?.id else { throw PluginError(.invalid, "schedule.\(op) outside an instance call") }
        guard let manager = instances() else { throw PluginError(.unavailable, "schedule.\(op): this host runs no scheduler") }
        if op == "runs" { return try await runs(request, instance: instance, store: manager.store) }
        if op == "alerts" { return try await alerts(request, instance: instance, store: manager.store) }
        let r: SchedulerService.EnqueueRequest
        do { r = try WireJSON.decode(SchedulerService.EnqueueRequest.self, from: request) } catch {
            throw PluginError(.invalid, "schedule.enqueue: malformed request: \(error)")
        }
        guard ["initial", "manual", "retry", "schedule", "plugin"].contains(r.trigger) else {
            throw PluginError(.invalid, "schedule.enqueue: trigger must be initial, manual or plugin")
        }
        // A dry run changes nothing: the run it would queue is recorded on the dry run, not queued.
        if session.dryRun {
            session.tally?.wouldDo("would_enqueue", ["job": .string(r.job), "params": .object(r.params), "trigger": .string(r.trigger),
                                                     "run_at": r.runAt.flatMap { ISOTime.string($0) }.map(JSONValue.string) ?? .null])
            return try WireJSON.encode(SchedulerService.Enqueued(runID: "dry-run"))
        }
        do {
            let run = try await manager.enqueue(instance: instance, job: r.job, params: r.params, dryRun: false, trigger: r.trigger, runAt: r.runAt)
            return try WireJSON.encode(SchedulerService.Enqueued(runID: run.id))
        } catch let e as HostError {
            throw PluginError(.invalid, "schedule.enqueue: \(e.description)")
        }
    }

    func report(_ request: [UInt8], session: SessionContext) throws -> [UInt8] {
        guard let run = session.runID, let instance = session.instance else { throw PluginError(.invalid, "schedule.progress outside a run") }
        let r: SchedulerService.ProgressRequest
        do { r = try WireJSON.decode(SchedulerService.ProgressRequest.self, from: request) } catch {
            throw PluginError(.invalid, "schedule.progress: malformed request: \(error)")
        }
        guard r.total >= 0, (0...max(r.total, 0)).contains(r.done) else {
            throw PluginError(.invalid, "schedule.progress: done must be 0...total and total at least 0 (got \(r.done) of \(r.total))")
        }
        let label = r.label.map { SecretMasker.redact(String($0.prefix(200)), secrets: session.secrets) }
        let bar = RunProgress.Bar(bar: String((r.bar ?? "").prefix(64)), done: r.done, total: r.total, label: label)
        guard progress.report(run: run, bar) else {
            throw PluginError(.invalid, "schedule.progress: a run has at most \(RunProgress.maxBarsPerRun) bars")
        }
        var data = bar.fields
        data["run"] = .string(run)
        data["instance"] = .string(instance.id)
        data["plugin"] = .string(instance.plugin)
        events.publish(HostEvent.runProgress, .object(data))
        return Array("{}".utf8)
    }

    func runs(_ request: [UInt8], instance: String, store: any HostDatabase) async throws -> [UInt8] {
        let r: SchedulerService.RunsRequest
        do { r = try WireJSON.decode(SchedulerService.RunsRequest.self, from: request) } catch {
            throw PluginError(.invalid, "schedule.runs: malformed request: \(error)")
        }
        guard (1...500).contains(r.limit) else { throw PluginError(.invalid, "schedule.runs: limit must be 1-500") }
        var q = RunQuery()
        q.instance = instance
        q.job = r.job
        q.since = r.since
        q.limit = r.limit
        let runs = try await store.runs(q).map {
            RunInfo(id: $0.id, job: $0.job, trigger: $0.trigger, status: $0.status.rawValue, dryRun: $0.dryRun, createdAt: $0.createdAt,
                    startedAt: $0.startedAt, finishedAt: $0.finishedAt, counts: $0.counts, message: $0.message, error: $0.error)
        }
        return try WireJSON.encode(SchedulerService.RunsResponse(runs: runs))
    }

    func alerts(_ request: [UInt8], instance: String, store: any HostDatabase) async throws -> [UInt8] {
        let r: SchedulerService.AlertsRequest
        do { r = try WireJSON.decode(SchedulerService.AlertsRequest.self, from: request) } catch {
            throw PluginError(.invalid, "schedule.alerts: malformed request: \(error)")
        }
        guard (1...500).contains(r.limit) else { throw PluginError(.invalid, "schedule.alerts: limit must be 1-500") }
        let alerts = try await store.alerts(instance: instance, includeResolved: r.includeResolved, limit: r.limit).map {
            AlertInfo(id: $0.id, rule: $0.rule, ruleName: $0.ruleName, severity: $0.severity.rawValue, state: $0.state.rawValue,
                      message: $0.message, value: $0.value, firedAt: $0.firedAt, resolvedAt: $0.resolvedAt)
        }
        return try WireJSON.encode(SchedulerService.AlertsResponse(alerts: alerts))
    }
}
