import Foundation
import Hummingbird
import PluginAPI

/// `/api/v1/tokens` (admin): named API tokens with a role. The token itself is in the creating response only;
/// the database keeps its SHA-256.
struct TokenRoutes {
    let store: any HostDatabase
    var clock: HostClock = HostClocks.system

    struct CreateInput: Decodable {
        var name: String
        var role: String
    }

    struct TokenView: Encodable {
        var id: String
        var name: String
        var role: String
        var created_at: String
        var created_by: String
        var last_used_at: String?
        var revoked_at: String?
        /// Only in the answer that created it.
        var token: String?

        init(_ t: APIToken, token: String? = nil) {
            id = t.id
            name = t.name
            role = t.role.rawValue
            created_at = ISOTime.string(t.createdAt) ?? ""
            created_by = t.createdBy
            last_used_at = ISOTime.string(t.lastUsedAt)
            revoked_at = ISOTime.string(t.revokedAt)
            self.token = token
        }
    }

    func add(to api: RouterGroup<AdminRequestContext>) {
        api.get("tokens") { request, _ -> Response in
            let all = request.uri.queryParameters.get("revoked") == "true"
            return try .json(try await store.tokens(includeRevoked: all).map { TokenView($0) })
        }
        api.post("tokens") { request, context -> Response in
            let input = try await RequestBody.json(request, as: CreateInput.self, allowedKeys: ["name", "role"])
            let (token, text) = try APIToken.issue(name: input.name, role: try AccessRole(parsing: input.role), by: context.identity?.name ?? "?", now: clock())
            try await store.insertToken(token)
            return try .json(TokenView(token, token: text), status: .created)
        }
        api.delete("tokens/:id") { _, context -> Response in
            let revoked = try await store.revokeToken(idOrName: try context.parameters.require("id"), now: clock())
            return try .json(TokenView(revoked))
        }
    }
}
