import Foundation

/// One migration of the host's database: the same version numbers on both backends, SQL per dialect where
/// the types differ. Applied in order at open, each in the transaction that records it.
struct Migration: Sendable {
    let version: Int64
    let name: String
    let statements: @Sendable (SQLDialect) -> [String]
}

enum StoreSchema {
    /// Every migration, oldest first. Append only: a released version's statements never change.
    static let migrations: [Migration] = [
        Migration(version: 1, name: "1-records-cursors-state-runs", statements: tables),
        Migration(version: 2, name: "2-notification-outbox", statements: outbox),
        Migration(version: 3, name: "3-run-log") { _ in ["ALTER TABLE runs ADD COLUMN log TEXT"] },
        Migration(version: 4, name: "4-raw-record-bytes", statements: rawRecordBytes),
        // An instance created disabled runs its on-create hook (initial sync) when it is first enabled.
        Migration(version: 5, name: "5-instance-initial-pending") { d in
            ["ALTER TABLE instances ADD COLUMN initial_pending \(d == .sqlite ? "INTEGER" : "BIGINT") NOT NULL DEFAULT 0"]
        },
        // What a run reported beyond its counts (the plugin's details; a dry run's would-have-done).
        Migration(version: 6, name: "6-run-details") { _ in ["ALTER TABLE runs ADD COLUMN details TEXT"] },
        // A schedule's optional name (the legacy sync configs had one), unique per instance.
        Migration(version: 7, name: "7-schedule-name") { _ in
            ["ALTER TABLE schedules ADD COLUMN name TEXT", "CREATE UNIQUE INDEX schedules_name ON schedules (instance_id, name)"]
        },
        // Facts about the database itself: the secret key's check value.
        Migration(version: 8, name: "8-host-meta") { d in
            ["CREATE TABLE host_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at \(d == .sqlite ? "INTEGER" : "BIGINT") NOT NULL)"]
        },
        // Named API tokens (hashes only) and the audit log of changes made through the API and the CLI.
        Migration(version: 9, name: "9-tokens-audit") { d in
            let int = d == .sqlite ? "INTEGER" : "BIGINT"
            return [
                """
                CREATE TABLE api_tokens (id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
                    created_at \(int) NOT NULL, created_by TEXT NOT NULL, last_used_at \(int), revoked_at \(int))
                """,
                "CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL",
                """
                CREATE TABLE audit_log (id \(d == .sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY"), at \(int) NOT NULL,
                    actor TEXT NOT NULL, role TEXT NOT NULL, source TEXT NOT NULL, address TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
                    before_value TEXT, after_value TEXT)
                """,
                "CREATE INDEX audit_log_by_target ON audit_log (target, id)",
                "CREATE INDEX audit_log_by_at ON audit_log (at)",
            ]
        },
        // An instance's own retention of a collection, over the manifest's default (the host's retention job).
        Migration(version: 10, name: "10-collection-retention") { d in
            let int = d == .sqlite ? "INTEGER" : "BIGINT"
            return [
                """
                CREATE TABLE collection_retention (instance_id TEXT NOT NULL, collection TEXT NOT NULL, days \(int), field TEXT,
                    tombstone_days \(int), updated_at \(int) NOT NULL, PRIMARY KEY (instance_id, collection))
                """,
            ]
        },
        // Alert rules and the alerts they raised: one active alert per rule and instance, whichever replica evaluates.
        Migration(version: 11, name: "11-alerts") { d in
            let int = d == .sqlite ? "INTEGER" : "BIGINT", real = d == .sqlite ? "REAL" : "DOUBLE PRECISION"
            return [
                """
                CREATE TABLE alert_rules (id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, instance_id TEXT, collection TEXT,
                    threshold \(real) NOT NULL, severity TEXT NOT NULL, channels TEXT NOT NULL, repeat_minutes \(int) NOT NULL, enabled \(int) NOT NULL,
                    updated_at \(int) NOT NULL)
                """,
                """
                CREATE TABLE alerts (id TEXT PRIMARY KEY, rule_id TEXT NOT NULL, rule_name TEXT NOT NULL, instance_id TEXT NOT NULL, severity TEXT NOT NULL,
                    state TEXT NOT NULL, message TEXT NOT NULL, value \(real) NOT NULL, fired_at \(int) NOT NULL, last_sent_at \(int) NOT NULL,
                    sent_count \(int) NOT NULL, resolved_at \(int))
                """,
                "CREATE UNIQUE INDEX alerts_one_active ON alerts (rule_id, instance_id) WHERE state = 'active'",
                "CREATE INDEX alerts_by_fired ON alerts (fired_at)",
            ] + AlertRule.defaults.map { r in
                // The default rules, once per database (a user who deletes one does not get it back).
                let name = r.name.replacingOccurrences(of: "'", with: "''")
                return """
                    INSERT INTO alert_rules (id, name, kind, instance_id, collection, threshold, severity, channels, repeat_minutes, enabled, updated_at)
                    VALUES ('\(r.id)', '\(name)', '\(r.kind.rawValue)', NULL, NULL, \(r.threshold), '\(r.severity.rawValue)', '[]', \(r.repeatMinutes), 1, 0)
                    """
            }
        },
        // Reports: the definition as JSON, where its schedule stands (claimed by one replica per fire) and its last outcome.
        Migration(version: 12, name: "12-reports") { d in
            let int = d == .sqlite ? "INTEGER" : "BIGINT"
            return [
                """
                CREATE TABLE reports (id TEXT PRIMARY KEY, spec TEXT NOT NULL, next_fire_at \(int), last_fired_at \(int), last_outcome TEXT,
                    last_failed \(int) NOT NULL DEFAULT 0, updated_at \(int) NOT NULL)
                """,
            ]
        },
        // Alert rules that judge one job's runs, and upstream errors by their class.
        Migration(version: 13, name: "13-alert-rule-job") { _ in
            ["ALTER TABLE alert_rules ADD COLUMN job TEXT", "ALTER TABLE alert_rules ADD COLUMN error_class TEXT"]
        },
    ]

    /// The tables that hold an instance's data (removed with it when asked).
    static let instanceDataTables = ["records", "cursors", "plugin_state", "collection_sync", "collection_retention"]

    /// Version 4: both backends keep the bytes the plugin sent (and hashed); PostgreSQL keeps a JSONB copy beside
    /// them for field queries. Change events were written on every update and read by nothing: gone.
    static func rawRecordBytes(_ d: SQLDialect) -> [String] {
        switch d {
        case .sqlite:
            return ["DROP TABLE change_events"]
        case .postgres:
            return [
                "DROP TABLE change_events",
                "ALTER TABLE records ALTER COLUMN data TYPE TEXT USING data::text",
                "ALTER TABLE records ADD COLUMN doc JSONB GENERATED ALWAYS AS (data::jsonb) STORED",
            ]
        }
    }

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
