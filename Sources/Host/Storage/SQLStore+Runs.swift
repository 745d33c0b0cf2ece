import Foundation
import PluginAPI

extension SQLStore: RunStore {
    // MARK: run history

    public func insertRun(_ run: RunRecord) async throws {
        try await write { s in
            try await s.execute("INSERT INTO runs (\(RunRow.columns)) VALUES (\(RunRow.placeholders))", RunRow.values(run))
            try await Self.audit(s, "run.start", run.id, before: nil, after: [
                "instance": .string(run.instance), "job": .string(run.job), "trigger": .string(run.trigger), "params": .object(run.params), "dry_run": .bool(run.dryRun),
            ])
        }
    }

    public func updateRun(_ run: RunRecord) async throws {
        try await write { s in try await Self.updateRun(s, run) }
    }

    static func updateRun(_ s: any SQLSession, _ run: RunRecord) async throws {
        if try await s.count("UPDATE runs SET \(RunRow.assignments) WHERE id = ? RETURNING id", RunRow.updateValues(run)) == 0 {
            throw HostError.notFound("no run \(run.id)")
        }
    }

    public func finishRun(_ run: RunRecord) async throws {
        try await write { s in
            try await Self.updateRun(s, run)
            if let schedule = run.scheduleID {
                try await s.execute("UPDATE schedules SET last_status = ?, last_run_at = ? WHERE id = ?",
                                    [.text(run.status.rawValue), .int((run.finishedAt ?? Date()).millis), .text(schedule)])
            }
        }
    }

    public func run(id: String) async throws -> RunRecord? {
        try await quickRows("SELECT \(RunRow.columns) FROM runs WHERE id = ?", [.text(id)]).first.map(RunRow.decode)
    }

    public func runs(_ q: RunQuery) async throws -> [RunRecord] {
        let f = RunFilter(q)
        return try await rows("SELECT \(RunRow.columns) FROM runs\(f.whereSQL) ORDER BY created_at DESC, id DESC LIMIT ?",
                              f.arguments + [.int(Int64(q.limit))]).map(RunRow.decode)
    }

    public func purgeRuns(finishedBefore cutoff: Date) async throws -> Int {
        try await writeCount("DELETE FROM runs WHERE finished_at IS NOT NULL AND finished_at < ? RETURNING 1", [.int(cutoff.millis)])
    }

    // MARK: schedules

    public func insertSchedule(_ schedule: ScheduleRecord) async throws {
        try await write { s in
            try await Self.checkNameFree(s, schedule)
            // The host's own jobs have one schedule each (edit it): a clear conflict, not a constraint error.
            if schedule.instance == HostJobs.instance,
               let other = try await s.one("SELECT id FROM schedules WHERE instance_id = ? AND job = ?", [.text(schedule.instance), .text(schedule.job)]) {
                throw HostError.conflict("the host's job \(schedule.job) already has its schedule \(other.text(0) ?? "?"): change that one")
            }
            try await s.execute("INSERT INTO schedules (\(ScheduleRow.columns)) VALUES (\(ScheduleRow.placeholders))", ScheduleRow.values(schedule))
            try await Self.audit(s, "schedule.create", schedule.id, before: nil, after: Self.auditJSON(schedule))
        }
    }

    /// A schedule's name is unique per instance: a clear conflict, not a constraint error.
    static func checkNameFree(_ s: any SQLSession, _ schedule: ScheduleRecord) async throws {
        guard let name = schedule.name else { return }
        if let other = try await s.one("SELECT id FROM schedules WHERE instance_id = ? AND name = ? AND id <> ?",
                                       [.text(schedule.instance), .text(name), .text(schedule.id)]) {
            throw HostError.conflict("instance \(schedule.instance) already has a schedule named \(name.debugDescription) (\(other.text(0) ?? "?"))")
        }
    }

    /// A schedule by id, or by its name (unique per instance; ambiguous across instances is refused).
    public func schedule(idOrName key: String) async throws -> ScheduleRecord? {
        if let s = try await schedule(id: key) { return s }
        let named = try await quickRows("SELECT \(ScheduleRow.columns) FROM schedules WHERE name = ?", [.text(key)]).map(ScheduleRow.decode)
        guard named.count <= 1 else {
            throw HostError.conflict("\(named.count) schedules are named \(key.debugDescription) (instances \(named.map(\.instance).joined(separator: ", "))): use the id")
        }
        return named.first
    }

    public func schedule(id: String) async throws -> ScheduleRecord? {
        try await quickRows("SELECT \(ScheduleRow.columns) FROM schedules WHERE id = ?", [.text(id)]).first.map(ScheduleRow.decode)
    }

