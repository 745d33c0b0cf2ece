import Foundation
import PluginAPI
import PluginTesting
import Testing

@testable import GuankePlugin

/// `?format=legacy`: the answers seed 002's front end reads, exactly.
@Suite("Guanke legacy answers (fake host)")
struct LegacyAnswerTests {
    @Test func aCachedDayAnswersTheSeedsShapeWithItsComputeTimeAndShanghaiTime() async throws {
        let host = FakeHost(GuankeConnector.self, config: GradeStatsTests.config)
        host.seed("grade_stats", ["2026-11-10": ["date": "2026-11-10", "grade_9": 22, "grade_1": 2, "total_success": 24, "total_records": 900, "complete": true]])
        host.seed("task_stats", ["2026-11-10": ["date": "2026-11-10", "total_tasks": 3, "callout": 100, "called": 60, "success": 24, "connected_rate": 60.0]])
        host.seedState(GradeStats.elapsedState("2026-11-10"), .double(17.5))

        let grade = try JSONValue.parse(Array(try await host.route("instances/{id}/grade-stats", query: ["date": "2026-11-10", "format": "legacy"]).body.utf8))
        let f = DateFormatter()
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        #expect(grade == ["success": true, "data": ["date": "2026-11-10", "grade_9": 22, "grade_1": 2, "total_success": 24, "total_records": 900,
                                                     "from_cache": true, "elapsed_time": 17.5, "calculated_at": .string(f.string(from: host.now))]], "\(grade)")

        let task = try JSONValue.parse(Array(try await host.route("instances/{id}/task-stats", query: ["date": "2026-11-10", "format": "legacy"]).body.utf8))
        #expect(task["data"]?["callout_number"] == 100 && task["data"]?["called_number"] == 60 && task["data"]?["success_number"] == 24, "\(task)")

        let missing = try await host.route("instances/{id}/grade-stats", query: ["date": "2026-11-09", "format": "legacy"])
        let missingBody = try JSONValue.parse(Array(missing.body.utf8))
        #expect(missing.status == 200 && missingBody == ["success": false, "error": "历史数据未同步，请等待后台同步完成"], "\(missingBody)")

        await #expect(throws: PluginError.self) { try await host.route("instances/{id}/grade-stats", query: ["format": "xml"]) }
    }
}
