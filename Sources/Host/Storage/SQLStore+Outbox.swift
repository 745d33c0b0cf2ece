import Foundation
import PluginAPI

extension SQLStore: OutboxStore {
    public func enqueue(_ notifications: [OutboxNotification]) async throws -> [String] {
        try await write { s in
            var ids: [String] = []
            for n in notifications {
                if let id = try await s.one("""
                    INSERT INTO notifications (\(NotificationRow.columns)) VALUES (\(NotificationRow.placeholders))
                    ON CONFLICT (channel, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING RETURNING id
                    """, NotificationRow.values(n))?.text(0) {
                    ids.append(id)
                    try await Self.audit(s, "notification.queue", id, before: nil, after: ["channel": .string(n.channel)])
                    continue
                }
                // Queued already under this dedup key: that one stands.
                let existing = try await s.one("SELECT id FROM notifications WHERE channel = ? AND dedup_key = ?", [.text(n.channel), .optional(n.dedupKey)])
                ids.append(existing?.text(0) ?? n.id)
            }
            return ids
        }
    }

    public func claimDueNotifications(now: Date, owner: String, leaseUntil: Date, limit: Int) async throws -> [OutboxNotification] {
        // Replicas claim disjoint notifications (SKIP LOCKED); none is delivered by two hosts at once.
        try await write { s in
            try await s.query("""
                UPDATE notifications SET state = 'sending', lease_owner = ?, lease_expires_at = ?, updated_at = ?
                WHERE id IN (SELECT id FROM notifications WHERE \(NotificationRow.due) ORDER BY next_attempt_at, created_at LIMIT ?\(self.skipLocked))
                RETURNING \(NotificationRow.columns)
                """, [.text(owner), .int(leaseUntil.millis), .int(now.millis), .int(now.millis), .int(now.millis), .int(Int64(limit))])
                .map(NotificationRow.decode)
                .sorted { ($0.nextAttemptAt ?? $0.createdAt, $0.createdAt) < ($1.nextAttemptAt ?? $1.createdAt, $1.createdAt) }
        }
    }

    public func updateNotification(_ n: OutboxNotification) async throws {
        try await write { s in
            let before = try await Self.beforeChange { try await s.one("SELECT state FROM notifications WHERE id = ?", [.text(n.id)])?.text(0) }
            try await s.execute("UPDATE notifications SET \(NotificationRow.assignments) WHERE id = ?", Array(NotificationRow.values(n).dropFirst()) + [.text(n.id)])
            try await Self.audit(s, n.state == .pending ? "notification.retry" : "notification.update", n.id,
                                 before: before.map { ["state": .string($0)] }, after: ["state": .string(n.state.rawValue), "channel": .string(n.channel)])
        }
    }

    public func notification(id: String) async throws -> OutboxNotification? {
        try await quickRows("SELECT \(NotificationRow.columns) FROM notifications WHERE id = ?", [.text(id)]).first.map(NotificationRow.decode)
    }

    public func notifications(_ q: NotificationQuery) async throws -> [OutboxNotification] {
        let (filter, args) = NotificationRow.filter(q)
        return try await rows("SELECT \(NotificationRow.columns) FROM notifications WHERE \(filter) ORDER BY created_at DESC, id DESC LIMIT ?",
                              args + [.int(Int64(q.limit))]).map(NotificationRow.decode)
    }

    public func outboxDepth() async throws -> Int {
        Int(try await rows("SELECT COUNT(*) FROM notifications WHERE state IN ('pending', 'sending', 'failed')").first?.int(0) ?? 0)
    }
}
