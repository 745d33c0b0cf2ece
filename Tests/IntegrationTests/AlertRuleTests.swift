import Foundation
import PluginAPI
import Testing
import WeComSimulator

@testable import Host
@testable import TestKit

/// #19 part 1: stored alert rules fire once, repeat at their interval while they hold, resolve with a message —
/// and two evaluations at the same moment (two replicas) store and send one alert.
@Suite("Alert rules", .serialized)
struct AlertRuleTests {
    static func ended(_ host: TestHost, _ instance: String, _ status: RunRecord.Status, error: String? = nil) async throws {
        var r = RunRecord(instance: instance, job: "customers", trigger: "manual", status: .running, createdAt: host.clock.now)
        r.startedAt = host.clock.now
        try await host.store.insertRun(r)
        r.status = status
        r.error = error
        r.finishedAt = host.clock.now
        try await host.store.finishRun(r)
    }

    /// The messages a rule's alerts queued, oldest first.
    static func messages(_ host: TestHost, about rule: String) async throws -> [OutboxNotification] {
        var q = NotificationQuery()
        q.limit = 500
        return try await host.store.notifications(q).filter { $0.message.subject?.contains(rule) == true }.sorted { $0.createdAt < $1.createdAt }
    }

    /// The default rules take an instance's alert_* settings (the seed's WeCom config keys); other rules do not.
    @Test func defaultRulesTakeTheInstancesThresholdsAndChannel() {
        let config: [String: JSONValue] = ["alert_min_score": 70, "alert_max_errors": 2, "alert_max_delay_hours": 6, "alert_channel": "ops"]
        let byID = Dictionary(uniqueKeysWithValues: AlertRule.defaults.map { ($0.id, $0.applying(config)) })
        #expect(byID["default-health"]?.threshold == 70 && byID["default-errors"]?.threshold == 2 && byID["default-delay"]?.threshold == 6)
        #expect(byID.values.allSatisfy { $0.channels == ["ops"] })
        #expect(AlertRule.defaults.map { $0.applying([:]) } == AlertRule.defaults)
        let own = AlertRule(id: "mine", name: "x", kind: .healthBelow, threshold: 50, severity: .warning)
        #expect(own.applying(config) == own)
        var pinned = AlertRule.defaults[0]
        pinned.instance = "n"
        #expect(pinned.applying(config) == pinned)
    }

