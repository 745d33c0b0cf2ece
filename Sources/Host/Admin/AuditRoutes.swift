import Foundation
import Hummingbird
import PluginAPI

/// `GET /api/v1/audit` (admin): the changes made through the API and the CLI, newest first, by
/// `?actor=&action=&target=&since=&limit=&before=`.
struct AuditRoutes {
    let store: any HostDatabase

    struct EntryView: Encodable {
        var id: Int64
        var at: String
        var actor: String
        var role: String
        var source: String
        var address: String
        var action: String
        var target: String
        var before: JSONValue?
        var after: JSONValue?

        init(_ e: AuditEntry) {
            id = e.id
            at = ISOTime.string(e.at) ?? ""
            actor = e.actor
            role = e.role
            source = e.source
            address = e.address
            action = e.action
            target = e.target
            before = e.before
            after = e.after
        }
    }

    struct Page: Encodable {
        var entries: [EntryView]
        /// Pass as `before` for the next (older) page.
        var next_before: Int64?
    }

    static func query(_ p: [String: String]) throws -> AuditQuery {
        var q = AuditQuery()
        q.actor = p["actor"]
        q.action = p["action"]
        q.target = p["target"]
        if let s = p["since"] { q.since = try ISOTime.parse(s, field: "since") }
        if let b = p["before"] {
            guard let n = Int64(b), n > 0 else { throw HostError.invalid("before must be an entry id") }
            q.beforeID = n
        }
        if let l = p["limit"] {
            guard let n = Int(l), (1...1000).contains(n) else { throw HostError.invalid("limit must be 1-1000") }
            q.limit = n
        }
        return q
    }

    func add(to api: RouterGroup<AdminRequestContext>) {
        api.get("audit") { request, _ -> Response in
            var params: [String: String] = [:]
            for (k, v) in request.uri.queryParameters { params[String(k)] = String(v) }
            let q = try Self.query(params)
            let entries = try await store.audit(q)
            return try .json(Page(entries: entries.map(EntryView.init), next_before: entries.count == q.limit ? entries.last?.id : nil))
        }
    }
}
