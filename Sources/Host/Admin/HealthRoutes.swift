import Foundation
import Hummingbird
import PluginAPI

/// `GET /api/v1/health`: every instance's health score with its parts (`InstanceHealth`);
/// `GET /api/v1/instances/{id}/health`: one. `/metrics` carries the scores as `synchost_instance_health_score`.
struct HealthRoutes {
    let store: any HostDatabase
    let clock: HostClock

    struct All: Encodable {
        var instances: [InstanceHealth]
    }

    /// Every instance's health now, also recorded as the metrics gauge.
    static func all(store: any HostDatabase, now: Date) async throws -> [InstanceHealth] {
        var out: [InstanceHealth] = []
        for i in try await store.instances() {
            let h = try await InstanceHealth.of(i, store: store, now: now)
            HostMetrics.instanceHealth(instance: i.id, plugin: i.plugin, score: h.score)
            out.append(h)
        }
        return out
    }

    func add(to api: RouterGroup<AdminRequestContext>) {
        api.get("health") { _, _ -> Response in
            try .json(All(instances: try await Self.all(store: store, now: clock())))
        }
        api.get("instances/:id/health") { _, context -> Response in
            let id = try context.parameters.require("id")
            guard let i = try await store.instance(id: id) else { throw HostError.notFound("no instance \(id.debugDescription)") }
            let h = try await InstanceHealth.of(i, store: store, now: clock())
            HostMetrics.instanceHealth(instance: i.id, plugin: i.plugin, score: h.score)
            return try .json(h)
        }
    }
}
