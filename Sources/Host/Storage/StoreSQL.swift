import Foundation
import PluginAPI

/// The SQL both backends share, with their dialect differences in one place.
enum SQLDialect { case sqlite, postgres }

enum StoreSchema {
    /// Times are milliseconds since the epoch (INTEGER / BIGINT) in both backends.
    static func tables(_ d: SQLDialect) -> [String] {
        let int = d == .sqlite ? "INTEGER" : "BIGINT"
        let json = d == .sqlite ? "TEXT" : "JSONB"
        let serial = d == .sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY"
        return [
            """
            CREATE TABLE records (
                instance_id TEXT NOT NULL, collection TEXT NOT NULL, key TEXT NOT NULL,
                data \(json) NOT NULL, hash TEXT NOT NULL,
                first_seen_at \(int) NOT NULL, synced_at \(int) NOT NULL, changed_at \(int) NOT NULL,
                deleted_at \(int), seen_run TEXT,
                PRIMARY KEY (instance_id, collection, key))
            """,
            "CREATE INDEX records_changed ON records (instance_id, collection, changed_at)",
            "CREATE INDEX records_synced ON records (instance_id, collection, synced_at)",
            """
            CREATE TABLE collection_sync (
                instance_id TEXT NOT NULL, collection TEXT NOT NULL, last_synced_at \(int) NOT NULL,
                PRIMARY KEY (instance_id, collection))
            """,
            """
            CREATE TABLE cursors (
                instance_id TEXT NOT NULL, stream TEXT NOT NULL, value TEXT NOT NULL, updated_at \(int) NOT NULL,
                PRIMARY KEY (instance_id, stream))
            """,
            """
            CREATE TABLE plugin_state (
                instance_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, updated_at \(int) NOT NULL,
                PRIMARY KEY (instance_id, name))
            """,
            """
            CREATE TABLE change_events (
                id \(serial), instance_id TEXT NOT NULL, collection TEXT NOT NULL, key TEXT NOT NULL,
                kind TEXT NOT NULL, old_data TEXT, new_data TEXT, run_id TEXT, at \(int) NOT NULL)
            """,
            """
            CREATE TABLE runs (
                id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, job TEXT NOT NULL, trigger TEXT NOT NULL,
                status TEXT NOT NULL, params TEXT NOT NULL, dry_run \(int) NOT NULL, schedule_id TEXT,
                scheduled_for \(int), created_at \(int) NOT NULL, started_at \(int), finished_at \(int),
                counts TEXT NOT NULL, complete \(int), message TEXT, error TEXT, attempt \(int) NOT NULL,
                run_at \(int), lease_owner TEXT, lease_expires_at \(int), overlap TEXT NOT NULL, timeout_seconds \(int) NOT NULL,
                max_attempts \(int) NOT NULL, retry_backoff_seconds \(int) NOT NULL, cancel_requested \(int) NOT NULL)
            """,
            "CREATE INDEX runs_by_instance ON runs (instance_id, job, created_at)",
            "CREATE INDEX runs_by_status ON runs (status, run_at)",
            // A scheduled fire becomes at most one run, however many replicas see it due.
            "CREATE UNIQUE INDEX runs_one_per_fire ON runs (schedule_id, scheduled_for) WHERE trigger = 'schedule'",
            """
            CREATE TABLE instances (
                id TEXT PRIMARY KEY, plugin TEXT NOT NULL, config TEXT NOT NULL, enabled \(int) NOT NULL,
                created_at \(int) NOT NULL, updated_at \(int) NOT NULL)
            """,
            """
            CREATE TABLE schedules (
                id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, job TEXT NOT NULL, params TEXT NOT NULL, cron TEXT NOT NULL,
                timezone TEXT NOT NULL, enabled \(int) NOT NULL, misfire TEXT NOT NULL, misfire_cap \(int) NOT NULL,
                overlap TEXT NOT NULL, jitter_seconds \(int) NOT NULL, max_attempts \(int) NOT NULL,
                retry_backoff_seconds \(int) NOT NULL, timeout_seconds \(int) NOT NULL, next_fire_at \(int), next_run_at \(int),
                last_run_at \(int), last_status TEXT, note TEXT, created_at \(int) NOT NULL, updated_at \(int) NOT NULL)
            """,
            "CREATE INDEX schedules_due ON schedules (enabled, next_run_at)",
            "CREATE INDEX schedules_by_instance ON schedules (instance_id, job)",
            // The host's maintenance schedules exist once, however many replicas start together.
            "CREATE UNIQUE INDEX schedules_host_jobs ON schedules (job) WHERE instance_id = '_host'",
        ]
    }

