import Foundation
import PluginAPI

/// The call-record track: every page of `GET /task/cdr/all2` for a day until `totalCount` is reached, counted
/// into grade_9 / grade_1 (the legacy rule: `"9元" in grade or grade == "9"`) → collection `grade_stats`
/// keyed by date. There is no page cap: a day that ends short of `totalCount` is stored with
/// `complete: false` and makes the run incomplete — never a silently truncated day.
struct GradeStats {
    let client: GuankeClient
    /// Told after each page (in a run: the host's progress bars, one per date).
    var progress: SchedulerService?

    struct Day {
        var date: String
        var grade9 = 0, grade1 = 0, records = 0, connected = 0, dialled = 0, pages = 0
        var totalCount = 0
        var elapsedMs = 0
        var complete = false
        var note: String?

        /// What is stored: the counts only (not timings), so an unchanged day re-syncs as unchanged.
        var json: JSONValue {
            var o: [String: JSONValue] = [
                "date": .string(date), "grade_9": .int(Int64(grade9)), "grade_1": .int(Int64(grade1)),
                "total_success": .int(Int64(grade9 + grade1)), "total_records": .int(Int64(records)), "total_count": .int(Int64(totalCount)),
                "connected": .int(Int64(connected)), "dialled": .int(Int64(dialled)), "pages": .int(Int64(pages)),
                "complete": .bool(complete),
            ]
            if let note { o["note"] = .string(note) }
            return .object(o)
        }
    }

    static func isGrade(_ grade: String, _ n: String) -> Bool { grade.contains("\(n)元") || grade == n }

    /// Pages through one day and counts it.
    func compute(date: String) async throws -> Day {
        let started = ContinuousClock.now
        var day = Day(date: date)
        var page = 1
        while true {
            try Task.checkCancellation()
            let data = try await client.cdrPage(date: date, page: page)
            let rows = data["data"]?.arrayValue ?? []
            if let total = data["totalCount"]?.intValue { day.totalCount = Int(total) }
            day.pages += 1
            for r in rows {
                let grade = r["grade"]?.stringValue ?? ""
                if Self.isGrade(grade, "9") { day.grade9 += 1 }
                if Self.isGrade(grade, "1") { day.grade1 += 1 }
                if (r["duration"]?.intValue ?? 0) > 0 { day.connected += 1 }
                if r["isCall"]?.intValue == 1 { day.dialled += 1 }
            }
            day.records += rows.count
            if let progress {
                let pages = client.pageSize > 0 ? max(1, (day.totalCount + client.pageSize - 1) / client.pageSize) : day.pages
                await progress.progress(done: min(day.pages, pages), total: max(pages, day.pages), label: "\(date) · page \(day.pages)/\(pages)", bar: date)
            }
            if day.records >= day.totalCount { break }
            if rows.isEmpty || rows.count < client.pageSize { break }
            page += 1
        }
        day.complete = day.records >= day.totalCount
        if !day.complete {
            day.note = "paging ended after \(day.pages) page(s) with \(day.records) of totalCount \(day.totalCount) records"
        }
        day.elapsedMs = Int((ContinuousClock.now - started) / .milliseconds(1))
        return day
    }

    /// How long the stored day took to compute (plugin state, not the record: a re-sync of an unchanged day
    /// stays unchanged), for the legacy answer's `elapsed_time`.
    static func elapsedState(_ date: String) -> String { "elapsed/grade_stats/\(date)" }

    /// Computes and stores the days; the run is incomplete when any day is.
    func run(days: [String], store: StoreService) async throws -> RunResult {
        var counts = RunCounts()
        var short: [String] = []
        var details: [String: JSONValue] = [:]
        for date in days {
            let day = try await compute(date: date)
            counts.fetched += day.records
            counts.pages += day.pages
            try await store.upsert("grade_stats", [Record(key: date, data: day.json)])
            try await store.setState(Self.elapsedState(date), .double(Double(day.elapsedMs) / 1000))
            details[date] = ["grade_9": .int(Int64(day.grade9)), "grade_1": .int(Int64(day.grade1)), "records": .int(Int64(day.records)), "complete": .bool(day.complete)]
            if let note = day.note { short.append("\(date): \(note)") }
        }
        if short.isEmpty {
            return RunResult(counts: counts, message: "\(days.count) day(s), \(counts.fetched) call records", details: details)
        }
        return RunResult(complete: false, counts: counts, message: "incomplete: " + short.joined(separator: "; "), details: details)
    }
}
