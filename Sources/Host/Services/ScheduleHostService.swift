import Foundation
import PluginAPI

/// "enqueue": a plugin queues one of its own instance's jobs, now or later (e.g. VOS's staggered backfill).
struct ScheduleHostService: HostService {
    let instances: @Sendable () -> InstanceManager?

    func handle(op: String, request: [UInt8], session: SessionContext) async throws -> [UInt8] {
        guard op == "enqueue" else { throw PluginError(.invalid, "schedule: unknown operation \(op)") }
        guard let instance = session.instance?.id else { throw PluginError(.invalid, "schedule.enqueue outside an instance call") }
        guard let manager = instances() else { throw PluginError(.unavailable, "schedule.enqueue: this host runs no scheduler") }
        let r: SchedulerService.EnqueueRequest
        do { r = try WireJSON.decode(SchedulerService.EnqueueRequest.self, from: request) } catch {
            throw PluginError(.invalid, "schedule.enqueue: malformed request: \(error)")
        }
        guard ["initial", "manual", "retry", "schedule", "plugin"].contains(r.trigger) else {
            throw PluginError(.invalid, "schedule.enqueue: trigger must be initial, manual or plugin")
        }
        do {
            let run = try await manager.enqueue(instance: instance, job: r.job, params: r.params, dryRun: false, trigger: r.trigger, runAt: r.runAt)
            return try WireJSON.encode(SchedulerService.Enqueued(runID: run.id))
        } catch let e as HostError {
            throw PluginError(.invalid, "schedule.enqueue: \(e.description)")
        }
    }
}
