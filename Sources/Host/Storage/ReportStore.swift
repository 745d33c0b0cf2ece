import Foundation

/// A report as stored: its definition and where its schedule stands.
public struct StoredReport: Sendable, Equatable {
    public var spec: ReportSpec
    /// The next time its cron fires (nil: on demand only, or disabled).
    public var nextFireAt: Date?
    public var lastFiredAt: Date?
    /// What the last firing did ("sent to 2 channel(s): 7 rows, csv, xlsx") or why it failed.
    public var lastOutcome: String?
    public var lastFailed: Bool
    public var updatedAt: Date
}

/// Reports (`/api/v1/reports`; the host's `reports` job fires the due ones).
public protocol ReportStore: Sendable {
    func reports() async throws -> [StoredReport]
    func report(id: String) async throws -> StoredReport?
    /// Inserts, or replaces the definition of the same id (keeping its last outcome); audited.
    func saveReport(_ spec: ReportSpec, nextFireAt: Date?, now: Date) async throws
    /// Whether it existed; audited.
    func deleteReport(id: String) async throws -> Bool
    /// Moves a due report's next fire from `due` to `next`: true for the one replica whose update found `due` still there.
    func claimReportFire(id: String, due: Date, next: Date?) async throws -> Bool
    func recordReportOutcome(id: String, firedAt: Date, outcome: String, failed: Bool) async throws
}
