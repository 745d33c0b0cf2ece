import Foundation
import PluginAPI
import PostgresNIO

extension PostgresStore: ScheduleStore {
    public var isExclusive: Bool { false }

    /// Serialises fires and claims across replicas (held to the end of the transaction).
    static let queueLock: Int64 = 74_657_002

    static func cells(_ row: PostgresRow) throws -> [KeysetPlan.Argument?] {
        try row.makeRandomAccess().map { cell -> KeysetPlan.Argument? in
            if cell.bytes == nil { return nil }
            if cell.dataType == .int8 { return .int(try cell.decode(Int64.self)) }
            return .text(try cell.decode(String.self))
        }
    }

    func exec(_ conn: PostgresConnection, _ sql: String, _ values: [KeysetPlan.Argument?]) async throws -> [[KeysetPlan.Argument?]] {
        var out: [[KeysetPlan.Argument?]] = []
        for try await row in try await conn.query(PostgresQuery(unsafeSQL: sql, binds: Self.bindings(values)), logger: logger) { out.append(try Self.cells(row)) }
        return out
    }

    func exec(_ sql: String, _ values: [KeysetPlan.Argument?]) async throws -> [[KeysetPlan.Argument?]] {
        try await client.withConnection { conn in try await self.exec(conn, sql, values) }
    }

    // MARK: instances

    static func instance(_ c: [KeysetPlan.Argument?]) throws -> InstanceRecord {
        func text(_ i: Int) -> String { if case .text(let s)? = c[i] { return s }; return "" }
        func int(_ i: Int) -> Int64 { if case .int(let n)? = c[i] { return n }; return 0 }
        return InstanceRecord(id: text(0), plugin: text(1), config: try WireJSON.decode([String: JSONValue].self, from: Array(text(2).utf8)),
                              enabled: int(3) == 1, createdAt: Date(millis: int(4)), updatedAt: Date(millis: int(5)))
    }

    static func instanceValues(_ i: InstanceRecord) -> [KeysetPlan.Argument?] {
        [.text(i.id), .text(i.plugin), .text(String(decoding: JSONValue.object(i.config).jsonBytes, as: UTF8.self)), .int(i.enabled ? 1 : 0),
         .int(i.createdAt.millis), .int(i.updatedAt.millis)]
    }

    public func createInstance(_ instance: InstanceRecord, schedules: [ScheduleRecord]) async throws {
        try await client.withTransaction(logger: logger) { conn in
            let inserted = try await self.exec(conn, "INSERT INTO instances (id, plugin, config, enabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING RETURNING id",
                                               Self.instanceValues(instance))
            if inserted.isEmpty { throw HostError.conflict("an instance \(instance.id.debugDescription) exists already") }
            for s in schedules {
                _ = try await self.exec(conn, "INSERT INTO schedules (\(ScheduleRow.columns)) VALUES (\(ScheduleRow.placeholders(.postgres)))", ScheduleRow.values(s))
            }
        }
    }

    public func instance(id: String) async throws -> InstanceRecord? {
        try await exec("SELECT id, plugin, config, enabled, created_at, updated_at FROM instances WHERE id = $1", [.text(id)]).map(Self.instance).first
    }

    public func instances() async throws -> [InstanceRecord] {
        try await exec("SELECT id, plugin, config, enabled, created_at, updated_at FROM instances ORDER BY id COLLATE \"C\"", []).map(Self.instance)
    }

    public func updateInstance(_ instance: InstanceRecord) async throws {
        let v = Self.instanceValues(instance)
        let done = try await exec("UPDATE instances SET plugin = $1, config = $2, enabled = $3, updated_at = $4 WHERE id = $5 RETURNING id", [v[1], v[2], v[3], v[5], v[0]])
        if done.isEmpty { throw HostError.notFound("no instance \(instance.id.debugDescription)") }
    }

