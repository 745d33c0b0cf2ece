import Foundation
import Hummingbird
import PluginAPI

/// `/api/v1/schedules`: list, create, read, replace, patch, delete. Every edit is validated (cron parser
/// message on a bad expression), saved, and wakes the dispatcher: it takes effect at once.
struct ScheduleRoutes {
    let store: any HostDatabase
    let manager: InstanceManager
    let scheduler: Scheduler

    struct Preview: Encodable {
        var expression: String
        var timezone: String
        var next: [String]
    }

    func add(to api: RouterGroup<AdminRequestContext>) {
        // The web page's "as you type" check: the parser's own message, or the next fire times.
        api.get("cron/preview") { request, _ -> Response in
            let p = request.uri.queryParameters
            guard let expr = p.get("expr"), !expr.isEmpty else { throw HostError.invalid("expr is required") }
            let zoneName = p.get("tz") ?? "UTC"
            guard let zone = TimeZone(identifier: zoneName) else { throw HostError.invalid("tz: unknown IANA time zone \(zoneName.debugDescription)") }
            let count = Int(p.get("count") ?? "5") ?? 0
            guard (1...50).contains(count) else { throw HostError.invalid("count must be 1-50") }
            let cron: CronExpression
            do { cron = try CronExpression(expr) } catch let e as CronError { throw HostError.invalid("cron: \(e.message)") }
            let f = ISO8601DateFormatter()
            f.timeZone = zone
            return try .json(Preview(expression: expr, timezone: zoneName, next: cron.nextFires(after: Date(), in: zone, count: count).map { f.string(from: $0) }))
        }
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

    func find(_ context: AdminRequestContext) async throws -> ScheduleRecord {
        // A name may be any text: the path carries it percent-encoded.
        let raw = try context.parameters.require("id")
        let id = raw.removingPercentEncoding ?? raw
        guard let s = try await store.schedule(idOrName: id) else { throw HostError.notFound("no schedule \(id.debugDescription)") }
        return s
    }
}
