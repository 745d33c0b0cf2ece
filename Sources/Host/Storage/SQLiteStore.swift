import Foundation
import GRDB
import PluginAPI

/// The embedded default: one SQLite file through the system libsqlite3 (via GRDB), WAL mode, one writer and
/// concurrent readers, prepared (cached) statements only, versioned migrations applied at open.
public final class SQLiteStore: Store {
    public let backend = "sqlite"
    let pool: DatabasePool
    public let path: String

    public init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            // WAL is set by DatabasePool; NORMAL is durable across process crashes in WAL mode.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        pool = try DatabasePool(path: path, configuration: config)
        try Self.migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("1-records-cursors-state-runs") { db in
            for sql in StoreSchema.sqlite { try db.execute(sql: sql) }
        }
        m.registerMigration("2-notification-outbox") { db in
            for sql in StoreSchema.outbox(.sqlite) { try db.execute(sql: sql) }
        }
        m.registerMigration("3-run-log") { db in
            for sql in StoreSchema.runLog { try db.execute(sql: sql) }
        }
        return m
    }

    // MARK: records

    public func upsert(_ page: UpsertPage, instance: String, runID: String?, now: Date) async throws -> RunCounts {
        if page.dryRun {
            return try await pool.read { db in try Self.apply(page, instance: instance, runID: runID, now: now.millis, db: db, write: false) }
        }
        return try await pool.write { db in try Self.apply(page, instance: instance, runID: runID, now: now.millis, db: db, write: true) }
    }

    /// The upsert itself, in the caller's transaction. With `write == false` it only counts (dry run).
    static func apply(_ page: UpsertPage, instance: String, runID: String?, now: Int64, db: Database, write: Bool) throws -> RunCounts {
        var counts = RunCounts(fetched: page.records.count, pages: 1)
        var existing: [String: (hash: String, deleted: Bool)] = [:]
        let unique = page.deduplicated
        let keys = unique.map(\.key)
        for chunk in stride(from: 0, to: keys.count, by: 500).map({ Array(keys[$0..<min($0 + 500, keys.count)]) }) {
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            let stmt = try db.cachedStatement(sql: "SELECT key, hash, deleted_at IS NOT NULL FROM records WHERE instance_id = ? AND collection = ? AND key IN (\(marks))")
            let rows = try Row.fetchCursor(stmt, arguments: StatementArguments([instance, page.collection] + chunk))
            while let row = try rows.next() { existing[row[0]] = (row[1], row[2]) }
        }
        let insert = RawStatement(statement: try db.cachedStatement(sql: """
            INSERT INTO records (instance_id, collection, key, data, hash, first_seen_at, synced_at, changed_at, seen_run)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """), db: db)
        let bump = RawStatement(statement: try db.cachedStatement(sql: "UPDATE records SET synced_at = ?, seen_run = COALESCE(?, seen_run) WHERE instance_id = ? AND collection = ? AND key = ?"), db: db)
        let oldData = try db.cachedStatement(sql: "SELECT data FROM records WHERE instance_id = ? AND collection = ? AND key = ?")
        let update = try db.cachedStatement(sql: """
            UPDATE records SET data = ?, hash = ?, synced_at = ?, changed_at = ?, deleted_at = NULL, seen_run = COALESCE(?, seen_run)
            WHERE instance_id = ? AND collection = ? AND key = ?
            """)
        let event = try db.cachedStatement(sql: """
            INSERT INTO change_events (instance_id, collection, key, kind, old_data, new_data, run_id, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let run = RawValue.optional(runID)
        for (key, bytes) in unique {
            let hash = ContentHash.of(bytes)
            if let old = existing[key] {
                if old.hash == hash && !old.deleted {
                    counts.unchanged += 1
                    if write { try bump.execute(.int(now), run, .text(instance), .text(page.collection), .text(key)) }
                } else {
                    let text = String(decoding: bytes, as: UTF8.self)
                    counts.updated += 1
                    if write {
                        let previous = try String.fetchOne(oldData, arguments: [instance, page.collection, key])
                        try update.execute(arguments: [text, hash, now, now, runID, instance, page.collection, key])
                        try event.execute(arguments: [instance, page.collection, key, (old.deleted ? ChangeEvent.Kind.restored : .updated).rawValue, previous, text, runID, now])
                    }
                }
            } else {
                counts.inserted += 1
                if write {
                    try insert.execute(.text(instance), .text(page.collection), .text(key), .bytes(bytes), .text(hash), .int(now), .int(now), .int(now), run)
                }
            }
        }
        if write {
            if let cursor = page.cursor {
                try setCursor(db, instance: instance, stream: cursor.stream, value: cursor.value, now: now)
            }
            try db.cachedStatement(sql: """
                INSERT INTO collection_sync (instance_id, collection, last_synced_at) VALUES (?, ?, ?)
                ON CONFLICT (instance_id, collection) DO UPDATE SET last_synced_at = excluded.last_synced_at
                """).execute(arguments: [instance, page.collection, now])
        }
        return counts
    }

    static let recordColumns = "collection, key, data, hash, first_seen_at, synced_at, changed_at, deleted_at"

    static func record(_ row: Row) -> StoredRecord {
        StoredRecord(
            collection: row[0], key: row[1], data: Array((row[2] as String).utf8), hash: row[3],
            firstSeenAt: Date(millis: row[4]), syncedAt: Date(millis: row[5]), changedAt: Date(millis: row[6]),
            deletedAt: (row[7] as Int64?).map(Date.init(millis:)))
    }

    public func record(instance: String, collection: String, key: String) async throws -> StoredRecord? {
        try await pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.recordColumns) FROM records WHERE instance_id = ? AND collection = ? AND key = ?"),
                             arguments: [instance, collection, key]).map(Self.record)
        }
    }

    public func records(instance: String, collection: String, query q: RecordQuery) async throws -> RecordPage {
        let q = try q.validated()
        let plan = try KeysetPlan(query: q, dialect: .sqlite)
        let sql = "SELECT \(Self.recordColumns) FROM records WHERE instance_id = ? AND collection = ?\(plan.whereSQL) ORDER BY \(plan.orderSQL) LIMIT ?"
        let args: [DatabaseValue] = [instance.databaseValue, collection.databaseValue] + plan.arguments.map(Self.bindable) + [(q.limit + 1).databaseValue]
        let rows = try await pool.read { db in try Row.fetchAll(db.cachedStatement(sql: sql), arguments: Self.arguments(args)).map(Self.record) }
        return plan.page(rows, limit: q.limit)
    }

    static func bindable(_ v: KeysetPlan.Argument?) -> DatabaseValue {
        switch v {
        case .text(let s)?: s.databaseValue
        case .int(let i)?: i.databaseValue
        case nil: .null
        }
    }

    static func arguments(_ values: [DatabaseValue]) -> StatementArguments {
        StatementArguments(values.map { $0 as (any DatabaseValueConvertible)? })
    }

    public func collections(instance: String) async throws -> [CollectionSummary] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT r.collection, SUM(r.deleted_at IS NULL), SUM(r.deleted_at IS NOT NULL), s.last_synced_at
                FROM records r LEFT JOIN collection_sync s ON s.instance_id = r.instance_id AND s.collection = r.collection
                WHERE r.instance_id = ? GROUP BY r.collection ORDER BY r.collection
                """, arguments: [instance]).map {
                CollectionSummary(name: $0[0], records: $0[1], deleted: $0[2], lastSyncedAt: ($0[3] as Int64?).map(Date.init(millis:)))
            }
        }
    }

    public func aggregate(instance: String, _ request: StoreService.AggregateRequest) async throws -> [StoreService.AggregateRow] {
        let plan = try AggregatePlan(request, dialect: .sqlite)
        let args = [instance, request.collection] + plan.arguments
        return try await pool.read { db in
            try Row.fetchAll(db, sql: plan.sql, arguments: StatementArguments(args)).map { row in
                let group = row[0] as String?
                let count = row[1] as Int64? ?? 0
                let sums = (0..<plan.sumFields.count).map { row[2 + $0] as Double? ?? 0 }
                return plan.row(group: group, count: count, sums: sums)
            }
        }
    }

    public func lastSyncedAt(instance: String, collection: String) async throws -> Date? {
        try await pool.read { db in
            try Int64.fetchOne(db.cachedStatement(sql: "SELECT last_synced_at FROM collection_sync WHERE instance_id = ? AND collection = ?"),
                               arguments: [instance, collection]).map(Date.init(millis:))
        }
    }

    public func purgeKeys(instance: String, collection: String, keys: [String]) async throws -> Int {
        try await pool.write { db in
            var n = 0
            for k in keys {
                try db.execute(sql: "DELETE FROM records WHERE instance_id = ? AND collection = ? AND key = ?", arguments: [instance, collection, k])
                n += db.changesCount
            }
            return n
        }
    }

    public func purgeDeleted(instance: String, collection: String, before cutoff: Date) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM records WHERE instance_id = ? AND collection = ? AND deleted_at IS NOT NULL AND deleted_at < ?",
                           arguments: [instance, collection, cutoff.millis])
            return db.changesCount
        }
    }

    public func markUnseenDeleted(instance: String, collection: String, runID: String, now: Date) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO change_events (instance_id, collection, key, kind, old_data, new_data, run_id, at)
                SELECT instance_id, collection, key, 'deleted', data, NULL, ?, ? FROM records
                WHERE instance_id = ? AND collection = ? AND deleted_at IS NULL AND (seen_run IS NULL OR seen_run <> ?)
                """, arguments: [runID, now.millis, instance, collection, runID])
            try db.execute(sql: """
                UPDATE records SET deleted_at = ?, changed_at = ?
                WHERE instance_id = ? AND collection = ? AND deleted_at IS NULL AND (seen_run IS NULL OR seen_run <> ?)
                """, arguments: [now.millis, now.millis, instance, collection, runID])
            return db.changesCount
        }
    }

    public func changes(after id: Int64, limit: Int) async throws -> [ChangeEvent] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, instance_id, collection, key, kind, old_data, new_data, run_id, at FROM change_events WHERE id > ? ORDER BY id LIMIT ?",
                             arguments: [id, limit]).map {
                ChangeEvent(id: $0[0], instance: $0[1], collection: $0[2], key: $0[3], kind: ChangeEvent.Kind(rawValue: $0[4]) ?? .updated,
                            oldData: ($0[5] as String?).map { Array($0.utf8) }, newData: ($0[6] as String?).map { Array($0.utf8) },
                            runID: $0[7], at: Date(millis: $0[8]))
            }
        }
    }

    public func purge(instance: String) async throws {
        try await pool.write { db in
            for table in ["records", "cursors", "plugin_state", "change_events", "collection_sync"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE instance_id = ?", arguments: [instance])
            }
        }
    }

    // MARK: cursors and state

    public func cursor(instance: String, stream: String) async throws -> JSONValue? {
        try await pool.read { db in try Self.json(String.fetchOne(db, sql: "SELECT value FROM cursors WHERE instance_id = ? AND stream = ?", arguments: [instance, stream])) }
    }

    public func setCursor(instance: String, stream: String, value: JSONValue, now: Date) async throws {
        try await pool.write { db in try Self.setCursor(db, instance: instance, stream: stream, value: value, now: now.millis) }
    }

    static func setCursor(_ db: Database, instance: String, stream: String, value: JSONValue, now: Int64) throws {
        try db.cachedStatement(sql: """
            INSERT INTO cursors (instance_id, stream, value, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (instance_id, stream) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
            """).execute(arguments: [instance, stream, String(decoding: value.jsonBytes, as: UTF8.self), now])
    }

    public func state(instance: String, name: String) async throws -> JSONValue? {
        try await pool.read { db in try Self.json(String.fetchOne(db, sql: "SELECT value FROM plugin_state WHERE instance_id = ? AND name = ?", arguments: [instance, name])) }
    }

    public func setState(instance: String, name: String, value: JSONValue, now: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO plugin_state (instance_id, name, value, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (instance_id, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                """, arguments: [instance, name, String(decoding: value.jsonBytes, as: UTF8.self), now.millis])
        }
    }

    static func json(_ text: String?) throws -> JSONValue? {
        guard let text else { return nil }
        return try WireJSON.decode(JSONValue.self, from: Array(text.utf8))
    }

    // MARK: runs

    public func insertRun(_ run: RunRecord) async throws {
        let values = try RunRow.values(run).map(Self.bindable)
        try await pool.write { db in
            try db.execute(sql: "INSERT INTO runs (\(RunRow.columns)) VALUES (\(RunRow.placeholders(.sqlite)))", arguments: Self.arguments(values))
        }
    }

    public func updateRun(_ run: RunRecord) async throws {
        let values = try RunRow.values(run).map(Self.bindable)
        try await pool.write { db in
            try db.execute(sql: "UPDATE runs SET \(RunRow.assignments(.sqlite)) WHERE id = ?", arguments: Self.arguments(Array(values.dropFirst()) + [run.id.databaseValue]))
            if db.changesCount == 0 { throw HostError.notFound("no run \(run.id)") }
        }
    }

    public func run(id: String) async throws -> RunRecord? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT \(RunRow.columns) FROM runs WHERE id = ?", arguments: [id]).map(Self.run) }
    }

    public func runs(_ q: RunQuery) async throws -> [RunRecord] {
        let f = RunFilter(q, dialect: .sqlite)
        let args = f.arguments.map(Self.bindable) + [q.limit.databaseValue]
        return try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT \(RunRow.columns) FROM runs\(f.whereSQL) ORDER BY created_at DESC, id DESC LIMIT ?",
                             arguments: Self.arguments(args)).map(Self.run)
        }
    }

    public func purgeRuns(finishedBefore cutoff: Date) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM runs WHERE finished_at IS NOT NULL AND finished_at < ?", arguments: [cutoff.millis])
            return db.changesCount
        }
    }

    static func run(_ row: Row) -> RunRecord { RunRow.decode(cells(row, count: RunRow.columnCount)) }
}
