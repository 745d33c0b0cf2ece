import Foundation
import PluginAPI

/// A schedule as a row.
enum ScheduleRow {
    static let names = ["id", "instance_id", "job", "params", "cron", "timezone", "enabled", "misfire", "misfire_cap", "overlap",
                        "jitter_seconds", "max_attempts", "retry_backoff_seconds", "timeout_seconds", "next_fire_at", "next_run_at",
                        "last_run_at", "last_status", "note", "created_at", "updated_at", "name"]
    static let columns = names.joined(separator: ", ")
    static let placeholders = Array(repeating: "?", count: names.count).joined(separator: ", ")
    static let assignments = names.dropFirst().map { "\($0) = ?" }.joined(separator: ", ")

    static func values(_ s: ScheduleRecord) -> [SQLValue] {
        [
            .text(s.id), .text(s.instance), .text(s.job), .text(String(decoding: JSONValue.object(s.params).jsonBytes, as: UTF8.self)),
            .text(s.cron), .text(s.timezone), .bool(s.enabled), .text(s.misfire.rawValue), .int(Int64(s.misfireCap)),
            .text(s.overlap.rawValue), .int(Int64(s.jitterSeconds)), .int(Int64(s.maxAttempts)), .int(Int64(s.retryBackoffSeconds)),
            .int(Int64(s.timeoutSeconds)), .optional(s.nextFireAt), .optional(s.nextRunAt), .optional(s.lastRunAt),
            .optional(s.lastStatus), .optional(s.note), .int(s.createdAt.millis), .int(s.updatedAt.millis), .optional(s.name),
        ]
    }

    /// The values for `UPDATE schedules SET assignments WHERE id = ?`.
    static func updateValues(_ s: ScheduleRecord) -> [SQLValue] {
        let v = values(s)
        return Array(v.dropFirst()) + [v[0]]
    }

    static func decode(_ row: SQLRow) -> ScheduleRecord {
        var s = ScheduleRecord(
            id: row.text(0) ?? "", instance: row.text(1) ?? "", job: row.text(2) ?? "",
            params: RunRow.objectJSON(row.text(3)),
            cron: row.text(4) ?? "", timezone: row.text(5) ?? "UTC", enabled: row.bool(6),
            misfire: ScheduleRecord.Misfire(rawValue: row.text(7) ?? "") ?? .once, misfireCap: Int(row.int(8) ?? 10),
            overlap: ScheduleRecord.Overlap(rawValue: row.text(9) ?? "") ?? .forbid, jitterSeconds: Int(row.int(10) ?? 0),
            maxAttempts: Int(row.int(11) ?? 1), retryBackoffSeconds: Int(row.int(12) ?? 30), timeoutSeconds: Int(row.int(13) ?? 3600),
            note: row.text(18), now: row.date(19) ?? Date(millis: 0))
        s.nextFireAt = row.date(14)
        s.nextRunAt = row.date(15)
        s.lastRunAt = row.date(16)
        s.lastStatus = row.text(17)
        s.updatedAt = row.date(20) ?? Date(millis: 0)
        s.name = row.text(21)
        return s
    }
}
