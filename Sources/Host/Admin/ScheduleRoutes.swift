import Foundation
import Hummingbird
import PluginAPI

/// `/api/v1/schedules`: list, create, read, replace, patch, delete. Every edit is validated (cron parser
/// message on a bad expression), saved, and wakes the dispatcher: it takes effect at once.
struct ScheduleRoutes {
    let store: any ScheduleStore
    let manager: InstanceManager
    let scheduler: Scheduler

    func add(to api: RouterGroup<BasicRequestContext>) {
        api.get("schedules") { request, _ -> Response in
            let instance = request.uri.queryParameters.get("instance")
            return try .json(try await store.schedules(instance: instance).map { ScheduleView($0) })
        }
        api.post("schedules") { request, _ -> Response in
            let input = try await RequestBody.json(request, as: ScheduleInput.self, allowedKeys: ScheduleInput.keys)
            guard let instance = input.instance, let job = input.job, let cron = input.cron else {
                throw HostError.invalid("instance, job and cron are required")
            }
            var s = ScheduleRecord(instance: instance, job: job, cron: cron)
            try input.apply(to: &s)
            s = try await manager.validated(s)
            s.advance(after: Date())
            try await store.insertSchedule(s)
            scheduler.wake()
            return try .json(ScheduleView(s), status: .created)
        }
        api.get("schedules/:id") { _, context -> Response in
            try .json(ScheduleView(try await find(context)))
        }
        for method in [HTTPRequest.Method.put, .patch] {
            api.on("schedules/:id", method: method) { request, context -> Response in
                var s = try await find(context)
                let input = try await RequestBody.json(request, as: ScheduleInput.self, allowedKeys: ScheduleInput.keys.subtracting(["instance", "job"]))
                if method == .put, input.cron == nil { throw HostError.invalid("PUT replaces the schedule: cron is required") }
                try input.apply(to: &s)
                s = try await manager.validated(s)
                s.updatedAt = Date()
                s.advance(after: Date())
                try await store.updateSchedule(s)
                scheduler.wake()
                return try .json(ScheduleView(s))
            }
        }
        api.delete("schedules/:id") { _, context -> Response in
            let s = try await find(context)
            try await store.deleteSchedule(id: s.id)
            scheduler.wake()
            return Response(status: .noContent)
        }
    }

    func find(_ context: BasicRequestContext) async throws -> ScheduleRecord {
        let id = try context.parameters.require("id")
        guard let s = try await store.schedule(id: id) else { throw HostError.notFound("no schedule \(id.debugDescription)") }
        return s
    }
}
