import Foundation
import PluginAPI
import PluginTesting
import Testing

@testable import WeComPlugin

/// WeCom's days and shown times are the instance zone's (default Asia/Shanghai, like the legacy system), not
/// the host's or UTC.
@Suite("WeCom zone (fake host)")
struct ZoneTests {
    @Test func metricsCountARunAtHalfPastMidnightInShanghaiOnThatShanghaiDay() async throws {
        let host = FakeHost(WeComConnector.self, config: TokenTests.config.merging(["timezone": "Asia/Shanghai"]) { $1 })
        var shanghai = Calendar(identifier: .gregorian)
        shanghai.timeZone = TimeZone(identifier: "Asia/Shanghai")!
        // Early today in Shanghai (at most 00:30) is still yesterday in UTC; "today" is the host's clock's.
        let now = host.now
        let midnight = shanghai.startOfDay(for: now)
        let early = midnight.addingTimeInterval(min(30 * 60, now.timeIntervalSince(midnight) / 2))
        host.setRuns([RunInfo(id: "r1", job: "contacts_incremental", trigger: "schedule", status: "succeeded", dryRun: false, createdAt: early,
                              startedAt: early, finishedAt: early.addingTimeInterval(5), counts: RunCounts(fetched: 3), message: nil, error: nil)])
        let response = try await host.route("instances/{id}/metrics", query: ["days": "2"])
        let rows = try JSONValue.parse(Array(response.body.utf8))["metrics"]?.arrayValue ?? []
        let f = DateFormatter()
        f.calendar = shanghai
        f.timeZone = shanghai.timeZone
        f.dateFormat = "yyyy-MM-dd"
        #expect(rows.last?["date"]?.stringValue == f.string(from: now))
        #expect(rows.last?["runs"] == 1 && rows.first?["runs"] == 0, "\(rows)")

        let status = try await host.route("instances/{id}/status")
        #expect(status.body.contains("+08:00"), "\(status.body)")
    }
}
