import Foundation
import Logging
import PluginAPI
import Synchronization
import Testing

@testable import Host
@testable import TestKit

/// A clock running `offset` ahead of real time, so a test reaches the next minute boundary in seconds.
final class ShiftedClock: Sendable {
    let offset: TimeInterval
    init(offset: TimeInterval) { self.offset = offset }
    /// Ahead far enough that the next whole minute is `lead` seconds away.
    static func minuteBoundaryIn(_ lead: TimeInterval) -> ShiftedClock {
        let now = Date().timeIntervalSince1970
        let toBoundary = 60 - now.truncatingRemainder(dividingBy: 60)
        return ShiftedClock(offset: toBoundary > lead ? toBoundary - lead : toBoundary - lead + 60)
    }
    var now: Date { Date().addingTimeInterval(offset) }
}

struct SchedulerFixture {
    var kernel: Kernel
    var store: any HostDatabase
    var scheduler: Scheduler
    var instances: InstanceManager
    var instance: String

    static func make(_ backend: Backend, clock: ShiftedClock = ShiftedClock(offset: 0)) async throws -> SchedulerFixture {
        let dir = try temporaryDirectory()
        _ = try await compileCPlugin(into: dir, fileName: "tiny.so")
        let store = try await backend.open()
        let kernel = Kernel(pluginDirectory: dir, logger: capturingLogger(CapturedLog()), store: store, schedulerMaxIdle: .seconds(2),
                            clock: { clock.now })
        try await kernel.registry.scan()
        let id = freshInstance()
        try await kernel.instances!.create(id: id, plugin: "tiny_c", config: [:], now: clock.now)
        return SchedulerFixture(kernel: kernel, store: store, scheduler: kernel.scheduler!, instances: kernel.instances!, instance: id)
    }

    func runs(job: String? = nil) async throws -> [RunRecord] {
        var q = RunQuery()
        q.instance = instance
        q.job = job
        q.limit = 500
        return try await store.runs(q)
    }

    /// Waits until `done` holds for the runs, or fails after `seconds`.
    func waitFor(_ what: String, seconds: Double = 20, job: String? = nil, _ done: ([RunRecord]) -> Bool) async throws -> [RunRecord] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let r = try await runs(job: job)
            if done(r) { return r }
            try await Task.sleep(for: .milliseconds(100))
        }
        let r = try await runs(job: job)
        Issue.record("timed out waiting for \(what): \(r.map { "\($0.job):\($0.trigger):\($0.status.rawValue)" })")
        return r
    }
}

// Serialized: on PostgreSQL the tests share one database, and every running scheduler is a replica that may
// claim any test's runs.
@Suite("Scheduler: schedules in the database, dispatcher, misfire, overlap, retries", .serialized)
struct SchedulerTests {
    @Test(arguments: Backend.available)
    func creatingAnInstanceCreatesItsDefaultSchedules(_ backend: Backend) async throws {
        let f = try await SchedulerFixture.make(backend)
        let schedules = try await f.store.schedules(instance: f.instance)
        #expect(schedules.map(\.job) == ["greet"])
        #expect(schedules.first?.cron == "*/5 * * * *")
        #expect(schedules.first?.nextRunAt != nil)
    }

