import Foundation
import Hummingbird
import PluginAPI

/// `/api/v1/instances` and runs: create (config checked, default schedules, on-create hook), read, patch,
/// delete (`?purge=true` deletes the data too); run a job now; list and read runs; cancel a run.
struct InstanceRoutes {
    let store: any HostDatabase
    let registry: PluginRegistry
    let manager: InstanceManager
    let progress: RunProgress

    struct CreateInput: Decodable {
        var id: String
        var plugin: String
        var config: [String: JSONValue]?
        var enabled: Bool?
    }

    struct PatchInput: Decodable {
        var config: [String: JSONValue]?
        var enabled: Bool?
    }

    struct RunInput: Decodable {
        var params: [String: JSONValue]?
        var dry_run: Bool?
    }

    struct Accepted: Encodable {
        var run_id: String
        var status: String
    }

    struct RunList: Encodable {
        var runs: [RunView]
        var next_cursor: String?
    }

    /// Longest `?wait=` on a run.
    static let maxWait = Duration.seconds(300)

    /// `?wait=`: `30s`, `500ms`, `2m`, or seconds as a number; at most five minutes.
    static func waitDuration(_ text: String) throws -> Duration {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60)]
        let (number, scale) = units.first { text.hasSuffix($0.0) }.map { (String(text.dropLast($0.0.count)), $0.1) } ?? (text, 1)
        guard let n = Double(number), n >= 0, n * scale <= 300 else {
            throw HostError.invalid("wait must be a duration such as 30s, 500ms or 2m, at most 5m (got \(text.debugDescription))")
        }
        return .milliseconds(Int64(n * scale * 1000))
    }

    func keys(_ plugin: String) -> [ConfigKey] { registry.plugin(named: plugin)?.manifest.config ?? [] }

    func add(to api: RouterGroup<AdminRequestContext>) {
        api.get("instances") { _, _ -> Response in
            try .json(try await store.instances().map { InstanceView($0, keys: keys($0.plugin), zone: manager.zone(of: $0)) })
        }
        api.post("instances") { request, _ -> Response in
            let input = try await RequestBody.json(request, as: CreateInput.self, allowedKeys: ["id", "plugin", "config", "enabled"])
            let created = try await manager.create(id: input.id, plugin: input.plugin, config: input.config ?? [:], enabled: input.enabled ?? true)
            return try .json(InstanceView(created, keys: keys(created.plugin), zone: manager.zone(of: created)), status: .created)
        }
        api.get("instances/:id") { _, context -> Response in
            let id = try context.parameters.require("id")
            guard let i = try await store.instance(id: id) else { throw HostError.notFound("no instance \(id.debugDescription)") }
            return try .json(InstanceView(i, keys: keys(i.plugin), zone: manager.zone(of: i)))
        }
        api.patch("instances/:id") { request, context -> Response in
            let input = try await RequestBody.json(request, as: PatchInput.self, allowedKeys: ["config", "enabled"])
            let updated = try await manager.update(id: try context.parameters.require("id"), config: input.config, enabled: input.enabled)
            return try .json(InstanceView(updated, keys: keys(updated.plugin), zone: manager.zone(of: updated)))
        }
        api.delete("instances/:id") { request, context -> Response in
            let purge = request.uri.queryParameters.get("purge")
            guard purge == nil || purge == "true" || purge == "false" else { throw HostError.invalid("purge must be true or false") }
            try await manager.delete(id: try context.parameters.require("id"), purge: purge == "true")
            return Response(status: .noContent)
        }
        api.post("instances/:id/jobs/:job/run") { request, context -> Response in
            let wait = try request.uri.queryParameters.get("wait").map(Self.waitDuration)
            let input = try await RequestBody.json(request, as: RunInput.self, allowedKeys: ["params", "dry_run"])
            let run = try await manager.enqueue(instance: try context.parameters.require("id"), job: try context.parameters.require("job"),
                                                params: input.params ?? [:], dryRun: input.dry_run ?? false, trigger: "manual")
            // `?wait=30s`: "sync and show the result" in one call — the ended run (200), or 202 at the deadline.
            if let wait {
                let now = try await manager.waitForRun(run.id, timeout: wait)
                if now.status.isFinal { return try .json(RunView(now)) }
                return try .json(Accepted(run_id: now.id, status: now.status.rawValue), status: .accepted)
            }
            return try .json(Accepted(run_id: run.id, status: run.status.rawValue), status: .accepted)
        }
        api.get("runs") { request, _ -> Response in
            let p = request.uri.queryParameters
            var q = RunQuery()
            q.instance = p.get("instance")
            // The host's own maintenance runs (alerts every minute, purges) only when asked for: `?instance=_host`.
            if q.instance == nil { q.excludingInstance = HostJobs.instance }
            q.job = p.get("job")
            if let s = p.get("status") {
                guard let status = RunRecord.Status(rawValue: s) else {
                    throw HostError.invalid("status must be one of \(RunRecord.Status.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                q.status = status
            }
            if let since = p.get("since") { q.since = try ISOTime.parse(since, field: "since") }
            if let limit = p.get("limit") {
                guard let n = Int(limit), (1...500).contains(n) else { throw HostError.invalid("limit must be 1-500") }
                q.limit = n
            }
            q.before = p.get("cursor")
            let runs = try await store.runs(q)
            return try .json(RunList(runs: runs.map { RunView($0, progress: progress) }, next_cursor: runs.count == q.limit ? runs.last?.id : nil))
        }
        api.get("runs/:id") { _, context -> Response in
            let id = try context.parameters.require("id")
            guard let r = try await store.run(id: id) else { throw HostError.notFound("no run \(id.debugDescription)") }
            return try .json(RunView(r, progress: progress))
        }
        api.post("runs/:id/cancel") { _, context -> Response in
            let id = try context.parameters.require("id")
            guard try await store.requestCancel(runID: id, now: Date()) else { throw HostError.conflict("run \(id) has already ended") }
            manager.scheduler?.wake()
            return try .json(RunView(try await store.run(id: id)!), status: .accepted)
        }
    }
}
