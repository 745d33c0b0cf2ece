import Foundation
import PluginAPI

extension SQLStore: InstanceStore {
    static let instanceColumns = "id, plugin, config, enabled, created_at, updated_at, initial_pending"

    /// The instance in a row. Its config is decoded once per distinct text: requests read the instance on every
    /// call, and the stored text itself tells whether the decoded copy is still the one stored.
    func instance(_ row: SQLRow) throws -> InstanceRecord {
        let id = row.text(0) ?? ""
        let text = row.bytes(2) ?? Array("{}".utf8)
        let config: [String: JSONValue]
        if let hit = configs.withLock({ $0[id] }), hit.text == text {
            config = hit.config
        } else {
            let stored = try WireJSON.decode([String: JSONValue].self, from: text)
            config = try sealer.map { try $0.opened(stored, instance: id) } ?? stored
            configs.withLock { cache in
                if cache.count > 10_000 { cache.removeAll() }
                cache[id] = (text, config)
            }
        }
        return InstanceRecord(id: id, plugin: row.text(1) ?? "", config: config, enabled: row.bool(3), initialPending: row.bool(6),
                              createdAt: row.date(4) ?? Date(millis: 0), updatedAt: row.date(5) ?? Date(millis: 0))
    }

    public func createInstance(_ instance: InstanceRecord, schedules: [ScheduleRecord]) async throws {
        try await write { s in
            let inserted = try await s.count("""
                INSERT INTO instances (\(Self.instanceColumns)) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id
                """, [.text(instance.id), .text(instance.plugin), try storedConfig(instance), .bool(instance.enabled),
                      .int(instance.createdAt.millis), .int(instance.updatedAt.millis), .bool(instance.initialPending)])
            if inserted == 0 { throw HostError.conflict("an instance \(instance.id.debugDescription) exists already") }
            for schedule in schedules {
                try await s.execute("INSERT INTO schedules (\(ScheduleRow.columns)) VALUES (\(ScheduleRow.placeholders))", ScheduleRow.values(schedule))
            }
            try await Self.audit(s, "instance.create", instance.id, before: nil, after: auditJSON(instance))
        }
    }

    public func instance(id: String) async throws -> InstanceRecord? {
        try await quickRows("SELECT \(Self.instanceColumns) FROM instances WHERE id = ?", [.text(id)]).first.map(instance)
    }

    public func instances() async throws -> [InstanceRecord] {
        try await quickRows("SELECT \(Self.instanceColumns) FROM instances ORDER BY \(dialect == .postgres ? "id COLLATE \"C\"" : "id")").map(instance)
    }

    public func updateInstance(_ instance: InstanceRecord) async throws {
        let config = try storedConfig(instance)
        try await write { s in
            let before = try await Self.beforeChange { try await s.one("SELECT \(Self.instanceColumns) FROM instances WHERE id = ?", [.text(instance.id)]).map(self.storedAuditJSON) }
            let updated = try await s.count("UPDATE instances SET plugin = ?, config = ?, enabled = ?, updated_at = ? WHERE id = ? RETURNING id",
                                            [.text(instance.plugin), config, .bool(instance.enabled), .int(instance.updatedAt.millis), .text(instance.id)])
            if updated == 0 { throw HostError.notFound("no instance \(instance.id.debugDescription)") }
            try await Self.audit(s, "instance.update", instance.id, before: before, after: auditJSON(instance))
        }
    }

    /// An instance row as the audit log shows it, from its stored config (sealed values masked).
    func storedAuditJSON(_ row: SQLRow) -> JSONValue {
        let config = (try? WireJSON.decode([String: JSONValue].self, from: row.bytes(2) ?? Array("{}".utf8))) ?? [:]
        return auditJSON(InstanceRecord(id: row.text(0) ?? "", plugin: row.text(1) ?? "", config: config, enabled: row.bool(3), initialPending: row.bool(6),
                                        createdAt: Date(millis: 0), updatedAt: Date(millis: 0)))
    }

    public func claimInitialHook(id: String) async throws -> Bool {
        try await writeCount("UPDATE instances SET initial_pending = 0 WHERE id = ? AND initial_pending = 1 AND enabled = 1 RETURNING id", [.text(id)]) > 0
    }

    public func deleteInstance(id: String, purgeData: Bool, now: Date) async throws {
        try await write { s in
            let before = try await Self.beforeChange { try await s.one("SELECT \(Self.instanceColumns) FROM instances WHERE id = ?", [.text(id)]).map(self.storedAuditJSON) }
            if try await s.count("DELETE FROM instances WHERE id = ? RETURNING id", [.text(id)]) == 0 {
                throw HostError.notFound("no instance \(id.debugDescription)")
            }
            try await Self.audit(s, purgeData ? "instance.delete_with_data" : "instance.delete", id, before: before, after: nil)
            try await s.execute("DELETE FROM schedules WHERE instance_id = ?", [.text(id)])
            try await s.execute("UPDATE runs SET status = 'cancelled', error = 'instance deleted', finished_at = ? WHERE instance_id = ? AND status = 'queued'",
                                [.int(now.millis), .text(id)])
            if purgeData {
                for table in StoreSchema.instanceDataTables { try await s.execute("DELETE FROM \(table) WHERE instance_id = ?", [.text(id)]) }
            }
        }
    }
}