    public func deleteInstance(id: String, purgeData: Bool) async throws {
        try await client.withTransaction(logger: logger) { conn in
            if try await self.exec(conn, "DELETE FROM instances WHERE id = $1 RETURNING id", [.text(id)]).isEmpty {
                throw HostError.notFound("no instance \(id.debugDescription)")
            }
            _ = try await self.exec(conn, "DELETE FROM schedules WHERE instance_id = $1", [.text(id)])
            _ = try await self.exec(conn, "UPDATE runs SET status = 'cancelled', error = 'instance deleted', finished_at = $1 WHERE instance_id = $2 AND status = 'queued'",
                                    [.int(Date().millis), .text(id)])
            if purgeData {
                for table in ["records", "cursors", "plugin_state", "change_events", "collection_sync"] {
                    _ = try await self.exec(conn, "DELETE FROM \(table) WHERE instance_id = $1", [.text(id)])
                }
            }
        }
    }

    // MARK: schedules

    public func insertSchedule(_ schedule: ScheduleRecord) async throws {
        _ = try await exec("INSERT INTO schedules (\(ScheduleRow.columns)) VALUES (\(ScheduleRow.placeholders(.postgres)))", ScheduleRow.values(schedule))
    }

    public func schedule(id: String) async throws -> ScheduleRecord? {
        try await exec("SELECT \(ScheduleRow.columns) FROM schedules WHERE id = $1", [.text(id)]).map(ScheduleRow.decode).first
    }

    public func schedules(instance: String?) async throws -> [ScheduleRecord] {
        if let instance {
            return try await exec("SELECT \(ScheduleRow.columns) FROM schedules WHERE instance_id = $1 ORDER BY job, created_at, id", [.text(instance)]).map(ScheduleRow.decode)
        }
        return try await exec("SELECT \(ScheduleRow.columns) FROM schedules ORDER BY instance_id, job, created_at, id", []).map(ScheduleRow.decode)
    }

    public func updateSchedule(_ schedule: ScheduleRecord) async throws {
        let v = ScheduleRow.values(schedule)
        let done = try await exec("UPDATE schedules SET \(ScheduleRow.assignments(.postgres)) WHERE id = $\(ScheduleRow.names.count) RETURNING id", Array(v.dropFirst()) + [v[0]])
        if done.isEmpty { throw HostError.notFound("no schedule \(schedule.id.debugDescription)") }
    }

    public func deleteSchedule(id: String) async throws {
        if try await exec("DELETE FROM schedules WHERE id = $1 RETURNING id", [.text(id)]).isEmpty { throw HostError.notFound("no schedule \(id.debugDescription)") }
    }

    // MARK: the run queue

    public func earliestDue() async throws -> Date? {
        let rows = try await exec("SELECT LEAST((SELECT MIN(next_run_at) FROM schedules WHERE enabled = 1), (SELECT MIN(run_at) FROM runs WHERE status = 'queued'))", [])
        if case .int(let ms)?? = rows.first?.first { return Date(millis: ms) }
        return nil
    }

    public func fireDueSchedules(now: Date, limit: Int, plan: @Sendable (ScheduleRecord) -> FirePlan) async throws -> FireResult {
        try await client.withTransaction(logger: logger) { conn in
            _ = try await self.exec(conn, "SELECT pg_advisory_xact_lock(\(Self.queueLock))::text", [])
            let due = try await self.exec(conn, "SELECT \(ScheduleRow.columns) FROM schedules WHERE enabled = 1 AND next_run_at <= $1 ORDER BY next_run_at LIMIT $2 FOR UPDATE SKIP LOCKED",
                                          [.int(now.millis), .int(Int64(limit))]).map(ScheduleRow.decode)
            var queued: [RunRecord] = []
            for schedule in due {
                let p = plan(schedule)
                for run in p.runs {
                    let inserted = try await self.exec(conn, "INSERT INTO runs (\(RunRow.columns)) VALUES (\(RunRow.placeholders(.postgres))) ON CONFLICT DO NOTHING RETURNING id",
                                                       try RunRow.values(run))
                    if !inserted.isEmpty { queued.append(run) }
                }
                let v = ScheduleRow.values(p.schedule)
                _ = try await self.exec(conn, "UPDATE schedules SET \(ScheduleRow.assignments(.postgres)) WHERE id = $\(ScheduleRow.names.count)", Array(v.dropFirst()) + [v[0]])
            }
            return FireResult(queued: queued, more: due.count == limit)
        }
    }

