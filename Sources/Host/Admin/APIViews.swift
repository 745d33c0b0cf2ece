import Foundation
import PluginAPI

/// JSON shapes of the admin API: snake_case keys, ISO-8601 times, secrets as "***".
enum ISOTime {
    /// UTC with milliseconds, written digit by digit (this runs for every time in every response; Foundation's
    /// ISO-8601 style also printed some exact milliseconds one lower, e.g. .999 as .998).
    static func string(_ d: Date?) -> String? {
        guard let d else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(24)
        write(millis: d.millis, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func parse(_ s: String, field: String) throws -> Date {
        let f = ISO8601DateFormatter()
        if let d = f.date(from: s) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return d }
        throw HostError.invalid("\(field): \(s.debugDescription) is not an ISO-8601 time with offset (e.g. 2026-11-23T10:00:00Z)")
    }
}

struct InstanceView: Codable {
    var id: String
    var plugin: String
    var config: [String: JSONValue]
    var enabled: Bool
    var created_at: String?
    var updated_at: String?
    /// The zone its times are shown in (`InstanceManager.zone(of:)`).
    var zone: String?

    init(_ i: InstanceRecord, keys: [ConfigKey], zone: String? = nil) {
        id = i.id
        self.zone = zone
        plugin = i.plugin
        config = ConfigSchema.redacted(i.config, keys: keys)
        enabled = i.enabled
        created_at = ISOTime.string(i.createdAt)
        updated_at = ISOTime.string(i.updatedAt)
    }
}

struct ScheduleView: Codable {
    var id: String
    var name: String?
    var instance: String
    var job: String
    var params: [String: JSONValue]
    var cron: String
    var timezone: String
    var enabled: Bool
    var misfire: String
    var misfire_cap: Int
    var overlap: String
    var jitter_seconds: Int
    var max_attempts: Int
    var retry_backoff_seconds: Int
    var timeout_seconds: Int
    var next_run_at: String?
    var last_run_at: String?
    var last_status: String?
    var note: String?
    /// The next five fire times from now.
    var next_fires: [String]

    init(_ s: ScheduleRecord, now: Date = Date()) {
        id = s.id
        name = s.name
        instance = s.instance
        job = s.job
        params = s.params
        cron = s.cron
        timezone = s.timezone
        enabled = s.enabled
        misfire = s.misfire.rawValue
        misfire_cap = s.misfireCap
        overlap = s.overlap.rawValue
        jitter_seconds = s.jitterSeconds
        max_attempts = s.maxAttempts
        retry_backoff_seconds = s.retryBackoffSeconds
        timeout_seconds = s.timeoutSeconds
        next_run_at = s.enabled ? ISOTime.string(s.nextRunAt) : nil
        last_run_at = ISOTime.string(s.lastRunAt)
        last_status = s.lastStatus
        note = s.note
        let zone = TimeZone(identifier: s.timezone) ?? .gmt
        let f = ISO8601DateFormatter()
        f.timeZone = zone
        next_fires = ((try? CronExpression(s.cron))?.nextFires(after: now, in: zone, count: 5) ?? []).map { f.string(from: $0) }
    }
}

struct RunView: Codable {
    var id: String
    var instance: String
    var job: String
    var trigger: String
    var status: String
    var params: [String: JSONValue]
    var dry_run: Bool
    var schedule_id: String?
    var scheduled_for: String?
    var created_at: String?
    var run_at: String?
    var started_at: String?
    var finished_at: String?
    var counts: RunCounts
    var pages: Int
    var complete: Bool?
    var message: String?
    var error: String?
    /// The plugin's last log lines of the run.
    var log: String?
    /// The plugin's details; a dry run's would_send / would_enqueue / would_set_state.
    var details: [String: JSONValue]?
    var attempt: Int
    var max_attempts: Int
    var host: String?
    /// While it runs in this host: how far it is, one bar per name (`schedule.progress`).
    var progress: [JSONValue]?

    init(_ r: RunRecord, progress: RunProgress? = nil) {
        id = r.id
        instance = r.instance
        job = r.job
        trigger = r.trigger
        status = r.status.rawValue
        params = r.params
        dry_run = r.dryRun
        schedule_id = r.scheduleID
        scheduled_for = ISOTime.string(r.scheduledFor)
        created_at = ISOTime.string(r.createdAt)
        run_at = ISOTime.string(r.runAt)
        started_at = ISOTime.string(r.startedAt)
        finished_at = ISOTime.string(r.finishedAt)
        counts = r.counts
        pages = r.counts.pages
        complete = r.complete
        message = r.message
        error = r.error
        log = r.log
        details = r.details.isEmpty ? nil : r.details
        attempt = r.attempt
        max_attempts = r.maxAttempts
        host = r.leaseOwner
        if r.status == .running, let bars = progress?.bars(of: r.id), !bars.isEmpty { self.progress = bars.map { .object($0.fields) } }
    }
}

/// The editable fields of a schedule; every key optional so POST, PUT and PATCH share it.
struct ScheduleInput: Decodable {
    var instance: String?
    var job: String?
    var params: [String: JSONValue]?
    var cron: String?
    var timezone: String?
    var enabled: Bool?
    var misfire: String?
    var misfire_cap: Int?
    var overlap: String?
    var jitter_seconds: Int?
    var max_attempts: Int?
    var retry_backoff_seconds: Int?
    var timeout_seconds: Int?
    var note: String?
    /// `""` clears it.
    var name: String?

    static let keys: Set<String> = ["instance", "job", "params", "cron", "timezone", "enabled", "misfire", "misfire_cap", "overlap",
                                    "jitter_seconds", "max_attempts", "retry_backoff_seconds", "timeout_seconds", "note", "name"]

    /// Applies the given fields to `s`.
    func apply(to s: inout ScheduleRecord) throws {
        if let v = params { s.params = v }
        if let v = cron { s.cron = v }
        if let v = timezone { s.timezone = v }
        if let v = enabled { s.enabled = v }
        if let v = misfire {
            guard let m = ScheduleRecord.Misfire(rawValue: v) else { throw HostError.invalid("misfire must be skip, once or all") }
            s.misfire = m
        }
        if let v = misfire_cap { s.misfireCap = v }
        if let v = overlap {
            guard let o = ScheduleRecord.Overlap(rawValue: v) else { throw HostError.invalid("overlap must be forbid, allow or replace") }
            s.overlap = o
        }
        if let v = jitter_seconds { s.jitterSeconds = v }
        if let v = max_attempts { s.maxAttempts = v }
        if let v = retry_backoff_seconds { s.retryBackoffSeconds = v }
        if let v = timeout_seconds { s.timeoutSeconds = v }
        if let v = note { s.note = v }
        if let v = name { s.name = v.isEmpty ? nil : v }
    }
}