    public func schedules(instance: String?) async throws -> [ScheduleRecord] {
        if let instance {
            return try await rows("SELECT \(ScheduleRow.columns) FROM schedules WHERE instance_id = ? ORDER BY job, created_at, id", [.text(instance)])
                .map(ScheduleRow.decode)
        }
        return try await rows("SELECT \(ScheduleRow.columns) FROM schedules ORDER BY instance_id, job, created_at, id").map(ScheduleRow.decode)
    }

    public func updateSchedule(_ schedule: ScheduleRecord) async throws {
        try await write { s in
            try await Self.checkNameFree(s, schedule)
            let before = try await Self.beforeChange { try await s.one("SELECT \(ScheduleRow.columns) FROM schedules WHERE id = ?", [.text(schedule.id)]).map(ScheduleRow.decode) }
            if try await s.count("UPDATE schedules SET \(ScheduleRow.assignments) WHERE id = ? RETURNING id", ScheduleRow.updateValues(schedule)) == 0 {
                throw HostError.notFound("no schedule \(schedule.id.debugDescription)")
            }
            try await Self.audit(s, "schedule.update", schedule.id, before: before.map(Self.auditJSON), after: Self.auditJSON(schedule))
        }
    }

    public func deleteSchedule(id: String) async throws {
        try await write { s in
            let before = try await Self.beforeChange { try await s.one("SELECT \(ScheduleRow.columns) FROM schedules WHERE id = ?", [.text(id)]).map(ScheduleRow.decode) }
            if try await s.count("DELETE FROM schedules WHERE id = ? RETURNING id", [.text(id)]) == 0 {
                throw HostError.notFound("no schedule \(id.debugDescription)")
            }
            try await Self.audit(s, "schedule.delete", id, before: before.map(Self.auditJSON), after: nil)
        }
    }

    public func recordScheduleResult(id: String, status: String, at: Date) async throws {
        try await write("UPDATE schedules SET last_status = ?, last_run_at = ? WHERE id = ?", [.text(status), .int(at.millis), .text(id)])
    }

    public func ping() async throws { _ = try await quickRows("SELECT 1", []) }

    // MARK: the run queue

    /// A disabled instance runs nothing: its schedules are not due and its queued runs wait (host jobs have
    /// no instance row and always run).
    static let instanceEnabled = "instance_id NOT IN (SELECT id FROM instances WHERE enabled = 0)"

    public func earliestDue() async throws -> Date? {
        try await read { s in
            let schedule = try await s.one("SELECT MIN(next_run_at) FROM schedules WHERE enabled = 1 AND \(Self.instanceEnabled)")?.int(0)
            let run = try await s.one("SELECT MIN(run_at) FROM runs WHERE status = 'queued' AND \(Self.instanceEnabled)")?.int(0)
            return [schedule, run].compactMap { $0 }.min().map(Date.init(millis:))
        }
    }

    public func fireDueSchedules(now: Date, limit: Int, plan: @Sendable (ScheduleRecord) -> FirePlan) async throws -> FireResult {
        // Most passes find nothing due: a read says so without queueing for the writer.
        guard try await !quickRows("SELECT 1 FROM schedules WHERE enabled = 1 AND next_run_at <= ? AND \(Self.instanceEnabled) LIMIT 1", [.int(now.millis)]).isEmpty else {
            return FireResult(queued: [], more: false)
        }
        let skipLocked = self.skipLocked
        return try await write { s in
            try await self.executor.lock(s, Self.queueLock)
            let due = try await s.query("""
                SELECT \(ScheduleRow.columns) FROM schedules WHERE enabled = 1 AND next_run_at <= ? AND \(Self.instanceEnabled)
                ORDER BY next_run_at LIMIT ?\(skipLocked)
                """, [.int(now.millis), .int(Int64(limit))]).map(ScheduleRow.decode)
            var queued: [RunRecord] = []
            for schedule in due {
                let p = plan(schedule)
                for run in p.runs {
                    // A fire another replica queued already is not queued twice (unique (schedule, scheduled_for)).
                    if try await s.count("INSERT INTO runs (\(RunRow.columns)) VALUES (\(RunRow.placeholders)) ON CONFLICT DO NOTHING RETURNING id",
                                         RunRow.values(run)) > 0 {
                        queued.append(run)
                    }
                }
                try await s.execute("UPDATE schedules SET \(ScheduleRow.assignments) WHERE id = ?", ScheduleRow.updateValues(p.schedule))
            }
            return FireResult(queued: queued, more: due.count == limit)
        }
    }

