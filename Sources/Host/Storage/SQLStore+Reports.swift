import Foundation
import PluginAPI

extension SQLStore: ReportStore {
    static let reportColumns = "id, spec, next_fire_at, last_fired_at, last_outcome, last_failed, updated_at"

    static func report(_ r: SQLRow) -> StoredReport? {
        guard let spec = try? WireJSON.decode(ReportSpec.self, from: Array((r.text(1) ?? "").utf8)) else { return nil }
        return StoredReport(spec: spec, nextFireAt: r.date(2), lastFiredAt: r.date(3), lastOutcome: r.text(4), lastFailed: r.bool(5),
                            updatedAt: r.date(6) ?? Date(millis: 0))
    }

    static func reportJSON(_ s: ReportSpec) -> JSONValue { (try? JSONValue.parse(WireJSON.encode(s))) ?? .null }

    public func reports() async throws -> [StoredReport] {
        try await rows("SELECT \(Self.reportColumns) FROM reports ORDER BY id").compactMap(Self.report)
    }

    public func report(id: String) async throws -> StoredReport? {
        try await rows("SELECT \(Self.reportColumns) FROM reports WHERE id = ?", [.text(id)]).first.flatMap(Self.report)
    }

    public func saveReport(_ spec: ReportSpec, nextFireAt: Date?, now: Date) async throws {
        let json = String(decoding: try WireJSON.encode(spec), as: UTF8.self)
        try await write { s in
            let old = try await s.one("SELECT \(Self.reportColumns) FROM reports WHERE id = ?", [.text(spec.id)]).flatMap(Self.report)
            if old == nil {
                try await s.execute("INSERT INTO reports (id, spec, next_fire_at, last_failed, updated_at) VALUES (?, ?, ?, 0, ?)",
                                    [.text(spec.id), .text(json), .optional(nextFireAt), .int(now.millis)])
            } else {
                try await s.execute("UPDATE reports SET spec = ?, next_fire_at = ?, updated_at = ? WHERE id = ?",
                                    [.text(json), .optional(nextFireAt), .int(now.millis), .text(spec.id)])
            }
            try await Self.audit(s, old == nil ? "report.create" : "report.update", spec.id, before: old.map { Self.reportJSON($0.spec) }, after: Self.reportJSON(spec))
        }
    }

    public func deleteReport(id: String) async throws -> Bool {
        try await write { s in
            guard let old = try await s.one("SELECT \(Self.reportColumns) FROM reports WHERE id = ?", [.text(id)]).flatMap(Self.report) else { return false }
            try await s.execute("DELETE FROM reports WHERE id = ?", [.text(id)])
            try await Self.audit(s, "report.delete", id, before: Self.reportJSON(old.spec), after: nil)
            return true
        }
    }

    public func claimReportFire(id: String, due: Date, next: Date?) async throws -> Bool {
        try await writeCount("UPDATE reports SET next_fire_at = ? WHERE id = ? AND next_fire_at = ? RETURNING id", [.optional(next), .text(id), .int(due.millis)]) == 1
    }

    public func recordReportOutcome(id: String, firedAt: Date, outcome: String, failed: Bool) async throws {
        try await write("UPDATE reports SET last_fired_at = ?, last_outcome = ?, last_failed = ? WHERE id = ?",
                        [.int(firedAt.millis), .text(outcome), .bool(failed), .text(id)])
    }
}
