import Foundation
import GRDB
import PluginAPI

extension SQLiteStore: OutboxStore {
    public func enqueue(_ notifications: [OutboxNotification]) async throws -> [String] {
        try await pool.write { db in
            try notifications.map { n in
                if let key = n.dedupKey,
                   let existing = try String.fetchOne(db, sql: "SELECT id FROM notifications WHERE channel = ? AND dedup_key = ?", arguments: [n.channel, key]) {
                    return existing
                }
                try db.execute(sql: "INSERT INTO notifications (\(NotificationRow.columns)) VALUES (\(NotificationRow.placeholders(.sqlite)))",
                               arguments: Self.arguments(NotificationRow.values(n)))
                return n.id
            }
        }
    }

    public func claimDueNotifications(now: Date, owner: String, leaseUntil: Date, limit: Int) async throws -> [OutboxNotification] {
        try await pool.write { db in
            let due = NotificationRow.due.replacingOccurrences(of: "$NOW", with: "?")
            let rows = try Row.fetchAll(db, sql: "SELECT \(NotificationRow.columns) FROM notifications WHERE \(due) ORDER BY next_attempt_at, created_at LIMIT ?",
                                        arguments: [now.millis, now.millis, limit])
            return try rows.map { row in
                var n = NotificationRow.decode(Self.cells(row, count: NotificationRow.names.count))
                n.state = .sending
                n.leaseOwner = owner
                n.leaseExpiresAt = leaseUntil
                n.updatedAt = now
                try db.execute(sql: "UPDATE notifications SET state = 'sending', lease_owner = ?, lease_expires_at = ?, updated_at = ? WHERE id = ?",
                               arguments: [owner, leaseUntil.millis, now.millis, n.id])
                return n
            }
        }
    }

    public func updateNotification(_ n: OutboxNotification) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE notifications SET \(NotificationRow.assignments(.sqlite)) WHERE id = ?",
                           arguments: Self.arguments(Array(NotificationRow.values(n).dropFirst()) + [.text(n.id)]))
        }
    }

    public func notification(id: String) async throws -> OutboxNotification? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(NotificationRow.columns) FROM notifications WHERE id = ?", arguments: [id])
                .map { NotificationRow.decode(Self.cells($0, count: NotificationRow.names.count)) }
        }
    }

    public func notifications(_ q: NotificationQuery) async throws -> [OutboxNotification] {
        let (filter, args) = NotificationRow.filter(q, .sqlite)
        return try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(NotificationRow.columns) FROM notifications WHERE \(filter) ORDER BY created_at DESC, id DESC LIMIT ?",
                             arguments: Self.arguments(args + [.int(Int64(q.limit))]))
                .map { NotificationRow.decode(Self.cells($0, count: NotificationRow.names.count)) }
        }
    }

    public func outboxDepth() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM notifications WHERE state IN ('pending', 'sending', 'failed')") ?? 0 }
    }
}
