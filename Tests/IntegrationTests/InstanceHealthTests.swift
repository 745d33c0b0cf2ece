import Foundation
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

/// #19 part 2: every instance gets a health score from its runs, with its parts, in the API and /metrics.
@Suite("Instance health from runs")
struct InstanceHealthTests {
    static func run(_ instance: String, _ status: RunRecord.Status, started: Date, scheduledFor: Date? = nil) -> RunRecord {
        var r = RunRecord(instance: instance, job: "customers", trigger: scheduledFor == nil ? "manual" : "schedule", status: status,
                          scheduledFor: scheduledFor, createdAt: started)
        r.startedAt = started
        r.finishedAt = started.addingTimeInterval(30)
        return r
    }

    @Test func theScoreWeighsSuccessFailuresFreshnessAndPunctuality() {
        let now = Date(timeIntervalSince1970: 1_780_000_000)
        let h = { (m: Double) in now.addingTimeInterval(-m * 3600) }
        // 3 of 4 succeeded, 1 failed, the last success 5 h ago, 1 of 2 scheduled runs 10 minutes late.
        let runs = [Self.run("a", .succeeded, started: h(5)), Self.run("a", .succeeded, started: h(8), scheduledFor: h(8)),
                    Self.run("a", .succeeded, started: h(10), scheduledFor: h(10).addingTimeInterval(-600)), Self.run("a", .failed, started: h(3))]
        let x = InstanceHealth.compute(instance: "a", plugin: "vos", recent: runs, lastSuccess: runs[0], now: now)
        // 40×0.75 + 20×0.9 + 20×(1 − 3.0/24 ≈ 0.875) + 20×0.5 = 30 + 18 + 17.5 + 10
        #expect(x.score == 76, "\(x.parts)")
        #expect(x.parts["success_rate"] == 0.75 && x.parts["failed_24h"] == 1 && x.parts["late_runs_24h"] == 1 && x.parts["punctuality"] == 0.5)
        // Never succeeded and nothing ran: fresh rates, but no freshness.
        #expect(InstanceHealth.compute(instance: "b", plugin: "vos", recent: [], lastSuccess: nil, now: now).score == 80)
    }

    @Test func everyInstanceHasItsScoreInTheAPIAndMetrics() async throws {
        let host = try await TestHost(startScheduler: false)
        #expect(try await host.api("POST", "/instances", #"{"id": "n", "plugin": "vos", "config": {"base_url": "http://127.0.0.1:9", "backfill_days": 0}}"#).status == 201)
        let now = host.clock.source()
        for (i, status) in [RunRecord.Status.succeeded, .succeeded, .failed].enumerated() {
            var r = Self.run("n", .running, started: now.addingTimeInterval(Double(-600 * (i + 1))))
            try await host.store.insertRun(r)
            r.status = status
            try await host.store.finishRun(r)
        }
        let one = try await host.api("GET", "/instances/n/health")
        #expect(one.status == 200 && one.json?["parts"]?["runs_24h"] == 3 && one.json?["parts"]?["failed_24h"] == 1, "\(one.body)")
        let score = try #require(one.json?["score"]?.intValue)
        #expect(score > 0 && score < 100)
        let all = try await host.api("GET", "/health")
        #expect(all.json?["instances"]?.arrayValue?.map { $0["instance"] } == ["n"])
        let metrics = try await request("GET", host.base.replacingOccurrences(of: "/api/v1", with: "") + "/metrics", token: TestHost.token)
        #expect(metrics.body.contains("synchost_instance_health_score{instance=\"n\",plugin=\"vos\"} \(score)"), "\(metrics.body.suffix(800))")
        #expect(try await host.api("GET", "/instances/zz/health").status == 404)
        await host.stop()
    }
}