    public func claimQueuedRuns(now: Date, owner: String, leaseUntil: Date, limit: Int) async throws -> [RunRecord] {
        try await client.withTransaction(logger: logger) { conn in
            _ = try await self.exec(conn, "SELECT pg_advisory_xact_lock(\(Self.queueLock))::text", [])
            let candidates = try await self.exec(conn, "SELECT \(RunRow.columns) FROM runs WHERE status = 'queued' AND run_at <= $1 ORDER BY run_at, created_at LIMIT $2 FOR UPDATE SKIP LOCKED",
                                                 [.int(now.millis), .int(Int64(limit))]).map(RunRow.decode)
            guard !candidates.isEmpty else { return [] }
            var running: [String: [String]] = [:]
            for row in try await self.exec(conn, "SELECT instance_id, job, id FROM runs WHERE status = 'running'", []) {
                if case .text(let i)? = row[0], case .text(let j)? = row[1], case .text(let id)? = row[2] { running["\(i)/\(j)", default: []].append(id) }
            }
            var claimed: [RunRecord] = []
            for (run, decision) in ClaimPolicy.decide(candidates, running: &running) {
                switch decision {
                case .wait: continue
                case .skip(let why):
                    _ = try await self.exec(conn, "UPDATE runs SET status = 'skipped', message = $1, finished_at = $2 WHERE id = $3", [.text(why), .int(now.millis), .text(run.id)])
                    continue
                case .claimReplacing(let others):
                    for other in others { _ = try await self.exec(conn, "UPDATE runs SET cancel_requested = 1 WHERE id = $1", [.text(other)]) }
                case .claim: break
                }
                _ = try await self.exec(conn, "UPDATE runs SET status = 'running', lease_owner = $1, lease_expires_at = $2, started_at = $3 WHERE id = $4 AND status = 'queued'",
                                        [.text(owner), .int(leaseUntil.millis), .int(now.millis), .text(run.id)])
                var r = run
                r.status = .running
                r.leaseOwner = owner
                r.leaseExpiresAt = leaseUntil
                r.startedAt = now
                claimed.append(r)
            }
            return claimed
        }
    }

    public func renewLeases(ids: [String], owner: String, until: Date) async throws -> [String] {
        guard !ids.isEmpty else { return [] }
        var b = PostgresBindings()
        b.append(until.millis)
        b.append(owner)
        b.append(ids)
        let rows = try await client.query(PostgresQuery(unsafeSQL: """
            UPDATE runs SET lease_expires_at = $1 WHERE id = ANY($3) AND lease_owner = $2 AND status = 'running' RETURNING id, cancel_requested
            """, binds: b), logger: logger)
        var cancelled: [String] = []
        for try await (id, flag) in rows.decode((String, Int64).self) where flag == 1 { cancelled.append(id) }
        return cancelled
    }

    public func recoverRuns(now: Date, all: Bool) async throws -> [RunRecord] {
        try await client.withTransaction(logger: logger) { conn in
            let stuck = try await self.exec(conn, "SELECT \(RunRow.columns) FROM runs WHERE status = 'running'" + (all ? "" : " AND lease_expires_at < $1") + " FOR UPDATE SKIP LOCKED",
                                            all ? [] : [.int(now.millis)]).map(RunRow.decode)
            for run in stuck {
                _ = try await self.exec(conn, "UPDATE runs SET status = 'interrupted', finished_at = $1, error = $2 WHERE id = $3",
                                        [.int(now.millis), .text("interrupted: host \(run.leaseOwner ?? "?") stopped while the run was in progress (lease expired)"), .text(run.id)])
            }
            return stuck
        }
    }

    public func recordScheduleResult(id: String, status: String, at: Date) async throws {
        _ = try await exec("UPDATE schedules SET last_status = $1, last_run_at = $2 WHERE id = $3", [.text(status), .int(at.millis), .text(id)])
    }

    public func requestCancel(runID: String, now: Date) async throws -> Bool {
        if try await !exec("UPDATE runs SET status = 'cancelled', error = 'cancelled before it started', finished_at = $1 WHERE id = $2 AND status = 'queued' RETURNING id",
                           [.int(now.millis), .text(runID)]).isEmpty { return true }
        if try await !exec("UPDATE runs SET cancel_requested = 1 WHERE id = $1 AND status = 'running' RETURNING id", [.text(runID)]).isEmpty { return true }
        if try await exec("SELECT id FROM runs WHERE id = $1", [.text(runID)]).isEmpty { throw HostError.notFound("no run \(runID)") }
        return false
    }
}
