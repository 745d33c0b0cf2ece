import Foundation
import Hummingbird
import PluginAPI

/// `/api/v1/alert-rules` (list, create, replace, delete; operator; audited) and `GET /api/v1/alerts?state=active|all`
/// (the active alerts, or their history too). The host's `alerts` job evaluates the rules every minute.
struct AlertRoutes {
    let store: any HostDatabase

    struct RuleInput: Decodable {
        var id: String?
        var name: String
        var kind: AlertRule.Kind
        var instance: String?
        var collection: String?
        var job: String?
        var error_class: AlertRule.ErrorClass?
        var threshold: Double
        var severity: AlertRule.Severity?
        var channels: [String]?
        var repeat_minutes: Int?
        var enabled: Bool?
    }

    static let keys: Set<String> = ["id", "name", "kind", "instance", "collection", "job", "error_class", "threshold", "severity", "channels", "repeat_minutes", "enabled"]

    struct Alerts: Encodable {
        var alerts: [AlertRecord]
    }

    func rule(_ input: RuleInput, id: String) async throws -> AlertRule {
        let r = AlertRule(id: id, name: input.name, kind: input.kind, instance: input.instance, collection: input.collection, job: input.job,
                          errorClass: input.error_class, threshold: input.threshold,
                          severity: input.severity ?? .warning, channels: input.channels ?? [], repeatMinutes: input.repeat_minutes ?? 60,
                          enabled: input.enabled ?? true)
        if let problem = r.problems.first { throw HostError.invalid("alert rule: \(problem)") }
        guard id.wholeMatch(of: /^[a-z0-9][a-z0-9_-]{0,63}$/) != nil else { throw HostError.invalid("id: 1-64 of a-z, 0-9, _ and -") }
        if let i = r.instance, try await store.instance(id: i) == nil { throw HostError.invalid("instance: no instance \(i.debugDescription)") }
        for c in r.channels where try await store.instance(id: c) == nil { throw HostError.invalid("channels: no channel \(c.debugDescription)") }
        return r
    }

    func add(to api: RouterGroup<AdminRequestContext>) {
        api.get("alert-rules") { _, _ -> Response in
            try .json(try await store.alertRules())
        }
        api.post("alert-rules") { request, _ -> Response in
            let input = try await RequestBody.json(request, as: RuleInput.self, allowedKeys: Self.keys)
            let id = input.id ?? UUID().uuidString.lowercased()
            if try await store.alertRules().contains(where: { $0.id == id }) { throw HostError.conflict("an alert rule \(id.debugDescription) exists already") }
            let r = try await rule(input, id: id)
            try await store.saveAlertRule(r, now: Date())
            return try .json(r, status: .created)
        }
        api.put("alert-rules/:id") { request, context -> Response in
            let id = try context.parameters.require("id")
            guard try await store.alertRules().contains(where: { $0.id == id }) else { throw HostError.notFound("no alert rule \(id.debugDescription)") }
            let r = try await rule(try await RequestBody.json(request, as: RuleInput.self, allowedKeys: Self.keys), id: id)
            try await store.saveAlertRule(r, now: Date())
            return try .json(r)
        }
        api.delete("alert-rules/:id") { _, context -> Response in
            let id = try context.parameters.require("id")
            guard try await store.deleteAlertRule(id: id) else { throw HostError.notFound("no alert rule \(id.debugDescription)") }
            return Response(status: .noContent)
        }
        api.get("alerts") { request, _ -> Response in
            let state = request.uri.queryParameters.get("state").map { String($0) } ?? "active"
            guard state == "active" || state == "all" else { throw HostError.invalid("state must be active or all") }
            let limit = Int(request.uri.queryParameters.get("limit").map { String($0) } ?? "200") ?? 0
            guard (1...1000).contains(limit) else { throw HostError.invalid("limit must be 1-1000") }
            let instance = request.uri.queryParameters.get("instance").map { String($0) }
            return try .json(Alerts(alerts: try await store.alerts(instance: instance, includeResolved: state == "all", limit: limit)))
        }
    }
}
