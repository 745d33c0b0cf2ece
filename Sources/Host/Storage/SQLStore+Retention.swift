import Foundation
import PluginAPI

extension SQLStore: RetentionStore {
    public func retentionOverrides(instance: String) async throws -> [String: RetentionSpec] {
        let rows = try await quickRows("SELECT collection, days, field, tombstone_days FROM collection_retention WHERE instance_id = ?", [.text(instance)])
        return Dictionary(uniqueKeysWithValues: rows.map { r in
            (r.text(0) ?? "", RetentionSpec(days: r.int(1).map(Int.init), field: r.text(2), tombstoneDays: r.int(3).map(Int.init)))
        })
    }

    public func setRetention(instance: String, collection: String, _ spec: RetentionSpec?, now: Date) async throws {
        try await write { s in
            let old = try await s.one("SELECT days, field, tombstone_days FROM collection_retention WHERE instance_id = ? AND collection = ?",
                                      [.text(instance), .text(collection)])
            try await s.execute("DELETE FROM collection_retention WHERE instance_id = ? AND collection = ?", [.text(instance), .text(collection)])
            if let spec {
                try await s.execute("INSERT INTO collection_retention (instance_id, collection, days, field, tombstone_days, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                                    [.text(instance), .text(collection), .optional(spec.days.map(Int64.init)), spec.field.map(SQLValue.text) ?? .null,
                                     .optional(spec.tombstoneDays.map(Int64.init)), .int(now.millis)])
            }
            func json(_ days: Int64?, _ field: String?, _ tomb: Int64?) -> JSONValue {
                ["days": days.map(JSONValue.int) ?? .null, "field": field.map(JSONValue.string) ?? .null, "tombstone_days": tomb.map(JSONValue.int) ?? .null]
            }
            try await Self.audit(s, "retention.set", "\(instance)/\(collection)", before: old.map { json($0.int(0), $0.text(1), $0.int(2)) },
                                 after: spec.map { json($0.days.map(Int64.init), $0.field, $0.tombstoneDays.map(Int64.init)) })
        }
    }

    public func purgeExpired(instance: String, collection: String, field: String?, cutoff: Date, cutoffText: String, keepSyncedSince: Date?) async throws -> Int {
        var sql = "DELETE FROM records WHERE instance_id = ? AND collection = ? AND deleted_at IS NULL"
        var args: [SQLValue] = [.text(instance), .text(collection)]
        if let field {
            // The field is a checked identifier; a record without it is not judged by it.
            sql += " AND \(dialect.jsonText(field)) < ?"
            args.append(.text(cutoffText))
        } else {
            sql += " AND synced_at < ?"
            args.append(.int(cutoff.millis))
        }
        if let keep = keepSyncedSince {
            sql += " AND synced_at < ?"
            args.append(.int(keep.millis))
        }
        return try await writeCount(sql + " RETURNING 1", args)
    }

    public func purgeNotifications(before cutoff: Date) async throws -> Int {
        try await writeCount("DELETE FROM notifications WHERE state IN ('sent', 'dead') AND updated_at < ? RETURNING 1", [.int(cutoff.millis)])
    }
}
