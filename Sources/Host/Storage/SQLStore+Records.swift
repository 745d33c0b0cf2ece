import Foundation
import PluginAPI

extension SQLStore: RecordStore {
    public func upsert(_ page: UpsertPage, instance: String, runID: String?, now: Date) async throws -> RunCounts {
        let unique = page.deduplicated
        let hashes = unique.map { ContentHash.of($0.data) }
        let ms = now.millis
        let collection = page.collection
        let dialect = self.dialect
        let body: (any SQLSession) async throws -> RunCounts = { s in
            // Writers of one collection take turns: two runs inserting the same new key must not both see it absent.
            if !page.dryRun { try await self.executor.lock(s, named: "\(instance)/\(collection)") }
            var existing: [String: (hash: String, deleted: Bool)] = [:]
            let keys = unique.map(\.key)
            // On PostgreSQL, planned with statistics that know the collection (`StatisticsRefresh`): with statistics
            // older than a new instance's first sync the planner took its collection for a row or two and read all of
            // it for every page through (instance_id, collection, synced_at); the sync turned quadratic (43 s for 100
            // pages of 1,000, where the inserts alone took 1.7 s, measured).
            let chunk = dialect == .sqlite ? 500 : max(keys.count, 1)
            for start in stride(from: 0, to: keys.count, by: chunk) {
                let part = Array(keys[start..<min(start + chunk, keys.count)])
                for row in try await s.query(Self.knownKeys(dialect, count: part.count), [.text(instance), .text(collection)] + dialect.listArguments(part)) {
                    existing[row.text(0) ?? ""] = (row.text(1) ?? "", row.bool(2))
                }
            }
            var counts = RunCounts(fetched: page.records.count, pages: 1)
            var fresh: [Int] = [], changed: [Int] = [], same: [Int] = []
            for i in unique.indices {
                if let old = existing[unique[i].key] {
                    if old.hash == hashes[i] && !old.deleted { same.append(i) } else { changed.append(i) }
                } else {
                    fresh.append(i)
                }
            }
            counts.inserted = fresh.count
            counts.updated = changed.count
            counts.unchanged = same.count
            if page.dryRun { return counts }
            let run = SQLValue.optional(runID)
            switch dialect {
            case .sqlite:
                // One prepared statement per kind, stepped per record: there are no round trips to save.
                guard let c = (s as? SQLiteSession)?.connection else { throw HostError.unavailable("an SQLite upsert outside an SQLite session") }
                let insertSQL = """
                    INSERT INTO records (instance_id, collection, key, data, hash, first_seen_at, synced_at, changed_at, seen_run)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
                let insert = try c.prepared(insertSQL)
                for i in fresh {
                    try c.step(insert, sql: insertSQL, [.text(instance), .text(collection), .text(unique[i].key), .bytes(unique[i].data), .text(hashes[i]),
                                                        .int(ms), .int(ms), .int(ms), run])
                }
                let updateSQL = """
                    UPDATE records SET data = ?, hash = ?, synced_at = ?, changed_at = ?, deleted_at = NULL, seen_run = COALESCE(?, seen_run)
                    WHERE instance_id = ? AND collection = ? AND key = ?
                    """
                let update = try c.prepared(updateSQL)
                for i in changed {
                    try c.step(update, sql: updateSQL, [.bytes(unique[i].data), .text(hashes[i]), .int(ms), .int(ms), run, .text(instance), .text(collection),
                                                        .text(unique[i].key)])
                }
                let bumpSQL = "UPDATE records SET synced_at = ?, seen_run = COALESCE(?, seen_run) WHERE instance_id = ? AND collection = ? AND key = ?"
                let bump = try c.prepared(bumpSQL)
                for i in same {
                    try c.step(bump, sql: bumpSQL, [.int(ms), run, .text(instance), .text(collection), .text(unique[i].key)])
                }
            case .postgres:
                // Set-wise, a statement per kind. New keys: a plain insert (the collection's lock keeps them new).
                // Known keys: an insert whose conflict arbiter is the primary key, so no plan can read the collection
                // to find them; changed ones are rewritten, unchanged ones (same hash, live) keep their bytes and
                // changed_at and get synced_at and the run, as on SQLite.
                func insert(_ rows: [Int], onConflict: String) async throws {
                    guard !rows.isEmpty else { return }
                    try await s.execute("""
                        INSERT INTO records AS r (instance_id, collection, key, data, hash, first_seen_at, synced_at, changed_at, seen_run)
                        SELECT ?, ?, k, d, h, ?, ?, ?, ? FROM UNNEST(?::text[], ?::text[], ?::text[]) AS u(k, d, h)\(onConflict)
                        """, [.text(instance), .text(collection), .int(ms), .int(ms), .int(ms), run,
                              .texts(rows.map { unique[$0].key }), .texts(rows.map { String(decoding: unique[$0].data, as: UTF8.self) }),
                              .texts(rows.map { hashes[$0] })])
                }
                try await insert(fresh, onConflict: "")
                try await insert(changed + same, onConflict: """

                    ON CONFLICT (instance_id, collection, key) DO UPDATE SET
                        data = CASE WHEN r.hash = excluded.hash AND r.deleted_at IS NULL THEN r.data ELSE excluded.data END,
                        changed_at = CASE WHEN r.hash = excluded.hash AND r.deleted_at IS NULL THEN r.changed_at ELSE excluded.changed_at END,
                        hash = excluded.hash, synced_at = excluded.synced_at, deleted_at = NULL, seen_run = COALESCE(excluded.seen_run, r.seen_run)
                    """)
            }
            if let cursor = page.cursor {
                try await Self.setCursor(s, instance: instance, stream: cursor.stream, value: cursor.value, now: ms)
            }
            try await s.execute("""
                INSERT INTO collection_sync (instance_id, collection, last_synced_at) VALUES (?, ?, ?)
                ON CONFLICT (instance_id, collection) DO UPDATE SET last_synced_at = excluded.last_synced_at
                """, [.text(instance), .text(collection), .int(ms)])
            return counts
        }
        if page.dryRun { return try await executor.read(body) }
        let counts = try await executor.transaction(body)
        if dialect == .postgres, statistics.grew(by: counts.inserted, instance: instance, collection: collection) {
            // After the commit, so the sample sees the new rows. The page is stored whatever this does.
            try? await executor.transaction { s in try await s.execute("ANALYZE records") }
        }
        return counts
    }

    /// The upsert's lookup: hash and tombstone of each of `count` keys that exists (instance, collection, then the keys).
    static func knownKeys(_ dialect: SQLDialect, count: Int) -> String {
        "SELECT key, hash, deleted_at IS NOT NULL FROM records WHERE instance_id = ? AND collection = ? AND \(dialect.inList("key", count: count))"
    }

    static let recordColumns = "collection, key, data, hash, first_seen_at, synced_at, changed_at, deleted_at"

    static func record(_ row: SQLRow) -> StoredRecord {
        StoredRecord(collection: row.text(0) ?? "", key: row.text(1) ?? "", data: row.bytes(2) ?? [], hash: row.text(3) ?? "",
                     firstSeenAt: row.date(4) ?? Date(millis: 0), syncedAt: row.date(5) ?? Date(millis: 0),
                     changedAt: row.date(6) ?? Date(millis: 0), deletedAt: row.date(7))
    }

    static let recordByKey = "SELECT \(recordColumns) FROM records WHERE instance_id = ? AND collection = ? AND key = ?"

    public func record(instance: String, collection: String, key: String) async throws -> StoredRecord? {
        try await quickRows(Self.recordByKey, [.text(instance), .text(collection), .text(key)]).first.map(Self.record)
    }

    public func records(instance: String, collection: String, query q: RecordQuery) async throws -> RecordPage {
        let (plan, sql, args) = try listStatement(instance: instance, collection: collection, query: q)
        // A page of up to a thousand is an index range scan of a few milliseconds at most: read on the calling task.
        let found = q.limit <= 1000 ? try await quickRows(sql, args) : try await rows(sql, args)
        return plan.page(found.map(Self.record), limit: q.limit)
    }

    func listStatement(instance: String, collection: String, query q: RecordQuery, columns: String = recordColumns) throws -> (KeysetPlan, String, [SQLValue]) {
        let q = try q.validated()
        let plan = try KeysetPlan(query: q, dialect: dialect)
        let sql = "SELECT \(columns) FROM records WHERE instance_id = ? AND collection = ?\(plan.whereSQL) ORDER BY \(plan.orderSQL) LIMIT ?"
        return (plan, sql, [.text(instance), .text(collection)] + plan.arguments + [.int(Int64(q.limit + 1))])
    }

    public func cachedList(instance: String, collection: String, query: RecordQuery) async throws -> CachedListRead? {
        let (plan, sql, args) = try listStatement(instance: instance, collection: collection, query: query)
        let head = """
            SELECT i.plugin, s.last_synced_at FROM instances i
            LEFT JOIN collection_sync s ON s.instance_id = i.id AND s.collection = ? WHERE i.id = ?
            """
        let headArgs: [SQLValue] = [.text(collection), .text(instance)]
        func assemble(_ head: SQLRow?, _ rows: [StoredRecord]) -> CachedListRead? {
            head.map { CachedListRead(plugin: $0.text(0) ?? "", page: plan.page(rows, limit: query.limit), lastSyncedAt: $0.date(1)) }
        }
        if let sqlite = executor as? SQLiteExecutor {
            // Two statements on one connection, on the calling task (keyset pages are index range scans).
            return try sqlite.readNow { c in
                guard let h = try c.query(head, headArgs).first else { return nil }
                return assemble(h, try c.query(sql, args).map(Self.record))
            }
        }
        return try await read { s in
            guard let h = try await s.one(head, headArgs) else { return nil }
            return assemble(h, try await s.query(sql, args).map(Self.record))
        }
    }

    public func collections(instance: String) async throws -> [CollectionSummary] {
        try await rows("""
            SELECT r.collection, SUM(CASE WHEN r.deleted_at IS NULL THEN 1 ELSE 0 END), SUM(CASE WHEN r.deleted_at IS NULL THEN 0 ELSE 1 END),
                   MAX(s.last_synced_at)
            FROM records r LEFT JOIN collection_sync s ON s.instance_id = r.instance_id AND s.collection = r.collection
            WHERE r.instance_id = ? GROUP BY r.collection ORDER BY r.collection\(dialect == .postgres ? " COLLATE \"C\"" : "")
            """, [.text(instance)]).map {
            CollectionSummary(name: $0.text(0) ?? "", records: Int($0.int(1) ?? 0), deleted: Int($0.int(2) ?? 0), lastSyncedAt: $0.date(3))
        }
    }

    public func aggregate(instance: String, _ request: StoreService.AggregateRequest) async throws -> [StoreService.AggregateRow] {
        let plan = try AggregatePlan(request, dialect: dialect)
        return try await rows(plan.sql, [.text(instance), .text(request.collection)] + plan.arguments).map(plan.row)
    }

    public func lastSyncedAt(instance: String, collection: String) async throws -> Date? {
        try await quickRows("SELECT last_synced_at FROM collection_sync WHERE instance_id = ? AND collection = ?", [.text(instance), .text(collection)])
            .first?.date(0)
    }

    public func purgeKeys(instance: String, collection: String, keys: [String]) async throws -> Int {
        guard !keys.isEmpty else { return 0 }
        let dialect = self.dialect
        return try await write { s in
            var n = 0
            let chunk = dialect == .sqlite ? 500 : keys.count
            for start in stride(from: 0, to: keys.count, by: chunk) {
                let part = Array(keys[start..<min(start + chunk, keys.count)])
                n += try await s.count("DELETE FROM records WHERE instance_id = ? AND collection = ? AND \(dialect.inList("key", count: part.count)) RETURNING 1",
                                       [.text(instance), .text(collection)] + dialect.listArguments(part))
            }
            return n
        }
    }

    public func purgeDeleted(instance: String, collection: String, before cutoff: Date) async throws -> Int {
        try await writeCount("DELETE FROM records WHERE instance_id = ? AND collection = ? AND deleted_at IS NOT NULL AND deleted_at < ? RETURNING 1",
                             [.text(instance), .text(collection), .int(cutoff.millis)])
    }

    public func markUnseenDeleted(instance: String, collection: String, runID: String, now: Date) async throws -> Int {
        try await writeCount("""
            UPDATE records SET deleted_at = ?, changed_at = ?
            WHERE instance_id = ? AND collection = ? AND deleted_at IS NULL AND (seen_run IS NULL OR seen_run <> ?) RETURNING 1
            """, [.int(now.millis), .int(now.millis), .text(instance), .text(collection), .text(runID)])
    }

    public func purge(instance: String) async throws {
        try await write { s in
            for table in StoreSchema.instanceDataTables { try await s.execute("DELETE FROM \(table) WHERE instance_id = ?", [.text(instance)]) }
        }
    }

    // MARK: cursors and state

    public func cursor(instance: String, stream: String) async throws -> JSONValue? {
        try Self.json(try await quickRows("SELECT value FROM cursors WHERE instance_id = ? AND stream = ?", [.text(instance), .text(stream)]).first?.text(0))
    }

    public func setCursor(instance: String, stream: String, value: JSONValue, now: Date) async throws {
        try await write { s in try await Self.setCursor(s, instance: instance, stream: stream, value: value, now: now.millis) }
    }

    static func setCursor(_ s: any SQLSession, instance: String, stream: String, value: JSONValue, now: Int64) async throws {
        try await s.execute("""
            INSERT INTO cursors (instance_id, stream, value, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (instance_id, stream) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
            """, [.text(instance), .text(stream), .bytes(value.jsonBytes), .int(now)])
    }

    public func state(instance: String, name: String) async throws -> JSONValue? {
        try Self.json(try await quickRows("SELECT value FROM plugin_state WHERE instance_id = ? AND name = ?", [.text(instance), .text(name)]).first?.text(0))
    }

    public func setState(instance: String, name: String, value: JSONValue, now: Date) async throws {
        try await write("""
            INSERT INTO plugin_state (instance_id, name, value, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (instance_id, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
            """, [.text(instance), .text(name), .bytes(value.jsonBytes), .int(now.millis)])
    }

    static func json(_ text: String?) throws -> JSONValue? {
        guard let text else { return nil }
        return try WireJSON.decode(JSONValue.self, from: Array(text.utf8))
    }
}

extension SQLStore {
    /// What a stamp needs of a record (its bytes are not read).
    static let stampColumns = "key, hash, synced_at, changed_at, deleted_at"

    public func prepareReadAgain(instance: String, _ reads: [StoreRead]) throws -> PreparedReadAgain {
        typealias Statement = PreparedReadAgain.Statement
        let head = Statement(sql: "SELECT plugin, updated_at FROM instances WHERE id = ?", arguments: [.text(instance)])
        var statements: [Statement] = []
        var orders: [String?] = []
        for read in reads {
            switch read {
            case .record(let collection, let key):
                statements.append(Statement(sql: "SELECT \(Self.stampColumns) FROM records WHERE instance_id = ? AND collection = ? AND key = ?",
                                            arguments: [.text(instance), .text(collection), .text(key)]))
                orders.append(nil)
            case .list(let collection, let query):
                let (plan, sql, args) = try listStatement(instance: instance, collection: collection, query: query, columns: Self.stampColumns)
                statements.append(Statement(sql: sql, arguments: args, pageLimit: try query.validated().limit))
                orders.append(plan.orderSQL)
            }
        }
        // On SQLite the usual answer made of one read is checked in one statement: the instance row joined to that
        // read's rows (PostgreSQL reads through its pool either way, one round trip per statement).
        var joined: Statement?
        if executor is SQLiteExecutor, statements.count == 1, let only = statements.first {
            let order = orders[0].map { " ORDER BY \($0)" } ?? ""
            joined = Statement(sql: "SELECT i.plugin, i.updated_at, r.* FROM instances i LEFT JOIN (\(only.sql)) r ON 1 WHERE i.id = ?\(order)",
                               arguments: only.arguments + [.text(instance)], pageLimit: only.pageLimit)
        }
        return PreparedReadAgain(instance: instance, head: head, reads: statements, joined: joined)
    }

    /// Each read's stamp now.
    public func readAgain(_ prepared: PreparedReadAgain) async throws -> StoreReadAgain? {
        func stamp(_ rows: [SQLRow], at column: Int, limit: Int?) -> ReadStamp {
            var stamps = rows.map { RecordStamp($0, at: column) }
            guard let limit, stamps.count > limit else { return ReadStamp(stamps: stamps, hasMore: false) }
            stamps.removeLast(stamps.count - limit)
            return ReadStamp(stamps: stamps, hasMore: true)
        }
        func assemble(_ h: SQLRow, _ stamps: [ReadStamp]) -> StoreReadAgain {
            StoreReadAgain(plugin: h.text(0) ?? "", instanceUpdatedAt: h.date(1) ?? Date(millis: 0), stamps: stamps)
        }
        if let sqlite = executor as? SQLiteExecutor {
            // On the calling task, one connection: point reads and short index ranges.
            if let joined = prepared.joined {
                return try sqlite.readNow { c in
                    let rows = try c.query(joined.sql, joined.arguments)
                    guard let first = rows.first else { return nil }
                    // No record: one row whose record columns are NULL (a record's key, column 2, is never NULL).
                    let found = first.values[2] == .null ? [] : rows
                    return assemble(first, [stamp(found, at: 2, limit: joined.pageLimit)])
                }
            }
            return try sqlite.readNow { c in
                guard let h = try c.query(prepared.head.sql, prepared.head.arguments).first else { return nil }
                return assemble(h, try prepared.reads.map { stamp(try c.query($0.sql, $0.arguments), at: 0, limit: $0.pageLimit) })
            }
        }
        return try await read { s in
            guard let h = try await s.one(prepared.head.sql, prepared.head.arguments) else { return nil }
            var stamps: [ReadStamp] = []
            for st in prepared.reads { stamps.append(stamp(try await s.query(st.sql, st.arguments), at: 0, limit: st.pageLimit)) }
            return assemble(h, stamps)
        }
    }

    public func commitStamp() -> CommitStamp? { commits?.stamp() }

    /// One statement for a cache read: the instance's plugin, the record and its collection's last sync. On
    /// SQLite it runs on the calling task (a point read by primary key; see `SQLiteExecutor.readNow`).
    public func cachedRecord(instance: String, collection: String, key: String) async throws -> CachedRecordRead? {
        let sql = """
            SELECT i.plugin, r.key, r.data, r.hash, r.first_seen_at, r.synced_at, r.changed_at, r.deleted_at, s.last_synced_at
            FROM instances i
            LEFT JOIN records r ON r.instance_id = i.id AND r.collection = ? AND r.key = ?
            LEFT JOIN collection_sync s ON s.instance_id = i.id AND s.collection = ?
            WHERE i.id = ?
            """
        let args: [SQLValue] = [.text(collection), .text(key), .text(collection), .text(instance)]
        func decode(_ row: SQLRow, data: [UInt8]?) -> CachedRecordRead {
            var read = CachedRecordRead(plugin: row.text(0) ?? "", record: nil, lastSyncedAt: row.date(8))
            if let key = row.text(1) {
                read.record = StoredRecord(collection: collection, key: key, data: data ?? row.bytes(2) ?? [], hash: row.text(3) ?? "",
                                           firstSeenAt: row.date(4) ?? Date(millis: 0), syncedAt: row.date(5) ?? Date(millis: 0),
                                           changedAt: row.date(6) ?? Date(millis: 0), deletedAt: row.date(7))
            }
            return read
        }
        if let sqlite = executor as? SQLiteExecutor {
            return try sqlite.readNow { c in
                var found: CachedRecordRead?
                try c.run(sql, args) { s in
                    // The record's bytes straight from SQLite's buffer; the other columns as values.
                    let row = SQLiteConnection.row(s, skipping: 2)
                    found = decode(row, data: row.values[1] == .null ? nil : SQLiteConnection.bytes(s, 2))
                }
                return found
            }
        }
        return try await read { s in try await s.one(sql, args).map { decode($0, data: nil) } }
    }
}
