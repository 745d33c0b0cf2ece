import Foundation

/// Who the current task's changes are made by: set for an API request by `AccessMiddleware`, for a CLI command by
/// the command line. The store records every change made while one is set (and nothing the host does by itself,
/// such as a scheduled run).
public struct AuditActor: Sendable {
    public var identity: Identity
    /// The client's address (API), or `cli`.
    public var address: String
    /// `api` or `cli`.
    public var source: String

    public init(identity: Identity, address: String, source: String = "api") {
        self.identity = identity
        self.address = address
        self.source = source
    }

    @TaskLocal public static var current: AuditActor?

    /// A command run from a shell: named after the operating-system user.
    public static func commandLine() -> AuditActor {
        let user = ProcessInfo.processInfo.environment["USER"] ?? NSUserName()
        return AuditActor(identity: Identity(name: "cli:\(user)", role: .admin), address: "cli", source: "cli")
    }
}
