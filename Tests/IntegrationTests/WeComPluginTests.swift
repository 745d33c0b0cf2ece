import Foundation
import PluginAPI
import Testing
import WeComSimulator

@testable import Host
@testable import TestKit

/// The WeCom plugin (real libWeCom.so) against the WeCom API simulator over loopback.
@Suite("WeCom plugin against the API simulator", .serialized)
struct WeComPluginTests {
    static func config(_ sim: WeComSimulator, _ extra: String = "") -> String {
        #"{"corp_id": "\#(sim.data.corpID)", "corp_secret": "\#(sim.data.corpSecret)", "base_url": "\#(sim.server.baseURL)", "rate_limit_backoff_s": 1\#(extra)}"#
    }

    /// Starts a job through the API and returns its run id at once.
    static func start(_ host: TestHost, _ instance: String, _ job: String, _ body: String = "{}") async throws -> String {
        let r = try await host.api("POST", "/instances/\(instance)/jobs/\(job)/run", body)
        return try #require(r.json?["run_id"]?.stringValue, "\(r.body)")
    }

    @Test(.enabled(if: TestEnvironment.all || ProcessInfo.processInfo.environment["SYNCHOST_SKIP_SLOW"] == nil, "SYNCHOST_SKIP_SLOW is set"))
    func a100kContactCorpSyncsExactlyThroughTokenExpiryAndRateLimits() async throws {
        var data = WeComSimulator.Data()
        data.contacts = 100_000
        data.staff = 150
        let sim = WeComSimulator(data)
        try await sim.start()
        defer { sim.stop() }
        let host = try await TestHost()
        #expect(try await host.api("POST", "/instances", #"{"id": "corp", "plugin": "wecom", "config": \#(Self.config(sim))}"#).status == 201)

        // Mid-run: the token is invalidated (42001 mid-cursor), then 45009 and -1 are injected.
        let id = try await Self.start(host, "corp", "contacts_incremental")
        while sim.count(of: "batch") < 100 { try await Task.sleep(for: .milliseconds(20)) }
        let logins = sim.count(of: "gettoken")
        sim.expireToken()
        while sim.count(of: "batch") < 200 { try await Task.sleep(for: .milliseconds(20)) }
        sim.faults.rateLimited = 1
        sim.faults.busy = 2
        let run = try await host.waitForRun(id, timeout: .seconds(600))
        #expect(run.status == .succeeded, "\(run.error ?? "")")
        #expect(sim.count(of: "gettoken") == logins + 1)

        let expected = sim.expected()
        let contacts = try await host.records("corp", "contacts")
        let sessions = try await host.records("corp", "sessions")
        #expect(contacts.count == expected.contacts.count)
        #expect(Set(contacts.map(\.key)) == expected.contacts)
        #expect(Set(sessions.map(\.key)) == expected.sessions)
        #expect(run.counts.inserted == expected.contacts.count + expected.sessions.count + 150)
        let sample = try #require(contacts.first { $0.key == sim.externalUserID(4242) })
        #expect(sample.json["name"] == "客户4242")
        let staff = try await host.records("corp", "staff")
        #expect(staff.count == 150 && staff.filter { $0.json["customers"] == 0 }.count == 3)

        // A second incremental writes nothing.
        let again = try await host.run("corp", "contacts_incremental", timeout: .seconds(600))
        #expect(again.counts.inserted == 0 && again.counts.updated == 0, "\(again.counts)")

        // The corp secret and access tokens appear in no log line and no response.
        let token = try #require(try await host.store.state(instance: "corp", name: "access_token")?["token"]?.stringValue)
        #expect(!host.log.all.contains { $0.contains(sim.data.corpSecret) || $0.contains(token) })
        let view = try await host.api("GET", "/instances/corp")
        #expect(!view.body.contains(sim.data.corpSecret))
        await host.stop()
    }

