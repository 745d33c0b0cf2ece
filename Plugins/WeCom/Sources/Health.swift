import Foundation
import PluginAPI

/// Health score, metrics and alerts from the instance's run history and store.
///
/// Score (0–100) over the last 24 hours of contact runs (dry runs and skipped runs aside):
///   40 × success rate (succeeded ÷ ended; 1 when nothing ran)
/// + 20 × (1 − min(failed runs, 10) ÷ 10)                        error rate
/// + 20 × min(live contacts, last full run's contacts) ÷ max(…)  data consistency (1 before any full run)
/// + 20 × sync delay: 1 up to 1 h since the last successful run, falling linearly to 0 at 6 h
/// Alerts are the host's alert rules: its default rules (health score < `alert_min_score` (60) critical, more than
/// `alert_max_errors` (5) failed runs in a day warning, no successful sync for `alert_max_delay_hours` (2) warning)
/// take this instance's thresholds and `alert_channel`; the host evaluates them every minute and sends each once.
struct Health {
    let context: RouteContext
    let config: [String: JSONValue]
    let now: Date

    /// The instance's zone (`timezone`, default Asia/Shanghai like the legacy system).
    static func zone(_ c: [String: JSONValue]) throws -> TimeZone {
        let name = try c.string("timezone") ?? "Asia/Shanghai"
        guard let z = TimeZone(identifier: name) else { throw PluginError(.config, "timezone: unknown time zone \(name.debugDescription)") }
        return z
    }

    /// Times as shown: ISO 8601 with the instance zone's offset.
    static func timeFormatter(_ c: [String: JSONValue]) -> ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.timeZone = (try? zone(c)) ?? TimeZone(identifier: "Asia/Shanghai")!
        return f
    }

    /// The alert settings the host's default rules read: whole numbers at least 0.
    static func validateThresholds(_ c: [String: JSONValue]) throws {
        for key in ["alert_min_score", "alert_max_errors", "alert_max_delay_hours"] {
            if let v = try c.int(key), v < 0 { throw PluginError(.config, "\(key) must be at least 0") }
        }
    }

    static let contactJobs: Set<String> = ["contacts_incremental", "contacts_full"]

    func runs(since: Date) async throws -> [RunInfo] {
        try await context.scheduler.runs(since: since, limit: 500).filter { Self.contactJobs.contains($0.job) && !$0.dryRun }
    }

    struct Report {
        var score: Int
        var parts: [String: JSONValue]
        var lastSuccess: Date?
        var failedToday: Int
    }

    func report() async throws -> Report {
        let day = try await runs(since: now.addingTimeInterval(-86_400))
        let ended = day.filter { ["succeeded", "incomplete", "failed", "interrupted", "crashed", "cancelled"].contains($0.status) }
        let succeeded = ended.filter { $0.status == "succeeded" }.count
        let failed = ended.filter { ["failed", "interrupted", "crashed"].contains($0.status) }.count
        let successRate = ended.isEmpty ? 1 : Double(succeeded) / Double(ended.count)
        let errorScore = 1 - Double(min(failed, 10)) / 10
        let live = try await context.store.aggregate(.init(collection: "contacts")).first?.count ?? 0
        var consistency = 1.0
        if let seen = try await context.store.state("last_full")?["contacts_seen"]?.intValue {
            let a = Double(live), b = Double(seen)
            consistency = max(a, b) == 0 ? 1 : min(a, b) / max(a, b)
        }
        let lastSuccess = try await context.scheduler.runs(limit: 200)
            .first { Self.contactJobs.contains($0.job) && !$0.dryRun && $0.status == "succeeded" }?.finishedAt
        let delayHours = lastSuccess.map { now.timeIntervalSince($0) / 3600 }
        let delayScore = delayHours.map { $0 <= 1 ? 1 : max(0, 1 - ($0 - 1) / 5) } ?? 0
        let score = Int((40 * successRate + 20 * errorScore + 20 * consistency + 20 * delayScore).rounded())
        return Report(score: score, parts: [
            "success_rate": .double((successRate * 1000).rounded() / 1000), "runs_24h": .int(Int64(ended.count)),
            "failed_24h": .int(Int64(failed)), "data_consistency": .double((consistency * 1000).rounded() / 1000),
            "live_contacts": .int(Int64(live)), "sync_delay_hours": delayHours.map { .double(($0 * 100).rounded() / 100) } ?? .null,
        ], lastSuccess: lastSuccess, failedToday: failed)
    }

    /// The legacy alert ids of the host's default rules (the seed's health_score, errors, sync_delay).
    static let legacyAlertIDs = ["default-health": "health_score", "default-errors": "errors", "default-delay": "sync_delay"]

    /// The instance's active alerts as the host's alert rules raised them (the default rules carry this instance's
    /// alert_* thresholds and alert_channel), in the legacy shape: id, level, message, fired_at.
    func alerts() async throws -> [JSONValue] {
        let times = Self.timeFormatter(config)
        return try await context.scheduler.alerts().map { a in
            ["id": .string(Self.legacyAlertIDs[a.rule] ?? a.rule), "rule": .string(a.rule), "rule_name": .string(a.ruleName),
             "level": .string(a.severity), "message": .string(a.message), "fired_at": .string(times.string(from: a.firedAt))]
        }
    }

    /// Per-day figures for the last `days` days, days of the instance's zone.
    func metrics(days: Int) async throws -> JSONValue {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try Self.zone(config)
        let today = calendar.startOfDay(for: now)
        let start = calendar.date(byAdding: .day, value: -(days - 1), to: today)!
        let runs = try await runs(since: start)
        let fmt = ISO8601DateFormatter()
        fmt.formatOptions = [.withFullDate]
        fmt.timeZone = calendar.timeZone
        var byDay: [String: [RunInfo]] = [:]
        for r in runs { byDay[fmt.string(from: r.createdAt), default: []].append(r) }
        let rows: [JSONValue] = (0..<days).map { i in
            let d = fmt.string(from: calendar.date(byAdding: .day, value: i, to: start)!)
            let rs = byDay[d] ?? []
            let durations = rs.compactMap { r in r.startedAt.flatMap { s in r.finishedAt.map { $0.timeIntervalSince(s) } } }
            return [
                "date": .string(d), "runs": .int(Int64(rs.count)), "succeeded": .int(Int64(rs.filter { $0.status == "succeeded" }.count)),
                "errors": .int(Int64(rs.filter { ["failed", "interrupted", "crashed"].contains($0.status) }.count)),
                "fetched": .int(Int64(rs.reduce(0) { $0 + $1.counts.fetched })),
                "records_written": .int(Int64(rs.reduce(0) { $0 + $1.counts.inserted + $1.counts.updated + $1.counts.deleted })),
                "avg_duration_s": .double(durations.isEmpty ? 0 : (durations.reduce(0, +) / Double(durations.count) * 100).rounded() / 100),
                "max_duration_s": .double(((durations.max() ?? 0) * 100).rounded() / 100),
            ]
        }
        return ["days": .int(Int64(days)), "metrics": .array(rows)]
    }
}