    @Test func aRuleFiresOnceRepeatsWhileItHoldsResolvesAndTwoReplicasSendItOnce() async throws {
        let host = try await TestHost(startOutbox: false, startScheduler: false)
        #expect(try await host.api("POST", "/instances", #"{"id": "n", "plugin": "vos", "config": {"base_url": "http://127.0.0.1:9", "backfill_days": 0}}"#).status == 201)
        #expect(try await host.api("POST", "/instances", #"{"id": "ch", "plugin": "notify", "config": {"channel": "wecom_robot", "webhook_key": "k", "base_url": "http://127.0.0.1:9"}}"#).status == 201)
        // The defaults are there (the seed's WeCom thresholds, for every connector).
        let defaults = Set(try #require(try await host.api("GET", "/alert-rules").json?.arrayValue).compactMap { $0["id"]?.stringValue })
        #expect(defaults.isSuperset(of: ["default-health", "default-errors", "default-delay"]))
        let created = try await host.api("POST", "/alert-rules", #"{"id": "two-fails", "name": "连续失败", "kind": "consecutive_failures", "instance": "n", "threshold": 2, "severity": "critical", "channels": ["ch"], "repeat_minutes": 10}"#)
        #expect(created.status == 201, "\(created.body)")
        let evaluator = AlertEvaluator(store: host.store, registry: host.kernel.registry, events: host.kernel.events, clock: host.clock.source)

        try await Self.ended(host, "n", .failed, error: "upstream: refused")
        _ = try await evaluator.evaluate()
        #expect(try await Self.messages(host, about: "连续失败").isEmpty, "one failure is not two")
        try await Self.ended(host, "n", .failed, error: "upstream: refused")
        _ = try await evaluator.evaluate()
        var sent = try await Self.messages(host, about: "连续失败")
        #expect(sent.count == 1 && sent[0].channel == "ch" && sent[0].message.subject?.contains("严重 critical") == true && sent[0].message.text.contains("upstream: refused"),
                "\(sent.map(\.message))")
        // Evaluated again before the repeat is due: nothing more.
        _ = try await evaluator.evaluate()
        #expect(try await Self.messages(host, about: "连续失败").count == 1)
        // Ten minutes on, still failing: a reminder.
        host.clock.advance(by: 601)
        _ = try await evaluator.evaluate()
        sent = try await Self.messages(host, about: "连续失败")
        #expect(sent.count == 2 && sent[1].message.text.contains("reminder 2"))
        let active = try #require(try await host.api("GET", "/alerts").json?["alerts"]?.arrayValue?.first { $0["rule"] == "two-fails" })
        #expect(active["state"] == "active" && active["instance"] == "n" && active["sent_count"] == 2)

        // A success: resolved, and said so once.
        try await Self.ended(host, "n", .succeeded)
        _ = try await evaluator.evaluate()
        _ = try await evaluator.evaluate()
        sent = try await Self.messages(host, about: "连续失败")
        #expect(sent.count == 3 && sent[2].message.subject?.contains("已恢复 resolved") == true)
        #expect(try await host.api("GET", "/alerts").json?["alerts"]?.arrayValue?.contains { $0["rule"] == "two-fails" } == false)
        #expect(try await host.api("GET", "/alerts?state=all").json?["alerts"]?.arrayValue?.first { $0["rule"] == "two-fails" }?["state"] == "resolved")

        // Two replicas evaluating at the same moment: one alert, one message.
        try await Self.ended(host, "n", .failed)
        try await Self.ended(host, "n", .failed)
        let other = AlertEvaluator(store: host.store, registry: host.kernel.registry, events: nil, clock: host.clock.source)
        async let a = evaluator.evaluate()
        async let b = other.evaluate()
        _ = try await (a, b)
        #expect(try await Self.messages(host, about: "连续失败").count == 4)
        #expect(try await host.store.alerts(includeResolved: false, limit: 100).filter { $0.rule == "two-fails" }.count == 1)

        // Deleting the rule resolves its alert.
        #expect(try await host.api("DELETE", "/alert-rules/two-fails").status == 204)
        _ = try await evaluator.evaluate()
        #expect(try await host.store.alerts(includeResolved: false, limit: 100).allSatisfy { $0.rule != "two-fails" })
        await host.stop()
    }

    /// A run of `job` that took `seconds` and fetched `fetched`, ending now.
    static func ran(_ host: TestHost, _ instance: String, _ job: String, seconds: Double, fetched: Int = 0, status: RunRecord.Status = .succeeded) async throws {
        var r = RunRecord(instance: instance, job: job, trigger: "manual", status: .running, createdAt: host.clock.now.addingTimeInterval(-seconds))
        r.startedAt = host.clock.now.addingTimeInterval(-seconds)
        try await host.store.insertRun(r)
        r.status = status
        r.counts.fetched = fetched
        r.finishedAt = host.clock.now
        try await host.store.finishRun(r)
    }

    /// Slower than a bound or than k× the median, fetched below the median or nothing on a business day, and an
    /// upstream's error class — each fires on what it watches and resolves when that clears. The auth failures are
    /// the WeCom simulator's own answer to a wrong secret (40001), not a made-up run.
    @Test func runDurationsCountsAndUpstreamErrorClassesFireAndResolve() async throws {
        let sim = WeComSimulator()
        try await sim.start()
        defer { sim.stop() }
        let host = try await TestHost(startOutbox: false)
        // A Wednesday noon (UTC, the instance's zone): a business day.
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let wednesday = utc.nextDate(after: host.clock.now, matching: DateComponents(hour: 12, minute: 0, weekday: 4), matchingPolicy: .nextTime)!
        host.clock.advance(by: wednesday.timeIntervalSince(host.clock.now))
        #expect(try await host.api("POST", "/instances", #"{"id": "n", "plugin": "vos", "enabled": false, "config": {"base_url": "http://127.0.0.1:9", "backfill_days": 0, "timezone": "UTC"}}"#).status == 201)
        #expect(try await host.api("PATCH", "/instances/n", #"{"enabled": true}"#).status == 200)
        for body in [
            #"{"id": "slow", "name": "慢 slow", "kind": "run_slower_than", "instance": "n", "job": "customers", "threshold": 5, "severity": "warning"}"#,
            #"{"id": "median", "name": "比中位数慢", "kind": "run_slower_than_median", "instance": "n", "job": "cdrs", "threshold": 3, "severity": "warning"}"#,
            #"{"id": "fewer", "name": "获取量异常", "kind": "fetched_below_median", "instance": "n", "job": "phones", "threshold": 50, "severity": "warning"}"#,
            #"{"id": "zero", "name": "工作日无数据", "kind": "zero_rows_business_day", "instance": "n", "job": "customers", "threshold": 0, "severity": "critical"}"#,
        ] {
            let r = try await host.api("POST", "/alert-rules", body)
            #expect(r.status == 201, "\(r.body)")
        }
        let evaluator = AlertEvaluator(store: host.store, registry: host.kernel.registry, events: nil, clock: host.clock.source)
        let active = { () async throws -> Set<String> in Set(try await host.store.alerts(includeResolved: false, limit: 100).map(\.rule)) }

        try await Self.ran(host, "n", "customers", seconds: 600, fetched: 10)
        for _ in 0..<3 { try await Self.ran(host, "n", "cdrs", seconds: 60, fetched: 500) }
        for _ in 0..<3 { try await Self.ran(host, "n", "phones", seconds: 5, fetched: 1000) }
        _ = try await evaluator.evaluate()
        var now = try await active()
        #expect(now.contains("slow") && !now.contains("median") && !now.contains("fewer"), "\(now)")
        try await Self.ran(host, "n", "cdrs", seconds: 400, fetched: 500)
        try await Self.ran(host, "n", "phones", seconds: 5, fetched: 100)
        try await Self.ran(host, "n", "customers", seconds: 60, fetched: 0)
        _ = try await evaluator.evaluate()
        now = try await active()
        #expect(now.isSuperset(of: ["median", "fewer", "zero"]) && !now.contains("slow"), "\(now)")
        let fewer = try #require(try await host.store.alerts(includeResolved: false, limit: 100).first { $0.rule == "fewer" })
        #expect(fewer.message.contains("10%") && fewer.value == 10, "\(fewer.message)")
        try await Self.ran(host, "n", "cdrs", seconds: 70, fetched: 500)
        try await Self.ran(host, "n", "phones", seconds: 5, fetched: 900)
        try await Self.ran(host, "n", "customers", seconds: 60, fetched: 3)
        _ = try await evaluator.evaluate()
        now = try await active()
        #expect(!now.contains("median") && !now.contains("fewer") && !now.contains("zero"), "\(now)")

        // Upstream errors by class: a wrong corp secret is refused by the simulator (40001): auth, not rate limit.
        #expect(try await host.api("POST", "/instances", #"{"id": "c", "plugin": "wecom", "config": {"corp_id": "\#(sim.data.corpID)", "corp_secret": "wrong", "base_url": "\#(sim.server.baseURL)"}}"#).status == 201)
        let failed = try await host.run("c", "contacts_incremental")
        #expect(failed.status == .failed && failed.error?.contains("40001") == true, "\(failed.error ?? "")")
        for (id, errorClass) in [("auth-errors", "auth"), ("rate-errors", "rate_limit")] {
            let r = try await host.api("POST", "/alert-rules", #"{"id": "\#(id)", "name": "\#(id)", "kind": "upstream_errors", "instance": "c", "error_class": "\#(errorClass)", "threshold": 0, "severity": "critical"}"#)
            #expect(r.status == 201, "\(r.body)")
        }
        _ = try await evaluator.evaluate()
        now = try await active()
        #expect(now.contains("auth-errors") && !now.contains("rate-errors"), "\(now)")
        // A day later the failures are out of the window: resolved.
        host.clock.advance(by: 25 * 3600)
        _ = try await evaluator.evaluate()
        now = try await active()
        #expect(!now.contains("auth-errors"))
        #expect(try await host.api("POST", "/alert-rules", #"{"name": "x", "kind": "upstream_errors", "threshold": 1}"#).body.contains("error_class is required"))
        await host.stop()
    }

    @Test func badRulesAreRefusedWithTheReason() async throws {
        let host = try await TestHost(startOutbox: false, startScheduler: false)
        for (body, words) in [
            (#"{"name": "x", "kind": "stale_collection", "threshold": 2}"#, "collection is required"),
            (#"{"name": "x", "kind": "nope", "threshold": 2}"#, "kind"),
            (#"{"name": "x", "kind": "health_below", "threshold": -1}"#, "threshold"),
            (#"{"name": "x", "kind": "health_below", "threshold": 60, "instance": "ghost"}"#, "no instance"),
            (#"{"name": "x", "kind": "health_below", "threshold": 60, "repeat_minutes": 0}"#, "repeat_minutes"),
            (#"{"name": "x", "kind": "health_below", "threshold": 60, "id": "Bad Id"}"#, "id:"),
        ] {
            let r = try await host.api("POST", "/alert-rules", body)
            #expect(r.status == 400 && r.body.contains(words), "\(body): \(r.status) \(r.body)")
        }
        #expect(try await host.api("POST", "/alert-rules", #"{"id": "default-health", "name": "x", "kind": "health_below", "threshold": 1}"#).status == 409)
        #expect(try await host.api("PUT", "/alert-rules/ghost", #"{"name": "x", "kind": "health_below", "threshold": 1}"#).status == 404)
        #expect(try await host.api("GET", "/alerts?state=some").status == 400)
        await host.stop()
    }

    /// Two replicas evaluating the same moment on each backend (PostgreSQL: several hosts, one database): one
    /// alert stored, one message sent; when it clears, one "resolved" message.
    @Test(arguments: Backend.available)
    func twoReplicasEvaluatingAtOnceStoreAndSendOneAlertOnEachBackend(_ backend: Backend) async throws {
        let store = try await backend.open()
        let dir = try pluginDirectoryWithInTreePlugins()
        defer { try? FileManager.default.removeItem(at: dir) }
        let kernel = Kernel(pluginDirectory: dir, logger: capturingLogger(CapturedLog()), store: store)
        _ = try kernel.registry.rescan()
        let i = freshInstance(), ch = freshInstance()
        try await store.createInstance(InstanceRecord(id: i, plugin: "vos", config: ["base_url": "http://127.0.0.1:9"]), schedules: [])
        try await store.createInstance(InstanceRecord(id: ch, plugin: "notify", config: ["channel": "wecom_robot", "webhook_key": "k", "base_url": "http://127.0.0.1:9"]),
                                       schedules: [])
        let rule = AlertRule(id: "fails-\(i)", name: "连续失败 \(i)", kind: .consecutiveFailures, instance: i, threshold: 2, severity: .critical, channels: [ch])
        try await store.saveAlertRule(rule, now: Date())
        defer { Task { _ = try? await store.deleteAlertRule(id: rule.id) } }
        func ended(_ status: RunRecord.Status, at t: Date) async throws {
            var r = RunRecord(instance: i, job: "customers", trigger: "manual", status: .running, createdAt: t)
            r.startedAt = t
            try await store.insertRun(r)
            r.status = status
            r.error = status == .failed ? "connection refused" : nil
            r.finishedAt = t
            try await store.finishRun(r)
        }
        func bothReplicas(at t: Date) async throws {
            async let a = AlertEvaluator(store: store, registry: kernel.registry, events: nil, clock: { t }).evaluate()
            async let b = AlertEvaluator(store: store, registry: kernel.registry, events: nil, clock: { t }).evaluate()
            _ = try await (a, b)
        }
        var q = NotificationQuery()
        q.channel = ch
        let start = Date()
        try await ended(.failed, at: start)
        try await ended(.failed, at: start.addingTimeInterval(1))
        try await bothReplicas(at: start.addingTimeInterval(2))
        let fired = try await store.alerts(instance: i, includeResolved: true, limit: 10).filter { $0.rule == rule.id }
        #expect(fired.count == 1 && fired[0].state == .active, "\(fired)")
        #expect(try await store.notifications(q).count == 1)

        try await ended(.succeeded, at: start.addingTimeInterval(3))
        try await bothReplicas(at: start.addingTimeInterval(4))
        let after = try await store.alerts(instance: i, includeResolved: true, limit: 10).filter { $0.rule == rule.id }
        #expect(after.count == 1 && after[0].state == .resolved, "\(after)")
        let messages = try await store.notifications(q)
        #expect(messages.count == 2 && messages.filter { $0.message.subject?.contains("resolved") == true }.count == 1, "\(messages.map(\.message.subject))")
    }
}
