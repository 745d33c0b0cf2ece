import Foundation
import PluginAPI

/// A notification as a row.
enum NotificationRow {
    static let names = ["id", "channel", "source_instance", "dedup_key", "message", "state", "attempts", "max_attempts", "next_attempt_at",
                        "last_error", "detail", "created_at", "updated_at", "sent_at", "lease_owner", "lease_expires_at"]
    static let columns = names.joined(separator: ", ")
    static let placeholders = Array(repeating: "?", count: names.count).joined(separator: ", ")
    static let assignments = names.dropFirst().map { "\($0) = ?" }.joined(separator: ", ")

    static func values(_ n: OutboxNotification) -> [SQLValue] {
        let message = (try? WireJSON.encode(n.message)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return [.text(n.id), .text(n.channel), .optional(n.sourceInstance), .optional(n.dedupKey), .text(message), .text(n.state.rawValue),
                .int(Int64(n.attempts)), .int(Int64(n.maxAttempts)), .optional(n.nextAttemptAt), .optional(n.lastError), .optional(n.detail),
                .int(n.createdAt.millis), .int(n.updatedAt.millis), .optional(n.sentAt), .optional(n.leaseOwner), .optional(n.leaseExpiresAt)]
    }

    static func decode(_ row: SQLRow) -> OutboxNotification {
        let message = row.text(4).flatMap { try? WireJSON.decode(OutgoingMessage.self, from: Array($0.utf8)) } ?? OutgoingMessage(text: "")
        var n = OutboxNotification(channel: row.text(1) ?? "", sourceInstance: row.text(2), dedupKey: row.text(3), message: message,
                                   maxAttempts: Int(row.int(7) ?? 1))
        n.id = row.text(0) ?? ""
        n.state = OutboxNotification.State(rawValue: row.text(5) ?? "") ?? .dead
        n.attempts = Int(row.int(6) ?? 0)
        n.nextAttemptAt = row.date(8)
        n.lastError = row.text(9)
        n.detail = row.text(10)
        n.createdAt = row.date(11) ?? Date(millis: 0)
        n.updatedAt = row.date(12) ?? Date(millis: 0)
        n.sentAt = row.date(13)
        n.leaseOwner = row.text(14)
        n.leaseExpiresAt = row.date(15)
        return n
    }

    /// WHERE for a list query, and its arguments.
    static func filter(_ q: NotificationQuery) -> (String, [SQLValue]) {
        var sql = "1 = 1"
        var args: [SQLValue] = []
        if let s = q.state { args.append(.text(s.rawValue)); sql += " AND state = ?" }
        if let c = q.channel { args.append(.text(c)); sql += " AND channel = ?" }
        if let b = q.before { args.append(.text(b)); sql += " AND (created_at, id) < (SELECT created_at, id FROM notifications WHERE id = ?)" }
        return (sql, args)
    }

    /// Due: pending or failed and due, or sending with an expired lease. Binds `now` twice.
    static let due = "((state IN ('pending', 'failed') AND next_attempt_at <= ?) OR (state = 'sending' AND lease_expires_at < ?))"
}
