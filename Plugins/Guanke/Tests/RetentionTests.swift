import Foundation
import PluginAPI
import PluginTesting
import Testing

@testable import GuankePlugin

/// The seed's planned 30-day cache expiry: `cleanup` purges cached days before T-`retention_days`.
@Suite("Guanke retention (fake host)")
struct RetentionTests {
    @Test func cleanupPurgesDaysOlderThanTheRetentionAndKeepsTheRest() async throws {
        let host = FakeHost(GuankeConnector.self, config: GradeStatsTests.config)
        let dates = DateSpec(zone: TimeZone(identifier: "Asia/Shanghai")!)
        let day = { (n: Int) in try dates.resolve("T-\(n)", now: host.now)[0] }
        for n in [45, 31, 30, 1] {
            let d = try day(n)
            host.seed("grade_stats", [d: ["date": .string(d), "grade_9": 1]])
            host.seed("task_stats", [d: ["date": .string(d), "callout": 1]])
            host.seed("task_rows", ["\(d)|7": ["date": .string(d), "task_id": 7]])
        }
        let result = try await host.run("cleanup")
        #expect(result.counts.deleted == 6, "\(result)")
        #expect(Set(host.records("grade_stats").keys) == [try day(30), try day(1)])
        #expect(Set(host.records("task_rows").keys) == ["\(try day(30))|7", "\(try day(1))|7"])
        await #expect(throws: PluginError.self) { try await host.validate(GradeStatsTests.config.merging(["retention_days": 0]) { $1 }) }

        // The plugin's "today" is the host's clock (`context.now`): a day later, T-30 has become T-31.
        let kept = try day(1)
        host.advance(by: 86_400)
        let later = try await host.run("cleanup")
        #expect(later.counts.deleted == 3 && Set(host.records("grade_stats").keys) == [kept], "\(later)")
    }
}
