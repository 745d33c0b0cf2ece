import Foundation
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

/// Retention (#19, part 4): a collection's policy — the manifest's default or the instance's override — purges
/// old live records by a date field or by their last sync, and old tombstones; what the latest complete run saw
/// stays, whatever its date.
@Suite("Retention of collections, on both backends")
struct RetentionPolicyTests {
    @Test(arguments: Backend.available)
    func oldRecordsAndTombstonesGoWhatTheLatestCompleteRunSawStays(_ backend: Backend) async throws {
        let store = try await backend.open()
        let dir = try pluginDirectoryWithInTreePlugins()
        defer { try? FileManager.default.removeItem(at: dir) }
        let kernel = Kernel(pluginDirectory: dir, logger: capturingLogger(CapturedLog()), store: store)
        _ = try kernel.registry.rescan()
        let i = freshInstance()
        try await store.createInstance(InstanceRecord(id: i, plugin: "vos", config: ["base_url": "http://127.0.0.1:9", "timezone": "Asia/Shanghai"]), schedules: [])
        let now = Date(timeIntervalSince1970: 1_780_000_000)  // 2026-05-28
        let day: (Int) -> String = { Retention.day(now.addingTimeInterval(-Double($0) * 86400), zone: TimeZone(identifier: "Asia/Shanghai")!) }

        // CDRs dated 5, 40 and 100 days ago, all synced long ago; one dated 100 days ago re-synced by the latest complete run.
        let longAgo = now.addingTimeInterval(-200 * 86400)
        _ = try await store.upsert(page("cdrs", [("c5", ["date": .string(day(5))]), ("c40", ["date": .string(day(40))]), ("c100", ["date": .string(day(100))]),
                                                  ("nodate", ["x": 1])]), instance: i, runID: nil, now: longAgo)
        var run = RunRecord(instance: i, job: "cdrs", trigger: "manual", status: .running, createdAt: now.addingTimeInterval(-3600))
        run.startedAt = now.addingTimeInterval(-3600)
        try await store.insertRun(run)
        run.status = .succeeded
        run.finishedAt = now.addingTimeInterval(-3000)
        try await store.finishRun(run)
        _ = try await store.upsert(page("cdrs", [("seen", ["date": .string(day(100))])]), instance: i, runID: run.id, now: now.addingTimeInterval(-3500))

        // Customers: the manifest keeps tombstones 90 days; one deleted 100 days ago, one 10 days ago.
        _ = try await store.upsert(page("customers", [("old", ["a": 1]), ("recent", ["a": 2]), ("live", ["a": 3])]), instance: i, runID: "r0", now: longAgo)
        _ = try await store.upsert(page("customers", [("live", ["a": 3])]), instance: i, runID: "r1", now: now.addingTimeInterval(-120 * 86400))
        _ = try await store.markUnseenDeleted(instance: i, collection: "customers", runID: "r1", now: now.addingTimeInterval(-100 * 86400))
        _ = try await store.upsert(page("customers", [("recent", ["a": 2]), ("live", ["a": 3])]), instance: i, runID: "r2", now: now.addingTimeInterval(-100 * 86400))
        _ = try await store.upsert(page("customers", [("live", ["a": 3])]), instance: i, runID: "r3", now: now.addingTimeInterval(-11 * 86400))
        _ = try await store.markUnseenDeleted(instance: i, collection: "customers", runID: "r3", now: now.addingTimeInterval(-10 * 86400))

        // This instance keeps its CDRs 30 days by their date.
        try await store.setRetention(instance: i, collection: "cdrs", RetentionSpec(days: 30, field: "date"), now: now)
        #expect(try await store.retentionOverrides(instance: i) == ["cdrs": RetentionSpec(days: 30, field: "date")])

        let report = try await Retention(store: store, registry: kernel.registry, clock: { now }).apply()
        let keys = { (c: String) async throws -> Set<String> in
            var q = RecordQuery()
            q.includeDeleted = true
            q.limit = 100
            return Set(try await store.records(instance: i, collection: c, query: q).records.map(\.key))
        }
        #expect(try await keys("cdrs") == ["c5", "nodate", "seen"], "40 and 100 days old go; no date is not judged; the latest complete run's stays")
        #expect(try await keys("customers") == ["recent", "live"], "the tombstone of 100 days goes, the one of 10 days stays")
        #expect(report.details["\(i)/cdrs"] == ["records": 2, "tombstones": 0])
        #expect(report.details["\(i)/customers"] == ["records": 0, "tombstones": 1])
        #expect(report.total == 3 && report.summary.contains("\(i)/cdrs: 2 record(s)"))

        // By last sync when the policy names no field; dropping the override brings back the default (none for cdrs).
        try await store.setRetention(instance: i, collection: "cdrs", RetentionSpec(days: 1), now: now)
        _ = try await Retention(store: store, registry: kernel.registry, clock: { now }).apply()
        #expect(try await keys("cdrs") == ["seen"], "synced 200 days ago: gone; synced since the latest complete run started: kept")
        try await store.setRetention(instance: i, collection: "cdrs", nil, now: now)
        #expect(try await store.retentionOverrides(instance: i).isEmpty)
    }

    @Test func theAPIShowsDefaultOverrideAndPolicyAndRefusesBadOnes() async throws {
        let host = try await TestHost()
        #expect(try await host.api("POST", "/instances", #"{"id": "n", "plugin": "vos", "config": {"base_url": "http://127.0.0.1:9", "backfill_days": 0}}"#).status == 201)
        let shown = try await host.api("GET", "/instances/n/retention")
        let customers = try #require(shown.json?["collections"]?.arrayValue?.first { $0["collection"] == "customers" })
        #expect(customers["declared"]?["tombstone_days"] == 90 && customers["effective"]?["tombstone_days"] == 90)
        let set = try await host.api("PUT", "/instances/n/retention/cdrs", #"{"days": 180, "field": "date"}"#)
        #expect(set.status == 200 && set.json?["collections"]?.arrayValue?.first { $0["collection"] == "cdrs" }?["effective"]?["days"] == 180, "\(set.body)")
        for (body, words) in [(#"{"field": "date"}"#, "field needs days"), (#"{"days": 0}"#, "days must be 1-36500"), (#"{}"#, "give days"),
                              (#"{"days": 1, "field": "a b"}"#, "top-level field"), (#"{"keep": 1}"#, "keep")] {
            let r = try await host.api("PUT", "/instances/n/retention/cdrs", body)
            #expect(r.status == 400 && r.body.contains(words), "\(body): \(r.status) \(r.body)")
        }
        #expect(try await host.api("PUT", "/instances/n/retention/nope", #"{"days": 3}"#).status == 404)
        #expect(try await host.api("DELETE", "/instances/n/retention/cdrs").json?["collections"]?.arrayValue?.first { $0["collection"] == "cdrs" }?["effective"] == nil)
        // Audited, and the host's jobs that apply it are scheduled.
        #expect(try await host.api("GET", "/audit?action=retention.set").json?["entries"]?.arrayValue?.count == 2)
        let hostJobs = Set(try await host.store.schedules(instance: HostJobs.instance).map(\.job))
        #expect(hostJobs.isSuperset(of: ["retention", "purge_notifications", "purge_runs", "purge_audit"]))
        await host.stop()
    }
}
