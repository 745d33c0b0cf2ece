import Foundation
import PluginAPI
import Testing

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
}
