import Foundation
import PluginAPI

/// A configured plugin instance (a VOS node, a WeCom corp, a notification channel).
public struct InstanceRecord: Sendable, Equatable, Codable {
    public var id: String
    public var plugin: String
    public var config: [String: JSONValue]
    /// A disabled instance runs nothing: its schedules do not fire, its queued runs wait, manual runs are refused.
    public var enabled: Bool
    /// Created disabled: the on-create hook (a connector's initial sync) waits for the first enable.
    public var initialPending: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, plugin: String, config: [String: JSONValue], enabled: Bool = true, initialPending: Bool = false,
                createdAt: Date = Date(), updatedAt: Date = Date()) {
        self.id = id
        self.plugin = plugin
        self.config = config
        self.enabled = enabled
        self.initialPending = initialPending
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public var info: InstanceInfo { InstanceInfo(id: id, plugin: plugin, config: config) }
}

/// A cron schedule of one job of one instance, stored in the database: the database is the schedule.
public struct ScheduleRecord: Sendable, Equatable, Codable {
    public enum Misfire: String, Sendable, Codable, CaseIterable {
        /// Missed fires are dropped (and recorded as one skipped run).
        case skip
        /// One run for the latest missed fire (the default).
        case once
        /// One run per missed fire, up to `misfireCap`.
        case all
    }

    public enum Overlap: String, Sendable, Codable, CaseIterable {
        /// A scheduled fire while the job runs is skipped (recorded); manual runs wait.
        case forbid
        case allow
        /// The running one is cancelled and the new one starts.
        case replace
    }

    public var id: String
    public var instance: String
    public var job: String
    public var params: [String: JSONValue]
    public var cron: String
    public var timezone: String
    public var enabled: Bool
    public var misfire: Misfire
    public var misfireCap: Int
    public var overlap: Overlap
    public var jitterSeconds: Int
    /// 1 = no retry.
    public var maxAttempts: Int
    public var retryBackoffSeconds: Int
    public var timeoutSeconds: Int
    /// The next nominal fire time (what `scheduled_for` will say).
    public var nextFireAt: Date?
    /// When it is due: the fire time plus jitter.
    public var nextRunAt: Date?
    public var lastRunAt: Date?
    public var lastStatus: String?
    public var note: String?
    /// Optional, unique per instance (e.g. 客户数据同步): how operators tell schedules apart.
    public var name: String?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String = UUID().uuidString.lowercased(), instance: String, job: String, params: [String: JSONValue] = [:], cron: String,
        timezone: String = "UTC", enabled: Bool = true, misfire: Misfire = .once, misfireCap: Int = 10, overlap: Overlap = .forbid,
        jitterSeconds: Int = 0, maxAttempts: Int = 1, retryBackoffSeconds: Int = 30, timeoutSeconds: Int = 3600, note: String? = nil,
        now: Date = Date()
    ) {
        self.id = id
        self.instance = instance
        self.job = job
        self.params = params
        self.cron = cron
        self.timezone = timezone
        self.enabled = enabled
        self.misfire = misfire
        self.misfireCap = misfireCap
        self.overlap = overlap
        self.jitterSeconds = jitterSeconds
        self.maxAttempts = maxAttempts
        self.retryBackoffSeconds = retryBackoffSeconds
        self.timeoutSeconds = timeoutSeconds
        self.note = note
        self.createdAt = now
        self.updatedAt = now
    }

    /// Checks every field a user can set; throws a 400-worthy error naming the field.
    public func validated() throws -> ScheduleRecord {
        do { _ = try CronExpression(cron) } catch { throw HostError.invalid("cron: \(error.message)") }
        guard TimeZone(identifier: timezone) != nil else { throw HostError.invalid("timezone: unknown IANA zone \(timezone.debugDescription)") }
        guard (1...1000).contains(misfireCap) else { throw HostError.invalid("misfire_cap must be 1-1000") }
        guard (0...3600).contains(jitterSeconds) else { throw HostError.invalid("jitter_seconds must be 0-3600") }
        guard (1...20).contains(maxAttempts) else { throw HostError.invalid("max_attempts must be 1-20") }
        guard (1...86400).contains(retryBackoffSeconds) else { throw HostError.invalid("retry_backoff_seconds must be 1-86400") }
        guard (1...86400).contains(timeoutSeconds) else { throw HostError.invalid("timeout_seconds must be 1-86400") }
        if let name {
            guard !name.trimmingCharacters(in: .whitespaces).isEmpty, name.count <= 100, !name.contains(where: \.isNewline) else {
                throw HostError.invalid("name must be 1-100 characters on one line (or null for none)")
            }
        }
        return self
    }

    /// Sets the next fire after `date` (and its due time, with jitter).
    public mutating func advance(after date: Date) {
        guard let zone = CronCache.zone(timezone), let cron = CronCache.cron(cron), let next = cron.nextFire(after: date, in: zone) else {
            nextFireAt = nil
            nextRunAt = nil
            return
        }
        nextFireAt = next
        nextRunAt = next.addingTimeInterval(jitterSeconds > 0 ? Double(Int.random(in: 0...jitterSeconds)) : 0)
    }
}

/// What the dispatcher decided for one due schedule: runs to queue, missed fires to record, the next fire.
public struct FirePlan: Sendable {
    public var runs: [RunRecord]
    public var schedule: ScheduleRecord
}