    public func claimQueuedRuns(now: Date, owner: String, leaseUntil: Date, limit: Int, clock: @escaping HostClock) async throws -> [RunRecord] {
        guard try await !quickRows("SELECT 1 FROM runs WHERE status = 'queued' AND run_at <= ? AND \(Self.instanceEnabled) LIMIT 1", [.int(now.millis)]).isEmpty else { return [] }
        let skipLocked = self.skipLocked
        return try await write { s in
            try await self.executor.lock(s, Self.queueLock)
            let candidates = try await s.query("""
                SELECT \(RunRow.columns) FROM runs WHERE status = 'queued' AND run_at <= ? AND \(Self.instanceEnabled)
                ORDER BY run_at, created_at LIMIT ?\(skipLocked)
                """, [.int(now.millis), .int(Int64(limit))]).map(RunRow.decode)
            guard !candidates.isEmpty else { return [] }
            var running: [String: [String]] = [:]
            for row in try await s.query("SELECT instance_id, job, id FROM runs WHERE status = 'running'") {
                running["\(row.text(0) ?? "")/\(row.text(1) ?? "")", default: []].append(row.text(2) ?? "")
            }
            var claimed: [RunRecord] = []
            let started = max(now, clock())
            for (run, decision) in ClaimPolicy.decide(candidates, running: &running) {
                switch decision {
                case .wait: continue
                case .skip(let why):
                    try await s.execute("UPDATE runs SET status = 'skipped', message = ?, finished_at = ? WHERE id = ?", [.text(why), .int(now.millis), .text(run.id)])
                    continue
                case .claimReplacing(let others):
                    for other in others { try await s.execute("UPDATE runs SET cancel_requested = 1 WHERE id = ?", [.text(other)]) }
                case .claim: break
                }
                try await s.execute("UPDATE runs SET status = 'running', lease_owner = ?, lease_expires_at = ?, started_at = ? WHERE id = ? AND status = 'queued'",
                                    [.text(owner), .int(leaseUntil.millis), .int(started.millis), .text(run.id)])
                var r = run
                r.status = .running
                r.leaseOwner = owner
                r.leaseExpiresAt = leaseUntil
                r.startedAt = started
                claimed.append(r)
            }
            return claimed
        }
    }

    public func renewLeases(ids: [String], owner: String, until: Date) async throws -> [String] {
        guard !ids.isEmpty else { return [] }
        let dialect = self.dialect
        return try await write { s in
            var cancelled: [String] = []
            let chunk = dialect == .sqlite ? 500 : ids.count
            for start in stride(from: 0, to: ids.count, by: chunk) {
                let part = Array(ids[start..<min(start + chunk, ids.count)])
                for row in try await s.query("""
                    UPDATE runs SET lease_expires_at = ? WHERE lease_owner = ? AND status = 'running' AND \(dialect.inList("id", count: part.count))
                    RETURNING id, cancel_requested
                    """, [.int(until.millis), .text(owner)] + dialect.listArguments(part)) where row.int(1) == 1 {
                    cancelled.append(row.text(0) ?? "")
                }
            }
            return cancelled
        }
    }

    public func recoverRuns(now: Date, all: Bool) async throws -> [RunRecord] {
        let skipLocked = self.skipLocked
        return try await write { s in
            let stuck = try await s.query("SELECT \(RunRow.columns) FROM runs WHERE status = 'running'" + (all ? "" : " AND lease_expires_at < ?") + skipLocked,
                                          all ? [] : [.int(now.millis)]).map(RunRow.decode)
            for run in stuck {
                let why = all ? "" : " (lease expired)"
                try await s.execute("UPDATE runs SET status = 'interrupted', finished_at = ?, error = ? WHERE id = ?",
                                    [.int(now.millis), .text("interrupted: host \(run.leaseOwner ?? "?") stopped while the run was in progress\(why)"), .text(run.id)])
            }
            return stuck
        }
    }

    public func requestCancel(runID: String, now: Date) async throws -> Bool {
        try await write { s in
            if try await s.count("UPDATE runs SET status = 'cancelled', error = 'cancelled before it started', finished_at = ? WHERE id = ? AND status = 'queued' RETURNING id",
                                 [.int(now.millis), .text(runID)]) > 0 {
                try await Self.audit(s, "run.cancel", runID, before: ["status": "queued"], after: ["status": "cancelled"])
                return true
            }
            if try await s.count("UPDATE runs SET cancel_requested = 1 WHERE id = ? AND status = 'running' RETURNING id", [.text(runID)]) > 0 {
                try await Self.audit(s, "run.cancel", runID, before: ["status": "running"], after: ["status": "running", "cancel_requested": true])
                return true
            }
            if try await s.one("SELECT id FROM runs WHERE id = ?", [.text(runID)]) == nil { throw HostError.notFound("no run \(runID)") }
            return false
        }
    }
}