    static let sqlite = tables(.sqlite)
    static let postgres = tables(.postgres)

    /// Version 3: the run's log excerpt (the plugin's last log lines of the run).
    static let runLog = ["ALTER TABLE runs ADD COLUMN log TEXT"]

    /// Version 2: the notification outbox (every message persisted before delivery).
    static func outbox(_ d: SQLDialect) -> [String] {
        let int = d == .sqlite ? "INTEGER" : "BIGINT"
        return [
            """
            CREATE TABLE notifications (
                id TEXT PRIMARY KEY, channel TEXT NOT NULL, source_instance TEXT, dedup_key TEXT, message TEXT NOT NULL,
                state TEXT NOT NULL, attempts \(int) NOT NULL, max_attempts \(int) NOT NULL, next_attempt_at \(int),
                last_error TEXT, detail TEXT, created_at \(int) NOT NULL, updated_at \(int) NOT NULL, sent_at \(int),
                lease_owner TEXT, lease_expires_at \(int))
            """,
            // One notification per dedup key and channel, however often a plugin asks.
            "CREATE UNIQUE INDEX notifications_dedup ON notifications (channel, dedup_key) WHERE dedup_key IS NOT NULL",
            "CREATE INDEX notifications_due ON notifications (state, next_attempt_at)",
            "CREATE INDEX notifications_by_created ON notifications (created_at)",
        ]
    }
}

/// Keyset paging for record lists: WHERE and ORDER BY for the query's filters, key range, order and cursor.
struct KeysetPlan {
    enum Argument: Sendable, Equatable {
        case text(String)
        case int(Int64)
    }

    var whereSQL = ""
    var orderSQL = ""
    var arguments: [Argument] = []
    let order: RecordQuery.Order

    init(query q: RecordQuery, dialect d: SQLDialect) throws {
        order = q.order
        var placeholder = 2  // $1, $2 are instance and collection
        func p() -> String {
            placeholder += 1
            return d == .sqlite ? "?" : "$\(placeholder)"
        }
        if !q.includeDeleted { whereSQL += " AND deleted_at IS NULL" }
        for f in q.filters {
            // Field names are validated identifiers; values are bound.
            let field = d == .sqlite ? "CAST(json_extract(data, '$.\(f.field)') AS TEXT)" : "(data->>'\(f.field)')"
            whereSQL += " AND \(field) = \(p())"
            arguments.append(.text(f.value))
        }
        if let from = q.keyFrom { whereSQL += " AND key >= \(p())"; arguments.append(.text(from)) }
        if let to = q.keyTo { whereSQL += " AND key <= \(p())"; arguments.append(.text(to)) }
        let cmp = q.descending ? "<" : ">"
        let dir = q.descending ? "DESC" : "ASC"
        // Keys compare bytewise in both backends (PostgreSQL: COLLATE "C").
        let key = d == .sqlite ? "key" : "key COLLATE \"C\""
        if let c = q.cursor {
            let cursor = try PageCursor.decode(c)
            if q.order == .key {
                whereSQL += " AND \(key) \(cmp) \(p())"
                arguments.append(.text(cursor.k))
            } else {
                guard let v = cursor.v else { throw HostError.invalid("cursor does not belong to this ordering") }
                let col = q.order.rawValue
                let a = p(), b = p(), k = p()
                whereSQL += " AND (\(col) \(cmp) \(a) OR (\(col) = \(b) AND \(key) \(cmp) \(k)))"
                arguments += [.int(v), .int(v), .text(cursor.k)]
            }
        }
        orderSQL = q.order == .key ? "\(key) \(dir)" : "\(q.order.rawValue) \(dir), \(key) \(dir)"
        limitPlaceholder = p()
    }

    /// The placeholder of the LIMIT argument (after every other argument).
    var limitPlaceholder = ""

    /// Trims the look-ahead row and makes the next cursor.
    func page(_ rows: [StoredRecord], limit: Int) -> RecordPage {
        guard rows.count > limit else { return RecordPage(records: rows, nextCursor: nil) }
        let kept = Array(rows.prefix(limit))
        let last = kept[kept.count - 1]
        let v: Int64? =
            switch order {
            case .key: nil
            case .syncedAt: last.syncedAt.millis
            case .changedAt: last.changedAt.millis
            }
        return RecordPage(records: kept, nextCursor: PageCursor(v: v, k: last.key).encoded)
    }
}

