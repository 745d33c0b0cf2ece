import Foundation
import PluginAPI

/// A run as a row: the column list, and conversion both ways.
enum RunRow {
    static let names = ["id", "instance_id", "job", "trigger", "status", "params", "dry_run", "schedule_id", "scheduled_for",
                        "created_at", "started_at", "finished_at", "counts", "complete", "message", "error", "attempt",
                        "run_at", "lease_owner", "lease_expires_at", "overlap", "timeout_seconds", "max_attempts",
                        "retry_backoff_seconds", "cancel_requested", "log", "details"]
    static let columns = names.joined(separator: ", ")
    static let placeholders = Array(repeating: "?", count: names.count).joined(separator: ", ")
    /// `col = ?` for every column but id; the caller binds the id last.
    static let assignments = names.dropFirst().map { "\($0) = ?" }.joined(separator: ", ")

    /// The counts as JSON, written by hand: this runs for every run row, thousands at a time in a burst.
    static func countsJSON(_ c: RunCounts) -> String {
        "{\"deleted\":\(c.deleted),\"fetched\":\(c.fetched),\"inserted\":\(c.inserted),\"pages\":\(c.pages),\"unchanged\":\(c.unchanged),\"updated\":\(c.updated)}"
    }

    /// Counts as `countsJSON` wrote them (missing fields are 0), through the SDK's parser: no Codable per row.
    static func counts(_ text: String?) -> RunCounts {
        guard let text, let json = try? JSONValue.parse(text.utf8) else { return RunCounts() }
        return RunCounts(json: json)
    }

    /// A stored JSON object (params), or empty.
    static func objectJSON(_ text: String?) -> [String: JSONValue] {
        guard let text, case .object(let o)? = try? JSONValue.parse(text.utf8) else { return [:] }
        return o
    }

    static func values(_ r: RunRecord) -> [SQLValue] {
        [
            .text(r.id), .text(r.instance), .text(r.job), .text(r.trigger), .text(r.status.rawValue),
            .text(String(decoding: JSONValue.object(r.params).jsonBytes, as: UTF8.self)), .bool(r.dryRun),
            .optional(r.scheduleID), .optional(r.scheduledFor), .int(r.createdAt.millis), .optional(r.startedAt),
            .optional(r.finishedAt), .text(countsJSON(r.counts)),
            .optional(r.complete.map { Int64($0 ? 1 : 0) }), .optional(r.message), .optional(r.error), .int(Int64(r.attempt)),
            .optional(r.runAt), .optional(r.leaseOwner), .optional(r.leaseExpiresAt), .text(r.overlap.rawValue),
            .int(Int64(r.timeoutSeconds)), .int(Int64(r.maxAttempts)), .int(Int64(r.retryBackoffSeconds)), .bool(r.cancelRequested),
            .optional(r.log), .optional(r.details.isEmpty ? nil : String(decoding: JSONValue.object(r.details).jsonBytes, as: UTF8.self)),
        ]
    }

    /// The values for `UPDATE runs SET assignments WHERE id = ?`.
    static func updateValues(_ r: RunRecord) -> [SQLValue] {
        let v = values(r)
        return Array(v.dropFirst()) + [v[0]]
    }

    static func decode(_ row: SQLRow) -> RunRecord {
        var r = RunRecord(
            id: row.text(0) ?? "", instance: row.text(1) ?? "", job: row.text(2) ?? "", trigger: row.text(3) ?? "",
            status: RunRecord.Status(rawValue: row.text(4) ?? "") ?? .failed,
            params: objectJSON(row.text(5)),
            dryRun: row.bool(6), scheduleID: row.text(7), scheduledFor: row.date(8),
            createdAt: row.date(9) ?? Date(millis: 0), attempt: Int(row.int(16) ?? 1))
        r.startedAt = row.date(10)
        r.finishedAt = row.date(11)
        r.counts = counts(row.text(12))
        r.complete = row.int(13).map { $0 == 1 }
        r.message = row.text(14)
        r.error = row.text(15)
        r.runAt = row.date(17)
        r.leaseOwner = row.text(18)
        r.leaseExpiresAt = row.date(19)
        r.overlap = ScheduleRecord.Overlap(rawValue: row.text(20) ?? "") ?? .forbid
        r.timeoutSeconds = Int(row.int(21) ?? 3600)
        r.maxAttempts = Int(row.int(22) ?? 1)
        r.retryBackoffSeconds = Int(row.int(23) ?? 30)
        r.cancelRequested = row.bool(24)
        r.log = row.count > 25 ? row.text(25) : nil
        r.details = row.count > 26 ? objectJSON(row.text(26)) : [:]
        return r
    }
}

/// WHERE clause of a run query, and its arguments.
struct RunFilter {
    var whereSQL = ""
    var arguments: [SQLValue] = []

    init(_ q: RunQuery) {
        var clauses: [String] = []
        if let i = q.instance { clauses.append("instance_id = ?"); arguments.append(.text(i)) }
        if let x = q.excludingInstance { clauses.append("instance_id <> ?"); arguments.append(.text(x)) }
        if let j = q.job { clauses.append("job = ?"); arguments.append(.text(j)) }
        if let s = q.status { clauses.append("status = ?"); arguments.append(.text(s.rawValue)) }
        if let since = q.since { clauses.append("created_at >= ?"); arguments.append(.int(since.millis)) }
        if let before = q.before {
            clauses.append("(created_at, id) < (SELECT created_at, ? FROM runs WHERE id = ?)")
            arguments += [.text(before), .text(before)]
        }
        whereSQL = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
    }
}
