import Foundation
import PluginAPI

/// One change in the audit log: who, when, from where, what, and the values before and after (secrets masked).
public struct AuditEntry: Sendable, Equatable {
    public var id: Int64
    public var at: Date
    public var actor: String
    public var role: String
    public var source: String
    public var address: String
    /// e.g. `instance.create`, `schedule.update`, `run.start`, `token.revoke`.
    public var action: String
    /// The id of what changed.
    public var target: String
    public var before: JSONValue?
    public var after: JSONValue?
}

/// A page of the audit log, newest first.
public struct AuditQuery: Sendable {
    public var actor: String?
    /// An action or its prefix before the dot (`instance` matches `instance.create`, ...).
    public var action: String?
    public var target: String?
    public var since: Date?
    /// Entries older than this id (the previous page's last).
    public var beforeID: Int64?
    public var limit = 100

    public init() {}
}
