import Foundation
import Logging
import PluginAPI
import PostgresNIO

/// The scale-out backend: several host replicas share one PostgreSQL database. Same schema semantics as
/// SQLite (times in epoch milliseconds, record data as JSONB); pages are written set-wise (UNNEST) so a
/// page costs a handful of round trips, not one per record.
public final class PostgresStore: Store {
    public let backend = "postgresql"
    let client: PostgresClient
    let logger: Logger
    let runTask: Task<Void, Never>

    init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
        runTask = Task { await client.run() }
    }

    deinit { runTask.cancel() }

    /// Connects, then applies pending migrations under an advisory lock (replicas may start together).
    public static func connect(url: String, logger: Logger) async throws -> PostgresStore {
        guard let c = URLComponents(string: url), let host = c.host, !host.isEmpty else {
            throw HostError.invalid("database: cannot parse PostgreSQL URL \(SecretMasker.redact(url))")
        }
        let database = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
        let sslmode = c.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        let tls: PostgresClient.Configuration.TLS = sslmode == "disable" ? .disable : .require(try .clientDefault)
        var config = PostgresClient.Configuration(
            host: host, port: c.port ?? 5432, username: c.user ?? "postgres", password: c.password,
            database: database.isEmpty ? nil : database, tls: tls)
        config.options.maximumConnections = 8
        let store = PostgresStore(client: PostgresClient(configuration: config, backgroundLogger: logger), logger: logger)
        try await store.migrate()
        return store
    }

    func migrate() async throws {
        try await client.withTransaction(logger: logger) { conn in
            try await conn.query("SELECT pg_advisory_xact_lock(74657001)", logger: self.logger)
            try await conn.query("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)", logger: self.logger)
            var applied = Set<Int64>()
            for try await v in try await conn.query("SELECT version FROM schema_migrations", logger: self.logger).decode(Int64.self) { applied.insert(v) }
            for (version, statements) in [(Int64(1), StoreSchema.postgres), (2, StoreSchema.outbox(.postgres)), (3, StoreSchema.runLog)] where !applied.contains(version) {
                for sql in statements { try await conn.query(PostgresQuery(unsafeSQL: sql), logger: self.logger) }
                try await conn.query("INSERT INTO schema_migrations (version, applied_at) VALUES (\(version), \(Date().millis))", logger: self.logger)
            }
        }
    }

    static func bindings(_ values: [KeysetPlan.Argument?]) -> PostgresBindings {
        var b = PostgresBindings()
        for v in values {
            switch v {
            case .text(let s)?: b.append(s)
            case .int(let i)?: b.append(i)
            case nil: b.appendNull()
            }
        }
        return b
    }

    // MARK: records

    public func upsert(_ page: UpsertPage, instance: String, runID: String?, now: Date) async throws -> RunCounts {
        let unique = page.deduplicated
        var counts = RunCounts(fetched: page.records.count, pages: 1)
        let keys = unique.map(\.key)
        let texts = unique.map { String(decoding: $0.data, as: UTF8.self) }
        let hashes = unique.map { ContentHash.of($0.data) }
        let ms = now.millis
        let dryRun = page.dryRun
        return try await client.withTransaction(logger: logger) { conn in
            // Writers of one collection take turns (as SQLite's single writer does): two runs inserting the same
            // new key must not both see it absent.
            if !dryRun {
                try await conn.query("SELECT pg_advisory_xact_lock(hashtext(\(instance) || '/' || \(page.collection)))::text", logger: self.logger)
            }
            var existing: [String: (hash: String, deleted: Bool)] = [:]
            let rows = try await conn.query(
                "SELECT key, hash, deleted_at IS NOT NULL FROM records WHERE instance_id = \(instance) AND collection = \(page.collection) AND key = ANY(\(keys))\(unescaped: dryRun ? "" : " FOR UPDATE")",
                logger: self.logger)
            for try await (key, hash, deleted) in rows.decode((String, String, Bool).self) { existing[key] = (hash, deleted) }
            var newKeys: [String] = [], newData: [String] = [], newHash: [String] = []
            var changedKeys: [String] = [], changedData: [String] = [], changedHash: [String] = []
            var sameKeys: [String] = []
            for i in unique.indices {
                if let old = existing[keys[i]] {
                    if old.hash == hashes[i] && !old.deleted { sameKeys.append(keys[i]) } else {
                        changedKeys.append(keys[i]); changedData.append(texts[i]); changedHash.append(hashes[i])
                    }
                } else {
                    newKeys.append(keys[i]); newData.append(texts[i]); newHash.append(hashes[i])
                }
            }
            counts.inserted = newKeys.count
            counts.updated = changedKeys.count
            counts.unchanged = sameKeys.count
            if dryRun { return counts }
            if !newKeys.isEmpty {
                try await conn.query("""
                    INSERT INTO records (instance_id, collection, key, data, hash, first_seen_at, synced_at, changed_at, seen_run)
                    SELECT \(instance), \(page.collection), k, d::jsonb, h, \(ms), \(ms), \(ms), \(runID)
                    FROM UNNEST(\(newKeys)::text[], \(newData)::text[], \(newHash)::text[]) AS u(k, d, h)
                    """, logger: self.logger)
            }
            if !changedKeys.isEmpty {
                try await conn.query("""
                    INSERT INTO change_events (instance_id, collection, key, kind, old_data, new_data, run_id, at)
                    SELECT r.instance_id, r.collection, r.key, CASE WHEN r.deleted_at IS NULL THEN 'updated' ELSE 'restored' END,
                           r.data::text, u.d, \(runID), \(ms)
                    FROM records r JOIN UNNEST(\(changedKeys)::text[], \(changedData)::text[]) AS u(k, d) ON r.key = u.k
                    WHERE r.instance_id = \(instance) AND r.collection = \(page.collection)
                    """, logger: self.logger)
                try await conn.query("""
                    UPDATE records r SET data = u.d::jsonb, hash = u.h, synced_at = \(ms), changed_at = \(ms), deleted_at = NULL,
                           seen_run = COALESCE(\(runID), r.seen_run)
                    FROM UNNEST(\(changedKeys)::text[], \(changedData)::text[], \(changedHash)::text[]) AS u(k, d, h)
                    WHERE r.instance_id = \(instance) AND r.collection = \(page.collection) AND r.key = u.k
                    """, logger: self.logger)
            }
            if !sameKeys.isEmpty {
                try await conn.query("""
                    UPDATE records SET synced_at = \(ms), seen_run = COALESCE(\(runID), seen_run)
                    WHERE instance_id = \(instance) AND collection = \(page.collection) AND key = ANY(\(sameKeys))
                    """, logger: self.logger)
            }
            if let cursor = page.cursor {
                try await Self.setCursor(conn, instance: instance, stream: cursor.stream, value: cursor.value, now: ms, logger: self.logger)
            }
            try await conn.query("""
                INSERT INTO collection_sync (instance_id, collection, last_synced_at) VALUES (\(instance), \(page.collection), \(ms))
                ON CONFLICT (instance_id, collection) DO UPDATE SET last_synced_at = EXCLUDED.last_synced_at
                """, logger: self.logger)
            return counts
        }
    }

    static let recordColumns = "collection, key, data::text, hash, first_seen_at, synced_at, changed_at, deleted_at"

    static func record(_ row: PostgresRow) throws -> StoredRecord {
        let (collection, key, data, hash, first, synced, changed, deleted) = try row.decode((String, String, String, String, Int64, Int64, Int64, Int64?).self)
        return StoredRecord(collection: collection, key: key, data: Array(data.utf8), hash: hash, firstSeenAt: Date(millis: first),
                            syncedAt: Date(millis: synced), changedAt: Date(millis: changed), deletedAt: deleted.map(Date.init(millis:)))
    }

    func all<T>(_ query: PostgresQuery, _ map: (PostgresRow) throws -> T) async throws -> [T] {
        var out: [T] = []
        for try await row in try await client.query(query, logger: logger) { out.append(try map(row)) }
        return out
    }

    public func record(instance: String, collection: String, key: String) async throws -> StoredRecord? {
        try await all("SELECT \(unescaped: Self.recordColumns) FROM records WHERE instance_id = \(instance) AND collection = \(collection) AND key = \(key)", Self.record).first
    }

    public func records(instance: String, collection: String, query q: RecordQuery) async throws -> RecordPage {
        let q = try q.validated()
        let plan = try KeysetPlan(query: q, dialect: .postgres)
        let sql = "SELECT \(Self.recordColumns) FROM records WHERE instance_id = $1 AND collection = $2\(plan.whereSQL) ORDER BY \(plan.orderSQL) LIMIT \(plan.limitPlaceholder)"
        let binds = Self.bindings([.text(instance), .text(collection)] + plan.arguments + [.int(Int64(q.limit + 1))])
        return plan.page(try await all(PostgresQuery(unsafeSQL: sql, binds: binds), Self.record), limit: q.limit)
    }

    public func collections(instance: String) async throws -> [CollectionSummary] {
        try await all("""
            SELECT r.collection, COUNT(*) FILTER (WHERE r.deleted_at IS NULL), COUNT(*) FILTER (WHERE r.deleted_at IS NOT NULL), MAX(s.last_synced_at)
            FROM records r LEFT JOIN collection_sync s ON s.instance_id = r.instance_id AND s.collection = r.collection
            WHERE r.instance_id = \(instance) GROUP BY r.collection ORDER BY r.collection COLLATE "C"
            """) { row in
            let (name, live, deleted, last) = try row.decode((String, Int64, Int64, Int64?).self)
            return CollectionSummary(name: name, records: Int(live), deleted: Int(deleted), lastSyncedAt: last.map(Date.init(millis:)))
        }
    }

    public func aggregate(instance: String, _ request: StoreService.AggregateRequest) async throws -> [StoreService.AggregateRow] {
        let plan = try AggregatePlan(request, dialect: .postgres)
        var binds = PostgresBindings()
        for a in [instance, request.collection] + plan.arguments { binds.append(a) }
        return try await all(PostgresQuery(unsafeSQL: plan.sql, binds: binds)) { row in
            let cells = row.makeRandomAccess()
            let group = try cells[0].decode(String?.self)
            let count = try cells[1].decode(Int64.self)
            let sums = try (0..<plan.sumFields.count).map { try cells[2 + $0].decode(Double.self) }
            return plan.row(group: group, count: count, sums: sums)
        }
    }

    public func lastSyncedAt(instance: String, collection: String) async throws -> Date? {
        try await all("SELECT last_synced_at FROM collection_sync WHERE instance_id = \(instance) AND collection = \(collection)") {
            Date(millis: try $0.decode(Int64.self))
        }.first
    }

    public func purgeKeys(instance: String, collection: String, keys: [String]) async throws -> Int {
        try await all("""
            WITH gone AS (DELETE FROM records WHERE instance_id = \(instance) AND collection = \(collection) AND key = ANY(\(keys))
            RETURNING 1) SELECT COUNT(*) FROM gone
            """) { Int(try $0.decode(Int64.self)) }.first ?? 0
    }

    public func purgeDeleted(instance: String, collection: String, before cutoff: Date) async throws -> Int {
        let ms = cutoff.millis
        return try await all("""
            WITH gone AS (DELETE FROM records WHERE instance_id = \(instance) AND collection = \(collection)
            AND deleted_at IS NOT NULL AND deleted_at < \(ms) RETURNING 1) SELECT COUNT(*) FROM gone
            """) { Int(try $0.decode(Int64.self)) }.first ?? 0
    }

    public func markUnseenDeleted(instance: String, collection: String, runID: String, now: Date) async throws -> Int {
        let ms = now.millis
        return try await client.withTransaction(logger: logger) { conn in
            try await conn.query("""
                INSERT INTO change_events (instance_id, collection, key, kind, old_data, new_data, run_id, at)
                SELECT instance_id, collection, key, 'deleted', data::text, NULL, \(runID), \(ms) FROM records
                WHERE instance_id = \(instance) AND collection = \(collection) AND deleted_at IS NULL AND (seen_run IS NULL OR seen_run <> \(runID))
                """, logger: self.logger)
            let rows = try await conn.query("""
                WITH gone AS (UPDATE records SET deleted_at = \(ms), changed_at = \(ms)
                WHERE instance_id = \(instance) AND collection = \(collection) AND deleted_at IS NULL AND (seen_run IS NULL OR seen_run <> \(runID))
                RETURNING 1) SELECT COUNT(*) FROM gone
                """, logger: self.logger)
            var n: Int64 = 0
            for try await c in rows.decode(Int64.self) { n = c }
            return Int(n)
        }
    }

    public func changes(after id: Int64, limit: Int) async throws -> [ChangeEvent] {
        try await all("SELECT id, instance_id, collection, key, kind, old_data, new_data, run_id, at FROM change_events WHERE id > \(id) ORDER BY id LIMIT \(Int64(limit))") { row in
            let (id, instance, collection, key, kind, old, new, run, at) = try row.decode((Int64, String, String, String, String, String?, String?, String?, Int64).self)
            return ChangeEvent(id: id, instance: instance, collection: collection, key: key, kind: ChangeEvent.Kind(rawValue: kind) ?? .updated,
                               oldData: old.map { Array($0.utf8) }, newData: new.map { Array($0.utf8) }, runID: run, at: Date(millis: at))
        }
    }

    public func purge(instance: String) async throws {
        try await client.withTransaction(logger: logger) { conn in
            for table in ["records", "cursors", "plugin_state", "change_events", "collection_sync"] {
                try await conn.query(PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE instance_id = $1", binds: Self.bindings([.text(instance)])), logger: self.logger)
            }
        }
    }

    // MARK: cursors and state

    public func cursor(instance: String, stream: String) async throws -> JSONValue? {
        try await all("SELECT value FROM cursors WHERE instance_id = \(instance) AND stream = \(stream)") {
            try WireJSON.decode(JSONValue.self, from: Array(try $0.decode(String.self).utf8))
        }.first
    }

    public func setCursor(instance: String, stream: String, value: JSONValue, now: Date) async throws {
        try await client.withConnection { conn in
            try await Self.setCursor(conn, instance: instance, stream: stream, value: value, now: now.millis, logger: self.logger)
        }
    }

    static func setCursor(_ conn: PostgresConnection, instance: String, stream: String, value: JSONValue, now: Int64, logger: Logger) async throws {
        let text = String(decoding: value.jsonBytes, as: UTF8.self)
        try await conn.query("""
            INSERT INTO cursors (instance_id, stream, value, updated_at) VALUES (\(instance), \(stream), \(text), \(now))
            ON CONFLICT (instance_id, stream) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
            """, logger: logger)
    }

    public func state(instance: String, name: String) async throws -> JSONValue? {
        try await all("SELECT value FROM plugin_state WHERE instance_id = \(instance) AND name = \(name)") {
            try WireJSON.decode(JSONValue.self, from: Array(try $0.decode(String.self).utf8))
        }.first
    }

    public func setState(instance: String, name: String, value: JSONValue, now: Date) async throws {
        let text = String(decoding: value.jsonBytes, as: UTF8.self)
        try await client.query("""
            INSERT INTO plugin_state (instance_id, name, value, updated_at) VALUES (\(instance), \(name), \(text), \(now.millis))
            ON CONFLICT (instance_id, name) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
            """, logger: logger)
    }

    // MARK: runs

    public func insertRun(_ run: RunRecord) async throws {
        let sql = "INSERT INTO runs (\(RunRow.columns)) VALUES (\(RunRow.placeholders(.postgres)))"
        try await client.query(PostgresQuery(unsafeSQL: sql, binds: Self.bindings(try RunRow.values(run))), logger: logger)
    }

    public func updateRun(_ run: RunRecord) async throws {
        let values = try RunRow.values(run)
        let sql = "UPDATE runs SET \(RunRow.assignments(.postgres)) WHERE id = $\(RunRow.columnCount) RETURNING id"
        let updated = try await all(PostgresQuery(unsafeSQL: sql, binds: Self.bindings(Array(values.dropFirst()) + [values[0]]))) { _ in 1 }
        if updated.isEmpty { throw HostError.notFound("no run \(run.id)") }
    }

    static func run(_ row: PostgresRow) throws -> RunRecord { RunRow.decode(try cells(row)) }

    public func run(id: String) async throws -> RunRecord? {
        try await all(PostgresQuery(unsafeSQL: "SELECT \(RunRow.columns) FROM runs WHERE id = $1", binds: Self.bindings([.text(id)])), Self.run).first
    }

    public func runs(_ q: RunQuery) async throws -> [RunRecord] {
        let f = RunFilter(q, dialect: .postgres)
        let sql = "SELECT \(RunRow.columns) FROM runs\(f.whereSQL) ORDER BY created_at DESC, id DESC LIMIT \(f.nextPlaceholder)"
        return try await all(PostgresQuery(unsafeSQL: sql, binds: Self.bindings(f.arguments + [.int(Int64(q.limit))])), Self.run)
    }

    public func purgeRuns(finishedBefore cutoff: Date) async throws -> Int {
        try await all("WITH gone AS (DELETE FROM runs WHERE finished_at IS NOT NULL AND finished_at < \(cutoff.millis) RETURNING 1) SELECT COUNT(*) FROM gone") {
            Int(try $0.decode(Int64.self))
        }.first ?? 0
    }
}