    @Test func anEditThroughTheAdminAPITakesEffectAtOnceWithoutRestart() async throws {
        // 3 s before a minute boundary on the scheduler's clock.
        let clock = ShiftedClock.minuteBoundaryIn(3)
        let f = try await SchedulerFixture.make(.sqlite, clock: clock)
        try await f.scheduler.start()
        let server = try await startServer(AdminServer(kernel: f.kernel, token: "t"))
        defer { server.task.cancel() }
        let base = "http://127.0.0.1:\(server.port)/api/v1"
        let list = try await request("GET", "\(base)/schedules?instance=\(f.instance)", token: "t")
        let id = try #require(list.json?.arrayValue?.first?["id"]?.stringValue)
        #expect(list.json?.arrayValue?.first?["next_fires"]?.arrayValue?.count == 5)

        // Every minute, on the scheduler's clock: the next fire is the boundary 3 s away.
        let patched = try await request("PATCH", "\(base)/schedules/\(id)", token: "t", body: #"{"cron": "* * * * *", "params": {}}"#)
        #expect(patched.status == 200, "\(patched.body)")
        let bad = try await request("PATCH", "\(base)/schedules/\(id)", token: "t", body: #"{"cron": "61 * * * *"}"#)
        #expect(bad.status == 400)
        #expect(bad.json?["error"]?["message"] == "cron: minute field: 61 is out of range 0-59")
        // Re-read: the API must have stored the new cron and recomputed next_run_at.
        let stored = try #require(try await f.store.schedule(id: id))
        #expect(stored.cron == "* * * * *")

        // Under load the edit may land after the boundary: then the fire is the next minute's.
        let runs = try await f.waitFor("the edited schedule to fire", seconds: 80) { $0.contains { $0.trigger == "schedule" && $0.status == .succeeded } }
        let fired = try #require(runs.first { $0.trigger == "schedule" })
        #expect(fired.scheduleID == id)
        #expect(fired.scheduledFor.map { Int($0.timeIntervalSince1970) % 60 } == 0)
        await f.scheduler.stop()
    }

    @Test(arguments: Backend.available)
    func missedFiresFollowTheMisfirePolicyAndAreNeverDroppedSilently(_ backend: Backend) async throws {
        // Virtual time 5 s past a minute mark: no new minute can begin while the test runs, however slow the machine.
        let clock = ShiftedClock.minuteBoundaryIn(55)
        let f = try await SchedulerFixture.make(backend, clock: clock)
        let now = clock.now
        // The host was down for the last 10 minutes of three every-minute schedules.
        for (misfire, job) in [(ScheduleRecord.Misfire.once, "greet"), (.all, "sync"), (.skip, "slow")] {
            var s = ScheduleRecord(instance: f.instance, job: job, params: job == "slow" ? ["ms": 10] : [:], cron: "* * * * *", misfire: misfire, misfireCap: 3, overlap: .allow)
            s.nextFireAt = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 60).rounded(.down) * 60 - 600)
            s.nextRunAt = s.nextFireAt
            try await f.store.insertSchedule(s)
        }
        try await f.scheduler.start()
        let runs = try await f.waitFor("catch-up runs") { runs in
            runs.filter { $0.status == .succeeded || $0.status == .skipped }.count >= 1 + 1 + 3 + 1 + 1 + 1
        }
        // "* * * * *" always has a fire within the last minute: that one is on time and runs; the ten before
        // it are missed.
        let greet = runs.filter { $0.job == "greet" }
        #expect(greet.filter { $0.status == .succeeded }.count == 1)
        #expect(greet.filter { $0.status == .skipped }.count == 1)
        #expect(greet.first { $0.status == .skipped }?.message?.contains("(misfire: once)") == true)
        let sync = runs.filter { $0.job == "sync" }
        #expect(sync.filter { $0.status == .succeeded }.count == 3)
        #expect(sync.first { $0.status == .skipped }?.message?.contains("misfire: all") == true)
        let slow = runs.filter { $0.job == "slow" }
        #expect(slow.filter { $0.status == .succeeded }.count == 1)
        #expect(slow.first { $0.status == .skipped }?.message?.contains("(misfire: skip)") == true)
        // Each schedule now points at a future fire.
        for s in try await f.store.schedules(instance: f.instance) { #expect((s.nextRunAt ?? .distantPast) > now) }
        await f.scheduler.stop()
    }

    @Test(arguments: Backend.available)
    func forbidSkipsAScheduledFireWhileTheJobRunsAndAManualRunWaits(_ backend: Backend) async throws {
        let f = try await SchedulerFixture.make(backend)
        try await f.scheduler.start()
        let first = try await f.instances.enqueue(instance: f.instance, job: "slow", params: ["ms": 1500], dryRun: false, trigger: "manual")
        _ = try await f.waitFor("the slow run to start", job: "slow") { $0.contains { $0.id == first.id && $0.status == .running } }
        // A scheduled fire due now, and a second manual run, while it runs.
        var s = ScheduleRecord(instance: f.instance, job: "slow", params: ["ms": 10], cron: "0 0 1 1 *")
        s.nextFireAt = Date()
        s.nextRunAt = s.nextFireAt
        try await f.store.insertSchedule(s)
        f.scheduler.wake()  // as the schedules API does: the fire is seen now, while the slow run still runs
        let second = try await f.instances.enqueue(instance: f.instance, job: "slow", params: ["ms": 10], dryRun: false, trigger: "manual")
        let runs = try await f.waitFor("all three to end", job: "slow") { runs in runs.count == 3 && runs.allSatisfy(\.status.isFinal) }
        let byID = Dictionary(uniqueKeysWithValues: runs.map { ($0.id, $0) })
        #expect(byID[first.id]?.status == .succeeded)
        let scheduled = try #require(runs.first { $0.trigger == "schedule" })
        #expect(scheduled.status == .skipped)
        #expect(scheduled.message?.contains("still running (overlap: forbid)") == true)
        #expect(byID[second.id]?.status == .succeeded)
        // The waiting manual run started only after the first ended.
        let end = try #require(byID[first.id]?.finishedAt)
        let start = try #require(byID[second.id]?.startedAt)
        #expect(start >= end.addingTimeInterval(-0.01))
        await f.scheduler.stop()
    }

    @Test func aFailedRunIsRetriedWithBackoffUntilItsAttemptsAreUsed() async throws {
        let f = try await SchedulerFixture.make(.sqlite)
        var s = ScheduleRecord(instance: f.instance, job: "fail", cron: "0 0 1 1 *", maxAttempts: 3, retryBackoffSeconds: 1)
        s.nextFireAt = Date()
        s.nextRunAt = s.nextFireAt
        try await f.store.insertSchedule(s)
        try await f.scheduler.start()
        let runs = try await f.waitFor("three failed attempts", job: "fail") { $0.filter { $0.status == .failed }.count == 3 }
        #expect(runs.map(\.attempt).sorted() == [1, 2, 3])
        #expect(runs.allSatisfy { $0.error == "upstream: upstream said no" })
        #expect(runs.filter { $0.trigger == "retry" }.count == 2)
        let ordered = runs.sorted { $0.attempt < $1.attempt }
        try #require(ordered.count == 3)
        // Backoff: 1 s · 2^(n-1), ±50%.
        #expect(try #require(ordered[1].startedAt).timeIntervalSince(try #require(ordered[0].finishedAt)) >= 0.45)
        #expect(try #require(ordered[2].startedAt).timeIntervalSince(try #require(ordered[1].finishedAt)) >= 0.95)
        // No fourth attempt can come: once the scheduler has finished with the runs, nothing of the job is queued
        // (a retry is queued when its attempt fails, long before it is due).
        await f.scheduler.stop()
        #expect(try await f.runs(job: "fail").count == 3)
        #expect(try await f.runs(job: "fail").allSatisfy(\.status.isFinal))
        #expect(try await f.store.schedule(id: s.id)?.lastStatus == "failed")
    }

    @Test func aRunLeftRunningByACrashedExclusiveHostIsMarkedInterruptedAtStart() async throws {
        let f = try await SchedulerFixture.make(.sqlite)
        var r = RunRecord(instance: f.instance, job: "greet", trigger: "schedule", status: .running)
        r.leaseOwner = "dead-host"
        r.leaseExpiresAt = Date().addingTimeInterval(600)
        try await f.store.insertRun(r)
        try await f.scheduler.start()
        let got = try #require(try await f.store.run(id: r.id))
        #expect(got.status == .interrupted)
        #expect(got.error?.contains("dead-host") == true)
        await f.scheduler.stop()
    }

    @Test func hostMaintenanceSchedulesExistAndPurgeOldRuns() async throws {
        let f = try await SchedulerFixture.make(.sqlite)
        try await f.scheduler.start()
        let host = try await f.store.schedules(instance: HostJobs.instance)
        #expect(host.map(\.job) == ["alerts", "purge_audit", "purge_notifications", "purge_runs", "reports", "retention"])
        var old = RunRecord(instance: f.instance, job: "greet", trigger: "manual", status: .succeeded, createdAt: Date().addingTimeInterval(-100 * 86400))
        old.finishedAt = old.createdAt
        try await f.store.insertRun(old)
        var purge = RunRecord(instance: HostJobs.instance, job: "purge_runs", trigger: "manual", params: ["days": 90])
        purge.runAt = Date()
        try await f.store.insertRun(purge)
        f.scheduler.wake()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, try await f.store.run(id: purge.id)?.status.isFinal != true { try await Task.sleep(for: .milliseconds(100)) }
        let done = try #require(try await f.store.run(id: purge.id))
        #expect(done.status == .succeeded)
        #expect(done.counts.deleted >= 1)
        #expect(try await f.store.run(id: old.id) == nil)

        // The audit log's retention: an entry older than a year goes, a recent one stays.
        let sql = try #require(f.store as? SQLStore)
        for (target, age) in [("old-change", 400.0), ("recent-change", 10.0)] {
            try await sql.write("INSERT INTO audit_log (at, actor, role, source, address, action, target) VALUES (?, 'cli:test', 'admin', 'cli', 'cli', 'instance.update', ?)",
                                [.int(Date().addingTimeInterval(-age * 86400).millis), .text(target)])
        }
        var purgeAudit = RunRecord(instance: HostJobs.instance, job: "purge_audit", trigger: "manual", params: ["days": 365])
        purgeAudit.runAt = Date()
        try await f.store.insertRun(purgeAudit)
        f.scheduler.wake()
        while Date() < deadline.addingTimeInterval(10), try await f.store.run(id: purgeAudit.id)?.status.isFinal != true { try await Task.sleep(for: .milliseconds(100)) }
        #expect(try await f.store.run(id: purgeAudit.id)?.counts.deleted == 1)
        var q = AuditQuery()
        q.action = "instance.update"
        let left = try await f.store.audit(q).map(\.target)
        #expect(left.contains("recent-change") && !left.contains("old-change"))
        await f.scheduler.stop()
    }
}

@Suite("Scheduler: a host stopped across several due times", .serialized)
struct DowntimeTests {
    /// A host runs, stops, and starts again "twenty minutes later" (its clock shifted): the misfire policy
    /// decides what the missed fires become.
    @Test func restartingAfterDowntimeAppliesEachSchedulesMisfirePolicy() async throws {
        let dir = try temporaryDirectory()
        _ = try await compileCPlugin(into: dir, fileName: "tiny.so")
        let store = try await Backend.sqlite.open()
        func host(offset: TimeInterval) async throws -> Kernel {
            let clock = ShiftedClock(offset: offset)
            let k = Kernel(pluginDirectory: dir, logger: capturingLogger(CapturedLog()), store: store, schedulerMaxIdle: .seconds(1), clock: { clock.now })
            try await k.registry.scan()
            return k
        }
        // The first host lives 10 s after a five-minute mark (virtual time): no fire can fall due while it runs,
        // however slowly the machine runs this test.
        let real = Date().timeIntervalSince1970
        let start = (real / 300).rounded(.down) * 300 + 10
        let first = try await host(offset: start - real)
        try await first.instances!.create(id: "d1", plugin: "tiny_c", config: [:], now: Date(timeIntervalSince1970: start))
        // Every five minutes, one schedule per policy (the default greet schedule is disabled to keep counts clear).
        for var s in try await store.schedules(instance: "d1") {
            s.enabled = false
            try await store.updateSchedule(s)
        }
        var ids: [ScheduleRecord.Misfire: String] = [:]
        for (misfire, job) in [(ScheduleRecord.Misfire.skip, "greet"), (.once, "sync"), (.all, "slow")] {
            var s = ScheduleRecord(instance: "d1", job: job, params: job == "slow" ? ["ms": 5] : [:], cron: "*/5 * * * *", misfire: misfire, misfireCap: 4, overlap: .allow)
            s.advance(after: Date(timeIntervalSince1970: start))
            try await store.insertSchedule(s)
            ids[misfire] = s.id
        }
        try await first.scheduler!.start()
        try await Task.sleep(for: .milliseconds(300))
        await first.scheduler!.stop()
        let before = try await store.runs({ var q = RunQuery(); q.instance = "d1"; return q }()).count

        // Down across five due times: the next host starts 150 s after the fifth (B, B+5, ... B+20 minutes,
        // B being the first fire after the first host's time), so every fire is missed, none on time.
        let b = start - 10 + 300
        let second = try await host(offset: b + 20 * 60 + 150 - Date().timeIntervalSince1970)
        try await second.scheduler!.start()
        var runs: [RunRecord] = []
        for _ in 0..<100 {
            var q = RunQuery()
            q.instance = "d1"
            runs = try await store.runs(q)
            let ended = runs.filter(\.status.isFinal)
            if ended.count >= before + 1 + 2 + 5 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        await second.scheduler!.stop()
        func of(_ m: ScheduleRecord.Misfire) -> [RunRecord] { runs.filter { $0.scheduleID == ids[m] } }
        // skip: nothing ran for the missed fires, one skipped record says how many.
        #expect(of(.skip).filter { $0.status == .succeeded }.isEmpty)
        #expect(of(.skip).filter { $0.status == .skipped }.count == 1)
        #expect(of(.skip).first { $0.status == .skipped }?.message?.contains("(misfire: skip)") == true)
        // once: one catch-up run for the latest missed fire (and the earlier ones recorded as skipped).
        #expect(of(.once).filter { $0.status == .succeeded }.count == 1)
        #expect(of(.once).first { $0.status == .succeeded }?.message?.contains("catching up") == true)
        // all, capped at 4: the four latest missed fires run, the rest recorded as skipped.
        #expect(of(.all).filter { $0.status == .succeeded }.count == 4)
        #expect(of(.all).filter { $0.status == .skipped }.count == 1)
        let fires = of(.all).filter { $0.status == .succeeded }.compactMap(\.scheduledFor).sorted()
        #expect(zip(fires, fires.dropFirst()).allSatisfy { $1.timeIntervalSince($0) == 300 })
        #expect(fires.last.map { Int($0.timeIntervalSince1970) } == Int(b) + 20 * 60)
        #expect(of(.once).first { $0.status == .succeeded }?.scheduledFor.map { Int($0.timeIntervalSince1970) } == Int(b) + 20 * 60)
    }
}
