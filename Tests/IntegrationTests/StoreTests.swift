import Foundation
import Logging
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

@Suite("Store: the same tests for SQLite and PostgreSQL")
struct StoreTests {
    @Test(arguments: Backend.available)
    func upsertCountsInsertsUpdatesAndUnchangedAndKeepsTheBytesItHashed(_ backend: Backend) async throws {
        let store = try await backend.open()
        let i = freshInstance()
        let t0 = Date(timeIntervalSince1970: 1_700_000_000)
        let first = try await store.upsert(page("customers", [("a", ["money": 1, "name": "A"]), ("b", ["money": 2])]), instance: i, runID: "r1", now: t0)
        #expect(first == RunCounts(fetched: 2, pages: 1, inserted: 2))

        let t1 = t0.addingTimeInterval(60)
        // Same content with keys in another order is unchanged; "b" changes; "c" is new; "c" repeated keeps the last.
        let second = try await store.upsert(page("customers", [("a", ["name": "A", "money": 1]), ("b", ["money": 3]), ("c", ["x": 0]), ("c", ["x": 1])]),
                                            instance: i, runID: "r2", now: t1)
        #expect(second == RunCounts(fetched: 4, pages: 1, inserted: 1, updated: 1, unchanged: 1))

        let a = try #require(try await store.record(instance: i, collection: "customers", key: "a"))
        #expect(a.firstSeenAt == t0)
        #expect(a.syncedAt == t1)
        #expect(a.changedAt == t0)
        #expect(a.json == ["money": 1, "name": "A"])
        let b = try #require(try await store.record(instance: i, collection: "customers", key: "b"))
        #expect(b.changedAt == t1)
        #expect(b.json == ["money": 3])
        #expect(try await store.record(instance: i, collection: "customers", key: "c")?.json == ["x": 1])
        #expect(try await store.record(instance: i, collection: "customers", key: "zz") == nil)
        #expect(try await store.lastSyncedAt(instance: i, collection: "customers") == t1)


        // Both backends return the exact bytes the plugin sent, the ones the hash was computed over (PostgreSQL
        // once returned JSONB's normalised text: other spacing and key order than was hashed).
        let odd = Array(#"{ "z" : 1,"a":[1, 2.50, "\u00e9"],  "m":{"k":null} }"#.utf8)
        _ = try await store.upsert(UpsertPage(collection: "raw", records: [("odd", odd)]), instance: i, runID: nil, now: t1)
        let stored = try #require(try await store.record(instance: i, collection: "raw", key: "odd"))
        #expect(stored.data == odd)
        #expect(stored.hash == ContentHash.of(odd))
        var byField = RecordQuery()
        byField.filters = [("z", "1")]
        #expect(try await store.records(instance: i, collection: "raw", query: byField).records.map(\.data) == [odd])
    }

    /// On PostgreSQL the upsert's key lookup is planned for what the collection holds once it has grown, however
    /// little the statistics knew of it: in a database whose `records` were never analysed (a new install, or a new
    /// instance in a big shared table, until autovacuum gets to it) the planner estimates a collection at a row or
    /// two and looks keys up through (instance_id, collection, synced_at), reading the whole collection for every
    /// page: the sync went quadratic. The store refreshes the statistics at 10,000 new rows.
    @Test func onPostgreSQLTheUpsertLookupIsPlannedForWhatTheCollectionHoldsOnceItHasGrown() async throws {
        let shared = try #require(try await Backend.postgres.open() as? SQLStore)
        let database = "synchost_stats_" + UUID().uuidString.prefix(8).lowercased()
        try await shared.executor.read { s in try await s.execute("CREATE DATABASE \(database)") }
        var url = try #require(URLComponents(string: try Backend.postgresURL()))
        url.path = "/" + database
        let store = try await StoreFactory.open(try #require(url.string), logger: Logger(label: "test"), secretKeys: .ring(testSecretKeys))
        try #require(store.backend == "postgresql")
        let i = freshInstance()
        for p in 0..<12 {
            let records = (0..<1_000).map { n -> (String, JSONValue) in (String(format: "k%06d", p * 1_000 + n), ["n": .int(Int64(p * 1_000 + n))]) }
            _ = try await store.upsert(page("c", records), instance: i, runID: nil, now: Date())
        }
        let keys = (0..<1_000).map { String(format: "k%06d", $0 * 11) }
        let plan = try await store.executor.read { s in
            try await s.query("EXPLAIN " + SQLStore.knownKeys(.postgres, count: keys.count), [.text(i), .text("c")] + SQLDialect.postgres.listArguments(keys)).compactMap { $0.text(0) }
        }.joined(separator: "\n")
        // The planner knows the page's keys are there (about 1,000 rows, not 1), and so does not look them up through
        // an index of the whole collection; a scan of this small table or a probe per key are both fine then.
        let estimate = try #require(plan.firstMatch(of: /rows=(\d+)/).flatMap { Int($0.1) }, "\(plan)")
        #expect(estimate >= 500 && !plan.contains("records_synced") && !plan.contains("records_changed"), "\(plan)")
        let changes: [(String, JSONValue)] = [(keys[0], ["n": -1]), (keys[1], ["n": -1]), (keys[2], ["n": -1]), (keys[3], ["n": 33])]
        let again = try await store.upsert(page("c", changes), instance: i, runID: nil, now: Date())
        #expect(again == RunCounts(fetched: 4, pages: 1, updated: 3, unchanged: 1))
        await store.close()
        try await shared.executor.read { s in try await s.execute("DROP DATABASE \(database) WITH (FORCE)") }
    }

    /// A reused route answer is checked by making its reads again: a page's stamp covers its records and whether
    /// more followed, so a record changed in the page, or the look-ahead row gone, tells the answer is old.
    @Test(arguments: Backend.available)
    func readsMadeAgainTellWhetherTheirAnswerChanged(_ backend: Backend) async throws {
        let store = try await backend.open()
        let i = freshInstance()
        try await store.createInstance(InstanceRecord(id: i, plugin: "p", config: [:]), schedules: [])
        let t0 = Date(timeIntervalSince1970: 1_700_000_000)
        _ = try await store.upsert(page("c", [("a", ["v": 1]), ("b", ["v": 2]), ("c", ["v": 3])]), instance: i, runID: nil, now: t0)
        var q = RecordQuery()
        q.limit = 2
        q = try q.validated()
        let firstPage = try await store.records(instance: i, collection: "c", query: q)
        let one = try await store.record(instance: i, collection: "c", key: "b")
        let reads: [StoreRead] = [.list(collection: "c", query: q), .record(collection: "c", key: "b")]
        let then = [ReadStamp(firstPage.records, hasMore: firstPage.nextCursor != nil), ReadStamp(one.map { [$0] } ?? [])]
        #expect(then[0].hasMore && then[0].records.map(\.key) == ["a", "b"])
        for prepared in [try store.prepareReadAgain(instance: i, reads), try store.prepareReadAgain(instance: i, [reads[0]])] {
            let again = try #require(try await store.readAgain(prepared))
            #expect(again.plugin == "p")
            #expect(again.stamps == Array(then.prefix(prepared.reads.count)))
        }
        // Unchanged content re-synced later: the sync time is part of the stamp.
        _ = try await store.upsert(page("c", [("a", ["v": 1])]), instance: i, runID: nil, now: t0.addingTimeInterval(60))
        #expect(try await store.readAgain(store.prepareReadAgain(instance: i, [reads[0]]))?.stamps != [then[0]])
        // The look-ahead row removed for good: the page no longer has more.
        let fresh = try await store.records(instance: i, collection: "c", query: q)
        let now = ReadStamp(fresh.records, hasMore: fresh.nextCursor != nil)
        #expect(try await store.purgeKeys(instance: i, collection: "c", keys: ["c"]) == 1)
        let after = try #require(try await store.readAgain(store.prepareReadAgain(instance: i, [reads[0]])))
        #expect(after.stamps[0].records == now.records && !after.stamps[0].hasMore)
        // No such instance: nothing to answer for.
        #expect(try await store.readAgain(store.prepareReadAgain(instance: freshInstance(), reads)) == nil)
    }

    @Test(arguments: Backend.available)
    func theCursorIsSavedWithItsPageAndADryRunWritesNothing(_ backend: Backend) async throws {
        let store = try await backend.open()
        let i = freshInstance()
        let now = Date()
        _ = try await store.upsert(page("cdrs", [("1", ["v": 1])], cursor: .init(stream: "cdrs", value: ["day": "2026-11-20", "offset": 1])), instance: i, runID: nil, now: now)
        #expect(try await store.cursor(instance: i, stream: "cdrs") == ["day": "2026-11-20", "offset": 1])

        let dry = try await store.upsert(page("cdrs", [("1", ["v": 2]), ("2", ["v": 1])], cursor: .init(stream: "cdrs", value: 99), dryRun: true), instance: i, runID: nil, now: now)
        #expect(dry == RunCounts(fetched: 2, pages: 1, inserted: 1, updated: 1))
        #expect(try await store.record(instance: i, collection: "cdrs", key: "1")?.json == ["v": 1])
        #expect(try await store.record(instance: i, collection: "cdrs", key: "2") == nil)
        #expect(try await store.cursor(instance: i, stream: "cdrs") == ["day": "2026-11-20", "offset": 1])

        try await store.setState(instance: i, name: "token", value: ["t": "x", "exp": 7], now: now)
        #expect(try await store.state(instance: i, name: "token") == ["t": "x", "exp": 7])
        #expect(try await store.state(instance: i, name: "nope") == nil)
    }

    @Test(arguments: Backend.available)
    func fullSyncMarksOnlyWhatTheRunDidNotSeeAndARecordCanComeBack(_ backend: Backend) async throws {
        let store = try await backend.open()
        let i = freshInstance()
        let now = Date()
        _ = try await store.upsert(page("contacts", [("a", 1), ("b", 2), ("c", 3)]), instance: i, runID: "full-1", now: now)
        _ = try await store.upsert(page("contacts", [("a", 1), ("b", 2)]), instance: i, runID: "full-2", now: now)
        #expect(try await store.markUnseenDeleted(instance: i, collection: "contacts", runID: "full-2", now: now) == 1)
        #expect(try await store.record(instance: i, collection: "contacts", key: "c")?.deletedAt != nil)
        #expect(try await store.record(instance: i, collection: "contacts", key: "a")?.deletedAt == nil)
        let live = try await store.records(instance: i, collection: "contacts", query: RecordQuery())
        #expect(live.records.map(\.key) == ["a", "b"])
        var withDeleted = RecordQuery()
        withDeleted.includeDeleted = true
        #expect(try await store.records(instance: i, collection: "contacts", query: withDeleted).records.count == 3)
        #expect(try await store.collections(instance: i) == [CollectionSummary(name: "contacts", records: 2, deleted: 1, lastSyncedAt: Date(millis: now.millis))])

        // It reappears: an update that restores it.
        let back = try await store.upsert(page("contacts", [("c", 3)]), instance: i, runID: "inc-3", now: now)
        #expect(back.updated == 1)
        #expect(try await store.record(instance: i, collection: "contacts", key: "c")?.deletedAt == nil)
        #expect(try await store.record(instance: i, collection: "contacts", key: "c")?.changedAt == Date(millis: now.millis))
    }

    @Test(arguments: Backend.available)
    func listsFilterByFieldsAndKeyRangesAndPageToTheEndInEveryOrder(_ backend: Backend) async throws {
        let store = try await backend.open()
        let i = freshInstance()
        let base = Date(timeIntervalSince1970: 1_800_000_000)
        for d in 1...25 {
            let key = String(format: "2026-11-%02d", d)
            _ = try await store.upsert(page("grade_stats", [(key, ["date": .string(key), "parity": .string(d % 2 == 0 ? "even" : "odd"), "n": .int(Int64(d))])]),
                                       instance: i, runID: nil, now: base.addingTimeInterval(Double(30 - d)))
        }
        var q = RecordQuery()
        q.filters = [("parity", "even")]
        #expect(try await store.records(instance: i, collection: "grade_stats", query: q).records.count == 12)
        q.filters = [("n", "7")]
        #expect(try await store.records(instance: i, collection: "grade_stats", query: q).records.map(\.key) == ["2026-11-07"])
        q = RecordQuery()
        q.keyFrom = "2026-11-10"
        q.keyTo = "2026-11-12"
        #expect(try await store.records(instance: i, collection: "grade_stats", query: q).records.map(\.key) == ["2026-11-10", "2026-11-11", "2026-11-12"])

        for order in RecordQuery.Order.allCases {
            for descending in [false, true] {
                var pq = RecordQuery()
                pq.order = order
                pq.descending = descending
                pq.limit = 4
                var keys: [String] = []
                var pages = 0
                repeat {
                    let p = try await store.records(instance: i, collection: "grade_stats", query: pq)
                    keys += p.records.map(\.key)
                    pq.cursor = p.nextCursor
                    pages += 1
                } while pq.cursor != nil && pages < 20
                #expect(keys.count == 25, "\(order) \(descending)")
                #expect(Set(keys).count == 25)
                // synced_at runs opposite to the key here, so every order is checked for real.
                let ascendingKeys = order == .key ? keys.sorted() : keys.sorted().reversed()
                #expect(keys == (descending ? Array(ascendingKeys.reversed()) : Array(ascendingKeys)), "\(order) \(descending)")
            }
        }
        var bad = RecordQuery()
        bad.filters = [("x'); DROP TABLE records; --", "1")]
        await #expect(throws: HostError.self) { try await store.records(instance: i, collection: "grade_stats", query: bad) }
        bad = RecordQuery()
        bad.cursor = "not-a-cursor"
        await #expect(throws: HostError.self) { try await store.records(instance: i, collection: "grade_stats", query: bad) }
    }

    @Test(arguments: Backend.available)
    func runsAreRecordedQueriedPagedAndPurged(_ backend: Backend) async throws {
        let store = try await backend.open()
        let i = freshInstance()
        let base = Date(timeIntervalSince1970: 1_750_000_000)
        var ids: [String] = []
        for n in 0..<5 {
            var r = RunRecord(instance: i, job: n % 2 == 0 ? "customers" : "cdrs", trigger: "schedule", params: ["date": "2026-11-20"],
                              scheduledFor: base, createdAt: base.addingTimeInterval(Double(n)))
            try await store.insertRun(r)
            r.status = n == 4 ? .failed : .succeeded
            r.startedAt = r.createdAt
            r.finishedAt = r.createdAt.addingTimeInterval(1)
            r.counts = RunCounts(fetched: n, inserted: n)
            r.complete = true
            r.error = n == 4 ? "boom" : nil
            try await store.updateRun(r)
            ids.append(r.id)
        }
        let got = try #require(try await store.run(id: ids[4]))
        #expect(got.status == .failed)
        #expect(got.error == "boom")
        #expect(got.counts.inserted == 4)
        #expect(got.params == ["date": "2026-11-20"])
        #expect(got.scheduledFor == base)
        #expect(got.complete == true)

        var q = RunQuery()
        q.instance = i
        #expect(try await store.runs(q).map(\.id) == ids.reversed())
        q.job = "customers"
        #expect(try await store.runs(q).count == 3)
        q.job = nil
        q.status = .failed
        #expect(try await store.runs(q).map(\.id) == [ids[4]])
        q.status = nil
        q.limit = 2
        let firstPage = try await store.runs(q)
        q.before = firstPage.last?.id
        #expect(try await store.runs(q).map(\.id) == [ids[2], ids[1]])
        await #expect(throws: HostError.self) { try await store.updateRun(RunRecord(instance: i, job: "x", trigger: "manual")) }

        #expect(try await store.purgeRuns(finishedBefore: base.addingTimeInterval(3)) >= 2)
        var all = RunQuery()
        all.instance = i
        #expect(try await store.runs(all).count == 3)
    }

    @Test(arguments: Backend.available)
    func purgeRemovesOneInstanceOnly(_ backend: Backend) async throws {
        let store = try await backend.open()
        let i = freshInstance(), j = freshInstance()
        _ = try await store.upsert(page("x", [("1", 1)], cursor: .init(stream: "s", value: 1)), instance: i, runID: nil, now: Date())
        _ = try await store.upsert(page("x", [("1", 1)]), instance: j, runID: nil, now: Date())
        try await store.purge(instance: i)
        #expect(try await store.record(instance: i, collection: "x", key: "1") == nil)
        #expect(try await store.cursor(instance: i, stream: "s") == nil)
        #expect(try await store.record(instance: j, collection: "x", key: "1") != nil)
    }
}

@Suite("Store: a database made by an earlier release")
struct StoreUpgradeTests {
    /// An SQLite file as release 3 left it (GRDB's migration table, change events, version-3 schema, data in it)
    /// opens with everything kept and moves on to the current schema.
    @Test func anOlderSQLiteFileIsAdoptedAndUpgradedWithItsDataKept() async throws {
        let dir = try temporaryDirectory("upgrade")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("old.db").path
        do {
            let old = try SQLiteConnection(path: path, readOnly: false)
            try old.script("PRAGMA journal_mode = WAL")
            for sql in StoreSchema.tables(.sqlite) + StoreSchema.outbox(.sqlite) + ["ALTER TABLE runs ADD COLUMN log TEXT"] { try old.script(sql) }
            try old.script("CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
            for name in ["1-records-cursors-state-runs", "2-notification-outbox", "3-run-log"] {
                try old.execute("INSERT INTO grdb_migrations (identifier) VALUES (?)", [.text(name)])
            }
            try old.execute("INSERT INTO instances (id, plugin, config, enabled, created_at, updated_at) VALUES ('n1', 'vos', '{\"a\":1}', 1, 1, 1)", [])
            try old.execute("""
                INSERT INTO records (instance_id, collection, key, data, hash, first_seen_at, synced_at, changed_at)
                VALUES ('n1', 'cdrs', 'k1', '{"fee": 3}', 'h', 1, 2, 3)
                """, [])
        }
        let store = try await openSQLite(path)
        #expect(try await store.schemaVersion() == Int64(StoreSchema.migrations.count))
        #expect(try await store.instance(id: "n1")?.config == ["a": 1])
        let record = try #require(try await store.record(instance: "n1", collection: "cdrs", key: "k1"))
        #expect(record.data == Array(#"{"fee": 3}"#.utf8) && record.hash == "h" && record.changedAt == Date(millis: 3))
        let tables = try await store.executor.read { try await $0.query("SELECT name FROM sqlite_master WHERE type = 'table'").compactMap { $0.text(0) } }
        #expect(!tables.contains("change_events"))
        // Opening again applies nothing twice.
        #expect(try await openSQLite(path).schemaVersion() == Int64(StoreSchema.migrations.count))
    }
}
