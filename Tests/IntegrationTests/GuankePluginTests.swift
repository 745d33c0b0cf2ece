import Foundation
import GuankeSimulator
import Logging
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

/// The Guanke plugin (real libGuanke.so) against the Guanke platform simulator over loopback.
@Suite("Guanke plugin against the platform simulator")
struct GuankePluginTests {
    static func day(minus days: Int, from now: Date = Date()) -> String {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "Asia/Shanghai")!
        let d = c.dateComponents([.year, .month, .day], from: c.date(byAdding: .day, value: -days, to: now)!)
        return String(format: "%04d-%02d-%02d", d.year!, d.month!, d.day!)
    }

    @Test func schedulesTokenExpiryTruncationAndTheExactCountOfA200kDay() async throws {
        let big = Self.day(minus: 20)
        var data = GuankeSimulator.Data()
        data.recordsPerDay = { $0 == big ? 200_000 : 2_500 }
        let sim = GuankeSimulator(data)
        try await sim.start()
        defer { sim.stop() }
        let host = try await TestHost()

        // page_size above 1000 would sync empty days: refused up front.
        let tooBig = try await host.api("POST", "/instances", #"{"id": "g0", "plugin": "guanke", "config": {"base_url": "\#(sim.server.baseURL)", "secret": "x", "page_size": 2000}}"#)
        #expect(tooBig.status == 400 && tooBig.body.contains("page_size"), "\(tooBig.body)")
        let created = try await host.api("POST", "/instances", #"{"id": "g1", "plugin": "guanke", "config": {"base_url": "\#(sim.server.baseURL)", "username": "demo", "password": "p@ss word"}}"#)
        #expect(created.status == 201, "\(created.body)")

        // The seed's schedule table, in the instance's zone.
        let schedules = try await host.store.schedules(instance: "g1")
        let table = Set(schedules.map { "\($0.job) \($0.cron) \($0.params["dates"]?.stringValue ?? "") \($0.timezone)" })
        #expect(table == [
            "task_stats 0 7 * * * T-10..T-1 Asia/Shanghai", "grade_stats 5 7 * * * T-10..T-1 Asia/Shanghai",
            "task_stats 0 1,10,15,21 * * * T-3..T-1 Asia/Shanghai", "grade_stats 5 1,10,15,21 * * * T-3..T-1 Asia/Shanghai",
            "task_stats 0 9-23 * * * today Asia/Shanghai", "grade_stats */10 9-23 * * * today Asia/Shanghai",
            "cleanup 30 3 * * *  Asia/Shanghai",  // the seed's planned 30-day cache expiry
        ])

        // A 200k-record day, counted exactly (200 pages, no page cap).
        let run = try await host.run("g1", "grade_stats", params: ["dates": .string(big)], timeout: .seconds(300))
        #expect(run.status == .succeeded, "\(run.error ?? "")")
        let expected = sim.expected(big)
        let stored = try #require(try await host.store.record(instance: "g1", collection: "grade_stats", key: big)).json
        #expect(stored["total_records"] == .int(200_000))
        #expect(stored["grade_9"] == .int(Int64(expected.grade9)) && stored["grade_1"] == .int(Int64(expected.grade1)))
        #expect(stored["total_success"] == .int(Int64(expected.grade9 + expected.grade1)))
        #expect(stored["pages"] == 200 && stored["complete"] == true)

        // Relative ranges resolve at fire time; a token expiring mid-paging is renewed once and paging goes on.
        let logins = sim.count(of: "token")
        sim.faults.expireTokensAfter = 2
        let t3 = try await host.run("g1", "grade_stats", params: ["dates": "T-3..T-1"])
        #expect(t3.status == .succeeded, "\(t3.error ?? "")")
        #expect(sim.count(of: "token") == logins + 1)
        for d in (1...3).map({ Self.day(minus: $0) }) {
            let r = try #require(try await host.store.record(instance: "g1", collection: "grade_stats", key: d)).json
            #expect(r["grade_9"] == .int(Int64(sim.expected(d).grade9)) && r["total_records"] == 2_500)
        }
        // The token is kept across runs: a second run does not log in.
        let before = sim.count(of: "token")
        _ = try await host.run("g1", "task_stats", params: ["dates": "T-1"])
        #expect(sim.count(of: "token") == before)

        // totalCount that grows while paging: the day is stored as incomplete, the run says so.
        sim.faults.totalCountDrift = 7
        let short = try await host.run("g1", "grade_stats", params: ["dates": .string(Self.day(minus: 5))])
        #expect(short.status == .incomplete, "\(short.status)")
        #expect(short.message?.contains("of totalCount") == true, "\(short.message ?? "")")
        #expect(try await host.store.record(instance: "g1", collection: "grade_stats", key: Self.day(minus: 5))?.json["complete"] == false)
        sim.faults = .init()

        // 5xx: retried by the host; persistent 5xx fails with the status.
        sim.faults.fail5xx = 1
        #expect(try await host.run("g1", "grade_stats", params: ["dates": "T-2"]).status == .succeeded)
        sim.faults.fail5xx = 50
        let down = try await host.run("g1", "grade_stats", params: ["dates": "T-2"])
        #expect(down.status == .failed && down.error?.contains("502") == true, "\(down.error ?? "")")
        sim.faults = .init()

        // Task stats: pseudo-rows excluded, connected rate recomputed.
        let tasks = try await host.run("g1", "task_stats", params: ["dates": "T-2..T-1"])
        #expect(tasks.status == .succeeded)
        let ts = try #require(try await host.store.record(instance: "g1", collection: "task_stats", key: Self.day(minus: 1))).json
        #expect(ts["callout"] == 2_500 && ts["total_tasks"] == 8)
        #expect(try await host.records("g1", "task_rows").allSatisfy { $0.json["task_name"]?.stringValue?.hasPrefix("江苏") == true })

        let bad = try await host.run("g1", "grade_stats", params: ["dates": "T-3..yesterday"])
        #expect(bad.status == .failed && bad.error?.contains("not today, T-N or yyyy-MM-dd") == true)

        // Credentials and tokens never reach a log line.
        let token = try #require(try await host.store.state(instance: "g1", name: "token")?["token"]?.stringValue)
        #expect(!host.log.all.contains { $0.contains(token) || $0.contains("p@ss") || $0.contains("p%40ss") })
        await host.stop()
    }

    @Test func gradeStatsRouteTodayPastMissingLiveRefreshAndTheStatsPage() async throws {
        let sim = GuankeSimulator()
        try await sim.start()
        defer { sim.stop() }
        let host = try await TestHost()
        #expect(try await host.api("POST", "/instances", #"{"id": "g", "plugin": "guanke", "config": {"base_url": "\#(sim.server.baseURL)", "secret": "s3cret-key"}}"#).status == 201)
        let base = "/plugins/guanke/instances/g"
        let today = Self.day(minus: 0), past = Self.day(minus: 4)

        // Today, not cached: computed live, then cached.
        let first = try await host.api("GET", "\(base)/grade-stats")
        #expect(first.status == 200, "\(first.body)")
        #expect(first.json?["source"] == "live" && first.json?["date"]?.stringValue == today)
        #expect(first.json?["grade_9"] == .int(Int64(sim.expected(today).grade9)))
        let pages = sim.count(of: "cdr")
        let second = try await host.api("GET", "\(base)/grade-stats?date=\(today)")
        #expect(second.json?["source"] == "cache" && second.json?["from_cache"] == true && second.json?["last_synced_at"] != nil)
        #expect(second.json?["complete"] == true)
        #expect(sim.count(of: "cdr") == pages)

        // A past date never synced: a clear error, unless cache=live.
        let missing = try await host.api("GET", "\(base)/grade-stats?date=\(past)")
        #expect(missing.status == 404 && missing.body.contains("not synced yet"), "\(missing.body)")
        let live = try await host.api("GET", "\(base)/grade-stats?date=\(past)&cache=live")
        #expect(live.json?["source"] == "live" && live.json?["total_records"] == 300)
        #expect(try await host.api("GET", "\(base)/grade-stats?date=\(past)").json?["source"] == "cache")

        // Manual refresh; bad bodies are 400s.
        let refreshed = try await host.api("POST", "\(base)/grade-stats/refresh", #"{"date": "\#(past)"}"#)
        #expect(refreshed.status == 200 && refreshed.json?["source"] == "live")
        #expect(try await host.api("POST", "\(base)/grade-stats/refresh", #"{"day": "x"}"#).status == 400)
        #expect(try await host.api("POST", "\(base)/grade-stats/refresh", #"{"date": "2025-02-30"}"#).status == 400)
        #expect(try await host.api("GET", "\(base)/grade-stats?date=T-1..T-0").status == 400)

        // Task track and the joined stats page.
        #expect(try await host.api("POST", "\(base)/task-stats/refresh", #"{"date": "\#(past)"}"#).json?["callout"] == 300)
        let page = try await host.api("GET", "\(base)/stats?from=\(past)&to=\(today)")
        let days = try #require(page.json?["days"]?.arrayValue)
        #expect(days.count == 5)
        #expect(days.first?["synced"] == true && days.first?["grade_stats"]?["grade_9"] != nil)
        #expect(days.last?["task_stats"] == .null)
        await host.stop()
    }

    /// A cached stats answer is served again without the plugin while the record it read is unchanged, and
    /// never after a sync, another process or another replica changed it, nor after the config changed or
    /// (for a relative date) the day turned.
    @Test(arguments: Backend.available)
    func reusedAnswersEndWhenWhatTheyReadChanges(_ backend: Backend) async throws {
        let sim = GuankeSimulator()
        try await sim.start()
        defer { sim.stop() }
        let host = try await TestHost(store: backend == .postgres ? try await backend.open() : nil, startScheduler: false)
        let store = host.store
        try #require(store.backend == (backend == .sqlite ? "sqlite" : "postgresql"))
        // The other writer: another process on the same SQLite file, another replica on the same PostgreSQL.
        let other = try await StoreFactory.open(backend == .sqlite ? host.directory.appendingPathComponent("synchost.db").path : Backend.postgresURL(),
                                                logger: Logger(label: "other"), secretKeys: backend == .sqlite ? .standard() : .ring(testSecretKeys))
        try #require(other.backend == store.backend)
        let id = "g-" + freshInstance()
        let config: [String: JSONValue] = ["base_url": .string(sim.server.baseURL), "secret": "s3cret-key"]
        try await store.createInstance(InstanceRecord(id: id, plugin: "guanke", config: config), schedules: [])
        let past = Self.day(minus: 3)
        func stats(_ grade9: Int) -> JSONValue { ["date": .string(past), "grade_9": .int(Int64(grade9)), "grade_1": 1, "total_records": 10] }
        _ = try await store.upsert(page("grade_stats", [(past, stats(4))]), instance: id, runID: String?.none, now: Date())
        let path = "/plugins/guanke/instances/\(id)/grade-stats?date=\(past)"
        func get(_ p: String = path) async throws -> (cache: String?, grade9: JSONValue?, body: String) {
            let r = try await host.api("GET", p)
            #expect(r.status == 200, "\(r.body)")
            return (r.headers["x-synchost-cache"], r.json?["grade_9"], r.body)
        }

        let first = try await get(), second = try await get()
        #expect(first.cache == "miss" && second.cache == "hit")
        #expect(second.body == first.body && second.grade9 == 4)

        // A sync in this host changes the record: the next answer is the plugin's again, with the new value.
        _ = try await store.upsert(page("grade_stats", [(past, stats(5))]), instance: id, runID: String?.none, now: Date())
        let afterSync = try await get()
        #expect(afterSync.cache == "miss" && afterSync.grade9 == 5)
        #expect(try await get().cache == "hit")

        // Another process or replica changes it.
        _ = try await other.upsert(page("grade_stats", [(past, stats(6))]), instance: id, runID: String?.none, now: Date())
        let afterOther = try await get()
        #expect(afterOther.cache == "miss" && afterOther.grade9 == 6)

        // The same content synced again: its last_synced_at moved, so the answer does too.
        _ = try await other.upsert(page("grade_stats", [(past, stats(6))]), instance: id, runID: String?.none, now: Date().addingTimeInterval(5))
        let resynced = try await get()
        #expect(resynced.cache == "miss" && resynced.body != afterOther.body)

        // The instance's config changed (by the other writer).
        var changed = try #require(try await other.instance(id: id))
        changed.config["page_size"] = 500
        changed.updatedAt = Date().addingTimeInterval(1)
        try await other.updateInstance(changed)
        #expect(try await get().cache == "miss")
        #expect(try await get().cache == "hit")

        // A relative date is reused until the next midnight of the instance's zone, not after.
        let relative = "/plugins/guanke/instances/\(id)/grade-stats?date=T-3"
        #expect(try await get(relative).cache == "miss")
        #expect(try await get(relative).cache == "hit")
        host.clock.advance(by: 86_400)
        // A day later (the plugin reads the host's clock) T-3 names the next day: answered again, not reused, and
        // that day was never synced.
        let moved = try await host.api("GET", relative)
        #expect(moved.status == 404 && moved.headers["x-synchost-cache"] == "miss", "\(moved.status) \(moved.body)")

        // A record deleted by the other writer: the answer becomes the plugin's "not synced" again.
        #expect(try await other.purgeKeys(instance: id, collection: "grade_stats", keys: [past]) == 1)
        let gone = try await host.api("GET", path)
        #expect(gone.status == 404 && gone.headers["x-synchost-cache"] == "miss", "\(gone.body)")

        // Today, not cached: computed live through the platform (a fetch), which is never reused.
        let today = "/plugins/guanke/instances/\(id)/grade-stats?date=\(Self.day(minus: 0, from: host.clock.now))"
        let live = try await get(today)
        #expect(live.cache == String?.none)
        #expect(try await get(today).cache == "miss")
        #expect(try await get(today).cache == "hit")

        if backend == .sqlite { await other.close() }
        await host.stop()
    }
}
