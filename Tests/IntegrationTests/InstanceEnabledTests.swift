import Foundation
import PluginAPI
import ProjectServiceSimulator
import Testing
import VOSSimulator

@testable import Host
@testable import TestKit

/// "Enabled means enabled": a disabled instance runs nothing — no schedule fires, queued runs wait, manual runs
/// are refused with the reason, live reads answer from the cache saying why — and enabling starts what waited.
@Suite("A disabled instance runs nothing")
struct InstanceEnabledTests {
    @Test func aNodeCreatedDisabledSyncsNothingUntilItIsEnabledThenStartsItsInitialSync() async throws {
        var data = VOSSimulator.Data()
        data.customers = 3
        data.cdrsPerDay = 30
        let sim = VOSSimulator(data)
        try await sim.start()
        defer { sim.stop() }
        let host = try await TestHost()
        let config = VOSPluginTests.config(sim)

        let created = try await host.api("POST", "/instances", #"{"id": "n1", "plugin": "vos", "enabled": false, "config": \#(config)}"#)
        #expect(created.status == 201 && created.json?["enabled"] == false, "\(created.body)")
        // The on-create hook did not run: nothing was queued (the hook runs inside the create call).
        #expect(try await host.api("GET", "/runs?instance=n1").json?["runs"]?.arrayValue?.isEmpty == true)

        let manual = try await host.api("POST", "/instances/n1/jobs/customers/run", "{}")
        let reason = manual.json?["error"]?["message"]?.stringValue ?? ""
        #expect(manual.status == 409 && reason.contains("instance n1 is disabled") && reason.contains(#"{"enabled": true}"#), "\(manual.body)")

        let live = try await host.api("GET", "/instances/n1/collections/customers?cache=live")
        #expect(live.status == 200 && live.json?["source"] == "cache" && live.json?["stale"] == true, "\(live.body)")
        #expect(live.json?["upstream_error"]?.stringValue?.contains("instance n1 is disabled") == true)
        #expect(try await host.api("GET", "/instances/n1/collections/customers/10001?cache=live").status == 404)

        // Enabling starts what waited: the customers sync, then the staggered CDR backfill.
        let enabled = try await host.api("PATCH", "/instances/n1", #"{"enabled": true}"#)
        #expect(enabled.status == 200 && enabled.json?["enabled"] == true)
        let customers = try await host.waitForRuns("n1", job: "customers", count: 1, trigger: "initial")
        #expect(customers[0].trigger == "initial" && customers[0].status == .succeeded, "\(customers[0].error ?? "")")
        let cdrs = try await host.waitForRuns("n1", job: "cdrs", count: 7, trigger: "initial", timeout: .seconds(90))
        #expect(cdrs.allSatisfy { $0.status == .succeeded })
        // Once only: disabling and enabling again does not repeat the initial sync.
        _ = try await host.api("PATCH", "/instances/n1", #"{"enabled": false}"#)
        _ = try await host.api("PATCH", "/instances/n1", #"{"enabled": true}"#)
        // (A default schedule firing at a minute boundary meanwhile is not an initial sync.)
        #expect(try await host.store.runs({ var q = RunQuery(); q.instance = "n1"; q.job = "customers"; return q }()).filter { $0.trigger == "initial" }.count == 1)
    }

    /// A disabled instance reaches no upstream from a plugin route either: ProjectSync's live read answers from
    /// its cache, marked stale with the reason, and the project service sees no request.
    @Test func aDisabledInstancesRoutesAnswerFromCacheWithoutCallingTheUpstream() async throws {
        let remote = ProjectServiceSimulator(projects: 3)
        try await remote.start()
        defer { remote.stop() }
        let host = try await TestHost()
        #expect(try await host.api("POST", "/instances", #"{"id": "ps", "plugin": "projectsync", "config": {"base_url": "\#(remote.server.baseURL)", "api_token": "\#(remote.apiToken)", "force_sync_interval_s": 0}}"#).status == 201)
        #expect(try await host.run("ps", "sync").counts.inserted == 3)
        let token = try #require(try await host.api("POST", "/plugins/projectsync/instances/ps/tokens", #"{"project_id": "P-1001"}"#).json?["token"]?.stringValue)
        let url = host.base + "/plugins/projectsync/projects/P-1001?token=\(token)&force_sync=true"
        #expect(try await request("GET", url).json?["source"] == "live")
        let seen = remote.requests("detail")

        #expect(try await host.api("PATCH", "/instances/ps", #"{"enabled": false}"#).status == 200)
        let read = try await request("GET", url)
        #expect(read.status == 200 && read.json?["source"] == "cache" && read.json?["stale"] == true, "\(read.body)")
        #expect(read.json?["error"]?.stringValue?.contains("instance ps is disabled") == true, "\(read.body)")
        #expect(remote.requests("detail") == seen, "the upstream was called for a disabled instance")
        await host.stop()
    }

    @Test func onSQLiteADisabledInstancesSchedulesAreNotDueAndItsQueuedRunsWait() async throws {
        let dir = try temporaryDirectory()
        _ = try await compileCPlugin(into: dir, fileName: "tiny.so")
        let store = try await Backend.sqlite.open()
        #expect(store is SQLStore && (store as! SQLStore).dialect == .sqlite)
        let kernel = Kernel(pluginDirectory: dir, logger: capturingLogger(CapturedLog()), store: store)
        try await kernel.registry.scan()
        let start = Date()
        try await kernel.instances!.create(id: "off", plugin: "tiny_c", config: [:], enabled: false, now: start)
        let later = start.addingTimeInterval(3_600)  // every default schedule is due by then
        var queued = try await store.fireDueSchedules(now: later, limit: 100) { s in FirePlan(runs: [], schedule: s) }.queued
        #expect(queued.isEmpty)
        let schedules = try await store.schedules(instance: "off")
        #expect(!schedules.isEmpty && schedules.allSatisfy { $0.nextRunAt! < later })
        var run = RunRecord(instance: "off", job: "greet", trigger: "plugin", params: [:], dryRun: false)
        run.runAt = start
        try await store.insertRun(run)
        #expect(try await store.claimQueuedRuns(now: later, owner: "t", leaseUntil: later.addingTimeInterval(60), limit: 10, clock: { later }).isEmpty)
        #expect(try await store.earliestDue() == nil)

        _ = try await kernel.instances!.update(id: "off", config: nil, enabled: true)
        #expect(try await store.earliestDue() != nil)
        queued = try await store.fireDueSchedules(now: later, limit: 100) { s in
            var next = s
            next.advance(after: later)
            return FirePlan(runs: [RunRecord(instance: s.instance, job: s.job, trigger: "schedule", params: s.params, dryRun: false)], schedule: next)
        }.queued
        #expect(queued.map(\.instance) == ["off"])
        #expect(try await store.claimQueuedRuns(now: later, owner: "t", leaseUntil: later.addingTimeInterval(60), limit: 10, clock: { later }).contains { $0.id == run.id })
    }

    /// A host made with `defaultSchedulesEnabled: false` (the test host on real time) creates an instance's default
    /// schedules disabled: none is due however late it gets, and one enabled by an operator fires as usual.
    @Test func onSQLiteAHostWithDefaultSchedulesOffCreatesThemDisabled() async throws {
        let dir = try temporaryDirectory()
        _ = try await compileCPlugin(into: dir, fileName: "tiny.so")
        let store = try await Backend.sqlite.open()
        #expect(store is SQLStore && (store as! SQLStore).dialect == .sqlite)
        let log = CapturedLog()
        let kernel = Kernel(pluginDirectory: dir, logger: capturingLogger(log), store: store, defaultSchedulesEnabled: false)
        try await kernel.registry.scan()
        let start = Date()
        try await kernel.instances!.create(id: "quiet", plugin: "tiny_c", config: [:], now: start)
        let schedules = try await store.schedules(instance: "quiet")
        #expect(!schedules.isEmpty && schedules.allSatisfy { !$0.enabled }, "\(schedules.map(\.enabled))")
        #expect(log.all.contains { $0.contains("default schedule(s) (disabled)") }, "\(log.all)")
        let later = start.addingTimeInterval(3_600)  // every default schedule would be due by then
        let fire = { @Sendable (s: ScheduleRecord) -> FirePlan in
            var next = s
            next.advance(after: later)
            return FirePlan(runs: [RunRecord(instance: s.instance, job: s.job, trigger: "schedule", params: s.params, scheduleID: s.id)], schedule: next)
        }
        #expect(try await store.fireDueSchedules(now: later, limit: 100, plan: fire).queued.isEmpty)

        var one = try #require(schedules.first)
        one.enabled = true
        try await store.updateSchedule(one)
        #expect(try await store.fireDueSchedules(now: later, limit: 100, plan: fire).queued.map(\.scheduleID) == [one.id])
    }
}

/// `POST …/jobs/{job}/run?wait=`: the legacy "sync and show the result" in one call.
@Suite("A run that answers")
struct RunWaitTests {
    @Test func aRunWithWaitAnswersItsOutcomeOrItsIdAtTheDeadline() async throws {
        var data = VOSSimulator.Data()
        data.customers = 4
        data.cdrsPerDay = 20
        let sim = VOSSimulator(data)
        try await sim.start()
        defer { sim.stop() }
        let host = try await TestHost()
        let config = #"{"base_url": "\#(sim.server.baseURL)", "cdr_pacing_ms": 5000, "backfill_days": 0, "timeout_ms": 2000}"#
        #expect(try await host.api("POST", "/instances", #"{"id": "w1", "plugin": "vos", "config": \#(config)}"#).status == 201)
        _ = try await host.waitForRuns("w1", job: "customers", count: 1)

        let done = try await host.api("POST", "/instances/w1/jobs/customers/run?wait=30s", "{}")
        #expect(done.status == 200 && done.json?["status"] == "succeeded" && done.json?["counts"]?["fetched"] == 4, "\(done.body)")

        // Four accounts 5 s apart: not done in 300 ms — the run's id comes back, and the run goes on.
        let pending = try await host.api("POST", "/instances/w1/jobs/cdrs/run?wait=300ms", "{}")
        #expect(pending.status == 202 && (pending.json?["status"] == "running" || pending.json?["status"] == "queued"), "\(pending.body)")
        let id = try #require(pending.json?["run_id"]?.stringValue)
        #expect(try await host.api("POST", "/runs/\(id)/cancel").status == 202)

        for bad in ["abc", "10m", "-1s"] {
            let r = try await host.api("POST", "/instances/w1/jobs/customers/run?wait=\(bad)", "{}")
            #expect(r.status == 400 && r.body.contains("wait must be a duration"), "\(bad): \(r.body)")
        }
    }
}

/// Default schedules of plugins whose schedules mean local times fire in the instance's zone (Asia/Shanghai
/// unless configured), not the host's.
@Suite("Schedules in the instance's zone")
struct ScheduleZoneTests {
    @Test func weComAndProjectSyncDefaultSchedulesAreShanghaiTimesInAUTCHost() async throws {
        let host = try await TestHost(startOutbox: false, startScheduler: false)
        #expect(host.kernel.instances!.defaultTimeZone == "UTC")
        _ = try await host.api("POST", "/instances", #"{"id": "corp", "plugin": "wecom", "config": {"corp_id": "c", "corp_secret": "s"}}"#)
        _ = try await host.api("POST", "/instances", #"{"id": "ps", "plugin": "projectsync", "config": {"base_url": "http://p.test", "api_token": "t"}}"#)
        _ = try await host.api("POST", "/instances", #"{"id": "corp2", "plugin": "wecom", "config": {"corp_id": "c", "corp_secret": "s", "timezone": "Europe/Berlin"}}"#)
        for (id, zone) in [("corp", "Asia/Shanghai"), ("ps", "Asia/Shanghai"), ("corp2", "Europe/Berlin")] {
            let schedules = try await host.store.schedules(instance: id)
            #expect(!schedules.isEmpty && schedules.allSatisfy { $0.timezone == zone }, "\(id): \(schedules.map(\.timezone))")
        }
        let full = try #require(try await host.store.schedules(instance: "corp").first { $0.job == "contacts_full" })
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "Asia/Shanghai")!
        #expect(c.component(.hour, from: full.nextRunAt!) == 2 && c.component(.minute, from: full.nextRunAt!) == 0)
        let bad = try await host.api("POST", "/instances", #"{"id": "corp3", "plugin": "wecom", "config": {"corp_id": "c", "corp_secret": "s", "timezone": "Mars/Olympus"}}"#)
        #expect(bad.status == 400 && bad.body.contains("unknown time zone"), "\(bad.body)")
    }
}

/// Schedules have names (the legacy sync configs did): unique per instance, usable instead of the id.
@Suite("Named schedules")
struct NamedScheduleTests {
    @Test func aNameIsShownUniquePerInstanceAddressableAndClearable() async throws {
        let host = try await TestHost(startOutbox: false, startScheduler: false)
        for id in ["a", "b"] {
            #expect(try await host.api("POST", "/instances", #"{"id": "\#(id)", "plugin": "wecom", "config": {"corp_id": "c", "corp_secret": "s"}}"#).status == 201)
        }
        let created = try await host.api("POST", "/schedules", #"{"instance": "a", "job": "contacts_incremental", "cron": "*/30 * * * *", "name": "客户同步"}"#)
        #expect(created.status == 201 && created.json?["name"] == "客户同步", "\(created.body)")
        let again = try await host.api("POST", "/schedules", #"{"instance": "a", "job": "cleanup", "cron": "0 4 * * *", "name": "客户同步"}"#)
        #expect(again.status == 409 && again.body.contains("already has a schedule named"), "\(again.body)")
        #expect(try await host.api("POST", "/schedules", #"{"instance": "b", "job": "cleanup", "cron": "0 4 * * *", "name": "客户同步"}"#).status == 201)
        // Ambiguous across instances: the id is asked for; unique: the name works.
        #expect(try await host.api("GET", "/schedules/%E5%AE%A2%E6%88%B7%E5%90%8C%E6%AD%A5").status == 409)
        let id = try #require(created.json?["id"]?.stringValue)
        let renamed = try await host.api("PATCH", "/schedules/\(id)", #"{"name": "联系人增量"}"#)
        #expect(renamed.status == 200 && renamed.json?["name"] == "联系人增量")
        #expect(try await host.api("GET", "/schedules/%E8%81%94%E7%B3%BB%E4%BA%BA%E5%A2%9E%E9%87%8F").json?["id"]?.stringValue == id)
        let cleared = try await host.api("PATCH", "/schedules/\(id)", #"{"name": ""}"#)
        #expect(cleared.status == 200 && cleared.json?["name"] == nil)
        #expect(try await host.api("POST", "/schedules", #"{"instance": "a", "job": "cleanup", "cron": "0 4 * * *", "name": "  "}"#).status == 400)
    }
}
