import Foundation

/// Alert rules and the alerts they raised (the host's `alerts` job; `/api/v1/alert-rules`, `/api/v1/alerts`).
public protocol AlertStore: Sendable {
    func alertRules() async throws -> [AlertRule]
    /// Inserts, or replaces the rule of the same id; audited.
    func saveAlertRule(_ rule: AlertRule, now: Date) async throws
    /// Whether it existed; its alerts stay as history.
    func deleteAlertRule(id: String) async throws -> Bool
    /// Active alerts (of one instance, if named), or with `includeResolved` the history too, newest first.
    func alerts(instance: String?, includeResolved: Bool, limit: Int) async throws -> [AlertRecord]
    /// Inserts or updates by id. A second active alert of the same rule and instance is refused by the database.
    func saveAlert(_ alert: AlertRecord) async throws
}

extension AlertStore {
    public func alerts(includeResolved: Bool, limit: Int) async throws -> [AlertRecord] {
        try await alerts(instance: nil, includeResolved: includeResolved, limit: limit)
    }
}