/// A run as a row: the column list, and conversion both ways.
enum RunRow {
    static let names = ["id", "instance_id", "job", "trigger", "status", "params", "dry_run", "schedule_id", "scheduled_for",
                        "created_at", "started_at", "finished_at", "counts", "complete", "message", "error", "attempt",
                        "run_at", "lease_owner", "lease_expires_at", "overlap", "timeout_seconds", "max_attempts",
                        "retry_backoff_seconds", "cancel_requested", "log"]
    static let columns = names.joined(separator: ", ")
    static let columnCount = names.count

    static func placeholders(_ d: SQLDialect) -> String {
        (1...names.count).map { d == .sqlite ? "?" : "$\($0)" }.joined(separator: ", ")
    }

    /// `col = ?` for every column but id; the caller binds the id last (`WHERE id = ?` / `$\(names.count)`).
    static func assignments(_ d: SQLDialect) -> String {
        names.dropFirst().enumerated().map { i, n in "\(n) = \(d == .sqlite ? "?" : "$\(i + 1)")" }.joined(separator: ", ")
    }

    /// The counts as JSON, written by hand: this runs for every run row, thousands at a time in a burst.
    static func countsJSON(_ c: RunCounts) -> String {
        "{\"deleted\":\(c.deleted),\"fetched\":\(c.fetched),\"inserted\":\(c.inserted),\"pages\":\(c.pages),\"unchanged\":\(c.unchanged),\"updated\":\(c.updated)}"
    }

    static func values(_ r: RunRecord) throws -> [KeysetPlan.Argument?] {
        func text(_ s: String?) -> KeysetPlan.Argument? { s.map { .text($0) } }
        func int(_ i: Int64?) -> KeysetPlan.Argument? { i.map { .int($0) } }
        return [
            .text(r.id), .text(r.instance), .text(r.job), .text(r.trigger), .text(r.status.rawValue),
            .text(String(decoding: JSONValue.object(r.params).jsonBytes, as: UTF8.self)), .int(r.dryRun ? 1 : 0),
            text(r.scheduleID), int(r.scheduledFor?.millis), .int(r.createdAt.millis), int(r.startedAt?.millis),
            int(r.finishedAt?.millis), .text(countsJSON(r.counts)),
            int(r.complete.map { $0 ? 1 : 0 }), text(r.message), text(r.error), .int(Int64(r.attempt)),
            int(r.runAt?.millis), text(r.leaseOwner), int(r.leaseExpiresAt?.millis), .text(r.overlap.rawValue),
            .int(Int64(r.timeoutSeconds)), .int(Int64(r.maxAttempts)), .int(Int64(r.retryBackoffSeconds)), .int(r.cancelRequested ? 1 : 0),
            text(r.log),
        ]
    }

    static func decode(_ v: [KeysetPlan.Argument?]) -> RunRecord {
        func text(_ i: Int) -> String? { if case .text(let s)? = v[i] { return s }; return nil }
        func int(_ i: Int) -> Int64? { if case .int(let n)? = v[i] { return n }; return nil }
        var r = RunRecord(
            id: text(0) ?? "", instance: text(1) ?? "", job: text(2) ?? "", trigger: text(3) ?? "",
            status: RunRecord.Status(rawValue: text(4) ?? "") ?? .failed,
            params: text(5).flatMap { try? WireJSON.decode([String: JSONValue].self, from: Array($0.utf8)) } ?? [:],
            dryRun: int(6) == 1, scheduleID: text(7), scheduledFor: int(8).map(Date.init(millis:)),
            createdAt: Date(millis: int(9) ?? 0), attempt: Int(int(16) ?? 1))
        r.startedAt = int(10).map(Date.init(millis:))
        r.finishedAt = int(11).map(Date.init(millis:))
        r.counts = text(12).flatMap { try? WireJSON.decode(RunCounts.self, from: Array($0.utf8)) } ?? RunCounts()
        r.complete = int(13).map { $0 == 1 }
        r.message = text(14)
        r.error = text(15)
        r.runAt = int(17).map(Date.init(millis:))
        r.leaseOwner = text(18)
        r.leaseExpiresAt = int(19).map(Date.init(millis:))
        r.overlap = ScheduleRecord.Overlap(rawValue: text(20) ?? "") ?? .forbid
        r.timeoutSeconds = Int(int(21) ?? 3600)
        r.maxAttempts = Int(int(22) ?? 1)
        r.retryBackoffSeconds = Int(int(23) ?? 30)
        r.cancelRequested = int(24) == 1
        r.log = v.count > 25 ? text(25) : nil
        return r
    }
}

