import Foundation
import PluginAPI

/// A health score 0–100 for any instance, from its runs (the seed's WeCom formula, made general):
/// 40 × success rate of the last 24 h + 20 × (1 − min(failed in 24 h, 10)/10) + 20 × freshness (1 up to 2 h since the
/// last successful run, falling to 0 at 26 h; 0 when it never succeeded) + 20 × punctuality (the share of scheduled
/// runs started within 5 minutes of their time). With no run in 24 h the rates count as perfect: freshness tells.
struct InstanceHealth: Encodable, Sendable {
    var instance: String
    var plugin: String
    var score: Int
    var parts: [String: JSONValue]
    var formula = "40×success_rate + 20×(1−min(failed_24h,10)/10) + 20×freshness (1 ≤ 2 h since a success, 0 at ≥ 26 h) + 20×punctuality (scheduled runs started ≤ 5 min late)"

    static let window: TimeInterval = 86_400
    static let lateAfter: TimeInterval = 300

    static func compute(instance: String, plugin: String, recent: [RunRecord], lastSuccess: RunRecord?, now: Date) -> InstanceHealth {
        let ended = recent.filter { $0.status.isFinal && $0.status != .cancelled }
        let succeeded = ended.filter { $0.status == .succeeded }.count
        let failed = ended.filter { [.failed, .interrupted, .crashed].contains($0.status) }.count
        let successRate = ended.isEmpty ? 1 : Double(succeeded) / Double(ended.count)
        let sinceSuccess = (lastSuccess?.finishedAt ?? lastSuccess?.startedAt).map { now.timeIntervalSince($0) / 3600 }
        let freshness = sinceSuccess.map { $0 <= 2 ? 1 : max(0, 1 - ($0 - 2) / 24) } ?? 0
        let scheduled = recent.filter { $0.scheduledFor != nil && $0.startedAt != nil }
        let late = scheduled.filter { $0.startedAt!.timeIntervalSince($0.scheduledFor!) > lateAfter }.count
        let punctuality = scheduled.isEmpty ? 1 : 1 - Double(late) / Double(scheduled.count)
        let score = Int((40 * successRate + 20 * (1 - Double(min(failed, 10)) / 10) + 20 * freshness + 20 * punctuality).rounded())
        func round3(_ x: Double) -> JSONValue { .double((x * 1000).rounded() / 1000) }
        return InstanceHealth(instance: instance, plugin: plugin, score: score, parts: [
            "success_rate": round3(successRate), "runs_24h": .int(Int64(ended.count)), "failed_24h": .int(Int64(failed)),
            "hours_since_success": sinceSuccess.map { .double(($0 * 100).rounded() / 100) } ?? .null,
            "last_success_at": (ISOTime.string(lastSuccess?.finishedAt)).map(JSONValue.string) ?? .null,
            "freshness": round3(freshness), "late_runs_24h": .int(Int64(late)), "punctuality": round3(punctuality),
        ])
    }

    /// Reads what the score needs and computes it.
    static func of(_ instance: InstanceRecord, store: any HostDatabase, now: Date) async throws -> InstanceHealth {
        var q = RunQuery()
        q.instance = instance.id
        q.since = now.addingTimeInterval(-window)
        q.limit = 500
        let recent = try await store.runs(q)
        var s = RunQuery()
        s.instance = instance.id
        s.status = .succeeded
        s.limit = 1
        return compute(instance: instance.id, plugin: instance.plugin, recent: recent, lastSuccess: try await store.runs(s).first, now: now)
    }
}
