import Foundation
import PluginAPI

/// The task track: `POST /extension/agent/stat` (query_type 20) → per-date totals in `task_stats` and per-task
/// rows in `task_rows`. The endpoint totals over its window, so per-date figures come from one-day windows
/// (well within its 7-day limit). Total/average pseudo-rows in `content` are excluded and the connected
/// rate is recomputed (called / callout × 100).
struct TaskStats {
    static let pseudoRows: Set<String> = ["总计", "平均", "合计", "汇总", "总数", "平均值"]

    let client: GuankeClient

    struct Day {
        var summary: JSONValue
        var rows: [Record]
    }

    static func rate(_ called: Int, _ callout: Int) -> Double {
        callout == 0 ? 0 : (Double(called) / Double(callout) * 10_000).rounded() / 100
    }

    func compute(date: String) async throws -> Day {
        let data = try await client.taskStats(from: date, to: date)
        var rows: [Record] = []
        var totals = (callout: 0, called: 0, success: 0)
        for row in data["content"]?.arrayValue ?? [] {
            let name = row["username"]?.stringValue ?? ""
            guard !Self.pseudoRows.contains(name), let task = row["user_id"]?.intValue else { continue }
            let callout = Int(row["callout_number"]?.intValue ?? 0), called = Int(row["called_number"]?.intValue ?? 0)
            let success = Int(row["success_number"]?.intValue ?? 0)
            totals.callout += callout
            totals.called += called
            totals.success += success
            rows.append(Record(key: "\(date)|\(task)", data: [
                "date": .string(date), "task_id": .int(task), "task_name": .string(name), "callout": .int(Int64(callout)),
                "called": .int(Int64(called)), "success": .int(Int64(success)), "connected_rate": .double(Self.rate(called, callout)),
            ]))
        }
        let summary: JSONValue = [
            "date": .string(date), "total_tasks": .int(Int64(rows.count)), "callout": .int(Int64(totals.callout)),
            "called": .int(Int64(totals.called)), "success": .int(Int64(totals.success)),
            "connected_rate": .double(Self.rate(totals.called, totals.callout)),
        ]
        return Day(summary: summary, rows: rows)
    }

    func run(days: [String], store: StoreService) async throws -> RunResult {
        var counts = RunCounts()
        for date in days {
            let day = try await compute(date: date)
            counts.fetched += day.rows.count
            counts.pages += 1
            try await store.upsert("task_rows", day.rows)
            try await store.upsert("task_stats", [Record(key: date, data: day.summary)])
        }
        return RunResult(counts: counts, message: "\(days.count) day(s)")
    }
}
