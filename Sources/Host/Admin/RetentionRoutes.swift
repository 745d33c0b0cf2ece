import Foundation
import Hummingbird
import PluginAPI

/// `/api/v1/instances/{id}/retention`: how long each collection of an instance keeps its records — the manifest's
/// default, the instance's override and the policy in force — and `PUT`/`DELETE …/retention/{collection}` to set or
/// drop the override (admin; audited). The host's `retention` job applies them.
struct RetentionRoutes {
    let store: any HostDatabase
    let registry: PluginRegistry

    struct Row: Encodable {
        var collection: String
        var declared: RetentionSpec?
        var override: RetentionSpec?
        var effective: RetentionSpec?
    }

    struct Rows: Encodable {
        var collections: [Row]
    }

    func resolve(_ context: AdminRequestContext) async throws -> (InstanceRecord, PluginHandle) {
        let id = try context.parameters.require("id")
        guard let instance = try await store.instance(id: id) else { throw HostError.notFound("no instance \(id.debugDescription)") }
        guard let plugin = registry.plugin(named: instance.plugin) else { throw HostError.unavailable("plugin \(instance.plugin) is not loaded") }
        return (instance, plugin)
    }

    func rows(_ instance: InstanceRecord, _ plugin: PluginHandle) async throws -> Rows {
        let overrides = try await store.retentionOverrides(instance: instance.id)
        return Rows(collections: plugin.manifest.collections.map { c in
            Row(collection: c.name, declared: c.retention, override: overrides[c.name],
                effective: Retention.effective(declared: c.retention, override: overrides[c.name]))
        })
    }

    func add(to api: RouterGroup<AdminRequestContext>) {
        api.get("instances/:id/retention") { _, context -> Response in
            let (instance, plugin) = try await resolve(context)
            return try .json(try await rows(instance, plugin))
        }
        api.put("instances/:id/retention/:collection") { request, context -> Response in
            let (instance, plugin) = try await resolve(context)
            let collection = try context.parameters.require("collection")
            guard plugin.manifest.collections.contains(where: { $0.name == collection }) else {
                throw HostError.notFound("\(plugin.name) has no collection \(collection.debugDescription)")
            }
            let spec = try await RequestBody.json(request, as: RetentionSpec.self, allowedKeys: ["days", "field", "tombstone_days"])
            if let problem = spec.problems.first { throw HostError.invalid("retention: \(problem)") }
            try await store.setRetention(instance: instance.id, collection: collection, spec, now: Date())
            return try .json(try await rows(instance, plugin))
        }
        api.delete("instances/:id/retention/:collection") { _, context -> Response in
            let (instance, plugin) = try await resolve(context)
            let collection = try context.parameters.require("collection")
            guard plugin.manifest.collections.contains(where: { $0.name == collection }) else {
                throw HostError.notFound("\(plugin.name) has no collection \(collection.debugDescription)")
            }
            try await store.setRetention(instance: instance.id, collection: collection, nil, now: Date())
            return try .json(try await rows(instance, plugin))
        }
    }
}