    @Test func fullDryRunIncompleteHealthMetricsAndAlerts() async throws {
        var data = WeComSimulator.Data()
        data.contacts = 2_000
        let sim = WeComSimulator(data)
        try await sim.start()
        defer { sim.stop() }
        let host = try await TestHost()
        // An alert channel that does not exist yet: alerts are listed, and sending is retried on later runs.
        #expect(try await host.api("POST", "/instances", #"{"id": "c", "plugin": "wecom", "config": \#(Self.config(sim, #", "run_budget_s": 30"#))}"#).status == 201)

        // Dry run of a first sync: reports what it would insert, writes nothing.
        let dry = try await host.run("c", "contacts_full", dryRun: true)
        #expect(dry.status == .succeeded && dry.counts.inserted > 2_000, "\(dry.counts) \(dry.error ?? "")")
        #expect(try await host.records("c", "contacts").isEmpty)

        let first = try await host.run("c", "contacts_full")
        #expect(first.status == .succeeded)
        let before = sim.expected()

        // Changes: 7 renamed, 25 deleted upstream.
        sim.rename(contacts: Array(100..<107))
        let gone = Array(500..<525)
        sim.delete(contacts: gone)
        let goneSessions = gone.reduce(0) { $0 + sim.followersOf[$1].count }
        let inc = try await host.run("c", "contacts_incremental")
        // 7 contacts renamed, plus the follow users whose customer count dropped; an incremental deletes nothing.
        let staffChanged = Set(gone.flatMap { sim.followersOf[$0] }).count
        #expect(inc.counts.updated == 7 + staffChanged && inc.counts.inserted == 0 && inc.counts.deleted == 0, "\(inc.counts)")

        // A full dry run reports the deletions without making them.
        let fullDry = try await host.run("c", "contacts_full", dryRun: true)
        #expect(fullDry.counts.deleted == 25 + goneSessions, "\(fullDry.counts)")
        #expect(try await host.records("c", "contacts").count == before.contacts.count)

        // An incomplete (failed) full run deletes nothing.
        sim.faults.noPermission = true
        let broken = try await host.run("c", "contacts_full")
        #expect(broken.status == .failed && broken.error?.contains("48002") == true, "\(broken.error ?? "")")
        #expect(broken.counts.deleted == 0)
        #expect(try await host.records("c", "contacts").count == before.contacts.count)
        sim.faults = .init()

        // A complete full run marks exactly those deleted.
        let full = try await host.run("c", "contacts_full")
        #expect(full.status == .succeeded && full.counts.deleted == 25 + goneSessions, "\(full.counts)")
        let live = Set(try await host.records("c", "contacts").map(\.key))
        #expect(live == sim.expected().contacts)
        let status = try await host.api("GET", "/plugins/wecom/instances/c/status")
        #expect(status.json?["contacts"]?["deleted"] == .int(25), "\(status.body)")
        #expect(status.json?["contacts"]?["normal"] == .int(Int64(live.count)))

        // 45009 beyond the run's budget: a clear failure, no endless waiting.
        sim.faults.rateLimited = 3
        let limited = try await host.run("c", "contacts_incremental", timeout: .seconds(120))
        #expect(limited.status == .failed && limited.error?.contains("45009") == true, "\(limited.error ?? "")")
        sim.faults = .init()

        // Injected failures show in health, metrics and alerts.
        for _ in 0..<6 {
            sim.faults.noPermission = true
            _ = try await host.run("c", "contacts_incremental")
        }
        sim.faults = .init()
        let health = try await host.api("GET", "/plugins/wecom/instances/c/health")
        let score = try #require(health.json?["score"]?.intValue)
        #expect(score < 60, "\(health.body)")
        #expect(health.json?["parts"]?["failed_24h"] == .int(8))
        let metrics = try await host.api("GET", "/plugins/wecom/instances/c/metrics?days=3")
        #expect(metrics.json?["metrics"]?.arrayValue?.count == 3)
        #expect(metrics.json?["metrics"]?.arrayValue?.last?["errors"] == .int(8), "\(metrics.body)")
        #expect(try await host.api("GET", "/plugins/wecom/instances/c/metrics?days=31").status == 400)
        #expect(try await host.api("GET", "/plugins/wecom/instances/c/metrics?days=x").status == 400)
        // The alerts route answers with the host's alert rules for this instance: nothing before they are evaluated.
        let unevaluated = try await host.api("GET", "/plugins/wecom/instances/c/alerts")
        #expect(unevaluated.json?["alerts"]?.arrayValue?.isEmpty == true, "\(unevaluated.body)")
        try await host.evaluateAlerts()
        let alerts = try await host.api("GET", "/plugins/wecom/instances/c/alerts")
        let ids = Set(alerts.json?["alerts"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? [])
        #expect(ids.contains("health_score") && ids.contains("errors"), "\(alerts.body)")
        #expect(alerts.json?["alerts"]?.arrayValue?.first { $0["id"] == "health_score" }?["level"] == "critical")
        await host.stop()
    }

    /// The seed's model: contact status and contact_type, session source and is_active, staff names, and a member
    /// who leaves the follow-user list kept as inactive (never dropped silently).
    @Test func recordsCarryTheSeedsModelAndAMemberWhoLeftStaysAsInactive() async throws {
        var data = WeComSimulator.Data()
        data.contacts = 300
        data.staff = 10
        let sim = WeComSimulator(data)
        try await sim.start()
        defer { sim.stop() }
        let host = try await TestHost()
        #expect(try await host.api("POST", "/instances", #"{"id": "m", "plugin": "wecom", "config": \#(Self.config(sim))}"#).status == 201)
        #expect(try await host.run("m", "contacts_incremental").status == .succeeded)

        let contacts = try await host.records("m", "contacts")
        #expect(!contacts.isEmpty && contacts.allSatisfy { $0.json["status"] == "normal" && $0.json["contact_type"] == "full" })
        let sessions = try await host.records("m", "sessions")
        #expect(!sessions.isEmpty && sessions.allSatisfy { $0.json["source"] == "sync" && $0.json["is_active"] == true })
        let staff = try await host.records("m", "staff")
        #expect(staff.count == 10)
        for u in 0..<10 {
            let row = try #require(staff.first { $0.key == sim.userID(u) })
            #expect(row.json["name"] == .string(sim.staffName(u)) && row.json["status"] == "active", "\(row.json)")
        }

        sim.removeFollowUsers([2])
        #expect(try await host.run("m", "contacts_incremental").status == .succeeded)
        let after = try await host.records("m", "staff")
        #expect(after.count == 10, "a member who left is kept")
        let left = try #require(after.first { $0.key == sim.userID(2) })
        #expect(left.json["status"] == "inactive" && left.json["inactive_since"]?.stringValue?.isEmpty == false, "\(left.json)")
        #expect(left.json["name"] == .string(sim.staffName(2)))
        let status = try await host.api("GET", "/plugins/wecom/instances/m/status")
        #expect(status.json?["staff"]?["active"] == 9 && status.json?["staff"]?["inactive"] == 1, "\(status.body)")

        // Noticed once: the next run rewrites nothing (inactive_since stays the day it left).
        let again = try await host.run("m", "contacts_incremental")
        #expect(again.counts.inserted == 0 && again.counts.updated == 0, "\(again.counts)")
        await host.stop()
    }

    @Test func theCLICoversTheLegacyScriptRunDryRunVerboseAndStatus() async throws {
        var data = WeComSimulator.Data()
        data.contacts = 300
        data.staff = 12
        let sim = WeComSimulator(data)
        try await sim.start()
        defer { sim.stop() }
        let dir = try pluginDirectoryWithInTreePlugins()
        defer { try? FileManager.default.removeItem(at: dir) }
        let common = ["--plugins", dir.path, "--data-dir", dir.path]
        let add = try await runProcess(Build.synchost.path, ["instances", "add", "corp", "wecom", "--config", Self.config(sim)] + common)
        #expect(add.status == 0, "\(add.stderr)")
        let verbose = try await runProcess(Build.synchost.path, ["run", "corp", "contacts_incremental", "--verbose"] + common)
        #expect(verbose.status == 0, "\(verbose.stderr)")
        #expect(verbose.stdout.contains("succeeded: fetched"))
        #expect((verbose.stdout + verbose.stderr).contains("batch 1/1"))
        #expect(!(verbose.stdout + verbose.stderr).contains(sim.data.corpSecret))
        sim.delete(contacts: [1, 2, 3])
        let dry = try await runProcess(Build.synchost.path, ["run", "corp", "contacts_full", "--dry-run"] + common)
        #expect(dry.status == 0 && dry.stdout.contains("(dry run)") && dry.stdout.contains("would mark"), "\(dry.stdout)")
        let status = try await runProcess(Build.synchost.path, ["status", "corp"] + common)
        #expect(status.status == 0)
        #expect(status.stdout.contains("contacts") && status.stdout.contains("0 2 * * *") && status.stdout.contains("contacts_full (dry)"), "\(status.stdout)")
        #expect(try await runProcess(Build.synchost.path, ["status", "nope"] + common).status != 0)
    }
}
