import Foundation
import PluginAPI

/// Named API tokens (stored as hashes) and the audit log.
public protocol AccessStore: Sendable {
    /// Conflict if an unrevoked token has the name.
    func insertToken(_ token: APIToken) async throws
    func token(hash: String) async throws -> APIToken?
    func tokens(includeRevoked: Bool) async throws -> [APIToken]
    /// Revokes the unrevoked token with this id or name; the token as it is now.
    func revokeToken(idOrName: String, now: Date) async throws -> APIToken
    func touchToken(id: String, now: Date) async throws
    /// Records a change that is not a store write (e.g. a plugin rescan) for the current actor, if any.
    func recordAudit(action: String, target: String, before: JSONValue?, after: JSONValue?) async throws
    func audit(_ query: AuditQuery) async throws -> [AuditEntry]
    /// Deletes audit entries older than `cutoff` (the host's `purge_audit` job); how many.
    func purgeAudit(before cutoff: Date) async throws -> Int
}