/// WHERE clause of a run query.
struct RunFilter {
    var whereSQL = ""
    var arguments: [KeysetPlan.Argument] = []
    var nextPlaceholder = ""

    init(_ q: RunQuery, dialect d: SQLDialect) {
        var n = 0
        var clauses: [String] = []
        func p() -> String { n += 1; return d == .sqlite ? "?" : "$\(n)" }
        if let i = q.instance { clauses.append("instance_id = \(p())"); arguments.append(.text(i)) }
        if let j = q.job { clauses.append("job = \(p())"); arguments.append(.text(j)) }
        if let s = q.status { clauses.append("status = \(p())"); arguments.append(.text(s.rawValue)) }
        if let since = q.since { clauses.append("created_at >= \(p())"); arguments.append(.int(since.millis)) }
        if let before = q.before {
            let a = p(), b = p()
            clauses.append("(created_at, id) < (SELECT created_at, \(a) FROM runs WHERE id = \(b))")
            arguments += [.text(before), .text(before)]
        }
        whereSQL = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
        nextPlaceholder = p()
    }
}

/// A schedule as a row.
enum ScheduleRow {
    static let names = ["id", "instance_id", "job", "params", "cron", "timezone", "enabled", "misfire", "misfire_cap", "overlap",
                        "jitter_seconds", "max_attempts", "retry_backoff_seconds", "timeout_seconds", "next_fire_at", "next_run_at",
                        "last_run_at", "last_status", "note", "created_at", "updated_at"]
    static let columns = names.joined(separator: ", ")

    static func placeholders(_ d: SQLDialect) -> String { (1...names.count).map { d == .sqlite ? "?" : "$\($0)" }.joined(separator: ", ") }

    static func assignments(_ d: SQLDialect) -> String {
        names.dropFirst().enumerated().map { i, n in "\(n) = \(d == .sqlite ? "?" : "$\(i + 1)")" }.joined(separator: ", ")
    }

    static func values(_ s: ScheduleRecord) -> [KeysetPlan.Argument?] {
        func text(_ v: String?) -> KeysetPlan.Argument? { v.map { .text($0) } }
        func int(_ v: Int64?) -> KeysetPlan.Argument? { v.map { .int($0) } }
        return [
            .text(s.id), .text(s.instance), .text(s.job), .text(String(decoding: JSONValue.object(s.params).jsonBytes, as: UTF8.self)),
            .text(s.cron), .text(s.timezone), .int(s.enabled ? 1 : 0), .text(s.misfire.rawValue), .int(Int64(s.misfireCap)),
            .text(s.overlap.rawValue), .int(Int64(s.jitterSeconds)), .int(Int64(s.maxAttempts)), .int(Int64(s.retryBackoffSeconds)),
            .int(Int64(s.timeoutSeconds)), int(s.nextFireAt?.millis), int(s.nextRunAt?.millis), int(s.lastRunAt?.millis),
            text(s.lastStatus), text(s.note), .int(s.createdAt.millis), .int(s.updatedAt.millis),
        ]
    }

    static func decode(_ v: [KeysetPlan.Argument?]) -> ScheduleRecord {
        func text(_ i: Int) -> String? { if case .text(let s)? = v[i] { return s }; return nil }
        func int(_ i: Int) -> Int64? { if case .int(let n)? = v[i] { return n }; return nil }
        var s = ScheduleRecord(
            id: text(0) ?? "", instance: text(1) ?? "", job: text(2) ?? "",
            params: text(3).flatMap { try? WireJSON.decode([String: JSONValue].self, from: Array($0.utf8)) } ?? [:],
            cron: text(4) ?? "", timezone: text(5) ?? "UTC", enabled: int(6) == 1,
            misfire: ScheduleRecord.Misfire(rawValue: text(7) ?? "") ?? .once, misfireCap: Int(int(8) ?? 10),
            overlap: ScheduleRecord.Overlap(rawValue: text(9) ?? "") ?? .forbid, jitterSeconds: Int(int(10) ?? 0),
            maxAttempts: Int(int(11) ?? 1), retryBackoffSeconds: Int(int(12) ?? 30), timeoutSeconds: Int(int(13) ?? 3600),
            note: text(18), now: Date(millis: int(19) ?? 0))
        s.nextFireAt = int(14).map(Date.init(millis:))
        s.nextRunAt = int(15).map(Date.init(millis:))
        s.lastRunAt = int(16).map(Date.init(millis:))
        s.lastStatus = text(17)
        s.updatedAt = Date(millis: int(20) ?? 0)
        return s
    }
}
