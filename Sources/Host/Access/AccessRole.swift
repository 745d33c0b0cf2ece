/// What a token may do. Each role includes the ones before it.
public enum AccessRole: String, Sendable, Codable, CaseIterable, Comparable {
    /// Reads data, runs, schedules, notifications, plugins.
    case viewer
    /// Also runs and cancels jobs, edits schedules, retries and tests notifications, calls plugins' actions.
    case `operator`
    /// Also instances (and their secrets), plugin rescans, tokens and the audit log.
    case admin

    public static func < (a: Self, b: Self) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }

    public init(parsing text: String) throws {
        guard let r = Self(rawValue: text) else { throw HostError.invalid("role must be one of viewer, operator, admin (got \(text.debugDescription))") }
        self = r
    }
}

/// Who a request or command acts for: the token's name and role (the audit log's actor).
public struct Identity: Sendable, Equatable {
    public var name: String
    public var role: AccessRole

    public static let bootstrap = Identity(name: "admin-token", role: .admin)
}
