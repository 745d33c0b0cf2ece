import Foundation
import PluginAPI
import PostgresNIO

extension PostgresStore: OutboxStore {
    public func enqueue(_ notifications: [OutboxNotification]) async throws -> [String] {
        try await client.withTransaction(logger: logger) { conn in
            var ids: [String] = []
            for n in notifications {
                let inserted = try await self.exec(conn, """
                    INSERT INTO notifications (\(NotificationRow.columns)) VALUES (\(NotificationRow.placeholders(.postgres)))
                    ON CONFLICT (channel, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING RETURNING id
                    """, NotificationRow.values(n))
                if case .text(let id)?? = inserted.first?.first { ids.append(id); continue }
                let existing = try await self.exec(conn, "SELECT id FROM notifications WHERE channel = $1 AND dedup_key = $2", [.text(n.channel), n.dedupKey.map { .text($0) }])
                if case .text(let id)?? = existing.first?.first { ids.append(id) } else { ids.append(n.id) }
            }
            return ids
        }
    }

    public func claimDueNotifications(now: Date, owner: String, leaseUntil: Date, limit: Int) async throws -> [OutboxNotification] {
        // SKIP LOCKED: replicas claim disjoint notifications; none is delivered by two hosts at once.
        let due = NotificationRow.due.replacingOccurrences(of: "$NOW", with: "$1")
        return try await exec("""
            UPDATE notifications SET state = 'sending', lease_owner = $2, lease_expires_at = $3, updated_at = $1
            WHERE id IN (SELECT id FROM notifications WHERE \(due) ORDER BY next_attempt_at, created_at LIMIT $4 FOR UPDATE SKIP LOCKED)
            RETURNING \(NotificationRow.columns)
            """, [.int(now.millis), .text(owner), .int(leaseUntil.millis), .int(Int64(limit))]).map(NotificationRow.decode)
    }

    public func updateNotification(_ n: OutboxNotification) async throws {
        _ = try await exec("UPDATE notifications SET \(NotificationRow.assignments(.postgres)) WHERE id = $\(NotificationRow.names.count)",
                           Array(NotificationRow.values(n).dropFirst()) + [.text(n.id)])
    }

    public func notification(id: String) async throws -> OutboxNotification? {
        try await exec("SELECT \(NotificationRow.columns) FROM notifications WHERE id = $1", [.text(id)]).first.map(NotificationRow.decode)
    }

    public func notifications(_ q: NotificationQuery) async throws -> [OutboxNotification] {
        let (filter, args) = NotificationRow.filter(q, .postgres)
        return try await exec("SELECT \(NotificationRow.columns) FROM notifications WHERE \(filter) ORDER BY created_at DESC, id DESC LIMIT $\(args.count + 1)",
                              args + [.int(Int64(q.limit))]).map(NotificationRow.decode)
    }

    public func outboxDepth() async throws -> Int {
        let rows = try await exec("SELECT COUNT(*)::bigint FROM notifications WHERE state IN ('pending', 'sending', 'failed')", [])
        if case .int(let n)?? = rows.first?.first { return Int(n) }
        return 0
    }
}
