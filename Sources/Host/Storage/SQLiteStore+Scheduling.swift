import Foundation
import GRDB
import PluginAPI

extension SQLiteStore: ScheduleStore {
    public var isExclusive: Bool { true }

    static func arguments(_ values: [KeysetPlan.Argument?]) -> StatementArguments { arguments(values.map(bindable)) }

    static func cells(_ row: Row, count: Int) -> [KeysetPlan.Argument?] {
        (0..<count).map { i in
            switch (row[i] as DatabaseValue).storage {
            case .string(let s): .text(s)
            case .int64(let n): .int(n)
            default: nil
            }
        }
    }

    // MARK: instances

    static func instance(_ row: Row) throws -> InstanceRecord {
        InstanceRecord(id: row[0], plugin: row[1], config: try WireJSON.decode([String: JSONValue].self, from: Array((row[2] as String).utf8)),
                       enabled: row[3], createdAt: Date(millis: row[4]), updatedAt: Date(millis: row[5]))
    }

    static func instanceArguments(_ i: InstanceRecord) -> StatementArguments {
        [i.id, i.plugin, String(decoding: JSONValue.object(i.config).jsonBytes, as: UTF8.self), i.enabled, i.createdAt.millis, i.updatedAt.millis]
    }

    public func createInstance(_ instance: InstanceRecord, schedules: [ScheduleRecord]) async throws {
        try await pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM instances WHERE id = ?", arguments: [instance.id]) != nil {
                throw HostError.conflict("an instance \(instance.id.debugDescription) exists already")
            }
            try db.execute(sql: "INSERT INTO instances (id, plugin, config, enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: Self.instanceArguments(instance))
            for s in schedules {
                try db.execute(sql: "INSERT INTO schedules (\(ScheduleRow.columns)) VALUES (\(ScheduleRow.placeholders(.sqlite)))", arguments: Self.arguments(ScheduleRow.values(s)))
            }
        }
    }

    public func instance(id: String) async throws -> InstanceRecord? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT id, plugin, config, enabled, created_at, updated_at FROM instances WHERE id = ?", arguments: [id]).map(Self.instance) }
    }

    public func instances() async throws -> [InstanceRecord] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT id, plugin, config, enabled, created_at, updated_at FROM instances ORDER BY id").map(Self.instance) }
    }

    public func updateInstance(_ instance: InstanceRecord) async throws {
        try await pool.write { db in
            let args: StatementArguments = [instance.plugin, String(decoding: JSONValue.object(instance.config).jsonBytes, as: UTF8.self), instance.enabled, instance.updatedAt.millis, instance.id]
            try db.execute(sql: "UPDATE instances SET plugin = ?, config = ?, enabled = ?, updated_at = ? WHERE id = ?", arguments: args)
            if db.changesCount == 0 { throw HostError.notFound("no instance \(instance.id.debugDescription)") }
        }
    }

    public func deleteInstance(id: String, purgeData: Bool) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM instances WHERE id = ?", arguments: [id])
            if db.changesCount == 0 { throw HostError.notFound("no instance \(id.debugDescription)") }
            try db.execute(sql: "DELETE FROM schedules WHERE instance_id = ?", arguments: [id])
            try db.execute(sql: "UPDATE runs SET status = 'cancelled', error = 'instance deleted', finished_at = ? WHERE instance_id = ? AND status = 'queued'", arguments: [Date().millis, id])
            if purgeData {
                for table in ["records", "cursors", "plugin_state", "change_events", "collection_sync"] {
                    try db.execute(sql: "DELETE FROM \(table) WHERE instance_id = ?", arguments: [id])
                }
            }
        }
    }

    // MARK: schedules

    public func insertSchedule(_ schedule: ScheduleRecord) async throws {
        try await pool.write { db in
            try db.execute(sql: "INSERT INTO schedules (\(ScheduleRow.columns)) VALUES (\(ScheduleRow.placeholders(.sqlite)))", arguments: Self.arguments(ScheduleRow.values(schedule)))
        }
    }

    public func schedule(id: String) async throws -> ScheduleRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(ScheduleRow.columns) FROM schedules WHERE id = ?", arguments: [id]).map { ScheduleRow.decode(Self.cells($0, count: ScheduleRow.names.count)) }
        }
    }

    public func schedules(instance: String?) async throws -> [ScheduleRecord] {
        try await pool.read { db in
            let rows = instance == nil
                ? try Row.fetchAll(db, sql: "SELECT \(ScheduleRow.columns) FROM schedules ORDER BY instance_id, job, created_at, id")
                : try Row.fetchAll(db, sql: "SELECT \(ScheduleRow.columns) FROM schedules WHERE instance_id = ? ORDER BY job, created_at, id", arguments: [instance])
            return rows.map { ScheduleRow.decode(Self.cells($0, count: ScheduleRow.names.count)) }
        }
    }

    public func updateSchedule(_ schedule: ScheduleRecord) async throws {
        let values = ScheduleRow.values(schedule)
        try await pool.write { db in
            try db.execute(sql: "UPDATE schedules SET \(ScheduleRow.assignments(.sqlite)) WHERE id = ?", arguments: Self.arguments(Array(values.dropFirst()) + [values[0]]))
            if db.changesCount == 0 { throw HostError.notFound("no schedule \(schedule.id.debugDescription)") }
        }
    }

    public func deleteSchedule(id: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM schedules WHERE id = ?", arguments: [id])
            if db.changesCount == 0 { throw HostError.notFound("no schedule \(id.debugDescription)") }
        }
    }

    // MARK: the run queue

    public func earliestDue() async throws -> Date? {
        try await pool.read { db in
            let s = try Int64.fetchOne(db, sql: "SELECT MIN(next_run_at) FROM schedules WHERE enabled = 1")
            let r = try Int64.fetchOne(db, sql: "SELECT MIN(run_at) FROM runs WHERE status = 'queued'")
            return [s, r].compactMap { $0 }.min().map(Date.init(millis:))
        }
    }

    public func fireDueSchedules(now: Date, limit: Int, plan: @Sendable (ScheduleRecord) -> FirePlan) async throws -> FireResult {
        try await pool.write { db in
            let due = try Row.fetchAll(db, sql: "SELECT \(ScheduleRow.columns) FROM schedules WHERE enabled = 1 AND next_run_at <= ? ORDER BY next_run_at LIMIT ?",
                                       arguments: [now.millis, limit]).map { ScheduleRow.decode(Self.cells($0, count: ScheduleRow.names.count)) }
            var queued: [RunRecord] = []
            for schedule in due {
                let p = plan(schedule)
                for run in p.runs {
                    try db.execute(sql: "INSERT OR IGNORE INTO runs (\(RunRow.columns)) VALUES (\(RunRow.placeholders(.sqlite)))",
                                   arguments: Self.arguments(try RunRow.values(run)))
                    if db.changesCount > 0 { queued.append(run) }
                }
                let values = ScheduleRow.values(p.schedule)
                try db.execute(sql: "UPDATE schedules SET \(ScheduleRow.assignments(.sqlite)) WHERE id = ?", arguments: Self.arguments(Array(values.dropFirst()) + [values[0]]))
            }
            return FireResult(queued: queued, more: due.count == limit)
        }
    }

    public func claimQueuedRuns(now: Date, owner: String, leaseUntil: Date, limit: Int) async throws -> [RunRecord] {
        try await pool.write { db in
            let candidates = try Row.fetchAll(db, sql: "SELECT \(RunRow.columns) FROM runs WHERE status = 'queued' AND run_at <= ? ORDER BY run_at, created_at LIMIT ?",
                                              arguments: [now.millis, limit]).map(Self.run)
            guard !candidates.isEmpty else { return [] }
            var running: [String: [String]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT instance_id, job, id FROM runs WHERE status = 'running'") {
                running["\(row[0] as String)/\(row[1] as String)", default: []].append(row[2])
            }
            var claimed: [RunRecord] = []
            for (run, decision) in ClaimPolicy.decide(candidates, running: &running) {
                switch decision {
                case .wait: continue
                case .skip(let why):
                    try db.execute(sql: "UPDATE runs SET status = 'skipped', message = ?, finished_at = ? WHERE id = ?", arguments: [why, now.millis, run.id])
                    continue
                case .claimReplacing(let others):
                    for other in others { try db.execute(sql: "UPDATE runs SET cancel_requested = 1 WHERE id = ?", arguments: [other]) }
                case .claim: break
                }
                try db.execute(sql: "UPDATE runs SET status = 'running', lease_owner = ?, lease_expires_at = ?, started_at = ? WHERE id = ? AND status = 'queued'",
                               arguments: [owner, leaseUntil.millis, now.millis, run.id])
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
        return try await pool.write { db in
            var cancelled: [String] = []
            for id in ids {
                try db.execute(sql: "UPDATE runs SET lease_expires_at = ? WHERE id = ? AND lease_owner = ? AND status = 'running'", arguments: [until.millis, id, owner])
                if try Bool.fetchOne(db, sql: "SELECT cancel_requested = 1 FROM runs WHERE id = ?", arguments: [id]) == true { cancelled.append(id) }
            }
            return cancelled
        }
    }

    public func recoverRuns(now: Date, all: Bool) async throws -> [RunRecord] {
        try await pool.write { db in
            let sql = "SELECT \(RunRow.columns) FROM runs WHERE status = 'running'" + (all ? "" : " AND lease_expires_at < ?")
            let stuck = try Row.fetchAll(db, sql: sql, arguments: all ? [] : [now.millis]).map(Self.run)
            for run in stuck {
                try db.execute(sql: "UPDATE runs SET status = 'interrupted', finished_at = ?, error = ? WHERE id = ?",
                               arguments: [now.millis, "interrupted: host \(run.leaseOwner ?? "?") stopped while the run was in progress", run.id])
            }
            return stuck
        }
    }

    public func recordScheduleResult(id: String, status: String, at: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE schedules SET last_status = ?, last_run_at = ? WHERE id = ?", arguments: [status, at.millis, id])
        }
    }

    public func requestCancel(runID: String, now: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE runs SET status = 'cancelled', error = 'cancelled before it started', finished_at = ? WHERE id = ? AND status = 'queued'",
                           arguments: [now.millis, runID])
            if db.changesCount > 0 { return true }
            try db.execute(sql: "UPDATE runs SET cancel_requested = 1 WHERE id = ? AND status = 'running'", arguments: [runID])
            if db.changesCount > 0 { return true }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM runs WHERE id = ?", arguments: [runID]) == nil { throw HostError.notFound("no run \(runID)") }
            return false
        }
    }
}
